package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/user"
	"strings"

	"wavedr"
	"wavedr/aws"
	"wavedr/engine"
	"wavedr/store"
)

func init() {
	register(command{
		name:    "op",
		summary: "run one engine operation (start, poll, finalize, pause, resume, ...) against the database",
		run:     runOp,
	})
}

// opVerb is one operation of `wavedr op`, named as the engine's verb.
type opVerb struct {
	name    string
	arg     string // "PLAN", "EXECUTION" or "" for none
	summary string
	by      bool // takes --by, the operator recorded with the request
}

var opVerbs = []opVerb{
	{"start", "PLAN", "create an execution of a plan (--mode drill|recovery) and schedule its poll", true},
	{"get", "EXECUTION", "show an execution with its waves and servers", false},
	{"report", "EXECUTION", "show what an execution measured: times per wave and server", false},
	{"poll", "EXECUTION", "observe the in-flight waves in DRS and EC2 once and record what was seen; never changes the status", false},
	{"finalize", "EXECUTION", "give an execution whose waves are all over its outcome (a no-op when already final)", false},
	{"pause", "EXECUTION", "pause a running execution before its next wave launches", true},
	{"resume", "EXECUTION", "resume a paused execution, or withdraw a pause not yet in effect", true},
	{"cancel", "EXECUTION", "cancel: waves not launched are cancelled, DRS jobs in flight are watched to their end", true},
	{"terminate", "EXECUTION", "terminate the recovery instances of a finished drill", true},
	{"find", "", "schedule again the poll (and launches) of every active execution that lost them", false},
}

func opUsage(w io.Writer) {
	fmt.Fprintln(w, `usage: wavedr op VERB [ARG] [--db URL] [--data-dir DIR] [-o text|json]

Runs one of the engine's operations on the database, once. It runs no
engine worker: the launches, polls and cleanups an operation schedules are
run by a 'wavedr serve' process on the same database. DRS and EC2 are
reached with the standard AWS settings (credential chain, AWS_REGION,
AWS_ENDPOINT_URL for the simulator).

verbs:`)
	for _, v := range opVerbs {
		fmt.Fprintf(w, "  %-10s %-10s %s\n", v.name, v.arg, v.summary)
	}
	fmt.Fprintln(w, "\nRun 'wavedr op VERB -h' for the flags of one verb.")
}

