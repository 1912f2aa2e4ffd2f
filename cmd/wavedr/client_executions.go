package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"wavedr"
)

func init() {
	verbGroup{noun: "executions", summary: "list, start, steer and follow the executions of a wavedr server", verbs: []clientVerb{
		{"list", "[--plan P] [--status S] [--since T] [--limit N]", "list executions, newest first", runExecutionsList},
		{"get", "ID", "show an execution: waves, servers, and what can be done now", runExecutionsGet},
		{"start", "PLAN [--mode drill|recovery] [--watch]", "start an execution of a plan and print its ID", runExecutionsStart},
		{"watch", "ID [--cleanup]", "follow an execution live until it ends (as 'wavedr watch')", runWatch},
		{"pause", "ID", "pause before the next wave launches", executionVerb("pause")},
		{"resume", "ID", "resume, or pass the pause gate of the next wave", executionVerb("resume")},
		{"cancel", "ID", "cancel: waves not launched are cancelled, DRS jobs in flight are watched to their end", executionVerb("cancel")},
		{"terminate", "ID", "terminate the recovery instances of a finished drill", executionVerb("terminate")},
		{"poll", "ID", "observe the in-flight waves in DRS once", executionVerb("poll")},
		{"finalize", "ID", "give an execution whose waves are all over its outcome", executionVerb("finalize")},
		{"report", "ID", "show what an execution measured: times per wave and server", runExecutionsReport},
	}}.register()
}

// executionAnswer is an execution as the API answers it, with the actions
// it allows now (the API decides them; the client does not infer them).
type executionAnswer struct {
	*wavedr.Execution
	CanPause     bool          `json:"canPause"`
	CanResume    bool          `json:"canResume"`
	CanCancel    bool          `json:"canCancel"`
	CanTerminate bool          `json:"canTerminate"`
	Counts       wavedr.Counts `json:"counts"`
	Report       wavedr.Report `json:"report"`
}

// can lists the actions the answer allows, as verbs of the CLI.
func (a *executionAnswer) can() []string {
	var out []string
	for _, v := range []struct {
		ok   bool
		verb string
	}{{a.CanPause, "pause"}, {a.CanResume, "resume"}, {a.CanCancel, "cancel"}, {a.CanTerminate, "terminate"}} {
		if v.ok {
			out = append(out, v.verb)
		}
	}
	return out
}

// executionPath is the API path of an execution.
func executionPath(id string) string { return "/v1/executions/" + url.PathEscape(id) }

func runExecutionsList(ctx context.Context, e *env, name string, args []string) error {
	fs, cf := newClientFlagSet(e, name, "[--plan P] [--status S] [--since T] [--limit N] [flags]", "Lists executions, newest first.")
	plan := fs.String("plan", "", "only the executions of this plan (name or ID)")
	status := fs.String("status", "", "only these statuses, comma-separated (RUNNING,PAUSED; case does not matter)")
	since := fs.String("since", "", "only executions created from this time (2026-04-01, RFC 3339) or age (24h, 7d)")
	query := func() (url.Values, error) {
		q := url.Values{}
		if *plan != "" {
			q.Set("plan", *plan)
		}
		if *status != "" {
			q.Set("status", *status)
		}
		return q, setSince(q, *since)
	}
	return runList(ctx, e, fs, cf, args, "executions", "/v1/executions", query,
		func(c *client, items []wavedr.ExecutionSummary, _ *clientList) error {
			tw := c.table()
			fmt.Fprintln(tw, "ID\tPLAN\tMODE\tSTATUS\tWAVES\tLAUNCHED\tCREATED (UTC)\tBY")
			for _, x := range items {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%d/%d\t%s\t%s\n", x.ID, x.PlanName, x.Mode, x.Status, x.WavesDone, x.Waves,
					x.Counts.Launched+x.Counts.Terminated, x.Counts.Total, clientTime(x.CreatedAt), x.InitiatedBy)
			}
			return tw.Flush()
		})
}

