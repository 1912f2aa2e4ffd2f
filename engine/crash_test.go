package engine_test

// Crash safety of a launch (DESIGN rule 4, exactly-once launch).
//
// The simulator plays AWS and outlives the engine, as AWS outlives a
// wavedr process. The engine that crashes runs in a process of its own:
// the test binary started again (TestCrashEngineProcess), talking to the
// simulator over HTTP and to the store through its own handle. At the
// chosen step of a launch a hook of that process tells the test where it
// is and stops there; the test kills the process with SIGKILL. Nothing of
// that engine runs afterwards: its River job stays "running" in the
// database, its connections are dropped by the operating system, its
// leadership of River's maintenance is left to expire. A second engine,
// in the test process on a fresh handle to the same database, must finish
// the execution with exactly one DRS job per wave chunk — after River's
// rescuer, not a test, has taken the stuck job for crashed.
//
// TestCrashHookErrorRetried covers the milder case of a step that fails
// in a live engine: River retries the job in the same process.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wavedr"
	"wavedr/aws"
	"wavedr/engine"
	"wavedr/manifest"
	"wavedr/sim"
	"wavedr/store"
	"wavedr/store/storetest"
)

// The environment of the engine process a crash test starts.
const (
	crashChildEnv = "WAVEDR_CRASH_CHILD" // "1" in the engine process
	crashDBEnv    = "WAVEDR_CRASH_DB"    // the store URL
	crashSimEnv   = "WAVEDR_CRASH_SIM"   // the simulator's URL
	crashClockEnv = "WAVEDR_CRASH_CLOCK" // the simulated clock: start in Unix nanoseconds, ",", speed
	crashPointEnv = "WAVEDR_CRASH_POINT" // where to stop, crashPoint.String()

	// crashMarker starts the line the engine process prints when it
	// reaches its crash point.
	crashMarker = "WAVEDR-CRASH-POINT"

	crashSpeed = 600 // simulated seconds per wall second
)

// crashPlans is the manifest of the crash tests: the three tiers of the
// simulator's fleet as groups, the plan "crash" launching them in three
// waves one after the other, and the plan "crash-chunked" launching them
// in one wave. No gate, and deadlines long enough that the simulated hours
// passing while no engine runs (a rescue takes wall seconds, simulated
// hours at crashSpeed) fail no wave.
const crashPlans = `
kind: ProtectionGroup
name: db-tier
region: us-east-1
selector: {tags: {Tier: db}}
---
kind: ProtectionGroup
name: app-tier
region: us-east-1
selector: {tags: {Tier: app}}
---
kind: ProtectionGroup
name: web-tier
region: us-east-1
selector: {tags: {Tier: web}}
---
kind: RecoveryPlan
name: crash
waves:
  - {name: database, groups: [db-tier], deadline: 72h}
  - {name: app, groups: [app-tier], deadline: 72h}
  - {name: web, groups: [web-tier], deadline: 72h}
---
kind: RecoveryPlan
name: crash-chunked
waves:
  - {name: everything, groups: [db-tier, app-tier, web-tier], deadline: 72h}
`

// crashClock is the simulated time of a crash test, the same in the test
// process (the simulator, the restarted engine) and in the engine process
// it kills: start plus speed times the wall time since start.
type crashClock struct {
	start time.Time // without a monotonic reading, as the other process has it
	speed float64
}

func (c crashClock) Now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.start)) * c.speed)).UTC()
}

func (c crashClock) String() string {
	return strconv.FormatInt(c.start.UnixNano(), 10) + "," + strconv.FormatFloat(c.speed, 'g', -1, 64)
}

func parseCrashClock(s string) (crashClock, error) {
	start, speed, ok := strings.Cut(s, ",")
	ns, err1 := strconv.ParseInt(start, 10, 64)
	x, err2 := strconv.ParseFloat(speed, 64)
	if !ok || err1 != nil || err2 != nil || x <= 0 {
		return crashClock{}, fmt.Errorf("bad %s %q", crashClockEnv, s)
	}
	return crashClock{start: time.Unix(0, ns), speed: x}, nil
}

