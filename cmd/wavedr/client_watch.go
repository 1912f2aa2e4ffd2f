package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"wavedr"
	wdrhttp "wavedr/http"
)

func init() {
	register(command{
		name:    "watch",
		summary: "follow an execution on a wavedr server live, until it ends",
		run: func(ctx context.Context, e *env, args []string) error {
			return runWatch(ctx, e, "watch", args)
		},
	})
}

const (
	// watchRetryDefault is the wait before reconnecting until the server
	// suggests its own (the "retry:" of the stream).
	watchRetryDefault = 2 * time.Second
	watchRetryMax     = 30 * time.Second
	// watchGiveUp is how many connections in a row may fail before watch
	// gives up: with the backoff, a few minutes of a server away.
	watchGiveUp = 10
	// watchIdle declares a stream dead when nothing, not even the server's
	// heartbeat (every 15 s by default), arrived for that long.
	watchIdle = time.Minute
	// watchSettle is how long to wait for more events before drawing: the
	// events of one change arrive one after the other, and a view drawn
	// between them would show a wave ahead of its servers.
	watchSettle = 50 * time.Millisecond
)

func runWatch(ctx context.Context, e *env, name string, args []string) error {
	fs, cf := newClientFlagSet(e, name, "ID [--cleanup] [flags]",
		`Follows an execution live, from the server's event stream: a line per
wave, redrawn in place on a terminal, or a line per change elsewhere. It
ends when the execution is over (with --cleanup, when its drill cleanup is
over too), and exits 0 if it COMPLETED (and its cleanup did not fail), 1
otherwise. A dropped stream is resumed where it stopped. With -o json the
progress goes to standard error and the final execution, as the API
answers it, to standard output.`)
	cleanup := fs.Bool("cleanup", false, "after the execution ends, also wait for the termination of its drill instances")
	pos, err := cf.parse(fs, args, 1, "one execution ID")
	if err != nil {
		return err
	}
	c, err := cf.client(e)
	if err != nil {
		return err
	}
	defer c.close()
	return c.watchAndReport(ctx, pos[0], *cleanup)
}