func runExecutionsGet(ctx context.Context, e *env, name string, args []string) error {
	fs, cf := newClientFlagSet(e, name, "ID [flags]", "Shows an execution: its waves with their status and counts, the servers of each wave with their phase, EC2 instance and IP, and the actions it allows now.")
	pos, err := cf.parse(fs, args, 1, "one execution ID")
	if err != nil {
		return err
	}
	c, err := cf.client(e)
	if err != nil {
		return err
	}
	defer c.close()
	var a executionAnswer
	b, err := c.getInto(ctx, executionPath(pos[0]), nil, &a)
	if err != nil {
		return err
	}
	if c.json {
		return c.printRaw(b)
	}
	printExecution(e.stdout, &a)
	return nil
}

// printExecution writes an execution for a terminal: a header, each wave
// (as the progress of watch and demo shows it) with a table of its
// servers, and the actions allowed.
func printExecution(w io.Writer, a *executionAnswer) {
	ex := a.Execution
	c := a.Counts
	fmt.Fprintf(w, "execution %s: %s of plan %s by %s, %s; %d of %d servers launched",
		ex.ID, ex.Mode, ex.PlanName, ex.InitiatedBy, ex.Status, c.Launched+c.Terminated, c.Total)
	if ex.Cleanup.Status != wavedr.CleanupNone {
		fmt.Fprintf(w, ", cleanup %s", ex.Cleanup.Status)
	}
	fmt.Fprintln(w)
	if ex.Reason != "" {
		fmt.Fprintf(w, "  %s\n", ex.Reason)
	}
	lines := demoLines(ex, false)
	for i, wv := range ex.Waves {
		fmt.Fprintln(w, lines[i+1].text)
		if len(wv.Servers) == 0 {
			continue
		}
		servers := slices.Clone(wv.Servers)
		slices.SortStableFunc(servers, func(a, b *wavedr.ServerRun) int { return strings.Compare(a.Hostname, b.Hostname) })
		tw := newTable(w)
		fmt.Fprintln(tw, "      HOST\tSOURCE SERVER\tSTATUS\tPHASE\tEC2 INSTANCE\tPRIVATE IP")
		for _, s := range servers {
			fmt.Fprintf(tw, "      %s\t%s\t%s\t%s\t%s\t%s\n", orDash(s.Hostname), s.SourceServerID, s.Status,
				orDash(strings.ToLower(string(s.Phase))), orDash(s.EC2InstanceID), orDash(s.PrivateIP))
		}
		tw.Flush()
		for _, s := range servers {
			if s.Reason != "" {
				fmt.Fprintf(w, "      %s: %s\n", orDash(s.Hostname), s.Reason)
			}
		}
	}
	if len(lines) > len(ex.Waves)+1 {
		fmt.Fprintln(w, lines[len(lines)-1].text) // the cleanup
	}
	if can := a.can(); len(can) > 0 {
		fmt.Fprintf(w, "can: %s\n", strings.Join(can, ", "))
	}
}

func runExecutionsStart(ctx context.Context, e *env, name string, args []string) error {
	fs, cf := newClientFlagSet(e, name, "PLAN [--mode drill|recovery] [--watch [--cleanup]] [flags]",
		`Starts an execution of the plan (name or ID) and prints its ID on
standard output. A recovery (a real failover) needs the recovery:start
permission. With --watch it then follows the execution as 'wavedr watch'
does, and exits as it does.`)
	mode := fs.String("mode", "drill", "drill (isolated instances, terminated afterwards) or recovery (a failover)")
	watch := fs.Bool("watch", false, "follow the execution until it ends")
	cleanup := fs.Bool("cleanup", false, "with --watch: also wait for the drill's cleanup to end")
	pos, err := cf.parse(fs, args, 1, "one plan name or ID")
	if err != nil {
		return err
	}
	m, ok := map[string]wavedr.Mode{"drill": wavedr.ModeDrill, "recovery": wavedr.ModeRecovery}[strings.ToLower(*mode)]
	if !ok {
		return usagef("--mode must be drill or recovery")
	}
	if *cleanup && !*watch {
		return usagef("--cleanup goes with --watch")
	}
	c, err := cf.client(e)
	if err != nil {
		return err
	}
	defer c.close()
	var a executionAnswer
	b, err := c.send(ctx, "POST", "/v1/executions", nil, map[string]any{"plan": pos[0], "mode": m})
	if err != nil {
		return err
	}
	if err := c.decode(b, &a); err != nil {
		return err
	}
	if a.Execution == nil || a.ID == "" {
		return c.unexpected("an execution")
	}
	switch {
	case *watch:
		if !c.json {
			fmt.Fprintln(e.stdout, a.ID)
		}
		return c.watchAndReport(ctx, a.ID, *cleanup)
	case c.json:
		return c.printRaw(b)
	}
	fmt.Fprintln(e.stdout, a.ID)
	c.logf("%s of plan %s started: %d waves, %d servers, %s", a.Mode, a.PlanName, len(a.Waves), a.Counts.Total, a.Status)
	return nil
}