// The steps of a launch where an engine can be stopped.
const (
	stepBeforeStart  = "before-start-recovery" // RequestedAt committed, StartRecovery not sent
	stepAfterStart   = "after-start-recovery"  // StartRecovery answered with a job ID, not stored
	stepAfterObserve = "after-observe"         // a poll has read DRS, not written what it saw
)

// crashPoint is where an engine stops: a step, in a wave (and chunk).
type crashPoint struct {
	Step  string
	Wave  string
	Chunk int // for the StartRecovery steps
}

func (p crashPoint) String() string { return fmt.Sprintf("%s:%s:%d", p.Step, p.Wave, p.Chunk) }

func parseCrashPoint(s string) (crashPoint, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return crashPoint{}, fmt.Errorf("bad %s %q", crashPointEnv, s)
	}
	chunk, err := strconv.Atoi(parts[2])
	if err != nil {
		return crashPoint{}, fmt.Errorf("bad %s %q", crashPointEnv, s)
	}
	p := crashPoint{Step: parts[0], Wave: parts[1], Chunk: chunk}
	switch p.Step {
	case stepBeforeStart, stepAfterStart, stepAfterObserve:
		return p, nil
	}
	return crashPoint{}, fmt.Errorf("bad %s %q: unknown step", crashPointEnv, s)
}

// crashHooks calls stop, once, when the engine reaches p. For
// stepAfterObserve that is the first poll that finds p.Wave IN_PROGRESS in
// the store: a wave with its DRS job running whose observation is not yet
// written.
func crashHooks(p crashPoint, db *store.DB, stop func() error) engine.Hooks {
	var fired atomic.Bool
	once := func() error {
		if !fired.CompareAndSwap(false, true) {
			return nil
		}
		return stop()
	}
	switch p.Step {
	case stepBeforeStart:
		return engine.Hooks{BeforeStartRecovery: func(_, wave string, chunk int) error {
			if wave != p.Wave || chunk != p.Chunk {
				return nil
			}
			return once()
		}}
	case stepAfterStart:
		return engine.Hooks{AfterStartRecovery: func(_, wave string, chunk int, _ string) error {
			if wave != p.Wave || chunk != p.Chunk {
				return nil
			}
			return once()
		}}
	default:
		return engine.Hooks{AfterObserve: func(id string) error {
			if fired.Load() {
				return nil
			}
			ex, err := db.FindExecution(context.Background(), id)
			if err != nil {
				return err
			}
			if w := ex.Wave(p.Wave); w == nil || w.Status != wavedr.WaveInProgress {
				return nil
			}
			return once()
		}}
	}
}

func newCrashRecovery(ctx context.Context, endpoint string) (*aws.Client, error) {
	return aws.New(ctx, aws.Config{
		Endpoint:    endpoint,
		Credentials: &aws.Credentials{AccessKeyID: "AKIDCRASHTEST", SecretAccessKey: "secret"},
		Region:      sim.LocalRegion,
		RateLimit:   -1,
	})
}

func crashEngineConfig(db *store.DB, rec wavedr.Recovery, clock crashClock, rescueAfter time.Duration, log *slog.Logger, hooks engine.Hooks) engine.Config {
	return engine.Config{
		DB: db, Recovery: rec, Now: clock.Now,
		PollInterval: 100 * time.Millisecond, FindInterval: time.Second, RescueAfter: rescueAfter,
		Logger: log, Hooks: hooks,
	}
}

// TestCrashEngineProcess is the engine process of the crash tests, which
// start it with the crashChildEnv variables; it is skipped otherwise. It
// runs the engine's workers until the crash point, prints crashMarker
// there and waits, frozen at that step, to be killed. It exits by itself
// only when the test process goes away (its standard input closes).
func TestCrashEngineProcess(t *testing.T) {
	if os.Getenv(crashChildEnv) != "1" {
		t.Skip("the engine process of the crash tests: runs only when a crash test starts it")
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(3) // the test process is gone
	}()
	if err := runCrashEngineProcess(); err != nil {
		fmt.Fprintln(os.Stderr, "crash engine process:", err)
		os.Exit(2)
	}
}

