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

const applyHelp = `Creates or updates the accounts, protection groups and recovery plans of
the files, only what differs, in one transaction; --dry-run shows what
would change and writes nothing.

Where they go: with --server URL, or with $WAVEDR_SERVER set and no --db,
to that wavedr server's API (which needs the plans:manage permission, and
groups:manage or accounts:manage for files holding those); otherwise
straight into the database (--db, else $WAVEDR_DB, else the SQLite file of
the data directory). For a server, the token is read from --token-file,
else $WAVEDR_TOKEN, else, when the server is on this machine, from the
admin-token file of the data directory.`

func runApply(ctx context.Context, e *env, args []string) error {
	const synopsis = "-f FILE [-f FILE ...] [--dry-run] [--db URL | --server URL] [-o text|json]"
	fs := newFlagSet(e, "apply", synopsis)
	var files fileList
	var sf storeFlags
	var cf clientFlags
	fs.Var(&files, "f", "a YAML file of accounts, protection groups and plans; - reads standard input (repeatable)")
	dryRun := fs.Bool("dry-run", false, "show what would change and write nothing")
	sf.register(fs)
	cf.registerRemote(fs)
	cf.dataDir = &sf.dataDir
	setHelp(e, fs, "apply", synopsis, applyHelp)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(files) == 0 || fs.NArg() > 0 {
		return usagef("give the files with -f FILE")
	}
	if cf.output != "text" && cf.output != "json" {
		return usagef("-o must be text or json")
	}
	switch {
	case cf.server != "" && sf.db != "":
		return usagef("--server and --db exclude each other: apply writes through a server or into a database")
	case cf.server != "" || (sf.db == "" && e.getenv("WAVEDR_SERVER") != ""):
		return applyRemote(ctx, e, &cf, files, *dryRun)
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
	if cf.output == "json" {
		// The API's answer, so that a script reads both alike.
		return printApplyJSON(e, res, *dryRun)
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
