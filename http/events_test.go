package http

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"wavedr"
	"wavedr/store"
	"wavedr/store/storetest"
)

// The broker is tested on the real store: executions are written with
// CreateExecution and UpdateExecution, as the engine writes them, and the
// stream is read over HTTP.

func TestEvents(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			for _, c := range []struct {
				name string
				run  func(*testing.T, storetest.Dialect)
			}{
				{"Order", testEventsOrder},
				{"Filter", testEventsFilter},
				{"Resume", testEventsResume},
				{"SlowClient", testEventsSlowClient},
				{"OldExecutionWrittenAgain", testEventsOldExecution},
				{"Shutdown", testEventsShutdown},
			} {
				t.Run(c.name, func(t *testing.T) { t.Parallel(); c.run(t, d) })
			}
		})
	}
}

// eventsFixture is a store with a plan of two waves of two servers each,
// and a running broker served over HTTP.
type eventsFixture struct {
	ctx    context.Context
	db     *store.DB
	plan   *wavedr.RecoveryPlan
	broker *Broker
	url    string
	stop   context.CancelFunc
	done   chan struct{}
}

func newEventsFixture(t *testing.T, d storetest.Dialect, cfg BrokerConfig) *eventsFixture {
	t.Helper()
	ctx := context.Background()
	db := d.Open(t)
	plan := eventsPlan(t, ctx, db)
	if cfg.Interval == 0 {
		cfg.Interval = 10 * time.Millisecond
	}
	cfg.Logger = slog.New(slog.DiscardHandler)
	f := &eventsFixture{ctx: ctx, db: db, plan: plan, broker: NewBroker(db, cfg), done: make(chan struct{})}
	runCtx, stop := context.WithCancel(ctx)
	f.stop = stop
	go func() {
		defer close(f.done)
		if err := f.broker.Run(runCtx); err != nil {
			t.Errorf("broker: %v", err)
		}
	}()
	srv := httptest.NewServer(f.broker)
	f.url = srv.URL
	t.Cleanup(func() {
		f.shutdown()
		srv.Close()
	})
	return f
}

// shutdown stops the broker and waits for it.
func (f *eventsFixture) shutdown() {
	f.stop()
	<-f.done
}

// eventsPlan stores a plan of two waves, each of a group of two servers.
func eventsPlan(t *testing.T, ctx context.Context, db *store.DB) *wavedr.RecoveryPlan {
	t.Helper()
	plan := &wavedr.RecoveryPlan{Name: "events"}
	for i := 1; i <= 2; i++ {
		g := &wavedr.ProtectionGroup{Name: fmt.Sprintf("events-g%d", i), Region: "eu-west-1",
			ServerIDs: []string{eventsServer(2*i - 1), eventsServer(2 * i)}}
		if err := db.CreateProtectionGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		plan.Waves = append(plan.Waves, wavedr.Wave{Name: fmt.Sprintf("wave-%d", i), Groups: []string{g.Name}})
	}
	if err := db.CreateRecoveryPlan(ctx, plan); err != nil {
		t.Fatal(err)
	}
	return plan
}

func eventsServer(n int) string { return fmt.Sprintf("s-%017x", n) }

// create stores a new PENDING execution of the plan.
func (f *eventsFixture) create(t *testing.T) *wavedr.Execution {
	t.Helper()
	e := wavedr.NewExecution(f.plan, wavedr.ModeDrill, "alice@example.com", time.Now())
	for i, w := range e.Waves {
		for j := 1; j <= 2; j++ {
			w.Servers = append(w.Servers, &wavedr.ServerRun{
				ServerDetail: wavedr.ServerDetail{SourceServerID: eventsServer(2*i + j)},
				Region:       "eu-west-1", Group: w.Groups[0], Status: wavedr.ServerPending,
			})
		}
	}
	if err := f.db.CreateExecution(f.ctx, e); err != nil {
		t.Fatal(err)
	}
	return e
}

// update reads the execution, changes it with fn and writes it back.
func (f *eventsFixture) update(t *testing.T, id string, fn func(e *wavedr.Execution)) *wavedr.Execution {
	t.Helper()
	e, err := f.db.FindExecution(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	fn(e)
	if err := f.db.UpdateExecution(f.ctx, e); err != nil {
		t.Fatal(err)
	}
	return e
}

// sseEvent is one event read from a stream; a comment has only Comment.
type sseEvent struct {
	ID, Type, Comment string
	Data              json.RawMessage
}

// header decodes the event's common fields.
func (e sseEvent) header(t *testing.T) EventHeader {
	t.Helper()
	var h EventHeader
	if err := json.Unmarshal(e.Data, &h); err != nil {
		t.Fatalf("event %s: %v", e.Data, err)
	}
	return h
}

func (e sseEvent) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(e.Data, v); err != nil {
		t.Fatalf("event %s: %v", e.Data, err)
	}
}