// watchAndReport follows the execution to its end, then reads it again
// (the answer of record, and the output of -o json) and returns an error
// unless it COMPLETED.
func (c *client) watchAndReport(ctx context.Context, id string, cleanup bool) error {
	progress := c.e.stdout
	if c.json {
		progress = c.e.stderr
	}
	w := &watcher{c: c, id: id, cleanup: cleanup, view: newWatchView(c.e, progress, c.verbose),
		retry: watchRetryDefault, said: map[string]bool{}}
	err := w.run(ctx)
	w.view.close()
	if err != nil {
		return err
	}
	var a executionAnswer
	b, err := c.getInto(ctx, executionPath(id), nil, &a)
	if err != nil {
		return err
	}
	if a.Execution == nil {
		return c.unexpected("execution")
	}
	if c.json {
		if err := c.printRaw(b); err != nil {
			return err
		}
	}
	switch {
	case a.Status != wavedr.ExecutionCompleted:
		return fmt.Errorf("execution %s ended %s%s", a.ID, a.Status, prefixed(": ", a.Reason))
	case cleanup && a.Cleanup.Status == wavedr.CleanupFailed:
		return fmt.Errorf("execution %s COMPLETED but its cleanup FAILED%s", a.ID, prefixed(": ", a.Cleanup.Reason))
	}
	return nil
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// watcher keeps an execution up to date from the event stream.
type watcher struct {
	c       *client
	id      string
	cleanup bool
	view    *watchView
	retry   time.Duration
	lastID  string            // of the last event applied, to resume from
	ex      *wavedr.Execution // nil until the first snapshot
	// canTerminate is the API's, from the last snapshot or execution event.
	canTerminate bool
	said         map[string]bool // the messages printed, each once
}

// fatalError is a failure of the stream that reconnecting cannot mend.
type fatalError struct{ error }

func (f fatalError) Unwrap() error { return f.error }

// retryable reports whether a new connection may succeed where err failed:
// the server was unreachable, stopping, or failing, not refusing.
func retryable(err error) bool {
	var f fatalError
	if errors.As(err, &f) {
		return false
	}
	switch wavedr.ErrorCode(err) {
	case wavedr.EUNAVAILABLE, wavedr.EINTERNAL, wavedr.EQUOTA:
		return true
	}
	return false
}

// run follows the stream, reconnecting, until the execution is over.
func (w *watcher) run(ctx context.Context) error {
	failures := 0
	for {
		connected, done, err := w.stream(ctx)
		switch {
		case done:
			return nil
		case ctx.Err() != nil:
			if w.ex != nil {
				return fmt.Errorf("interrupted; execution %s is %s", w.ex.ID, w.ex.Status)
			}
			return errors.New("interrupted")
		case err != nil && !retryable(err):
			return err
		}
		if connected {
			failures = 0
		}
		failures++
		if failures > watchGiveUp {
			return err
		}
		delay := min(w.retry<<(failures-1), watchRetryMax)
		why := "the event stream ended"
		if err != nil {
			why = err.Error()
		}
		w.view.event("%s; reconnecting in %s", why, delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}

// sseEvent is one event of the stream, or (typ "") a sign of life: a
// comment or a retry field.
type sseEvent struct {
	id    string
	typ   string
	data  string
	retry time.Duration
}

// stream reads one connection of the event stream. It returns whether it
// connected, whether the execution is over, and why the stream ended.
func (w *watcher) stream(ctx context.Context) (connected, done bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := w.c.newRequest(sctx, http.MethodGet, "/v1/events", url.Values{"execution": {w.id}}, nil)
	if err != nil {
		return false, false, fatalError{err}
	}
	req.Header.Set("Accept", "text/event-stream")
	if w.lastID != "" {
		req.Header.Set("Last-Event-ID", w.lastID)
	}
	resp, err := w.c.stream.Do(req)
	if err != nil {
		return false, false, w.c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	w.c.logf("GET %s (Last-Event-ID %q) → %d", req.URL.RequestURI(), w.lastID, resp.StatusCode)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, clientMaxAnswer))
		return false, false, w.c.answerError(resp, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return false, false, fatalError{w.c.unexpected("event stream (Content-Type " + ct + ")")}
	}

	events := make(chan sseEvent)
	ended := make(chan error, 1)
	go func() { ended <- readSSE(sctx, resp.Body, events) }()
	idle := time.NewTimer(watchIdle)
	defer idle.Stop()
	settle := time.NewTimer(watchSettle)
	settle.Stop()
	defer settle.Stop()
	pending, pendingVersion := false, int64(-1)
	// draw shows the changes applied and says whether the watch is over.
	draw := func() bool {
		pending = false
		if w.ex == nil {
			return false
		}
		w.view.show(w.ex)
		return w.over()
	}
	for {
		select {
		case ev := <-events:
			idle.Reset(watchIdle)
			if ev.retry > 0 {
				w.retry = min(max(ev.retry, 100*time.Millisecond), watchRetryMax)
			}
			if ev.typ == "" {
				continue
			}
			if ev.typ == wdrhttp.EventClosed {
				var cl wdrhttp.ClosedEvent
				_ = json.Unmarshal([]byte(ev.data), &cl)
				if pending && draw() {
					return true, true, nil
				}
				return true, false, wavedr.Errorf(wavedr.EUNAVAILABLE, "the server closed the event stream (%s)", orDash(cl.Reason))
			}
			var h wdrhttp.EventHeader
			if err := json.Unmarshal([]byte(ev.data), &h); err != nil {
				return true, false, fatalError{w.c.unexpected("readable event")}
			}
			// The events of one change share the execution's version: the
			// view is drawn between changes, never inside one.
			if pending && h.Version != pendingVersion && draw() {
				return true, true, nil
			}
			if err := w.apply(ev.typ, []byte(ev.data)); err != nil {
				return true, false, fatalError{err}
			}
			if ev.id != "" {
				w.lastID = ev.id
			}
			pending, pendingVersion = true, h.Version
			settle.Reset(watchSettle)
		case <-settle.C:
			if pending && draw() {
				return true, true, nil
			}
		case <-idle.C:
			return true, false, wavedr.Errorf(wavedr.EUNAVAILABLE, "nothing came from %s for %s", w.c.base, watchIdle)
		case err := <-ended:
			if pending && draw() {
				return true, true, nil
			}
			if err == nil || errors.Is(err, io.EOF) {
				return true, false, nil
			}
			return true, false, w.c.transportError(ctx, err)
		}
	}
}

// readSSE parses the server-sent events of r onto out until r ends.
func readSSE(ctx context.Context, r io.Reader, out chan<- sseEvent) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var ev sseEvent
	var data strings.Builder
	hasData, alive := false, false
	send := func(e sseEvent) error {
		select {
		case out <- e:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err // a line cut short is not an event
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		switch {
		case line == "":
			if hasData {
				ev.data = data.String()
				if ev.typ == "" {
					ev.typ = "message"
				}
			} else {
				ev.typ = ""
			}
			if hasData || alive || ev.retry > 0 {
				if err := send(ev); err != nil {
					return err
				}
			}
			ev, hasData, alive = sseEvent{}, false, false
			data.Reset()
			continue
		case strings.HasPrefix(line, ":"):
			if err := send(sseEvent{}); err != nil { // a heartbeat
				return err
			}
			continue
		}
		alive = true
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			ev.typ = value
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.WriteString(value)
			hasData = true
		case "id":
			ev.id = value
		case "retry":
			if ms, err := strconv.Atoi(value); err == nil && ms > 0 {
				ev.retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
}

// apply brings the execution up to date with one event.
func (w *watcher) apply(typ string, data []byte) error {
	bad := func(err error) error {
		return wavedr.Errorf(wavedr.EUNAVAILABLE, "an event %s of the stream cannot be read: %v", typ, err)
	}
	if typ == wdrhttp.EventSnapshot {
		var s wdrhttp.SnapshotEvent
		if err := json.Unmarshal(data, &s); err != nil {
			return bad(err)
		}
		for _, x := range s.Executions {
			if x.Execution != nil && x.ID == w.id {
				w.ex, w.canTerminate = x.Execution, x.CanTerminate
			}
		}
		return nil
	}
	ex := w.ex
	if ex == nil {
		return nil // nothing to update before the first snapshot
	}
	switch typ {
	case wdrhttp.EventExecution:
		var x wdrhttp.ExecutionEvent
		if err := json.Unmarshal(data, &x); err != nil {
			return bad(err)
		}
		ex.Status, ex.Reason, ex.Cleanup = x.Status, x.Reason, x.Cleanup
		ex.Pause, ex.PauseRequest, ex.ResumeRequest, ex.CancelRequest = x.Pause, x.PauseRequest, x.ResumeRequest, x.CancelRequest
		ex.StartedAt, ex.EndedAt, ex.Version = x.StartedAt, x.EndedAt, x.Version
		w.canTerminate = x.CanTerminate
	case wdrhttp.EventWave:
		var x wdrhttp.WaveEvent
		if err := json.Unmarshal(data, &x); err != nil {
			return bad(err)
		}
		if wv := ex.Wave(x.Wave); wv != nil {
			wv.Status, wv.Reason, wv.GatePassedBy, wv.Jobs = x.Status, x.Reason, x.GatePassedBy, x.Jobs
			wv.LaunchRequestedAt, wv.StartedAt, wv.EndedAt, wv.DeadlineAt = x.LaunchRequestedAt, x.StartedAt, x.EndedAt, x.DeadlineAt
		}
	case wdrhttp.EventServer:
		var x wdrhttp.ServerEvent
		if err := json.Unmarshal(data, &x); err != nil {
			return bad(err)
		}
		wv := ex.Wave(x.Wave)
		if wv == nil {
			return nil
		}
		s := wv.Server(x.SourceServerID)
		if s == nil {
			// Servers join a wave when it launches and resolves its groups.
			s = &wavedr.ServerRun{}
			s.SourceServerID = x.SourceServerID
			wv.Servers = append(wv.Servers, s)
		}
		s.Hostname, s.AccountID, s.Region, s.Status, s.Phase, s.Reason = x.Hostname, x.AccountID, x.Region, x.Status, x.Phase, x.Reason
		s.JobID, s.LaunchStatus, s.RecoveryInstanceID, s.EC2InstanceID = x.JobID, x.LaunchStatus, x.RecoveryInstanceID, x.EC2InstanceID
		s.InstanceType, s.InstanceState, s.PrivateIP = x.InstanceType, x.InstanceState, x.PrivateIP
		s.LaunchedAt, s.TerminatedAt = x.LaunchedAt, x.TerminatedAt
	}
	return nil
}

// over says what an operator needs to know (once each) and reports
// whether the watch is over.
func (w *watcher) over() bool {
	ex := w.ex
	if p := ex.Pause; ex.Status == wavedr.ExecutionPaused && p != nil {
		resume := fmt.Sprintf("'wavedr executions resume %s'", ex.ID)
		key := fmt.Sprint("pause ", p.BeforeWave, " ", p.At.UnixNano())
		if p.Gate {
			w.say(key, "Paused at the gate before wave %s: approve it with %s.", p.BeforeWave, resume)
		} else {
			w.say(key, "Paused by %s before wave %s: resume with %s.", orDash(p.By), p.BeforeWave, resume)
		}
	}
	if !ex.Status.IsTerminal() {
		return false
	}
	c := ex.Counts()
	mode := "Recovery"
	if ex.Mode == wavedr.ModeDrill {
		mode = "Drill"
	}
	w.say("end", "%s %s: %d of %d servers launched%s.", mode, ex.Status,
		c.Launched+c.Terminated, c.Total, prefixed(" — ", ex.Reason))
	terminate := fmt.Sprintf("'wavedr executions terminate %s'", ex.ID)
	switch ex.Cleanup.Status {
	case wavedr.CleanupCompleted, wavedr.CleanupFailed:
		w.say("cleanup", "Cleanup %s: %d recovery instances terminated%s.", ex.Cleanup.Status, c.Terminated, prefixed(" — ", ex.Cleanup.Reason))
		return true
	case wavedr.CleanupTerminating:
		return !w.cleanup
	}
	if !w.canTerminate {
		return true
	}
	if !w.cleanup {
		w.say("instances", "Its recovery instances keep running until %s.", terminate)
		return true
	}
	w.say("instances", "Waiting for the cleanup, which %s starts.", terminate)
	return false
}

func (w *watcher) say(key, format string, args ...any) {
	if !w.said[key] {
		w.said[key] = true
		w.view.event(format, args...)
	}
}

// watchView shows an execution's progress as the demo does (demoLines):
// redrawn in place on a terminal, a line per change elsewhere. Its times
// are offsets from the execution's start on the engine's clock, which
// may run ahead of this machine's (a server on the simulator).
type watchView struct {
	w      io.Writer
	tty    bool
	width  int
	start  time.Time // wall clock, for the header
	clock  time.Time // the latest engine time the execution shows
	origin time.Time // the execution's start
	last   *wavedr.Execution
	drawn  int
	seen   map[string]string // last line printed per key (lines mode)
}

func newWatchView(e *env, w io.Writer, verbose bool) *watchView {
	width := 80
	if c, err := strconv.Atoi(e.getenv("COLUMNS")); err == nil && c >= 40 {
		width = c
	}
	// -v logs requests on stderr, which would break a redraw.
	tty := !verbose && writerIsTerminal(w) && e.getenv("TERM") != "dumb"
	return &watchView{w: w, tty: tty, width: width - 1, start: time.Now(), seen: map[string]string{}}
}

func (v *watchView) show(ex *wavedr.Execution) {
	v.last, v.origin = ex, ex.StartedAt
	if t := latestTime(ex); t.After(v.clock) {
		v.clock = t
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
func (v *watchView) event(format string, args ...any) {
	if v.tty && v.drawn > 0 {
		fmt.Fprintf(v.w, "\x1b[%dA\r\x1b[J", v.drawn)
		v.drawn = 0
	}
	fmt.Fprintf(v.w, "%-9s %s\n", v.stamp(), fmt.Sprintf(format, args...))
	if v.tty {
		v.redraw()
	}
}

// close leaves the last drawing on screen.
func (v *watchView) close() { v.drawn = 0 }

func (v *watchView) stamp() string {
	if v.origin.IsZero() {
		return "[+0s]"
	}
	now := time.Now()
	if v.clock.After(now) {
		now = v.clock
	}
	return "[" + reportOffset(now, v.origin) + "]"
}

func (v *watchView) redraw() {
	if v.last == nil {
		return
	}
	lines := demoLines(v.last, true)
	lines[0].text += fmt.Sprintf("   %s, watched for %s", v.stamp(), reportDuration(time.Since(v.start)))
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

// latestTime is the latest time recorded in ex: the engine's clock, as
// far as the execution shows it.
func latestTime(ex *wavedr.Execution) time.Time {
	var t time.Time
	see := func(ts ...time.Time) {
		for _, x := range ts {
			if x.After(t) {
				t = x
			}
		}
	}
	see(ex.CreatedAt, ex.StartedAt, ex.EndedAt, ex.LastPolledAt, ex.Cleanup.StartedAt, ex.Cleanup.EndedAt)
	if ex.Pause != nil {
		see(ex.Pause.At)
	}
	for _, r := range []*wavedr.Request{ex.PauseRequest, ex.ResumeRequest, ex.CancelRequest} {
		if r != nil {
			see(r.At)
		}
	}
	for _, wv := range ex.Waves {
		see(wv.LaunchRequestedAt, wv.StartedAt, wv.EndedAt)
		for _, s := range wv.Servers {
			see(s.LaunchRequestedAt, s.JobStartedAt, s.LaunchedAt, s.TerminatedAt)
		}
	}
	return t
}