func runOp(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		opUsage(e.stderr)
		if len(args) == 0 {
			return usagef("name a verb")
		}
		return nil
	}
	var verb *opVerb
	for i := range opVerbs {
		if opVerbs[i].name == args[0] {
			verb = &opVerbs[i]
		}
	}
	if verb == nil {
		opUsage(e.stderr)
		return usagef("unknown verb %q", args[0])
	}

	synopsis := verb.arg
	if verb.by {
		synopsis += " [--by NAME]"
	}
	if verb.name == "start" {
		synopsis += " [--mode drill|recovery]"
	}
	fs := newFlagSet(e, "op "+verb.name, strings.TrimSpace(synopsis+" [--db URL] [-o text|json]"))
	var sf storeFlags
	sf.register(fs)
	output := fs.String("o", "text", "output format: text or json")
	var by, mode *string
	if verb.by {
		by = fs.String("by", "", "who asks, as recorded with the request (default: the OS user name)")
	}
	if verb.name == "start" {
		mode = fs.String("mode", "drill", "drill (isolated instances, terminated afterwards) or recovery (a failover)")
	}
	pos, err := opParseArgs(fs, args[1:])
	if err != nil {
		return err
	}
	switch {
	case verb.arg == "" && len(pos) > 0:
		return usagef("%s takes no argument", verb.name)
	case verb.arg != "" && len(pos) != 1:
		return usagef("give one %s", verb.arg)
	case *output != "text" && *output != "json":
		return usagef("-o must be text or json")
	}
	var startMode wavedr.Mode
	if mode != nil {
		m, ok := map[string]wavedr.Mode{"drill": wavedr.ModeDrill, "recovery": wavedr.ModeRecovery}[strings.ToLower(*mode)]
		if !ok {
			return usagef("--mode must be drill or recovery")
		}
		startMode = m
	}
	operator := ""
	if by != nil {
		operator = *by
		if operator == "" {
			operator = operatorName(e, "operator")
		}
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
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rec, err := aws.New(ctx, aws.Config{Logger: log})
	if err != nil {
		return err
	}
	eng, err := engine.Open(ctx, engine.Config{DB: db, Recovery: rec, Logger: log})
	if err != nil {
		return err
	}

	out := opOutput{e: e, json: *output == "json"}
	arg := ""
	if len(pos) == 1 {
		arg = pos[0]
	}
	switch verb.name {
	case "start":
		ex, err := eng.Start(ctx, engine.StartInput{Plan: arg, Mode: startMode, InitiatedBy: operator})
		if err != nil {
			return err
		}
		return out.print(ex.View(), func(w io.Writer) {
			fmt.Fprintf(w, "execution %s created: %s of plan %s by %s, %d waves, %d servers\n",
				ex.ID, ex.Mode, ex.PlanName, ex.InitiatedBy, len(ex.Waves), ex.Counts().Total)
			fmt.Fprintf(w, "status %s; its poll is scheduled and runs in 'wavedr serve'\n", ex.Status)
		})
	case "get":
		ex, err := eng.Get(ctx, arg)
		if err != nil {
			return err
		}
		return out.print(ex.View(), func(w io.Writer) { opPrintExecution(w, ex) })
	case "report":
		ex, err := eng.Get(ctx, arg)
		if err != nil {
			return err
		}
		r := ex.Report()
		return out.print(r, func(w io.Writer) { printReport(w, r) })
	case "poll":
		r, err := eng.Poll(ctx, arg)
		if err != nil {
			return err
		}
		doc := struct {
			Execution        *wavedr.ExecutionView `json:"execution"`
			AllWavesComplete bool                  `json:"allWavesComplete"`
		}{r.Execution.View(), r.AllWavesComplete}
		return out.print(doc, func(w io.Writer) {
			opPrintExecution(w, r.Execution)
			fmt.Fprintf(w, "allWavesComplete %v\n", r.AllWavesComplete)
		})
	case "find":
		active, rescheduled, err := eng.Find(ctx)
		if err != nil {
			return err
		}
		doc := struct {
			Active      int `json:"active"`
			Rescheduled int `json:"rescheduled"`
		}{active, rescheduled}
		return out.print(doc, func(w io.Writer) {
			fmt.Fprintf(w, "%d active %s; %d %s scheduled again\n",
				active, plural(active, "execution"), rescheduled, plural(rescheduled, "job"))
		})
	}

	var r *engine.Result
	switch verb.name {
	case "finalize":
		r, err = eng.Finalize(ctx, arg)
	case "pause":
		r, err = eng.Pause(ctx, arg, operator)
	case "resume":
		r, err = eng.Resume(ctx, arg, operator)
	case "cancel":
		r, err = eng.Cancel(ctx, arg, operator)
	case "terminate":
		r, err = eng.Terminate(ctx, arg, operator)
	default:
		return fmt.Errorf("op %s: not wired", verb.name)
	}
	if err != nil {
		return err
	}
	doc := struct {
		Execution *wavedr.ExecutionView `json:"execution"`
		Changed   bool                  `json:"changed"`
		Message   string                `json:"message"`
	}{r.Execution.View(), r.Changed, r.Message}
	return out.print(doc, func(w io.Writer) {
		msg := r.Message
		if msg == "" {
			msg = "no change"
		}
		fmt.Fprintln(w, msg)
		fmt.Fprintf(w, "execution %s is %s", r.Execution.ID, r.Execution.Status)
		if c := r.Execution.Cleanup.Status; c != wavedr.CleanupNone {
			fmt.Fprintf(w, ", cleanup %s", c)
		}
		fmt.Fprintln(w)
	})
}

// opOutput prints a verb's answer as JSON or as text.
type opOutput struct {
	e    *env
	json bool
}

func (o opOutput) print(v any, text func(io.Writer)) error {
	if !o.json {
		text(o.e.stdout)
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(o.e.stdout, "%s\n", b)
	return err
}

// opPrintExecution writes an execution's status, a line per wave, and
// the requests an operator can make now.
func opPrintExecution(w io.Writer, ex *wavedr.Execution) {
	c := ex.Counts()
	fmt.Fprintf(w, "execution %s: %s of plan %s by %s, %s; %d of %d servers launched",
		ex.ID, ex.Mode, ex.PlanName, ex.InitiatedBy, ex.Status, c.Launched+c.Terminated, c.Total)
	if ex.Cleanup.Status != wavedr.CleanupNone {
		fmt.Fprintf(w, ", cleanup %s", ex.Cleanup.Status)
	}
	fmt.Fprintln(w)
	if ex.Reason != "" {
		fmt.Fprintf(w, "  %s\n", ex.Reason)
	}
	for _, l := range demoLines(ex, false)[1:] {
		fmt.Fprintln(w, l.text)
	}
	var can []string
	for _, a := range []struct {
		ok   bool
		verb string
	}{{ex.CanPause(), "pause"}, {ex.CanResume(), "resume"}, {ex.CanCancel(), "cancel"}, {ex.CanTerminate(), "terminate"}} {
		if a.ok {
			can = append(can, a.verb)
		}
	}
	if len(can) > 0 {
		fmt.Fprintf(w, "can: %s\n", strings.Join(can, ", "))
	}
}

// opParseArgs parses flags placed before, between or after the
// positional arguments ("op start PLAN --mode drill") and returns the
// positional ones. Everything after "--" is positional.
func opParseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// operatorName is who the CLI acts as by default: the OS user, else
// fallback.
func operatorName(e *env, fallback string) string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, k := range []string{"USER", "USERNAME", "LOGNAME"} {
		if v := e.getenv(k); v != "" {
			return v
		}
	}
	return fallback
}