// sseStream reads a stream in the background.
type sseStream struct {
	status int
	events chan sseEvent // closed at the end of the stream
	cancel context.CancelFunc
}

// open connects to the broker with the query and Last-Event-ID.
func (f *eventsFixture) open(t *testing.T, query, lastID string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(f.ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url+"/v1/events"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &sseStream{status: resp.StatusCode, events: make(chan sseEvent, 1000), cancel: cancel}
	t.Cleanup(cancel)
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		close(s.events)
		return s
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q", ct)
	}
	go func() {
		defer close(s.events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Type != "" || ev.Data != nil {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				s.events <- sseEvent{Comment: strings.TrimSpace(line[1:])}
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Type = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.Data = json.RawMessage(line[6:])
			}
		}
	}()
	return s
}

// next returns the next event that is not a comment.
func (s *sseStream) next(t *testing.T) sseEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatal("the stream ended")
			}
			if ev.Comment != "" {
				continue
			}
			return ev
		case <-timeout:
			t.Fatal("no event within 10s")
		}
	}
}

// expect reads the next events and checks their "type:key=status" forms.
func (s *sseStream) expect(t *testing.T, want ...string) []sseEvent {
	t.Helper()
	var got []sseEvent
	var forms []string
	for range want {
		ev := s.next(t)
		got = append(got, ev)
		forms = append(forms, eventForm(t, ev))
	}
	if strings.Join(forms, " ") != strings.Join(want, " ") {
		t.Fatalf("events\n got: %s\nwant: %s", strings.Join(forms, " "), strings.Join(want, " "))
	}
	return got
}

// eventForm is a short form of an event for comparisons:
// execution:STATUS, wave:NAME=STATUS, server:ID=STATUS, snapshot:N.
func eventForm(t *testing.T, ev sseEvent) string {
	t.Helper()
	var v struct {
		Type           string            `json:"type"`
		Status         string            `json:"status"`
		Wave           string            `json:"wave"`
		SourceServerID string            `json:"sourceServerId"`
		Executions     []json.RawMessage `json:"executions"`
		Reason         string            `json:"reason"`
	}
	ev.decode(t, &v)
	if v.Type != ev.Type {
		t.Fatalf("event %q carries type %q", ev.Type, v.Type)
	}
	switch v.Type {
	case EventExecution:
		return "execution:" + v.Status
	case EventWave:
		return "wave:" + v.Wave + "=" + v.Status
	case EventServer:
		return "server:" + v.SourceServerID[len(v.SourceServerID)-1:] + "=" + v.Status
	case EventSnapshot:
		return fmt.Sprintf("snapshot:%d", len(v.Executions))
	case EventClosed:
		return "closed:" + v.Reason
	}
	return v.Type
}