func runCrashEngineProcess() error {
	ctx := context.Background()
	clock, err := parseCrashClock(os.Getenv(crashClockEnv))
	if err != nil {
		return err
	}
	point, err := parseCrashPoint(os.Getenv(crashPointEnv))
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, os.Getenv(crashDBEnv))
	if err != nil {
		return err
	}
	rec, err := newCrashRecovery(ctx, os.Getenv(crashSimEnv))
	if err != nil {
		return err
	}
	stop := func() error {
		fmt.Fprintln(os.Stdout, crashMarker, point)
		select {} // frozen at this step until the test kills the process
	}
	eng, err := engine.Open(ctx, crashEngineConfig(db, rec, clock, 5*time.Second, testLogger(), crashHooks(point, db, stop)))
	if err != nil {
		return err
	}
	if err := eng.StartWorkers(ctx); err != nil {
		return err
	}
	select {}
}

// crashWorld is what a crash test shares between the engines it runs: the
// simulator (served over HTTP), its clock, and the database's URL.
type crashWorld struct {
	t      *testing.T
	clock  crashClock
	sim    *sim.Simulator
	simURL string
	dbURL  string
	rec    *aws.Client // the test's own view of DRS, to count jobs
}

func newCrashWorld(t *testing.T, d storetest.Dialect, servers int) *crashWorld {
	t.Helper()
	clock := crashClock{start: time.Now().Round(0), speed: crashSpeed}
	s, err := sim.New(sim.Config{Seed: 1, Servers: servers, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	rec, err := newCrashRecovery(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &crashWorld{t: t, clock: clock, sim: s, simURL: srv.URL, dbURL: d.URL(t), rec: rec}
}

// start applies the crash plans and starts an execution of plan, through
// a store handle and an engine without workers that are closed before it
// returns: no engine runs the execution yet.
func (w *crashWorld) start(plan string) string {
	w.t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, w.dbURL)
	if err != nil {
		w.t.Fatal(err)
	}
	defer db.Close()
	m, err := manifest.Load("crash-plans.yaml", strings.NewReader(crashPlans))
	if err != nil {
		w.t.Fatal(err)
	}
	if err := db.InTx(ctx, func(tx *store.Tx) error { _, err := manifest.Apply(ctx, tx, m); return err }); err != nil {
		w.t.Fatal(err)
	}
	eng, err := engine.Open(ctx, crashEngineConfig(db, w.rec, w.clock, 5*time.Second, testLogger(), engine.Hooks{}))
	if err != nil {
		w.t.Fatal(err)
	}
	ex, err := eng.Start(ctx, engine.StartInput{Plan: plan, Mode: wavedr.ModeDrill, InitiatedBy: "alice"})
	if err != nil {
		w.t.Fatal(err)
	}
	return ex.ID
}

// openEngine opens an engine with its workers on a new store handle and
// returns it in a harness (for waitFor) with the log it writes.
func (w *crashWorld) openEngine(rescueAfter time.Duration, hooks func(*store.DB) engine.Hooks) (*harness, *logCapture) {
	w.t.Helper()
	ctx := context.Background()
	db := storetest.OpenURL(w.t, w.dbURL)
	logs := &logCapture{}
	var out io.Writer = logs
	if os.Getenv("WAVEDR_TEST_LOG") != "" {
		out = io.MultiWriter(logs, os.Stderr)
	}
	var h engine.Hooks
	if hooks != nil {
		h = hooks(db)
	}
	eng, err := engine.Open(ctx, crashEngineConfig(db, w.rec, w.clock, rescueAfter, slog.New(slog.NewJSONHandler(out, nil)), h))
	if err != nil {
		w.t.Fatal(err)
	}
	if err := eng.StartWorkers(ctx); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = eng.StopWorkers(stop)
	})
	return &harness{t: w.t, db: db, sim: w.sim, rec: w.rec, eng: eng}, logs
}

