package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"wavedr"
	"wavedr/aws"
	"wavedr/engine"
	"wavedr/examples"
	"wavedr/manifest"
	"wavedr/sim"
	"wavedr/store"
)

func init() {
	register(command{
		name:    "demo",
		summary: "run a sample three-wave drill on the built-in simulator and print its report",
		run:     runDemo,
	})
}

const (
	demoPlan         = "three-tier"
	demoSpeedDefault = 60 // a drill of about 35 simulated minutes takes about 35 s
	// demoSpeedMax keeps one poll cycle (at least engine.PollIntervalMin of
	// wall time) within a few simulated minutes, well inside the example's
	// wave deadlines.
	demoSpeedMax = 1200
	// demoPollSim is the simulated time between two polls: fine enough for
	// the progress display; the recorded times come from DRS's job log and
	// EC2, not from the poll, so they are exact at any speed.
	demoPollSim = 12 * time.Second
	demoRefresh = 100 * time.Millisecond // redraw period of the progress display
)

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "demo", "[--speed N] [--gate-wait DURATION] [--data-dir DIR] [--json]")
	speed := fs.Float64("speed", demoSpeedDefault, fmt.Sprintf("simulated DRS time runs this many times faster than the wall clock (1 to %d)", demoSpeedMax))
	gateWait := fs.Duration("gate-wait", 2500*time.Millisecond, "how long the demo waits at the app wave's pause gate before approving it")
	dataDir := fs.String("data-dir", "", "keep the demo's SQLite database in this directory (default: a temporary directory, removed afterwards); $WAVEDR_DB and $WAVEDR_DATA_DIR are never used")
	seed := fs.Int64("seed", 1, "seed of the simulated fleet and of its timings")
	jsonOut := fs.Bool("json", false, "print only the final execution, as JSON, on standard output; progress goes to standard error")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up when the drill and its cleanup take longer than this (wall clock)")
	verbose := fs.Bool("v", false, "log the engine's events on standard error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *speed < 1 || *speed > demoSpeedMax {
		return usagef("--speed must be between 1 and %d", demoSpeedMax)
	}
	if *gateWait < 0 || *timeout <= 0 {
		return usagef("--gate-wait must not be negative and --timeout must be positive")
	}

	progress := e.stdout
	if *jsonOut {
		progress = e.stderr
	}
	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = slog.New(slog.NewTextHandler(e.stderr, nil))
	}

	dir, keep := *dataDir, *dataDir != ""
	if keep {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create the data directory: %w", err)
		}
	} else {
		tmp, err := os.MkdirTemp("", "wavedr-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	dbPath := filepath.Join(dir, "wavedr.db")

	s, err := sim.New(sim.Config{Seed: *seed, Speed: *speed})
	if err != nil {
		return err
	}
	defer s.Close()
	db, err := store.Open(ctx, "sqlite://"+filepath.ToSlash(dbPath), store.WithClock(s.Now))
	if err != nil {
		return err
	}
	defer db.Close()
	rec, err := aws.New(ctx, aws.Config{
		HTTPClient:  s.HTTPClient(),
		Endpoint:    s.Endpoint(),
		Credentials: &aws.Credentials{AccessKeyID: "AKIDWAVEDRDEMO", SecretAccessKey: "demo"},
		Region:      sim.LocalRegion,
		RateLimit:   -1,
	})
	if err != nil {
		return err
	}
	poll := min(max(time.Duration(float64(demoPollSim) / *speed), engine.PollIntervalMin), time.Second)
	eng, err := engine.Open(ctx, engine.Config{DB: db, Recovery: rec, Now: s.Now, PollInterval: poll, Logger: logger})
	if err != nil {
		return err
	}
	// The workers get a context of their own so that Ctrl-C stops them
	// gracefully (each step finishes) rather than mid-step.
	if err := eng.StartWorkers(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	defer func() {
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := eng.StopWorkers(stop); err != nil {
			logger.Warn("demo.stop_workers", "err", err)
		}
	}()

	m, err := manifest.Load(examples.ThreeTierName, bytes.NewReader(examples.ThreeTier))
	if err != nil {
		return err
	}
	if err := db.InTx(ctx, func(tx *store.Tx) error { _, err := manifest.Apply(ctx, tx, m); return err }); err != nil {
		return err
	}
	user := operatorName(e, "demo")
	ex, err := eng.Start(ctx, engine.StartInput{Plan: demoPlan, Mode: wavedr.ModeDrill, InitiatedBy: user})
	if err != nil {
		if keep && wavedr.ErrorCode(err) == wavedr.ECONFLICT {
			return fmt.Errorf("%w (an earlier demo in %s did not finish; give another --data-dir)", err, dir)
		}
		return err
	}

	where := dbPath + " (removed afterwards)"
	if keep {
		where = dbPath
	}
	fmt.Fprintf(progress, "wavedr demo: a drill of plan %s (%d waves, %d servers) on the built-in DRS simulator\n",
		demoPlan, len(ex.Waves), ex.Counts().Total)
	fmt.Fprintf(progress, "Simulated time runs %s× faster than the wall clock; the times shown are simulated.\nDatabase: %s\n\n",
		strconv.FormatFloat(*speed, 'f', -1, 64), where)

	runCtx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	d := &demo{eng: eng, user: user, gateWait: *gateWait,
		view: newDemoView(e, progress, s.Now, *verbose)}
	final, err := d.run(runCtx, ex.ID)
	d.view.close()
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("interrupted: workers stopped, execution %s left as it was", ex.ID)
		case runCtx.Err() != nil:
			return fmt.Errorf("gave up after %s (--timeout): %w", *timeout, err)
		}
		return err
	}

	if *jsonOut {
		b, err := json.MarshalIndent(final.View(), "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s\n", b)
	} else {
		fmt.Fprintln(e.stdout)
		printReport(e.stdout, final.Report())
	}
	switch {
	case final.Status != wavedr.ExecutionCompleted:
		return fmt.Errorf("the drill ended %s: %s", final.Status, final.Reason)
	case final.Cleanup.Status != wavedr.CleanupCompleted:
		return fmt.Errorf("the drill COMPLETED but its cleanup is %s: %s", demoCleanupLabel(final.Cleanup.Status), final.Cleanup.Reason)
	}
	return nil
}