func testEventsOrder(t *testing.T, d storetest.Dialect) {
	f := newEventsFixture(t, d, BrokerConfig{Heartbeat: 20 * time.Millisecond})
	a := f.create(t)
	waitWatched(t, f.broker, 1)

	s := f.open(t, "", "")
	snap := s.next(t)
	var se SnapshotEvent
	snap.decode(t, &se)
	if snap.Type != EventSnapshot || len(se.Executions) != 1 || se.Executions[0].ID != a.ID ||
		se.Executions[0].Version != 1 || !se.Executions[0].CanCancel || len(se.Executions[0].Waves[1].Servers) != 2 {
		t.Fatalf("first event = %s %s, want a snapshot of %s at version 1", snap.Type, snap.Data, a.ID)
	}
	// Heartbeats come while nothing changes.
	waitComment(t, s, "ping")

	f.update(t, a.ID, func(e *wavedr.Execution) { eventsMust(t, e.SetStatus(wavedr.ExecutionRunning, time.Now())) })
	evs := s.expect(t, "execution:RUNNING")
	var ee ExecutionEvent
	evs[0].decode(t, &ee)
	if ee.ExecutionID != a.ID || ee.Version != 2 || !ee.CanPause || !ee.CanCancel || ee.CanResume || ee.StartedAt.IsZero() {
		t.Fatalf("execution event = %s", evs[0].Data)
	}

	// Only what changed is sent: the execution (its counts), the wave and
	// the one server, in that order, all at the new version.
	f.update(t, a.ID, func(e *wavedr.Execution) {
		w := e.Waves[0]
		eventsMust(t, w.SetStatus(wavedr.WaveLaunching, time.Now()))
		eventsMust(t, w.Servers[0].SetStatus(wavedr.ServerInProgress))
		w.Servers[0].Phase = wavedr.PhaseSnapshot
	})
	evs = append(evs, s.expect(t, "execution:RUNNING", "wave:wave-1=LAUNCHING", "server:1=IN_PROGRESS")...)
	var sv ServerEvent
	evs[3].decode(t, &sv)
	if sv.Phase != wavedr.PhaseSnapshot || sv.Wave != "wave-1" || sv.Version != 3 {
		t.Fatalf("server event = %s", evs[3].Data)
	}

	// A poll that changes nothing but lastPolledAt sends nothing; the
	// next change comes next.
	f.update(t, a.ID, func(e *wavedr.Execution) { e.LastPolledAt = time.Now() })
	f.update(t, a.ID, func(e *wavedr.Execution) {
		s := e.Waves[0].Servers[0]
		eventsMust(t, s.SetStatus(wavedr.ServerLaunched))
		s.EC2InstanceID, s.PrivateIP, s.LaunchedAt = "i-0123456789abcdef0", "10.1.0.7", time.Now()
	})
	evs = append(evs, s.expect(t, "execution:RUNNING", "wave:wave-1=LAUNCHING", "server:1=LAUNCHED")...)
	evs[6].decode(t, &sv)
	if sv.EC2InstanceID != "i-0123456789abcdef0" || sv.PrivateIP != "10.1.0.7" || sv.Version != 5 {
		t.Fatalf("server event = %s", evs[6].Data)
	}

	// A new execution arrives whole.
	b := f.create(t)
	evs = append(evs, s.expect(t, "snapshot:1")...)
	if h := evs[7].header(t); h.ExecutionID != b.ID || h.Version != 1 {
		t.Fatalf("snapshot of the new execution = %s", evs[7].Data)
	}

	// IDs follow each other; the SSE id names the broker's stream.
	first := snap.header(t).ID
	for i, ev := range evs {
		h := ev.header(t)
		if h.ID != first+uint64(i)+1 || ev.ID != fmt.Sprintf("%s-%d", f.broker.stream, h.ID) {
			t.Fatalf("event %d: id %d (SSE %q) after snapshot %d", i, h.ID, ev.ID, first)
		}
	}
}

func testEventsFilter(t *testing.T, d storetest.Dialect) {
	f := newEventsFixture(t, d, BrokerConfig{})
	a, b := f.create(t), f.create(t)
	s := f.open(t, "?execution="+a.ID, "")
	var se SnapshotEvent
	s.next(t).decode(t, &se)
	if len(se.Executions) != 1 || se.Executions[0].ID != a.ID {
		t.Fatalf("snapshot of %s holds %d executions", a.ID, len(se.Executions))
	}
	both := f.open(t, "?execution="+a.ID+","+b.ID, "")
	both.expect(t, "snapshot:2")

	f.update(t, b.ID, func(e *wavedr.Execution) { eventsMust(t, e.SetStatus(wavedr.ExecutionRunning, time.Now())) })
	if h := both.expect(t, "execution:RUNNING")[0].header(t); h.ExecutionID != b.ID {
		t.Fatalf("event of %s, want %s", h.ExecutionID, b.ID)
	}
	f.update(t, a.ID, func(e *wavedr.Execution) { eventsMust(t, e.SetStatus(wavedr.ExecutionCancelled, time.Now())) })
	// The filtered stream skips b's change and gets a's.
	if h := s.expect(t, "execution:CANCELLED")[0].header(t); h.ExecutionID != a.ID {
		t.Fatalf("event of %s, want %s", h.ExecutionID, a.ID)
	}

	for query, status := range map[string]int{
		"?execution=nope": http.StatusBadRequest,
		"?execution=" + wavedr.NewID("ex", time.Now()): http.StatusNotFound,
	} {
		if got := f.open(t, query, "").status; got != status {
			t.Errorf("GET /v1/events%s = %d, want %d", query, got, status)
		}
	}
}