// launchJobs returns the simulator's LAUNCH jobs of the execution by
// "wave/chunk" of their tags.
func (w *crashWorld) launchJobs(executionID string) map[string][]string {
	w.t.Helper()
	jobs, err := w.rec.DescribeJobs(context.Background(), wavedr.Target{Region: sim.LocalRegion}, wavedr.JobFilter{})
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[string][]string{}
	for _, j := range jobs {
		if j.Type != wavedr.JobTypeLaunch || j.Tags[wavedr.TagExecution] != executionID {
			continue
		}
		k := j.Tags[wavedr.TagWave] + "/" + j.Tags[wavedr.TagChunk]
		out[k] = append(out[k], j.ID)
	}
	return out
}

// checkExactlyOnce checks the end of a crash test: the execution COMPLETED
// with every server launched and enriched, and the simulator holds exactly
// one LAUNCH job per wave chunk — the one the execution recorded — started
// by exactly one StartRecovery call each.
func (w *crashWorld) checkExactlyOnce(done *wavedr.Execution, wantChunks int) {
	t := w.t
	t.Helper()
	if done.Status != wavedr.ExecutionCompleted {
		t.Errorf("execution %s: %s (%s)", done.Status, done.Reason, waveStatuses(done))
	}
	if c := done.Counts(); c.Launched != c.Total || c.Total == 0 {
		t.Errorf("%d of %d servers launched", c.Launched, c.Total)
	}
	recorded := map[string]string{}
	for _, wv := range done.Waves {
		if wv.Status != wavedr.WaveCompleted {
			t.Errorf("wave %s: %s (%s)", wv.Name, wv.Status, wv.Reason)
		}
		for _, j := range wv.Jobs {
			recorded[wv.Name+"/"+strconv.Itoa(j.Chunk)] = j.JobID
		}
		for _, s := range wv.Servers {
			if s.Status != wavedr.ServerLaunched || s.EC2InstanceID == "" || s.InstanceType == "" || s.PrivateIP == "" || s.LaunchTime.IsZero() {
				t.Errorf("wave %s server %s: %s ec2=%q type=%q ip=%q launch=%v", wv.Name, s.Hostname, s.Status, s.EC2InstanceID, s.InstanceType, s.PrivateIP, s.LaunchTime)
			}
		}
	}
	if len(recorded) != wantChunks {
		t.Errorf("the execution has %d chunks, want %d", len(recorded), wantChunks)
	}
	inSim := w.launchJobs(done.ID)
	for k, ids := range inSim {
		switch {
		case len(ids) != 1:
			t.Errorf("chunk %s has %d LAUNCH jobs in DRS, want 1: %v", k, len(ids), ids)
		case recorded[k] != ids[0]:
			t.Errorf("chunk %s: DRS job %s, the execution recorded %q", k, ids[0], recorded[k])
		}
	}
	for k := range recorded {
		if len(inSim[k]) == 0 {
			t.Errorf("chunk %s has no LAUNCH job in DRS", k)
		}
	}
	st := w.sim.Stats()["drs:StartRecovery"]
	if st.OK != int64(wantChunks) || st.Calls != int64(wantChunks) {
		t.Errorf("StartRecovery called %d times, %d succeeded; want %d and %d (one per chunk)", st.Calls, st.OK, wantChunks, wantChunks)
	}
	t.Logf("execution %s: %d servers launched, %d chunks, DRS LAUNCH jobs %v, StartRecovery %d calls",
		done.Status, done.Counts().Launched, len(recorded), inSim, st.Calls)
}

// checkAdopted checks that the engine adopted at least want DRS jobs
// (wave.job_adopted). More is no error: a StartRecovery whose answer is
// lost on the wire is adopted too, which is the rule at work. Over HTTP it
// happens now and then: the SDK closes the request body once the answer
// has come, the transport's last read of that body then fails, and the
// transport drops the connection under the answer still being read.
func checkAdopted(t *testing.T, logs *logCapture, want int) {
	t.Helper()
	n := logs.count("wave.job_adopted")
	if n < want {
		t.Errorf("the engine adopted %d DRS jobs, want at least %d", n, want)
	}
	t.Logf("the engine adopted %d DRS jobs", n)
	for _, line := range logs.lines(`"level":"WARN"`, `"level":"ERROR"`) {
		t.Log(line)
	}
}