// demo drives one drill as an operator would: it approves the pause gate,
// and terminates the instances once the drill is over.
type demo struct {
	eng      *engine.Engine
	user     string
	gateWait time.Duration
	view     *demoView
}

// run watches the execution to its end and its cleanup to its end, and
// returns the execution as it is then.
func (d *demo) run(ctx context.Context, id string) (*wavedr.Execution, error) {
	var (
		gate      string    // the wave whose gate is being held
		gateSince time.Time // wall clock: the wait is for a human watching
		cleaning  bool
	)
	tick := time.NewTicker(demoRefresh)
	defer tick.Stop()
	for {
		ex, err := d.eng.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		d.view.show(ex)
		switch {
		case ex.Status == wavedr.ExecutionPaused && ex.Pause != nil && ex.Pause.Gate:
			if gate != ex.Pause.BeforeWave {
				gate, gateSince = ex.Pause.BeforeWave, time.Now()
				d.view.event("Paused at the gate before wave %s: plan %s asks an operator to approve it. Approving in %s as %s.",
					gate, ex.PlanName, d.gateWait, d.user)
			}
			if time.Since(gateSince) >= d.gateWait {
				r, err := d.eng.Resume(ctx, id, d.user)
				if err != nil {
					return nil, err
				}
				d.view.event("Gate approved: %s.", r.Message)
				continue
			}
		case ex.Status.IsTerminal() && !cleaning:
			c := ex.Counts()
			d.view.event("Drill %s: %d of %d servers launched.", ex.Status, c.Launched+c.Terminated, c.Total)
			if !ex.CanTerminate() {
				return ex, nil
			}
			r, err := d.eng.Terminate(ctx, id, d.user)
			if err != nil {
				return nil, err
			}
			cleaning = true
			d.view.event("Cleanup requested by %s: %s.", d.user, r.Message)
			continue
		case cleaning && (ex.Cleanup.Status == wavedr.CleanupCompleted || ex.Cleanup.Status == wavedr.CleanupFailed):
			d.view.event("Cleanup %s: %d recovery instances terminated.", ex.Cleanup.Status, ex.Counts().Terminated)
			return ex, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("execution %s is %s (%s)", ex.ID, ex.Status, demoWaveStates(ex))
		case <-tick.C:
		}
	}
}

