package http

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"wavedr"
	"wavedr/store"
)

// Live events: GET /v1/events streams execution, wave and server changes
// as server-sent events. Several replicas share one database and the
// engine that changes an execution may run in another process, so the
// Broker derives events from the database: it polls the versions of the
// executions worth watching, loads those whose version moved, and diffs
// them against the copy it saw last.

// Event types: the SSE "event:" field and the "type" of the JSON data.
const (
	// EventSnapshot carries whole executions. It is the first event of a
	// stream, and is sent again for an execution the broker had no copy
	// of (a new one, or an old one written again) or whose servers were
	// removed: a client replaces its state of those executions.
	EventSnapshot  = "snapshot"
	EventExecution = "execution" // the execution's status, counts, allowed actions, pause, requests or cleanup changed
	EventWave      = "wave"      // a wave's status, reason, counts, jobs or times changed
	EventServer    = "server"    // a server's status, phase, instance or reason changed
	// EventClosed ends a stream that the server closes: the client fell
	// behind (reason "overflow") or the server is stopping ("shutdown").
	// Reconnecting with Last-Event-ID resumes the stream.
	EventClosed = "closed"
)

// Reasons of an EventClosed.
const (
	ClosedOverflow = "overflow"
	ClosedShutdown = "shutdown"
)

// Defaults of BrokerConfig.
const (
	BrokerIntervalDefault     = 300 * time.Millisecond
	BrokerRecentDefault       = 2 * time.Minute
	BrokerBufferDefault       = 64
	BrokerReplayDefault       = 4096
	BrokerReplayBytesDefault  = 16 << 20
	BrokerHeartbeatDefault    = 15 * time.Second
	BrokerWriteTimeoutDefault = 10 * time.Second
	// brokerMaxFilter bounds the executions one stream may name.
	brokerMaxFilter = 100
	// brokerRetry is the reconnection delay suggested to clients, in ms.
	brokerRetry = 2000
)

// BrokerConfig configures a Broker; zero fields take the defaults.
type BrokerConfig struct {
	// Interval is the time between two polls of the executions' versions.
	Interval time.Duration
	// Recent is how long an execution that is over stays watched after
	// its last write (by the database's clock). A write to an older one
	// (a drill's cleanup) brings it back into view.
	Recent time.Duration
	// Buffer is how many changes (each a batch of events) a stream may
	// fall behind before it is closed with EventClosed "overflow".
	Buffer int
	// Replay and ReplayBytes bound the recent events kept to resume a
	// stream after a reconnection (Last-Event-ID).
	Replay      int
	ReplayBytes int
	// Heartbeat is the time between two SSE comments on an idle stream,
	// so proxies keep it open and clients notice a dead connection.
	Heartbeat time.Duration
	// WriteTimeout bounds each write to a client; a client that does not
	// read for that long is disconnected.
	WriteTimeout time.Duration
	// Logger receives the broker's events; nil means slog.Default().
	Logger *slog.Logger
}