// logCapture keeps an engine's JSON log to count its events.
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *logCapture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

// lines returns the lines holding any of marks.
func (c *logCapture) lines(marks ...string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, line := range strings.Split(c.buf.String(), "\n") {
		for _, m := range marks {
			if strings.Contains(line, m) {
				out = append(out, line)
				break
			}
		}
	}
	return out
}

func (c *logCapture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

func (c *logCapture) count(event string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Count(c.buf.String(), `"msg":"`+event+`"`)
}

// engineProcess is a running crash engine process.
type engineProcess struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser // held open: the process exits when it closes
	stderr  *logCapture
	reached chan string   // the crash point, when the process prints it
	exited  chan struct{} // closed when its standard output closes
	once    sync.Once
}

func (w *crashWorld) startEngineProcess(p crashPoint) *engineProcess {
	w.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashEngineProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		crashChildEnv+"=1",
		crashDBEnv+"="+w.dbURL,
		crashSimEnv+"="+w.simURL,
		crashClockEnv+"="+w.clock.String(),
		crashPointEnv+"="+p.String(),
	)
	ep := &engineProcess{cmd: cmd, stderr: &logCapture{}, reached: make(chan string, 1), exited: make(chan struct{})}
	cmd.Stderr = ep.stderr
	if os.Getenv("WAVEDR_TEST_LOG") != "" {
		cmd.Stderr = io.MultiWriter(ep.stderr, os.Stderr)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		w.t.Fatal(err)
	}
	ep.stdin = stdin
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		w.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	go func() {
		defer close(ep.exited)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), crashMarker+" "); ok {
				ep.reached <- rest
			}
		}
	}()
	w.t.Cleanup(ep.kill)
	return ep
}

// waitCrashPoint waits until the process is at its crash point.
func (ep *engineProcess) waitCrashPoint(t *testing.T, want crashPoint) {
	t.Helper()
	select {
	case got := <-ep.reached:
		if got != want.String() {
			t.Fatalf("the engine process stopped at %s, want %s", got, want)
		}
	case <-ep.exited:
		ep.kill()
		t.Fatalf("the engine process ended before its crash point %s: %v\n%s", want, ep.cmd.ProcessState, ep.stderr)
	case <-time.After(2 * time.Minute): // a hang guard, not a performance limit
		ep.kill()
		t.Fatalf("the engine process did not reach its crash point %s\n%s", want, ep.stderr)
	}
}

// kill sends SIGKILL and reaps the process.
func (ep *engineProcess) kill() {
	ep.once.Do(func() {
		_ = ep.cmd.Process.Kill()
		<-ep.exited
		_ = ep.cmd.Wait()
	})
}

// riverJobs counts River's jobs of a kind in a state, read from the database.
func riverJobs(t *testing.T, db *store.DB, kind, state string) int {
	t.Helper()
	var n int
	q := "SELECT COUNT(*) FROM river_job WHERE kind = '" + kind + "' AND state = '" + state + "'"
	if err := db.SQL().QueryRowContext(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

type crashCase struct {
	name    string
	plan    string
	servers int // size of the simulator's fleet (0: its default, 12)
	point   crashPoint
	chunks  int // DRS jobs the execution needs in all
	adopted int // wave.job_adopted events expected (at least) of the engine after the crash
}

var crashCases = []crashCase{
	{"before-start-recovery-wave-1", "crash", 0, crashPoint{stepBeforeStart, "database", 0}, 3, 0},
	{"after-start-recovery-wave-2", "crash", 0, crashPoint{stepAfterStart, "app", 0}, 3, 1},
	{"during-poll-wave-2", "crash", 0, crashPoint{stepAfterObserve, "app", 0}, 3, 0},
	// 150 servers: 125 in the db, app and web tiers, two chunks (100 + 25).
	{"chunked-after-start-recovery-chunk-0", "crash-chunked", 150, crashPoint{stepAfterStart, "everything", 0}, 2, 1},
	{"chunked-before-start-recovery-chunk-1", "crash-chunked", 150, crashPoint{stepBeforeStart, "everything", 1}, 2, 0},
}

// TestCrashRestart kills the engine process at each step of a launch and
// restarts the engine; every execution must end COMPLETED with exactly one
// DRS job per wave chunk.
func TestCrashRestart(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			for _, c := range crashCases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					testCrashRestart(t, d, c)
				})
			}
		})
	}
}