func demoWaveStates(ex *wavedr.Execution) string {
	parts := make([]string, len(ex.Waves))
	for i, w := range ex.Waves {
		parts[i] = w.Name + " " + string(w.Status)
	}
	return strings.Join(parts, ", ")
}

func demoCleanupLabel(s wavedr.CleanupStatus) string {
	if s == wavedr.CleanupNone {
		return "not started"
	}
	return string(s)
}

// demoView shows an execution's progress: redrawn in place on a terminal,
// or as one appended line per change elsewhere (a pipe, a log, CI), so
// that a log shows each change once.
type demoView struct {
	w      io.Writer
	tty    bool
	width  int
	now    func() time.Time // the simulated clock
	start  time.Time        // wall clock, for the header
	origin time.Time        // the execution's start (simulated), for line prefixes
	last   *wavedr.Execution
	drawn  int               // lines of the block on screen (tty)
	seen   map[string]string // last line printed per key (lines mode)
}

func newDemoView(e *env, w io.Writer, now func() time.Time, verbose bool) *demoView {
	width := 80
	if c, err := strconv.Atoi(e.getenv("COLUMNS")); err == nil && c >= 40 {
		width = c
	}
	// Log lines on stderr would break the redraw, so -v appends lines too.
	tty := !verbose && writerIsTerminal(w) && e.getenv("TERM") != "dumb"
	return &demoView{w: w, tty: tty, width: width - 1, now: now, start: time.Now(), seen: map[string]string{}}
}

// writerIsTerminal reports whether w is a character device (a terminal).
func writerIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// show draws ex.
func (v *demoView) show(ex *wavedr.Execution) {
	v.last = ex
	if v.origin.IsZero() {
		v.origin = ex.StartedAt
	}
	if v.tty {
		v.redraw()
		return
	}
	for _, l := range demoLines(ex, false) {
		if v.seen[l.key] != l.text {
			v.seen[l.key] = l.text
			fmt.Fprintf(v.w, "%-9s %s\n", v.stamp(), l.text)
		}
	}
}

// event prints a message that stays: above the block on a terminal.
func (v *demoView) event(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !v.tty {
		fmt.Fprintf(v.w, "%-9s %s\n", v.stamp(), msg)
		return
	}
	v.erase()
	fmt.Fprintf(v.w, "%-9s %s\n", v.stamp(), msg)
	v.redraw()
}

// close leaves the last drawing on screen.
func (v *demoView) close() { v.drawn = 0 }

// stamp is the simulated time since the execution started, "[+3m05s]".
func (v *demoView) stamp() string {
	if v.origin.IsZero() {
		return "[+0s]"
	}
	return "[" + reportOffset(v.now(), v.origin) + "]"
}

func (v *demoView) erase() {
	if v.drawn > 0 {
		fmt.Fprintf(v.w, "\x1b[%dA\r\x1b[J", v.drawn)
		v.drawn = 0
	}
}

func (v *demoView) redraw() {
	if v.last == nil {
		return
	}
	lines := demoLines(v.last, true)
	lines[0].text += fmt.Sprintf("   %s simulated, %s wall", v.stamp(), reportDuration(time.Since(v.start)))
	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA\r\x1b[J", v.drawn)
	}
	for _, l := range lines {
		b.WriteString(demoTruncate(l.text, v.width))
		b.WriteByte('\n')
	}
	io.WriteString(v.w, b.String())
	v.drawn = len(lines)
}