func testEventsResume(t *testing.T, d storetest.Dialect) {
	f := newEventsFixture(t, d, BrokerConfig{})
	a := f.create(t)
	waitWatched(t, f.broker, 1)
	s := f.open(t, "", "")
	s.expect(t, "snapshot:1")
	f.update(t, a.ID, func(e *wavedr.Execution) { eventsMust(t, e.SetStatus(wavedr.ExecutionRunning, time.Now())) })
	last := s.expect(t, "execution:RUNNING")[0].ID
	s.cancel()

	// Changes made while the client is away are replayed after its last event.
	events := f.broker.Stats().Events
	f.update(t, a.ID, func(e *wavedr.Execution) { eventsMust(t, e.Waves[0].SetStatus(wavedr.WaveLaunching, time.Now())) })
	waitEvents(t, f.broker, events+1)
	f.update(t, a.ID, func(e *wavedr.Execution) { eventsMust(t, e.SetStatus(wavedr.ExecutionPaused, time.Now())) })
	waitEvents(t, f.broker, events+2)
	r := f.open(t, "", last)
	r.expect(t, "wave:wave-1=LAUNCHING", "execution:PAUSED")

	// The same, for a stream of one execution.
	r = f.open(t, "?execution="+a.ID, last)
	r.expect(t, "wave:wave-1=LAUNCHING", "execution:PAUSED")

	// An ID of another process (or one too old) gets a snapshot.
	for _, id := range []string{"0badcafe0bad-3", "garbage", f.broker.stream + "-99999"} {
		r = f.open(t, "", id)
		var se SnapshotEvent
		ev := r.next(t)
		ev.decode(t, &se)
		if ev.Type != EventSnapshot || len(se.Executions) != 1 || se.Executions[0].Status != wavedr.ExecutionPaused {
			t.Fatalf("Last-Event-ID %q: first event %s %s, want a snapshot", id, ev.Type, ev.Data)
		}
	}
}