// verbAnswer is the answer of the verbs that act on an execution.
type verbAnswer struct {
	Execution        *executionAnswer `json:"execution"`
	Changed          bool             `json:"changed"`
	Message          string           `json:"message"`
	AllWavesComplete *bool            `json:"allWavesComplete"` // poll only
}

var executionVerbHelp = map[string]string{
	"pause":     "Asks the execution to pause before its next wave launches; waves in flight go on.",
	"resume":    "Resumes a paused execution (passing the pause gate of its next wave), or withdraws a pause not yet in effect.",
	"cancel":    "Cancels the execution: waves not launched are cancelled, DRS jobs in flight are watched to their end.",
	"terminate": "Terminates the recovery instances of a finished drill (its cleanup); 'wavedr watch ID --cleanup' follows it.",
	"poll":      "Observes the in-flight waves in DRS and EC2 once and records what was seen; never changes the status.",
	"finalize":  "Gives an execution whose waves are all over its outcome (a no-op when it has one).",
}

// executionVerb is `wavedr executions VERB ID`: POST .../VERB, printing
// the answer's message and the execution's status.
func executionVerb(verb string) func(ctx context.Context, e *env, name string, args []string) error {
	return func(ctx context.Context, e *env, name string, args []string) error {
		fs, cf := newClientFlagSet(e, name, "ID [flags]", executionVerbHelp[verb])
		pos, err := cf.parse(fs, args, 1, "one execution ID")
		if err != nil {
			return err
		}
		c, err := cf.client(e)
		if err != nil {
			return err
		}
		defer c.close()
		var a verbAnswer
		b, err := c.send(ctx, "POST", executionPath(pos[0])+"/"+verb, nil, nil)
		if err != nil {
			return err
		}
		if err := c.decode(b, &a); err != nil {
			return err
		}
		if c.json {
			return c.printRaw(b)
		}
		if a.Execution == nil || a.Execution.Execution == nil {
			return c.unexpected("an execution")
		}
		ex := a.Execution
		switch {
		case a.AllWavesComplete != nil:
			fmt.Fprintf(e.stdout, "observed; allWavesComplete %v\n", *a.AllWavesComplete)
		case a.Message != "":
			fmt.Fprintln(e.stdout, a.Message)
		default:
			fmt.Fprintln(e.stdout, "no change")
		}
		fmt.Fprintf(e.stdout, "execution %s is %s", ex.ID, ex.Status)
		if cs := ex.Cleanup.Status; cs != wavedr.CleanupNone {
			fmt.Fprintf(e.stdout, ", cleanup %s", cs)
		}
		fmt.Fprintln(e.stdout)
		return nil
	}
}

func runExecutionsReport(ctx context.Context, e *env, name string, args []string) error {
	fs, cf := newClientFlagSet(e, name, "ID [flags]", "Shows what an execution measured: per wave and server, when each step was reached, and the recovery time. -o json prints the report of the API's answer.")
	pos, err := cf.parse(fs, args, 1, "one execution ID")
	if err != nil {
		return err
	}
	c, err := cf.client(e)
	if err != nil {
		return err
	}
	defer c.close()
	var a struct {
		Report *wavedr.Report `json:"report"`
	}
	b, err := c.getInto(ctx, executionPath(pos[0]), nil, &a)
	if err != nil {
		return err
	}
	if a.Report == nil {
		return c.unexpected("a report")
	}
	if c.json {
		var raw struct {
			Report json.RawMessage `json:"report"`
		}
		if err := c.decode(b, &raw); err != nil {
			return err
		}
		return c.printRaw(raw.Report)
	}
	printReport(e.stdout, *a.Report)
	return nil
}