type demoLine struct{ key, text string }

// demoLines describes ex: a header, a line per wave, and the cleanup.
func demoLines(ex *wavedr.Execution, bars bool) []demoLine {
	lines := []demoLine{{"execution", fmt.Sprintf("%s %s of plan %s: %s",
		strings.ToLower(string(ex.Mode)), ex.ID, ex.PlanName, ex.Status)}}
	nameWidth := 0
	for _, w := range ex.Waves {
		nameWidth = max(nameWidth, len(w.Name))
	}
	for _, w := range ex.Waves {
		c := w.Counts()
		done := c.Total - c.Pending - c.InProgress
		text := fmt.Sprintf("  %d %-*s ", w.Number, nameWidth, w.Name)
		if bars {
			text += demoBar(done, c.Total, 20) + " "
		}
		text += fmt.Sprintf("%2d/%-2d %-11s %s", done, c.Total, w.Status, demoPhaseCounts(w))
		if note := demoWaveNote(ex, w); note != "" {
			text += " — " + note
		}
		lines = append(lines, demoLine{"wave " + w.Name, strings.TrimRight(text, " ")})
	}
	if ex.Cleanup.Status != wavedr.CleanupNone {
		launched, terminated := 0, 0
		for _, w := range ex.Waves {
			for _, s := range w.Servers {
				if s.WasLaunched() {
					launched++
				}
				if s.Status == wavedr.ServerTerminated {
					terminated++
				}
			}
		}
		text := fmt.Sprintf("  cleanup %s: %d/%d recovery instances terminated", ex.Cleanup.Status, terminated, launched)
		if ex.Cleanup.Reason != "" {
			text += " — " + ex.Cleanup.Reason
		}
		lines = append(lines, demoLine{"cleanup", text})
	}
	return lines
}

// demoPhaseCounts counts the wave's servers by phase, naming only those with
// servers: "pending 1, snapshot 2, launched 1".
func demoPhaseCounts(w *wavedr.WaveRun) string {
	order := []string{"pending", "snapshot", "conversion", "launch", "launched", "failed", "cancelled", "terminated"}
	n := map[string]int{}
	for _, s := range w.Servers {
		switch s.Status {
		case wavedr.ServerPending:
			n["pending"]++
		case wavedr.ServerInProgress:
			switch s.Phase {
			case wavedr.PhaseSnapshot:
				n["snapshot"]++
			case wavedr.PhaseConversion:
				n["conversion"]++
			case wavedr.PhaseLaunch:
				n["launch"]++
			default: // queued in its job
				n["pending"]++
			}
		default:
			n[strings.ToLower(string(s.Status))]++
		}
	}
	var parts []string
	for _, k := range order {
		if n[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// demoWaveNote says what a wave waits for, or why it ended as it did.
func demoWaveNote(ex *wavedr.Execution, w *wavedr.WaveRun) string {
	if w.Status == wavedr.WavePending {
		if p := ex.Pause; ex.Status == wavedr.ExecutionPaused && p != nil && p.BeforeWave == w.Name {
			if p.Gate {
				return "paused at its gate, waiting for approval"
			}
			return "paused by " + p.By
		}
		var open []string
		for _, dep := range w.DependsOn {
			if d := ex.Wave(dep); d != nil && !d.Status.IsTerminal() {
				open = append(open, dep)
			}
		}
		if len(open) > 0 {
			return "waiting for " + strings.Join(open, ", ")
		}
	}
	if w.Status != wavedr.WaveCompleted {
		return w.Reason
	}
	return ""
}

func demoBar(done, total, width int) string {
	filled := 0
	if total > 0 {
		filled = done * width / total
	}
	return "[" + strings.Repeat("█", filled) + strings.Repeat("░", width-filled) + "]"
}

// demoTruncate shortens s to width runes so that a redrawn line never wraps.
func demoTruncate(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}
