package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"wavedr"
	"wavedr/manifest"
)

func init() {
	register(command{
		name:    "validate",
		summary: "check plan files (YAML) without a server or a database",
		run:     runValidate,
	})
}

func runValidate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "validate", "-f FILE [-f FILE ...]")
	var files fileList
	fs.Var(&files, "f", "a YAML file of accounts, protection groups and plans; - reads standard input (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(files) == 0 || fs.NArg() > 0 {
		return usagef("give the files with -f FILE")
	}
	m, err := loadFiles(e, files, true)
	if err != nil {
		return err
	}
	var names []string
	for _, o := range m.Objects {
		names = append(names, string(o.Kind)+" "+o.Name())
	}
	fmt.Fprintf(e.stdout, "%d %s valid: %s\n", len(names), plural(len(names), "object"), strings.Join(names, ", "))
	return nil
}

// fileList is a repeatable -f flag.
type fileList []string

func (f *fileList) String() string     { return strings.Join(*f, ",") }
func (f *fileList) Set(s string) error { *f = append(*f, s); return nil }

// loadFiles reads the files as one manifest and, with validate, checks it
// as Validate does. Problems are printed one a line on stderr and returned
// as a silent exitInvalid.
func loadFiles(e *env, files []string, validate bool) (*manifest.Manifest, error) {
	var ms []*manifest.Manifest
	stdinRead := false
	for _, name := range files {
		r, display, closeFn, err := openInput(e, name, &stdinRead)
		if err != nil {
			return nil, err
		}
		m, err := manifest.Load(display, r)
		closeFn()
		if m == nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	m := manifest.Merge(ms...)
	if !validate {
		return m, nil
	}
	if err := manifest.Validate(m); err != nil {
		return nil, reportProblems(e, problemDetails(err))
	}
	return m, nil
}

// openInput opens a file, or standard input for "-" (once).
func openInput(e *env, name string, stdinRead *bool) (io.Reader, string, func(), error) {
	if name == "-" {
		if *stdinRead {
			return nil, "", nil, usagef("standard input (-f -) can be read only once")
		}
		*stdinRead = true
		return e.stdin, "stdin", func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, "", nil, err
	}
	return f, name, func() { f.Close() }, nil
}

// problemDetails returns the details of an EINVALID error (or the error
// itself as one detail), nil for nil.
func problemDetails(err error) []wavedr.FieldError {
	if err == nil {
		return nil
	}
	var e *wavedr.Error
	if errors.As(err, &e) && len(e.Details) > 0 {
		return e.Details
	}
	return []wavedr.FieldError{{Rule: wavedr.ErrorMessage(err)}}
}

// reportProblems prints one problem a line, "FILE#DOC (Kind name) line N:
// field: rule", and a count; it returns the exitInvalid status.
func reportProblems(e *env, details []wavedr.FieldError) error {
	for _, d := range details {
		fmt.Fprintln(e.stderr, d.String())
	}
	fmt.Fprintf(e.stderr, "%d %s\n", len(details), plural(len(details), "problem"))
	return silentError{exitInvalid}
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
