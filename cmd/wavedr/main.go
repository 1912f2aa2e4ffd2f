// Command wavedr is the one binary of wavedr: the server, the simulator, the
// demo, and the client commands. Each subcommand lives in a file named after it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"wavedr"
)

// Exit statuses scripts can rely on.
const (
	exitOK       = 0
	exitFailure  = 1 // the command ran and failed (or the outcome was not the one asked for)
	exitUsage    = 2 // bad flags or arguments
	exitInvalid  = 3 // the input (a file, a request) broke a rule
	exitConflict = 4 // a conflict: stale version, server already in use
	exitNotFound = 5
	exitDenied   = 6 // not authenticated, or not allowed (the API answered 401 or 403)
)

// command is one subcommand. run returns an error; only main exits.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a subcommand may touch: its arguments and output streams.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	getenv         func(string) string
}

var commands = map[string]command{}

// register adds a subcommand; each subcommand file calls it from init.
func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("wavedr: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "wavedr: unknown command %q\n\n", args[0])
		usage(e.stderr)
		return exitUsage
	}
	err := c.run(ctx, e, args[1:])
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(e.stderr, "wavedr %s: %v\n", c.name, err)
		return exitUsage
	}
	var se silentError
	if errors.As(err, &se) {
		return se.code
	}
	fmt.Fprintf(e.stderr, "wavedr %s: %v\n", c.name, err)
	switch wavedr.ErrorCode(err) {
	case wavedr.EINVALID:
		return exitInvalid
	case wavedr.ECONFLICT:
		return exitConflict
	case wavedr.ENOTFOUND:
		return exitNotFound
	case wavedr.EUNAUTHORIZED, wavedr.EFORBIDDEN:
		return exitDenied
	}
	return exitFailure
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: wavedr COMMAND [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'wavedr COMMAND -h' for the flags of one command.")
}

// usageError is a mistake in the command line; it exits with exitUsage.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// silentError exits with code after the command has already said why.
type silentError struct{ code int }

func (s silentError) Error() string { return fmt.Sprintf("exit status %d", s.code) }

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("wavedr "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: wavedr %s %s\n\nflags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning a parse failure into a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}