func testEventsSlowClient(t *testing.T, d storetest.Dialect) {
	f := newEventsFixture(t, d, BrokerConfig{Buffer: 2})
	a := f.create(t)
	waitWatched(t, f.broker, 1)
	// A stream nobody reads, and one that is read.
	slow, _, err := f.broker.subscribe(f.ctx, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	s := f.open(t, "", "")
	s.expect(t, "snapshot:1")

	f.update(t, a.ID, func(e *wavedr.Execution) { eventsMust(t, e.SetStatus(wavedr.ExecutionRunning, time.Now())) })
	s.expect(t, "execution:RUNNING")
	for i := range 6 {
		pause := i%2 == 0
		f.update(t, a.ID, func(e *wavedr.Execution) {
			if pause {
				eventsMust(t, e.SetStatus(wavedr.ExecutionPaused, time.Now()))
			} else {
				eventsMust(t, e.SetStatus(wavedr.ExecutionRunning, time.Now()))
			}
		})
		if pause {
			s.expect(t, "execution:PAUSED")
		} else {
			s.expect(t, "execution:RUNNING")
		}
	}
	// The slow stream got what its buffer holds, then was closed.
	n := 0
	for range slow.ch {
		n++
	}
	if n != 2 || slow.reason != ClosedOverflow || f.broker.Stats().Overflow != 1 {
		t.Fatalf("slow stream: %d batches, reason %q, overflow %d; want 2, overflow, 1", n, slow.reason, f.broker.Stats().Overflow)
	}
	if got := f.broker.Stats().Streams; got != 1 {
		t.Fatalf("%d streams open, want 1", got)
	}
}

func testEventsOldExecution(t *testing.T, d storetest.Dialect) {
	f := newEventsFixture(t, d, BrokerConfig{Recent: 100 * time.Millisecond})
	cancelled := func(e *wavedr.Execution) {
		for _, w := range e.Waves {
			eventsMust(t, w.SetStatus(wavedr.WaveCancelled, time.Now()))
		}
		eventsMust(t, e.SetStatus(wavedr.ExecutionCancelled, time.Now()))
	}
	a := f.create(t)
	f.update(t, a.ID, cancelled)
	waitVersion(t, f.broker, a.ID, 2)
	s := f.open(t, "", "")
	s.expect(t, "snapshot:1")
	// Once it is over and quiet, the broker forgets it.
	waitWatched(t, f.broker, 0)
	// A later write (a drill's cleanup) brings it back, whole.
	f.update(t, a.ID, func(e *wavedr.Execution) { e.Cleanup.Status = wavedr.CleanupFailed })
	if h := s.expect(t, "snapshot:1")[0].header(t); h.ExecutionID != a.ID || h.Version != 3 {
		t.Fatalf("snapshot of %s at %d, want %s at 3", h.ExecutionID, h.Version, a.ID)
	}
	s.cancel()

	// A stream of one old execution keeps it watched and sees its changes
	// as changes.
	b := f.create(t)
	f.update(t, b.ID, cancelled)
	waitVersion(t, f.broker, b.ID, 2)
	waitWatched(t, f.broker, 0)
	one := f.open(t, "?execution="+b.ID, "")
	one.expect(t, "snapshot:1")
	time.Sleep(300 * time.Millisecond) // well past Recent
	if w := f.broker.Stats().Watched; w != 1 {
		t.Fatalf("%d executions watched, want the one a stream names", w)
	}
	f.update(t, b.ID, func(e *wavedr.Execution) { e.Cleanup.Status = wavedr.CleanupCompleted })
	var ee ExecutionEvent
	one.expect(t, "execution:CANCELLED")[0].decode(t, &ee)
	if ee.Cleanup.Status != wavedr.CleanupCompleted || ee.Version != 3 {
		t.Fatalf("execution event %+v", ee)
	}
}

func testEventsShutdown(t *testing.T, d storetest.Dialect) {
	f := newEventsFixture(t, d, BrokerConfig{})
	f.create(t)
	waitWatched(t, f.broker, 1)
	s := f.open(t, "", "")
	s.expect(t, "snapshot:1")
	f.shutdown()
	s.expect(t, "closed:"+ClosedShutdown)
	if _, ok := <-s.events; ok {
		t.Fatal("the stream goes on after the closed event")
	}
	if got := f.open(t, "", "").status; got != http.StatusServiceUnavailable {
		t.Fatalf("GET /v1/events of a stopped broker = %d, want 503", got)
	}
}

// TestEventsDiff checks the events of changes that the store tests above
// do not reach: nothing but lastPolledAt, and a server removed.
func TestEventsDiff(t *testing.T) {
	plan := &wavedr.RecoveryPlan{Name: "p", Waves: []wavedr.Wave{{Name: "w", Groups: []string{"g"}}}}
	old := wavedr.NewExecution(plan, wavedr.ModeDrill, "bob", time.Now())
	old.ID = "ex-1"
	for i := 1; i <= 2; i++ {
		old.Waves[0].Servers = append(old.Waves[0].Servers,
			&wavedr.ServerRun{ServerDetail: wavedr.ServerDetail{SourceServerID: eventsServer(i)}, Status: wavedr.ServerPending})
	}
	clone := func(e *wavedr.Execution) *wavedr.Execution {
		b, err := json.Marshal(e)
		eventsMust(t, err)
		var c wavedr.Execution
		eventsMust(t, json.Unmarshal(b, &c))
		c.Version++
		return &c
	}
	forms := func(ps []eventPayload) string {
		var out []string
		for _, p := range ps {
			out = append(out, p.header().Type)
		}
		return strings.Join(out, " ")
	}
	polled := clone(old)
	polled.LastPolledAt = time.Now()
	if got := forms(diff(old, polled)); got != "" {
		t.Errorf("lastPolledAt only: %q, want no event", got)
	}
	if got := forms(diff(nil, old)); got != EventSnapshot {
		t.Errorf("first sight: %q, want a snapshot", got)
	}
	removed := clone(old)
	removed.Waves[0].Servers = removed.Waves[0].Servers[:1]
	if got := forms(diff(old, removed)); got != EventSnapshot {
		t.Errorf("server removed: %q, want a snapshot", got)
	}
	tagged := clone(old)
	tagged.Waves[0].Servers[1].Hostname = "db01"
	if got := forms(diff(old, tagged)); got != EventServer {
		t.Errorf("hostname learned: %q, want a server event", got)
	}
}

func waitWatched(t *testing.T, b *Broker, n int) {
	t.Helper()
	eventsWaitFor(t, fmt.Sprintf("%d executions watched", n), func() bool { return b.Stats().Watched == n })
}

func waitVersion(t *testing.T, b *Broker, id string, v int64) {
	t.Helper()
	eventsWaitFor(t, fmt.Sprintf("%s at version %d", id, v), func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		e := b.cache[id]
		return e != nil && e.Version >= v
	})
}

func waitEvents(t *testing.T, b *Broker, n uint64) {
	t.Helper()
	eventsWaitFor(t, fmt.Sprintf("%d events published", n), func() bool { return b.Stats().Events >= n })
}

func eventsWaitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitComment(t *testing.T, s *sseStream, text string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatal("the stream ended")
			}
			if ev.Comment == text {
				return
			}
			if ev.Comment == "" {
				t.Fatalf("event %s %s before the comment %q", ev.Type, ev.Data, text)
			}
		case <-timeout:
			t.Fatalf("no comment %q within 10s", text)
		}
	}
}

func eventsMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
