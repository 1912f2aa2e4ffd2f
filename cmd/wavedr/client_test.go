package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"wavedr"
	"wavedr/aws"
	"wavedr/engine"
	"wavedr/examples"
	wdrhttp "wavedr/http"
	"wavedr/sim"
	"wavedr/store"
)

// apiHarness is `wavedr serve --sim` in pieces, as the API's own tests
// build it: the API over SQLite, the engine and its workers driving the
// in-process simulator, the event broker, on a loopback httptest server.
type apiHarness struct {
	url     string
	dataDir string // holds the admin-token file, as serve's data directory
	db      *store.DB
	// readOnly is the secret of a ReadOnly token.
	readOnly string
	// wrap, when set before the first request, stands between the
	// client and the API.
	wrap func(http.Handler) http.Handler
}

func newAPIHarness(t *testing.T) *apiHarness {
	t.Helper()
	ctx := context.Background()
	h := &apiHarness{dataDir: t.TempDir()}
	s, err := sim.New(sim.Config{Seed: 1, Speed: 600})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	rec, err := aws.New(ctx, aws.Config{
		HTTPClient:  s.HTTPClient(),
		Endpoint:    s.Endpoint(),
		Credentials: &aws.Credentials{AccessKeyID: "AKIDWAVEDRCLIENT", SecretAccessKey: "secret"},
		Region:      sim.LocalRegion,
		RateLimit:   -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Not the data directory's wavedr.db: a local apply would write there,
	// and the tests check that a client apply does not.
	db, err := store.Open(ctx, "sqlite://"+filepath.ToSlash(filepath.Join(t.TempDir(), "server.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h.db = db
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("WAVEDR_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	eng, err := engine.Open(ctx, engine.Config{DB: db, Recovery: rec, Now: s.Now,
		PollInterval: 100 * time.Millisecond, FindInterval: time.Second, RescueAfter: 5 * time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.StartWorkers(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = eng.StopWorkers(stop)
	})
	if err := wdrhttp.Bootstrap(ctx, db, h.dataDir, "", log); err != nil {
		t.Fatal(err)
	}
	secret, hash := wavedr.NewAPITokenSecret()
	if err := db.CreateAPIToken(ctx, &wavedr.APIToken{Name: "watcher", Role: wavedr.RoleReadOnly, CreatedBy: "test",
		ExpiresAt: time.Now().Add(time.Hour), Hash: hash}); err != nil {
		t.Fatal(err)
	}
	h.readOnly = secret

	broker := wdrhttp.NewBroker(db, wdrhttp.BrokerConfig{Interval: 50 * time.Millisecond, Logger: log})
	api, err := wdrhttp.NewServer(wdrhttp.Config{DB: db, Engine: eng, Recovery: rec, LocalRegion: sim.LocalRegion,
		Logger: log, Events: broker})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var handler http.Handler = api
		if h.wrap != nil {
			handler = h.wrap(api)
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	h.url = ts.URL
	// The broker stops first: it closes the event streams, which would
	// otherwise hold the server's Close.
	bctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = broker.Run(bctx) }()
	t.Cleanup(func() { stop(); <-done })
	return h
}

// env returns the environment of a client command on this server: its
// data directory (for the admin-token file) and the variables given.
func (h *apiHarness) env(vars ...string) map[string]string {
	m := map[string]string{"WAVEDR_SERVER": h.url, "WAVEDR_DATA_DIR": h.dataDir}
	for i := 0; i+1 < len(vars); i += 2 {
		m[vars[i]] = vars[i+1]
	}
	return m
}

// cli runs a command against the harness.
func (h *apiHarness) cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runInProcess(t, context.Background(), h.env(), args...)
}

// lockedBuffer is written by a command running in the background while
// the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// background runs a command until cancel; wait returns its exit status.
func (h *apiHarness) background(t *testing.T, args ...string) (out *lockedBuffer, cancel func(), wait func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &lockedBuffer{}
	code := make(chan int, 1)
	go func() { code <- runInProcessTo(ctx, out, out, h.env(), args...) }()
	t.Cleanup(cancel)
	return out, cancel, func() int {
		select {
		case c := <-code:
			return c
		case <-time.After(time.Minute):
			t.Fatalf("%v did not end; output:\n%s", args, out.String())
			return -1
		}
	}
}

// waitForOutput waits until the output holds all of want; the bound only stops
// a test that would otherwise hang.
func waitForOutput(t *testing.T, out *lockedBuffer, want ...string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		s := out.String()
		missing := ""
		for _, w := range want {
			if !strings.Contains(s, w) {
				missing = w
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the output never showed %q:\n%s", missing, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func writeTestFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestClientDrill drives a drill through the API as an operator would:
// apply, list, start, watch to the gate, resume, watch to the end,
// terminate and watch the cleanup, all with the commands of the CLI.
func TestClientDrill(t *testing.T) {
	h := newAPIHarness(t)
	plan := writeTestFile(t, "three-tier.yaml", examples.ThreeTier)

	// apply goes to the server named by $WAVEDR_SERVER, with the token of
	// its admin-token file (the server is on loopback).
	code, stdout, stderr := h.cli(t, "apply", "-f", plan, "-v")
	if code != exitOK || !strings.Contains(stdout, "recoveryplan/three-tier created") || !strings.Contains(stdout, "4 created") {
		t.Fatalf("apply: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "token from the bootstrap file "+filepath.Join(h.dataDir, "admin-token")) {
		t.Errorf("apply -v does not say which token it used:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(h.dataDir, "wavedr.db")); err == nil {
		t.Errorf("apply with a server also wrote the local store")
	}
	code, stdout, _ = h.cli(t, "apply", "-f", plan, "--dry-run")
	if code != exitOK || !strings.Contains(stdout, "no changes (dry run)") {
		t.Errorf("apply --dry-run: exit %d\n%s", code, stdout)
	}

	code, stdout, stderr = h.cli(t, "plans", "list", "-o", "json")
	var plans struct {
		Items []wavedr.RecoveryPlan `json:"items"`
	}
	if err := json.Unmarshal([]byte(stdout), &plans); code != exitOK || err != nil || len(plans.Items) != 1 || plans.Items[0].Name != "three-tier" {
		t.Fatalf("plans list -o json: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	code, stdout, _ = h.cli(t, "groups", "list")
	if code != exitOK || !strings.Contains(stdout, "db-tier") || !strings.Contains(stdout, "tags Tier=db") {
		t.Errorf("groups list: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = h.cli(t, "servers")
	if code != exitOK || !strings.Contains(stdout, "CONTINUOUS") || !strings.Contains(stdout, "app-tier") {
		t.Errorf("servers: exit %d\n%s", code, stdout)
	}

	code, stdout, stderr = h.cli(t, "executions", "start", "three-tier", "--mode", "drill")
	id := strings.TrimSpace(stdout)
	if code != exitOK || !wavedr.ValidID(wavedr.PrefixExecution, id) {
		t.Fatalf("executions start: exit %d, stdout %q\n%s", code, stdout, stderr)
	}

	// The drill stops at the app wave's gate; watch shows it, and goes on
	// watching until interrupted.
	out, cancel, wait := h.background(t, "watch", id)
	waitForOutput(t, out, "three-tier: PAUSED", "Paused at the gate before wave app")
	cancel()
	if code := wait(); code != exitFailure || !strings.Contains(out.String(), "interrupted") {
		t.Errorf("interrupted watch: exit %d\n%s", code, out.String())
	}

	code, stdout, _ = h.cli(t, "executions", "get", id)
	if code != exitOK || !strings.Contains(stdout, "PAUSED") || !strings.Contains(stdout, "can: resume, cancel") || !strings.Contains(stdout, "EC2 INSTANCE") {
		t.Errorf("executions get: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = h.cli(t, "executions", "resume", id)
	if code != exitOK || !strings.Contains(stdout, "resumed by token:bootstrap-admin") {
		t.Errorf("executions resume: exit %d\n%s", code, stdout)
	}
	code, stdout, stderr = h.cli(t, "watch", id)
	if code != exitOK || !strings.Contains(stdout, "Drill COMPLETED: 10 of 10 servers launched") {
		t.Fatalf("watch to the end: exit %d\n%s%s", code, stdout, stderr)
	}

	code, stdout, _ = h.cli(t, "executions", "terminate", id)
	if code != exitOK || !strings.Contains(stdout, "cleanup TERMINATING") {
		t.Errorf("executions terminate: exit %d\n%s", code, stdout)
	}
	code, stdout, stderr = h.cli(t, "watch", id, "--cleanup", "-o", "json")
	var final struct {
		Status  wavedr.ExecutionStatus `json:"status"`
		Cleanup wavedr.Cleanup         `json:"cleanup"`
	}
	if err := json.Unmarshal([]byte(stdout), &final); code != exitOK || err != nil ||
		final.Status != wavedr.ExecutionCompleted || final.Cleanup.Status != wavedr.CleanupCompleted {
		t.Fatalf("watch --cleanup -o json: exit %d, %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
	}
	if !strings.Contains(stderr, "Cleanup COMPLETED: 10 recovery instances terminated") {
		t.Errorf("watch -o json shows no progress on stderr:\n%s", stderr)
	}

	code, stdout, _ = h.cli(t, "executions", "report", id)
	if code != exitOK || !strings.Contains(stdout, "DRILL COMPLETED: 10 of 10 servers launched") {
		t.Errorf("executions report: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = h.cli(t, "executions", "list", "--plan", "three-tier", "--status", "completed", "--since", "1h", "-o", "json")
	var list struct {
		Items []wavedr.ExecutionSummary `json:"items"`
	}
	if err := json.Unmarshal([]byte(stdout), &list); code != exitOK || err != nil || len(list.Items) != 1 || list.Items[0].ID != id {
		t.Errorf("executions list: exit %d, %v\n%s", code, err, stdout)
	}
	code, stdout, _ = h.cli(t, "audit", "--target", id)
	if code != exitOK || !strings.Contains(stdout, "execution.terminate") || !strings.Contains(stdout, "execution.resume") {
		t.Errorf("audit: exit %d\n%s", code, stdout)
	}
}

// TestClientExits checks the exit statuses scripts rely on, and that the
// API's message reaches the user.
func TestClientExits(t *testing.T) {
	h := newAPIHarness(t)
	plan := writeTestFile(t, "three-tier.yaml", examples.ThreeTier)
	if code, stdout, stderr := h.cli(t, "apply", "-f", plan); code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, stdout, stderr)
	}
	unknown := wavedr.NewID(wavedr.PrefixExecution, time.Now())
	bad := writeTestFile(t, "bad.yaml", []byte("kind: RecoveryPlan\nname: lost\nwaves:\n  - name: one\n    groups: [no-such-group]\n"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()

	for _, c := range []struct {
		name string
		vars []string
		args []string
		code int
		want []string
	}{
		{"forbidden", []string{"WAVEDR_TOKEN", h.readOnly}, []string{"executions", "start", "three-tier"}, exitDenied,
			[]string{"wavedr executions: token:watcher lacks the permission drill:start"}},
		{"forbidden apply", []string{"WAVEDR_TOKEN", h.readOnly}, []string{"apply", "-f", plan}, exitDenied,
			[]string{"lacks the permission plans:manage"}},
		{"bad token", []string{"WAVEDR_TOKEN", "wdr_not-a-token"}, []string{"plans", "list"}, exitDenied, []string{"invalid token"}},
		{"no token", []string{"WAVEDR_DATA_DIR", t.TempDir()}, []string{"plans", "list"}, exitDenied,
			[]string{"authentication required", "no token was sent"}},
		{"unknown execution", nil, []string{"executions", "get", unknown}, exitNotFound, []string{"not found"}},
		{"watch unknown execution", nil, []string{"watch", unknown}, exitNotFound, []string{unknown}},
		{"unknown plan", nil, []string{"executions", "start", "nope"}, exitNotFound, []string{"nope"}},
		{"not an ID", nil, []string{"executions", "pause", "three-tier"}, exitInvalid, []string{"must be an execution ID"}},
		{"group in use", nil, []string{"groups", "delete", "db-tier"}, exitConflict, []string{"three-tier"}},
		{"plan invalid", nil, []string{"plans", "validate", "-f", bad}, exitInvalid,
			[]string{bad + "#1 (RecoveryPlan lost): waves[0].groups[0]"}},
		{"apply invalid", nil, []string{"apply", "-f", plan, "-f", bad}, exitInvalid,
			[]string{bad + "#1 (RecoveryPlan lost) line 5: waves[0].groups[0]"}},
		{"unreachable", []string{"WAVEDR_SERVER", down}, []string{"groups", "list"}, exitFailure,
			[]string{"cannot reach wavedr at " + down + ": ", "is 'wavedr serve' running?"}},
		{"no verb", nil, []string{"executions"}, exitUsage, []string{"name a verb"}},
		{"bad output", nil, []string{"plans", "list", "-o", "yaml"}, exitUsage, []string{"-o must be text or json"}},
		{"apply to two places", nil, []string{"apply", "-f", plan, "--server", h.url, "--db", "sqlite:///x.db"}, exitUsage,
			[]string{"exclude each other"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runInProcess(t, context.Background(), h.env(c.vars...), c.args...)
			if code != c.code {
				t.Errorf("%v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", c.args, code, c.code, stdout, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("%v: stderr lacks %q:\n%s", c.args, w, stderr)
				}
			}
		})
	}

	// A token made by the CLI is printed alone, and works.
	code, secret, stderr := h.cli(t, "tokens", "create", "ci", "--role", "operator", "--expires", "7d")
	secret = strings.TrimSpace(secret)
	if code != exitOK || !strings.HasPrefix(secret, wavedr.APITokenPrefix) || !strings.Contains(stderr, "(ci, Operator) created") {
		t.Fatalf("tokens create: exit %d, %q\n%s", code, secret, stderr)
	}
	code, stdout, _ := runInProcess(t, context.Background(), h.env("WAVEDR_TOKEN", secret), "groups", "get", "db-tier", "-o", "json")
	var g wavedr.ProtectionGroup
	if err := json.Unmarshal([]byte(stdout), &g); code != exitOK || err != nil || g.Name != "db-tier" {
		t.Errorf("groups get with the new token: exit %d, %v\n%s", code, err, stdout)
	}
	code, stdout, _ = h.cli(t, "tokens", "list")
	if code != exitOK || !strings.Contains(stdout, "ci ") || !strings.Contains(stdout, "Operator") {
		t.Errorf("tokens list: exit %d\n%s", code, stdout)
	}
}

// TestWatchResumes cuts the first event stream after its snapshot: watch
// reconnects with the ID of the last event it had, and goes on.
func TestWatchResumes(t *testing.T) {
	h := newAPIHarness(t)
	var mu sync.Mutex
	var lastIDs []string
	h.wrap = func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/events" {
				mu.Lock()
				lastIDs = append(lastIDs, r.Header.Get("Last-Event-ID"))
				first := len(lastIDs) == 1
				mu.Unlock()
				if first {
					ctx, cancel := context.WithCancel(r.Context())
					defer cancel()
					w, r = &cutWriter{ResponseWriter: w, cut: cancel}, r.WithContext(ctx)
				}
			}
			next.ServeHTTP(w, r)
		})
	}
	plan := writeTestFile(t, "three-tier.yaml", examples.ThreeTier)
	if code, stdout, stderr := h.cli(t, "apply", "-f", plan); code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr := h.cli(t, "executions", "start", "three-tier")
	if code != exitOK {
		t.Fatalf("start: exit %d\n%s", code, stderr)
	}
	out, cancel, wait := h.background(t, "watch", strings.TrimSpace(stdout))
	waitForOutput(t, out, "the event stream ended; reconnecting", "Paused at the gate before wave app")
	cancel()
	wait()
	mu.Lock()
	defer mu.Unlock()
	if len(lastIDs) < 2 || lastIDs[0] != "" || lastIDs[1] == "" {
		t.Fatalf("Last-Event-ID of the connections: %q; want none, then the snapshot's", lastIDs)
	}
	if n := strings.Count(out.String(), "three-tier: PENDING"); n > 1 {
		t.Errorf("the resumed stream started over (%d snapshots shown):\n%s", n, out.String())
	}
}

// cutWriter ends a response once the snapshot of an event stream is
// written, as a dropped connection would.
type cutWriter struct {
	http.ResponseWriter
	cut func()
}

func (c *cutWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	if bytes.Contains(b, []byte("event: snapshot")) {
		c.cut()
	}
	return n, err
}

func (c *cutWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func TestReadSSE(t *testing.T) {
	stream := "retry: 1500\n\n: ping\n\nid: s-1\nevent: wave\ndata: {\"a\":\ndata: 1}\r\n\r\ndata: plain\n\nid: s-2\nevent: cut"
	ch := make(chan sseEvent, 10)
	err := readSSE(context.Background(), strings.NewReader(stream), ch)
	close(ch)
	var got []sseEvent
	for ev := range ch {
		got = append(got, ev)
	}
	want := []sseEvent{
		{retry: 1500 * time.Millisecond},
		{},
		{id: "s-1", typ: "wave", data: "{\"a\":\n1}"},
		{typ: "message", data: "plain"},
	}
	if err == nil || len(got) != len(want) {
		t.Fatalf("err %v, events %+v; want EOF and %+v", err, got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestClientParsing(t *testing.T) {
	now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"7d", now.Add(-7 * 24 * time.Hour)},
		{"90m", now.Add(-90 * time.Minute)},
		{"2026-04-01", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
		{"2026-04-01T08:30:00Z", time.Date(2026, 4, 1, 8, 30, 0, 0, time.UTC)},
	} {
		if got, err := parseSince(c.in, now); err != nil || !got.Equal(c.want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "-3d", "0d", "soon"} {
		if _, err := parseExpiry(in, now); err == nil {
			t.Errorf("parseExpiry(%q) accepted", in)
		}
	}
	for in, want := range map[string]string{"PT1M30S": "1m30s", "P0D": "0s", "PT2H": "2h00m00s", "": "-", "weird": "weird"} {
		if got := lagLabel(in); got != want {
			t.Errorf("lagLabel(%q) = %q, want %q", in, got, want)
		}
	}
	e := &env{getenv: func(string) string { return "" }}
	for in, want := range map[string]string{
		"":                        clientServerDefault,
		"127.0.0.1:9000":          "http://127.0.0.1:9000",
		"https://dr.example.com/": "https://dr.example.com",
		"http://h/wavedr/":        "http://h/wavedr",
	} {
		u, err := (&clientFlags{server: in}).serverURL(e)
		if err != nil || u.String() != want {
			t.Errorf("serverURL(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	if _, err := (&clientFlags{server: "ftp://x"}).serverURL(e); err == nil {
		t.Errorf("an ftp server was accepted")
	}
	for host, want := range map[string]bool{"localhost": true, "127.0.0.2": true, "::1": true, "10.0.0.1": false, "dr.example.com": false} {
		if isLoopback(host) != want {
			t.Errorf("isLoopback(%q) = %v", host, !want)
		}
	}
}