func (c *BrokerConfig) setDefaults() {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Interval, BrokerIntervalDefault)
	def(&c.Recent, BrokerRecentDefault)
	def(&c.Heartbeat, BrokerHeartbeatDefault)
	def(&c.WriteTimeout, BrokerWriteTimeoutDefault)
	if c.Buffer <= 0 {
		c.Buffer = BrokerBufferDefault
	}
	if c.Replay <= 0 {
		c.Replay = BrokerReplayDefault
	}
	if c.ReplayBytes <= 0 {
		c.ReplayBytes = BrokerReplayBytesDefault
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// EventHeader starts every event but EventClosed. ID increases by one
// with each event of this process's broker; Version is the version of the
// execution the event describes.
type EventHeader struct {
	ID          uint64 `json:"id"`
	Type        string `json:"type"`
	ExecutionID string `json:"executionId,omitempty"`
	Version     int64  `json:"version,omitempty"`
}

func (h *EventHeader) header() *EventHeader { return h }

// ExecutionEvent is an EventExecution: the execution without its waves.
type ExecutionEvent struct {
	EventHeader
	PlanID        string                 `json:"planId"`
	PlanName      string                 `json:"planName"`
	Mode          wavedr.Mode            `json:"mode"`
	Status        wavedr.ExecutionStatus `json:"status"`
	Reason        string                 `json:"reason,omitempty"`
	Counts        wavedr.Counts          `json:"counts"`
	Waves         int                    `json:"waves"`
	WavesDone     int                    `json:"wavesDone"`
	CanPause      bool                   `json:"canPause"`
	CanResume     bool                   `json:"canResume"`
	CanCancel     bool                   `json:"canCancel"`
	CanTerminate  bool                   `json:"canTerminate"`
	Pause         *wavedr.Pause          `json:"pause,omitempty"`
	PauseRequest  *wavedr.Request        `json:"pauseRequest,omitempty"`
	ResumeRequest *wavedr.Request        `json:"resumeRequest,omitempty"`
	CancelRequest *wavedr.Request        `json:"cancelRequest,omitempty"`
	Cleanup       wavedr.Cleanup         `json:"cleanup"`
	StartedAt     time.Time              `json:"startedAt,omitzero"`
	EndedAt       time.Time              `json:"endedAt,omitzero"`
}

// WaveEvent is an EventWave: one wave without its servers.
type WaveEvent struct {
	EventHeader
	Wave              string            `json:"wave"`
	Number            int               `json:"number"`
	Status            wavedr.WaveStatus `json:"status"`
	Reason            string            `json:"reason,omitempty"`
	PauseBefore       bool              `json:"pauseBefore,omitempty"`
	GatePassedBy      string            `json:"gatePassedBy,omitempty"`
	Counts            wavedr.Counts     `json:"counts"`
	Jobs              []wavedr.WaveJob  `json:"jobs"`
	LaunchRequestedAt time.Time         `json:"launchRequestedAt,omitzero"`
	StartedAt         time.Time         `json:"startedAt,omitzero"`
	EndedAt           time.Time         `json:"endedAt,omitzero"`
	DeadlineAt        time.Time         `json:"deadlineAt,omitzero"`
}

// ServerEvent is an EventServer: what a watcher follows of one server.
type ServerEvent struct {
	EventHeader
	Wave               string              `json:"wave"`
	SourceServerID     string              `json:"sourceServerId"`
	Hostname           string              `json:"hostname,omitempty"`
	AccountID          string              `json:"accountId,omitempty"`
	Region             string              `json:"region"`
	Status             wavedr.ServerStatus `json:"status"`
	Phase              wavedr.Phase        `json:"phase,omitempty"`
	Reason             string              `json:"reason,omitempty"`
	JobID              string              `json:"jobId,omitempty"`
	LaunchStatus       wavedr.LaunchStatus `json:"launchStatus,omitempty"`
	RecoveryInstanceID string              `json:"recoveryInstanceId,omitempty"`
	EC2InstanceID      string              `json:"ec2InstanceId,omitempty"`
	InstanceType       string              `json:"instanceType,omitempty"`
	InstanceState      string              `json:"instanceState,omitempty"`
	PrivateIP          string              `json:"privateIp,omitempty"`
	LaunchedAt         time.Time           `json:"launchedAt,omitzero"`
	TerminatedAt       time.Time           `json:"terminatedAt,omitzero"`
}

// SnapshotEvent is an EventSnapshot. On connection it holds every
// execution the stream selects and its ID is that of the last event the
// snapshot includes; sent later, it holds one execution (ExecutionID).
type SnapshotEvent struct {
	EventHeader
	Executions []SnapshotExecution `json:"executions"`
}

// SnapshotExecution is a whole execution, as the API returns it, with the
// actions it allows.
type SnapshotExecution struct {
	*wavedr.Execution
	CanPause     bool `json:"canPause"`
	CanResume    bool `json:"canResume"`
	CanCancel    bool `json:"canCancel"`
	CanTerminate bool `json:"canTerminate"`
}

// ClosedEvent is an EventClosed.
type ClosedEvent struct {
	Type    string `json:"type"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

func snapshotExecution(e *wavedr.Execution) SnapshotExecution {
	return SnapshotExecution{Execution: e, CanPause: e.CanPause(), CanResume: e.CanResume(),
		CanCancel: e.CanCancel(), CanTerminate: e.CanTerminate()}
}

func executionEvent(e *wavedr.Execution) *ExecutionEvent {
	s := e.Summary()
	return &ExecutionEvent{
		EventHeader: EventHeader{Type: EventExecution, ExecutionID: e.ID, Version: e.Version},
		PlanID:      e.PlanID, PlanName: e.PlanName, Mode: e.Mode, Status: e.Status, Reason: e.Reason,
		Counts: s.Counts, Waves: s.Waves, WavesDone: s.WavesDone,
		CanPause: e.CanPause(), CanResume: e.CanResume(), CanCancel: e.CanCancel(), CanTerminate: e.CanTerminate(),
		Pause: e.Pause, PauseRequest: e.PauseRequest, ResumeRequest: e.ResumeRequest, CancelRequest: e.CancelRequest,
		Cleanup: e.Cleanup, StartedAt: e.StartedAt, EndedAt: e.EndedAt,
	}
}

func waveEvent(e *wavedr.Execution, w *wavedr.WaveRun) *WaveEvent {
	return &WaveEvent{
		EventHeader: EventHeader{Type: EventWave, ExecutionID: e.ID, Version: e.Version},
		Wave:        w.Name, Number: w.Number, Status: w.Status, Reason: w.Reason,
		PauseBefore: w.PauseBefore, GatePassedBy: w.GatePassedBy, Counts: w.Counts(), Jobs: w.Jobs,
		LaunchRequestedAt: w.LaunchRequestedAt, StartedAt: w.StartedAt, EndedAt: w.EndedAt, DeadlineAt: w.DeadlineAt,
	}
}

func serverEvent(e *wavedr.Execution, w *wavedr.WaveRun, s *wavedr.ServerRun) *ServerEvent {
	return &ServerEvent{
		EventHeader: EventHeader{Type: EventServer, ExecutionID: e.ID, Version: e.Version},
		Wave:        w.Name, SourceServerID: s.SourceServerID, Hostname: s.Hostname,
		AccountID: s.AccountID, Region: s.Region, Status: s.Status, Phase: s.Phase, Reason: s.Reason,
		JobID: s.JobID, LaunchStatus: s.LaunchStatus, RecoveryInstanceID: s.RecoveryInstanceID,
		EC2InstanceID: s.EC2InstanceID, InstanceType: s.InstanceType, InstanceState: s.InstanceState,
		PrivateIP: s.PrivateIP, LaunchedAt: s.LaunchedAt, TerminatedAt: s.TerminatedAt,
	}
}

func executionSnapshot(e *wavedr.Execution) *SnapshotEvent {
	return &SnapshotEvent{
		EventHeader: EventHeader{Type: EventSnapshot, ExecutionID: e.ID, Version: e.Version},
		Executions:  []SnapshotExecution{snapshotExecution(e)},
	}
}

// eventPayload is one of the event types above, before it has an ID.
type eventPayload interface{ header() *EventHeader }

// changed reports whether two payloads differ in anything but their
// header; both headers are left as they were.
func changed(old, cur eventPayload) bool {
	ho, hc := *old.header(), *cur.header()
	*old.header(), *cur.header() = EventHeader{}, EventHeader{}
	a, errA := json.Marshal(old)
	b, errB := json.Marshal(cur)
	*old.header(), *cur.header() = ho, hc
	return errA != nil || errB != nil || !bytes.Equal(a, b)
}

// diff returns the events that take a watcher from old to cur: a snapshot
// when old is nil or servers were removed; otherwise the execution event
// if it changed, then the changed waves in order, then the changed
// servers, wave by wave.
func diff(old, cur *wavedr.Execution) []eventPayload {
	if old == nil {
		return []eventPayload{executionSnapshot(cur)}
	}
	var out []eventPayload
	if ev := executionEvent(cur); changed(executionEvent(old), ev) {
		out = append(out, ev)
	}
	var servers []eventPayload
	kept := 0
	for _, w := range cur.Waves {
		ow := old.Wave(w.Name)
		if ev := waveEvent(cur, w); ow == nil || changed(waveEvent(old, ow), ev) {
			out = append(out, ev)
		}
		for _, s := range w.Servers {
			var os *wavedr.ServerRun
			if ow != nil {
				os = ow.Server(s.SourceServerID)
			}
			if os != nil {
				kept++
			}
			if ev := serverEvent(cur, w, s); os == nil || changed(serverEvent(old, ow, os), ev) {
				servers = append(servers, ev)
			}
		}
	}
	if kept < old.Counts().Total {
		// A server event cannot say "gone": the execution is sent whole.
		return []eventPayload{executionSnapshot(cur)}
	}
	return append(out, servers...)
}

// event is a published event, encoded once for every stream.
type event struct {
	id          uint64
	typ         string
	executionID string
	data        []byte
}

// subscriber is one stream. The broker closes ch when it drops the
// stream, after setting reason.
type subscriber struct {
	ids    map[string]bool // nil: every execution
	ch     chan []*event
	reason string
}

func (s *subscriber) wants(e *event) bool { return s.ids == nil || s.ids[e.executionID] }

// BrokerStats are counters of a broker, for metrics.
type BrokerStats struct {
	Streams  int    // streams open now
	Watched  int    // executions held in memory
	Events   uint64 // events published since start
	Overflow uint64 // streams closed because they fell behind
}

// Broker turns changes of stored executions into events for the streams
// of GET /v1/events. Create it with NewBroker, run it with Run, and serve
// it as the events handler.
type Broker struct {
	db     *store.DB
	cfg    BrokerConfig
	log    *slog.Logger
	stream string // names this broker's sequence of event IDs

	events   atomic.Uint64
	overflow atomic.Uint64

	mu      sync.Mutex
	started bool
	running bool
	seq     uint64
	cache   map[string]*wavedr.Execution // last seen copy; never modified once stored
	pins    map[string]int               // executions named by open streams, with their count
	subs    map[*subscriber]struct{}
	ring    []*event // the last events, oldest first, to resume streams
	ringLen int      // bytes of data in ring
}

// NewBroker returns a broker on the store. It publishes nothing until Run.
func NewBroker(db *store.DB, cfg BrokerConfig) *Broker {
	cfg.setDefaults()
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return &Broker{
		db: db, cfg: cfg, log: cfg.Logger, stream: hex.EncodeToString(b[:]),
		cache: map[string]*wavedr.Execution{}, pins: map[string]int{}, subs: map[*subscriber]struct{}{},
	}
}

// Run watches the store until ctx ends, then closes every stream with
// EventClosed "shutdown". A broker runs once.
func (b *Broker) Run(ctx context.Context) error {
	b.mu.Lock()
	if b.started {
		b.mu.Unlock()
		return errors.New("http: the event broker runs once")
	}
	b.started, b.running = true, true
	b.mu.Unlock()
	defer b.stop()

	t := time.NewTicker(b.cfg.Interval)
	defer t.Stop()
	failing := false
	for {
		err := b.poll(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && !failing:
			b.log.Warn("events.watch_failed", "err", err)
		case err == nil && failing:
			b.log.Info("events.watch_recovered")
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (b *Broker) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.running = false
	for s := range b.subs {
		b.drop(s, ClosedShutdown)
	}
	b.cache = map[string]*wavedr.Execution{}
}

// Stats returns the broker's counters.
func (b *Broker) Stats() BrokerStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return BrokerStats{Streams: len(b.subs), Watched: len(b.cache), Events: b.events.Load(), Overflow: b.overflow.Load()}
}

// poll reads the versions of the watched executions, loads those that
// moved and publishes what changed.
func (b *Broker) poll(ctx context.Context) error {
	b.mu.Lock()
	pinned := make([]string, 0, len(b.pins))
	for id := range b.pins {
		pinned = append(pinned, id)
	}
	b.mu.Unlock()
	sort.Strings(pinned)

	versions, err := b.db.WatchedExecutions(ctx, b.cfg.Recent, pinned)
	if err != nil {
		return err
	}
	var stale []string
	b.mu.Lock()
	for _, v := range versions {
		if c := b.cache[v.ID]; c == nil || c.Version < v.Version {
			stale = append(stale, v.ID)
		}
	}
	b.mu.Unlock()

	var firstErr error
	for _, id := range stale {
		e, err := b.db.FindExecution(ctx, id)
		if err != nil {
			if wavedr.ErrorCode(err) != wavedr.ENOTFOUND && firstErr == nil {
				firstErr = err // the others are still published; this one is read again next time
			}
			continue
		}
		b.mu.Lock()
		b.apply(e)
		b.mu.Unlock()
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	watched := make(map[string]bool, len(versions))
	for _, v := range versions {
		watched[v.ID] = true
	}
	for id := range b.cache {
		if !watched[id] && b.pins[id] == 0 {
			delete(b.cache, id)
		}
	}
	return firstErr
}

// apply publishes the change from the cached copy of e to e, unless the
// cache already holds that version or a later one. b.mu is held.
func (b *Broker) apply(e *wavedr.Execution) {
	old := b.cache[e.ID]
	if old != nil && old.Version >= e.Version {
		return
	}
	b.cache[e.ID] = e
	b.publish(diff(old, e))
}

// publish numbers and encodes the events, keeps them for resumption and
// hands each stream its share without waiting: a stream whose buffer is
// full is closed. b.mu is held.
func (b *Broker) publish(payloads []eventPayload) {
	if len(payloads) == 0 {
		return
	}
	batch := make([]*event, 0, len(payloads))
	for _, p := range payloads {
		h := p.header()
		b.seq++
		h.ID = b.seq
		data, err := json.Marshal(p)
		if err != nil {
			b.log.Error("events.encode_failed", "executionId", h.ExecutionID, "type", h.Type, "err", err)
			continue
		}
		ev := &event{id: h.ID, typ: h.Type, executionID: h.ExecutionID, data: data}
		batch = append(batch, ev)
		b.ring = append(b.ring, ev)
		b.ringLen += len(data)
	}
	for len(b.ring) > 0 && (len(b.ring) > b.cfg.Replay || b.ringLen > b.cfg.ReplayBytes) {
		b.ringLen -= len(b.ring[0].data)
		b.ring[0] = nil
		b.ring = b.ring[1:]
	}
	b.events.Add(uint64(len(batch)))
	for s := range b.subs {
		share := batch
		if s.ids != nil {
			share = nil
			for _, ev := range batch {
				if s.wants(ev) {
					share = append(share, ev)
				}
			}
		}
		if len(share) == 0 {
			continue
		}
		select {
		case s.ch <- share:
		default:
			b.overflow.Add(1)
			b.drop(s, ClosedOverflow)
		}
	}
}

// drop closes a stream. b.mu is held.
func (b *Broker) drop(s *subscriber, reason string) {
	if _, ok := b.subs[s]; !ok {
		return
	}
	delete(b.subs, s)
	b.unpin(s)
	s.reason = reason
	close(s.ch)
}

func (b *Broker) unpin(s *subscriber) {
	for id := range s.ids {
		if b.pins[id]--; b.pins[id] <= 0 {
			delete(b.pins, id)
		}
	}
}

// errNotRunning answers streams asked for while the broker is not running.
var errNotRunning = wavedr.Errorf(wavedr.EUNAVAILABLE, "the event stream is not running")

// subscribe opens a stream of the executions ids (all when empty). It
// returns what the stream starts with: the events after lastID when this
// broker still holds them all, or else a snapshot.
func (b *Broker) subscribe(ctx context.Context, ids []string, lastID string) (*subscriber, []*event, error) {
	s := &subscriber{ch: make(chan []*event, b.cfg.Buffer)}
	if len(ids) > 0 {
		s.ids = make(map[string]bool, len(ids))
		for _, id := range ids {
			s.ids[id] = true
		}
	}
	// Pin first, so that the poll watches the executions from now on
	// whatever their state; then load those not in memory.
	b.mu.Lock()
	if !b.running {
		b.mu.Unlock()
		return nil, nil, errNotRunning
	}
	// Every named execution is read again, not only those named from
	// memory: the cache may be a poll interval old, and a client that
	// connects right after a change (a resume) must not be shown the state
	// before it. apply keeps the newer of the two.
	var named []string
	for id := range s.ids {
		b.pins[id]++
		named = append(named, id)
	}
	b.mu.Unlock()
	sort.Strings(named)
	loaded := make([]*wavedr.Execution, 0, len(named))
	for _, id := range named {
		e, err := b.db.FindExecution(ctx, id)
		if err != nil {
			b.mu.Lock()
			b.unpin(s)
			b.mu.Unlock()
			return nil, nil, err
		}
		loaded = append(loaded, e)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.running {
		b.unpin(s)
		return nil, nil, errNotRunning
	}
	// Every stream learns of an execution that enters the broker's
	// memory here, as it would had the poll loaded it.
	for _, e := range loaded {
		b.apply(e)
	}
	b.subs[s] = struct{}{}
	if start, ok := b.replay(s, lastID); ok {
		return s, start, nil
	}
	// The cached copies are never modified, so the snapshot is encoded
	// after the lock is released; later events reach s through s.ch.
	snap := &SnapshotEvent{EventHeader: EventHeader{ID: b.seq, Type: EventSnapshot}, Executions: []SnapshotExecution{}}
	for id, e := range b.cache {
		if s.ids == nil || s.ids[id] {
			snap.Executions = append(snap.Executions, snapshotExecution(e))
		}
	}
	sort.Slice(snap.Executions, func(i, j int) bool { return snap.Executions[i].ID < snap.Executions[j].ID })
	data, err := json.Marshal(snap)
	if err != nil {
		delete(b.subs, s)
		b.unpin(s)
		return nil, nil, fmt.Errorf("encode snapshot: %w", err)
	}
	return s, []*event{{id: snap.ID, typ: EventSnapshot, data: data}}, nil
}

// replay returns the kept events after lastID that s selects, when lastID
// names an event of this broker and no event after it was dropped from
// the ring. b.mu is held.
func (b *Broker) replay(s *subscriber, lastID string) ([]*event, bool) {
	stream, num, ok := strings.Cut(lastID, "-")
	if !ok || stream != b.stream {
		return nil, false
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n > b.seq {
		return nil, false
	}
	if n < b.seq && (len(b.ring) == 0 || b.ring[0].id > n+1) {
		return nil, false
	}
	var out []*event
	for _, ev := range b.ring {
		if ev.id > n && s.wants(ev) {
			out = append(out, ev)
		}
	}
	return out, true
}

// unsubscribe closes a stream its client left.
func (b *Broker) unsubscribe(s *subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		b.unpin(s)
	}
}

// ServeHTTP streams events. Query: execution=ID (repeated, or separated
// by commas) selects executions; without it every execution is streamed.
// A reconnecting client's Last-Event-ID resumes the stream when this
// process still holds the events since; otherwise the stream starts with
// a snapshot.
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		Error(w, r, methodNotAllowed(r.Method, r.URL.Path))
		return
	}
	ids, err := eventFilter(r)
	if err != nil {
		Error(w, r, err)
		return
	}
	s, start, err := b.subscribe(r.Context(), ids, r.Header.Get("Last-Event-ID"))
	if err != nil {
		Error(w, r, err)
		return
	}
	defer b.unsubscribe(s)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // reverse proxies must not hold events back
	w.WriteHeader(http.StatusOK)
	sw := &sseWriter{w: w, rc: http.NewResponseController(w), timeout: b.cfg.WriteTimeout}
	defer sw.rc.SetWriteDeadline(time.Time{}) //nolint:errcheck // the connection may be reused by another request
	if sw.write("retry: "+strconv.Itoa(brokerRetry)+"\n\n") != nil {
		return
	}
	for _, ev := range start {
		if sw.event(b.stream, ev) != nil {
			return
		}
	}
	heartbeat := time.NewTicker(b.cfg.Heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-heartbeat.C:
			if sw.write(": ping\n\n") != nil {
				return
			}
		case batch, ok := <-s.ch:
			if !ok {
				sw.closed(s.reason)
				return
			}
			for _, ev := range batch {
				if sw.event(b.stream, ev) != nil {
					return
				}
			}
			heartbeat.Reset(b.cfg.Heartbeat)
		}
	}
}

// eventFilter reads the execution IDs a stream selects.
func eventFilter(r *http.Request) ([]string, error) {
	seen := map[string]bool{}
	var ids []string
	for _, v := range r.URL.Query()["execution"] {
		for id := range strings.SplitSeq(v, ",") {
			id = strings.TrimSpace(id)
			if !wavedr.ValidID(wavedr.PrefixExecution, id) {
				return nil, invalidf("execution", "must be an execution ID (ex-...), not %q", id)
			}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	if len(ids) > brokerMaxFilter {
		return nil, invalidf("execution", "names %d executions; a stream selects at most %d", len(ids), brokerMaxFilter)
	}
	return ids, nil
}

// sseWriter writes the SSE wire format, flushing each event, each write
// bounded by a deadline so a client that stops reading lets go.
type sseWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (sw *sseWriter) write(s string) error {
	if err := sw.rc.SetWriteDeadline(time.Now().Add(sw.timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if _, err := io.WriteString(sw.w, s); err != nil {
		return err
	}
	return sw.rc.Flush()
}

func (sw *sseWriter) event(stream string, ev *event) error {
	var b strings.Builder
	b.Grow(len(ev.data) + 64)
	fmt.Fprintf(&b, "id: %s-%d\nevent: %s\ndata: ", stream, ev.id, ev.typ)
	b.Write(ev.data)
	b.WriteString("\n\n")
	return sw.write(b.String())
}

// closed writes the last event of a stream the broker dropped; it carries
// no id, so Last-Event-ID stays that of the last event received.
func (sw *sseWriter) closed(reason string) {
	msg := "the server is stopping; reconnect to resume"
	if reason == ClosedOverflow {
		msg = "the client fell behind the event stream; reconnect to resume"
	}
	data, _ := json.Marshal(ClosedEvent{Type: EventClosed, Reason: reason, Message: msg})
	_ = sw.write("event: " + EventClosed + "\ndata: " + string(data) + "\n\n")
}
