package main

import (
	"context"
	"errors"
	"fmt"

	"wavedr"
	"wavedr/manifest"
	"wavedr/store"
)

func init() {
	register(command{
		name:    "apply",
		summary: "create or update accounts, protection groups and plans from YAML files",
		run:     runApply,
	})
}

func runApply(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "apply", "-f FILE [-f FILE ...] [--dry-run] [--db URL]")
	var files fileList
	var sf storeFlags
	fs.Var(&files, "f", "a YAML file of accounts, protection groups and plans; - reads standard input (repeatable)")
	dryRun := fs.Bool("dry-run", false, "show what would change and write nothing")
	sf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(files) == 0 || fs.NArg() > 0 {
		return usagef("give the files with -f FILE")
	}
	// Apply validates, with the stored groups as well as those of the files.
	m, err := loadFiles(e, files, false)
	if err != nil {
		return err
	}
	url, err := sf.databaseURL(e)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()

	var res *manifest.Result
	err = db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if *dryRun {
			res, err = manifest.Diff(ctx, tx, m)
		} else {
			res, err = manifest.Apply(ctx, tx, m)
		}
		return err
	})
	var we *wavedr.Error
	if errors.As(err, &we) && we.Code == wavedr.EINVALID && len(we.Details) > 0 {
		return reportProblems(e, we.Details)
	}
	if err != nil {
		return err
	}
	printResult(e, res, *dryRun)
	return nil
}

// printResult prints one line per object and a summary.
func printResult(e *env, res *manifest.Result, dryRun bool) {
	suffix := ""
	if dryRun {
		suffix = " (dry run)"
	}
	for _, c := range res.Changes {
		fmt.Fprintln(e.stdout, c.String()+suffix)
	}
	fmt.Fprintln(e.stdout, res.Summary()+suffix)
}