func testCrashRestart(t *testing.T, d storetest.Dialect, c crashCase) {
	w := newCrashWorld(t, d, c.servers)
	id := w.start(c.plan)
	began := time.Now()

	// Engine #1: its own process, killed at the crash point.
	p := w.startEngineProcess(c.point)
	p.waitCrashPoint(t, c.point)
	p.kill()
	killed := time.Now()
	if out := p.stderr.String(); strings.Contains(out, "WARNING: DATA RACE") {
		t.Errorf("the engine process found a data race:\n%s", out)
	}

	// What the crash left: the step's River job still running, and the
	// execution and DRS as they were at that step.
	h, logs := w.openEngineAfterCrash(c.point, id, 2*time.Second)
	done := h.waitFor(id, "the end", func(e *wavedr.Execution) bool { return e.Status.IsTerminal() })
	t.Logf("crash at %s after %s; the restarted engine finished %s later", c.point, killed.Sub(began).Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
	w.checkExactlyOnce(done, c.chunks)
	checkAdopted(t, logs, c.adopted)
}

// openEngineAfterCrash checks what the killed engine left at point — in
// the database and in DRS — and then opens the engine that takes over.
func (w *crashWorld) openEngineAfterCrash(p crashPoint, id string, rescueAfter time.Duration) (*harness, *logCapture) {
	t := w.t
	t.Helper()
	db := storetest.OpenURL(t, w.dbURL)
	ex, err := db.FindExecution(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	wv := ex.Wave(p.Wave)
	inSim := len(w.launchJobs(id)[p.Wave+"/"+strconv.Itoa(p.Chunk)])
	kind := "wavedr.launch"
	switch p.Step {
	case stepBeforeStart, stepAfterStart:
		want := map[string]int{stepBeforeStart: 0, stepAfterStart: 1}[p.Step]
		c := wv.Job(p.Chunk)
		if wv.Status != wavedr.WaveLaunching || c == nil || c.RequestedAt.IsZero() || c.JobID != "" || inSim != want {
			t.Fatalf("after the crash at %s: wave %s, chunk %+v, %d jobs in DRS (want %d)", p, wv.Status, c, inSim, want)
		}
	case stepAfterObserve:
		kind = "wavedr.poll"
		if wv.Status != wavedr.WaveInProgress {
			t.Fatalf("after the crash at %s: wave %s", p, wv.Status)
		}
	}
	if n := riverJobs(t, db, kind, "running"); n != 1 {
		t.Fatalf("after the crash at %s: %d %s jobs running in River, want 1", p, n, kind)
	}
	return w.openEngine(rescueAfter, nil)
}

// TestCrashHookErrorRetried fails a step in a live engine: the step's job
// returns the error, River retries it in the same process, and the retry
// must neither launch twice nor lose the launch.
func TestCrashHookErrorRetried(t *testing.T) {
	errCrash := errors.New("the test stops the step here")
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			for _, c := range crashCases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					w := newCrashWorld(t, d, c.servers)
					id := w.start(c.plan)
					var stopped atomic.Int32
					h, logs := w.openEngine(2*time.Second, func(db *store.DB) engine.Hooks {
						return crashHooks(c.point, db, func() error { stopped.Add(1); return errCrash })
					})
					done := h.waitFor(id, "the end", func(e *wavedr.Execution) bool { return e.Status.IsTerminal() })
					if stopped.Load() != 1 {
						t.Errorf("the step was stopped %d times, want 1", stopped.Load())
					}
					w.checkExactlyOnce(done, c.chunks)
					checkAdopted(t, logs, c.adopted)
				})
			}
		})
	}
}
