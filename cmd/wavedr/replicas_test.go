//go:build linux

package main

// Two `wavedr serve` replicas on one PostgreSQL database, one of them
// killed with SIGKILL while a wave is in progress: the other must finish
// the execution, and no wave may have two DRS jobs.
//
// The replicas are the real binary, built once by the test, each a process
// of its own with its own --addr and data directory, the same --db (a
// schema of the test's own, through search_path) and the same
// WAVEDR_ADMIN_TOKEN. DRS is the simulator, served over HTTP by the test
// process (httptest on a sim.Simulator) so that the test can count the
// DRS jobs and StartRecovery calls; the replicas reach it through
// AWS_ENDPOINT_URL with static credentials, as they would reach AWS.
//
// Clocks. Without --sim, serve's engine runs on the wall clock: wave
// deadlines (45m and 30m in examples/three-tier.yaml) are wall minutes,
// while the simulator runs replicaSimSpeed times faster, so a DRS launch
// of 5 to 11 simulated minutes takes 10 to 22 wall seconds. Waiting out
// River's rescue (up to a minute, see below) therefore fails no
// deadline. `serve --sim` would not do here: it runs a simulator inside
// each process, so two replicas would see two different DRS, and it puts
// the engine on that simulator's clock, where two wall minutes at 30× are
// an hour of deadline.
//
// The kill. A replica killed between two steps of the execution leaves
// nothing behind: the next step is a River job any replica fetches. The
// hard case is a replica killed in the middle of a step: its River job
// stays "running" until the rescuer of River's leader takes it for
// crashed, RescueAfter (serve's --rescue-after; replicaRescueAfter here)
// after it started, at the rescuer's next run (every 30s).
// So that the kill lands inside a step, the test slows the poll step down
// while it aims — a latency fault on drs:DescribeJobLogItems, which only
// the poll's observation calls — and kills the chosen replica while the
// execution's poll job is running there. Two cases: the replica holding
// River's leadership (the survivor must first win the election, its
// leader row expiring after about 15s), and the other one.

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"wavedr"
	"wavedr/aws"
	"wavedr/engine"
	"wavedr/examples"
	"wavedr/sim"
	"wavedr/store/storetest"
)

const (
	// replicaSimSpeed is the simulator's speed: simulated seconds per wall
	// second.
	replicaSimSpeed = 30
	// replicaPoll is the replicas' --poll-interval.
	replicaPoll = "500ms"
	// replicaRescueAfter is the replicas' --rescue-after: a killed step is
	// run again within it and the rescuer's next run (every 30s). Half of
	// it bounds a step, well above the slowed poll step below.
	replicaRescueAfter = "30s"
	// replicaSlowStep is the latency added to drs:DescribeJobLogItems while
	// the test waits for the poll step to run on the replica it kills.
	replicaSlowStep = 3 * time.Second
	// replicaAimFor is how long the test waits for the poll step to run on
	// the chosen replica before it takes whichever replica runs it.
	replicaAimFor = 45 * time.Second
	// replicaWaves is the number of waves of examples/three-tier.yaml.
	replicaWaves = 3
)

// TestReplicasSurviveKill runs the drill of examples/three-tier.yaml on two
// serve replicas and kills one of them in the middle of a poll step, once
// the River leader and once the other replica.
func TestReplicasSurviveKill(t *testing.T) {
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skip(storetest.PostgresSkip + " (serve replicas share a PostgreSQL database)")
	}
	if testing.Short() {
		t.Skip("-short: the test waits out River's rescue of a killed job, up to a minute")
	}
	bin := replicaBuildWavedr(t)
	for _, c := range []struct {
		name       string
		killLeader bool
	}{{"kill-leader", true}, {"kill-follower", false}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			testReplicasSurviveKill(t, bin, c.killLeader)
		})
	}
}

// replicaBuildWavedr builds the wavedr binary into a temporary directory.
func replicaBuildWavedr(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build wavedr with: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "wavedr")
	began := time.Now()
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built %s in %s", bin, time.Since(began).Round(time.Millisecond))
	return bin
}

// replicaWorld is what the replicas of one case share: the simulator, the
// database and the admin token.
type replicaWorld struct {
	t      *testing.T
	bin    string
	sim    *sim.Simulator
	simURL string
	rec    *aws.Client // the test's own view of DRS, to count jobs
	dbURL  string
	db     *sql.DB // the test's own handle, to read River's tables
	token  string
	began  time.Time
}

func newReplicaWorld(t *testing.T, bin string) *replicaWorld {
	t.Helper()
	s, err := sim.New(sim.Config{Seed: 1, Speed: replicaSimSpeed})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	rec, err := aws.New(context.Background(), aws.Config{
		Endpoint:    srv.URL,
		Credentials: &aws.Credentials{AccessKeyID: "AKIDREPLICATEST", SecretAccessKey: "secret"},
		Region:      sim.LocalRegion,
		RateLimit:   -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	dbURL := storetest.PostgresURL(t)
	db := storetest.OpenURL(t, dbURL)
	secret, _ := wavedr.NewAPITokenSecret()
	return &replicaWorld{t: t, bin: bin, sim: s, simURL: srv.URL, rec: rec, dbURL: dbURL, db: db.SQL(), token: secret, began: time.Now()}
}

// replica is one running `wavedr serve` process.
type replica struct {
	name     string
	cmd      *exec.Cmd
	url      string      // its API, http://127.0.0.1:PORT
	log      *replicaLog // its standard error: JSON log lines
	clientID string      // its River client's ID
	exited   chan struct{}
	state    *os.ProcessState
	once     sync.Once
}

// replicaLog keeps a replica's log.
type replicaLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *replicaLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *replicaLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// records returns the log's JSON records.
func (l *replicaLog) records() []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(l.String(), "\n") {
		var r map[string]any
		if json.Unmarshal([]byte(line), &r) == nil {
			out = append(out, r)
		}
	}
	return out
}

// replicaEnv is the environment of a replica: the test's, without any AWS
// or wavedr setting, plus the simulator's endpoint, static credentials and
// the admin token.
func (w *replicaWorld) replicaEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "WAVEDR_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"WAVEDR_ADMIN_TOKEN="+w.token,
		"AWS_ENDPOINT_URL="+w.simURL,
		"AWS_ACCESS_KEY_ID=AKIDREPLICA", "AWS_SECRET_ACCESS_KEY=sim", "AWS_REGION="+sim.LocalRegion,
		"AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull, "AWS_EC2_METADATA_DISABLED=true",
	)
}

// startReplica starts `wavedr serve` and returns once it listens.
func (w *replicaWorld) startReplica(name string) *replica {
	t := w.t
	t.Helper()
	cmd := exec.Command(w.bin, "serve",
		"--db", w.dbURL, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(),
		"--poll-interval", replicaPoll, "--rescue-after", replicaRescueAfter, "--log-format", "json")
	cmd.Env = w.replicaEnv()
	// Should the test process die without its cleanups, so does the replica.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	r := &replica{name: name, cmd: cmd, log: &replicaLog{}, exited: make(chan struct{})}
	cmd.Stderr = r.log
	if os.Getenv("WAVEDR_TEST_LOG") != "" {
		cmd.Stderr = io.MultiWriter(r.log, replicaPrefixWriter{"replica " + name + ": ", os.Stderr})
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
				listening <- m[1]
			}
		}
		_ = cmd.Wait()
		r.state = cmd.ProcessState
		close(r.exited)
	}()
	t.Cleanup(r.kill)
	select {
	case r.url = <-listening:
	case <-r.exited:
		t.Fatalf("replica %s exited before listening: %v\n%s", name, r.state, r.log)
	case <-time.After(time.Minute): // a hang guard
		t.Fatalf("replica %s does not listen\n%s", name, r.log)
	}
	// serve logs its River client ID when it starts, right after it listens.
	for wait := time.Now(); r.clientID == ""; time.Sleep(20 * time.Millisecond) {
		for _, rec := range r.log.records() {
			if rec["msg"] == "serve.started" {
				r.clientID, _ = rec["riverClientId"].(string)
			}
		}
		if r.clientID == "" && time.Since(wait) > 30*time.Second { // a hang guard
			t.Fatalf("replica %s logged no River client ID\n%s", name, r.log)
		}
	}
	t.Logf("replica %s: pid %d, %s, River client %s", name, cmd.Process.Pid, r.url, r.clientID)
	return r
}

// kill sends SIGKILL and reaps the process.
func (r *replica) kill() {
	r.once.Do(func() {
		_ = r.cmd.Process.Kill()
		<-r.exited
	})
}

// terminate sends SIGTERM, as a process manager does, and waits for the
// exit.
func (r *replica) terminate(t *testing.T) (*os.ProcessState, time.Duration) {
	t.Helper()
	began := time.Now()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.exited:
	case <-time.After(time.Minute): // serve's shutdown bounds are 20s each
		t.Fatalf("replica %s did not stop on SIGTERM\n%s", r.name, r.log)
	}
	return r.state, time.Since(began)
}

// do sends a request to a replica's API with the admin token.
func (w *replicaWorld) do(r *replica, method, path, ctype, body string) (int, []byte) {
	w.t.Helper()
	req, err := http.NewRequest(method, r.url+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s on replica %s: %v", method, path, r.name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatalf("%s %s on replica %s: %v", method, path, r.name, err)
	}
	return resp.StatusCode, b
}

// execution reads an execution through a replica's API.
func (w *replicaWorld) execution(r *replica, id string) *wavedr.Execution {
	w.t.Helper()
	code, body := w.do(r, "GET", "/v1/executions/"+id, "", "")
	if code != http.StatusOK {
		w.t.Fatalf("GET execution on replica %s: %d %s", r.name, code, body)
	}
	var ex wavedr.Execution
	if err := json.Unmarshal(body, &ex); err != nil {
		w.t.Fatal(err)
	}
	return &ex
}

// waitFor reads the execution through r until cond holds.
func (w *replicaWorld) waitFor(r *replica, id, what string, limit time.Duration, cond func(*wavedr.Execution) bool) *wavedr.Execution {
	w.t.Helper()
	deadline := time.Now().Add(limit) // a hang guard, not a performance limit
	for {
		ex := w.execution(r, id)
		if cond(ex) {
			return ex
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("replica %s: %s not reached after %s: execution %s (%s), cleanup %q", r.name, what, limit, ex.Status, replicaWaveStatuses(ex), ex.Cleanup.Status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func replicaWaveStatuses(ex *wavedr.Execution) string {
	parts := make([]string, len(ex.Waves))
	for i, wv := range ex.Waves {
		parts[i] = wv.Name + "=" + string(wv.Status)
	}
	return strings.Join(parts, " ")
}

// replicaInProgressWave returns the name of a wave of ex IN_PROGRESS, or "".
func replicaInProgressWave(ex *wavedr.Execution) string {
	for _, wv := range ex.Waves {
		if wv.Status == wavedr.WaveInProgress {
			return wv.Name
		}
	}
	return ""
}

// leader returns the client ID of River's leader, "" when there is none.
func (w *replicaWorld) leader() string {
	w.t.Helper()
	var id string
	err := w.db.QueryRow(`SELECT leader_id FROM river_leader`).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		w.t.Fatal(err)
	}
	return id
}

// replicaPollJob is the River job polling one execution.
type replicaPollJob struct {
	id        int64
	state     string
	attempt   int
	attempted []string // River client IDs, in the order they ran it
}

func (j replicaPollJob) by() string {
	if len(j.attempted) == 0 {
		return ""
	}
	return j.attempted[len(j.attempted)-1]
}

// pollJob returns the execution's latest poll job, false when it has none.
func (w *replicaWorld) pollJob(executionID string) (replicaPollJob, bool) {
	w.t.Helper()
	var j replicaPollJob
	var by sql.NullString
	err := w.db.QueryRow(`SELECT id, state::text, attempt, array_to_string(attempted_by, ' ')
		FROM river_job WHERE kind = 'wavedr.poll' AND args->>'executionId' = $1
		ORDER BY id DESC LIMIT 1`, executionID).Scan(&j.id, &j.state, &j.attempt, &by)
	if errors.Is(err, sql.ErrNoRows) {
		return j, false
	}
	if err != nil {
		w.t.Fatal(err)
	}
	j.attempted = strings.Fields(by.String)
	return j, true
}

// replicaJobError is an entry of a River job's errors.
type replicaJobError struct {
	At      time.Time `json:"at"`
	Attempt int       `json:"attempt"`
	Error   string    `json:"error"`
}

// jobErrors returns the errors River recorded for a job: a rescued job
// has River's "stuck job" entry.
func (w *replicaWorld) jobErrors(id int64) []replicaJobError {
	w.t.Helper()
	var raw sql.NullString
	if err := w.db.QueryRow(`SELECT array_to_json(errors)::text FROM river_job WHERE id = $1`, id).Scan(&raw); err != nil {
		w.t.Fatal(err)
	}
	var out []replicaJobError
	if raw.Valid {
		if err := json.Unmarshal([]byte(raw.String), &out); err != nil {
			w.t.Fatal(err)
		}
	}
	return out
}

func testReplicasSurviveKill(t *testing.T, bin string, killLeader bool) {
	w := newReplicaWorld(t, bin)
	a := w.startReplica("A")
	b := w.startReplica("B")
	byClient := map[string]*replica{a.clientID: a, b.clientID: b}
	other := map[*replica]*replica{a: b, b: a}

	// The plan and the drill, through A.
	if code, body := w.do(a, "POST", "/v1/apply", "application/yaml", string(examples.ThreeTier)); code != http.StatusOK {
		t.Fatalf("apply on A: %d %s", code, body)
	}
	code, body := w.do(a, "POST", "/v1/executions", "application/json", `{"plan":"three-tier","mode":"DRILL"}`)
	if code != http.StatusCreated {
		t.Fatalf("start on A: %d %s", code, body)
	}
	var started wavedr.Execution
	if err := json.Unmarshal(body, &started); err != nil {
		t.Fatal(err)
	}
	id := started.ID
	drillStart := time.Now()

	// The database wave, then the gate before the app wave: resumed
	// through B.
	w.waitFor(a, id, "the gate before the app wave", 3*time.Minute, func(ex *wavedr.Execution) bool {
		return ex.Status == wavedr.ExecutionPaused && ex.Pause != nil && ex.Pause.Gate
	})
	if code, body := w.do(b, "POST", "/v1/executions/"+id+"/resume", "", ""); code != http.StatusOK {
		t.Fatalf("resume on B: %d %s", code, body)
	}
	w.waitFor(a, id, "a wave IN_PROGRESS after the gate", 3*time.Minute, func(ex *wavedr.Execution) bool {
		return replicaInProgressWave(ex) != ""
	})

	// Aim: slow the poll step down, and wait until it runs on the replica
	// of the case (the leader, or the other one).
	leaderID := w.leader()
	leader := byClient[leaderID]
	if leader == nil {
		t.Fatalf("River's leader %q is neither replica (%s, %s)", leaderID, a.clientID, b.clientID)
	}
	target := leader
	if !killLeader {
		target = other[leader]
	}
	if err := w.sim.AddFault(sim.Fault{Kind: sim.FaultLatency, Op: "drs:DescribeJobLogItems", Latency: sim.Duration(replicaSlowStep)}); err != nil {
		t.Fatal(err)
	}
	aimed := time.Now()
	var victim *replica
	var job replicaPollJob
	var wave string
	for victim == nil {
		j, ok := w.pollJob(id)
		ex := w.execution(other[target], id)
		wave = replicaInProgressWave(ex)
		switch {
		case ex.Status.IsTerminal():
			t.Fatalf("the execution ended (%s) before a poll step could be caught running", ex.Status)
		case !ok || j.state != "running" || wave == "":
		case byClient[j.by()] == target:
			victim, job = target, j
		case time.Since(aimed) > replicaAimFor:
			// The step keeps landing on the other replica: kill that one
			// rather than nothing.
			victim, job = byClient[j.by()], j
			t.Logf("the poll step did not run on replica %s within %s; killing replica %s, which runs it", target.name, replicaAimFor, victim.name)
		}
		if victim == nil {
			time.Sleep(100 * time.Millisecond)
		}
	}
	victim.kill()
	killed := time.Now()
	w.sim.ClearFaults()
	survivor := other[victim]
	role := "follower"
	if victim == leader {
		role = "leader"
	}
	t.Logf("killed replica %s (River %s) with SIGKILL %s after the drill's start, wave %s IN_PROGRESS, while it ran poll job %d (attempt %d); exit: %v",
		victim.name, role, killed.Sub(drillStart).Round(time.Millisecond), wave, job.id, job.attempt, victim.state)

	// The survivor finishes the execution. Meanwhile, note when it leads
	// River and when the killed step runs again.
	var leads, rescued time.Duration
	wasLeader := survivor == leader
	done := func() *wavedr.Execution {
		deadline := killed.Add(engine.RescueAfterDefault + 4*time.Minute) // a hang guard
		for {
			if leads == 0 && !wasLeader && w.leader() == survivor.clientID {
				leads = time.Since(killed)
			}
			if j, ok := w.pollJob(id); ok && rescued == 0 && (j.id != job.id || j.attempt > job.attempt) {
				rescued = time.Since(killed)
			}
			ex := w.execution(survivor, id)
			if ex.Status.IsTerminal() {
				return ex
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %s did not finish the execution: %s (%s)\n%s", survivor.name, ex.Status, replicaWaveStatuses(ex), survivor.log)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}()
	finished := time.Now()
	leading := "already River's leader"
	if !wasLeader {
		leading = "River's leader " + replicaSince(leads) + " after the kill"
	}
	t.Logf("replica %s: %s; the killed poll step ran again %s after the kill; execution %s %s after the kill (the drill took %s)",
		survivor.name, leading, replicaSince(rescued), done.Status, finished.Sub(killed).Round(time.Millisecond), finished.Sub(drillStart).Round(time.Millisecond))
	if j, ok := w.pollJob(id); ok {
		t.Logf("poll job %d: %s, attempt %d, its steps run by %s", j.id, j.state, j.attempt, replicaRuns(byClient, j.attempted))
	}
	for _, e := range w.jobErrors(job.id) {
		t.Logf("poll job %d, attempt %d: %q at %s after the kill", job.id, e.Attempt, e.Error, e.At.Sub(killed).Round(time.Millisecond))
	}

	// The outcome, and DRS as the simulator saw it.
	if done.Status != wavedr.ExecutionCompleted {
		t.Errorf("execution %s (%s): %s", done.Status, done.Reason, replicaWaveStatuses(done))
	}
	for _, wv := range done.Waves {
		if wv.Status != wavedr.WaveCompleted {
			t.Errorf("wave %s: %s (%s)", wv.Name, wv.Status, wv.Reason)
		}
	}
	launches := w.launchJobs(id)
	for _, wv := range done.Waves {
		if n := len(launches[wv.Name]); n != 1 {
			t.Errorf("wave %s has %d LAUNCH jobs in DRS, want 1: %v", wv.Name, n, launches[wv.Name])
		}
	}
	if len(launches) != replicaWaves {
		t.Errorf("LAUNCH jobs of %d waves in DRS, want %d: %v", len(launches), replicaWaves, launches)
	}
	st := w.sim.Stats()["drs:StartRecovery"]
	if st.OK != replicaWaves || st.Calls != replicaWaves {
		t.Errorf("StartRecovery: %d calls, %d succeeded; want %d of each (one per wave)", st.Calls, st.OK, replicaWaves)
	}
	t.Logf("DRS: LAUNCH jobs by wave %v; StartRecovery %d calls, %d succeeded", launches, st.Calls, st.OK)

	// The drill's cleanup, through the survivor.
	if code, body := w.do(survivor, "POST", "/v1/executions/"+id+"/terminate", "", ""); code != http.StatusOK {
		t.Fatalf("terminate on %s: %d %s", survivor.name, code, body)
	}
	cleaned := w.waitFor(survivor, id, "the drill's cleanup", 3*time.Minute, func(ex *wavedr.Execution) bool {
		return ex.Cleanup.Status != wavedr.CleanupTerminating
	})
	if cleaned.Cleanup.Status != wavedr.CleanupCompleted {
		t.Errorf("cleanup %s (%s), want COMPLETED", cleaned.Cleanup.Status, cleaned.Cleanup.Reason)
	}
	if c := cleaned.Counts(); c.Terminated != c.Total {
		t.Errorf("%d of %d servers terminated", c.Terminated, c.Total)
	}
	t.Logf("cleanup %s %s after terminate", cleaned.Cleanup.Status, time.Since(finished).Round(time.Millisecond))

	// The survivor stops as a process manager stops it.
	state, took := survivor.terminate(t)
	if state.ExitCode() != 0 || !strings.Contains(survivor.log.String(), `"msg":"serve.stopped"`) {
		t.Errorf("replica %s on SIGTERM: %v\n%s", survivor.name, state, survivor.log)
	}
	t.Logf("replica %s stopped on SIGTERM in %s: %v; the case took %s", survivor.name, took.Round(time.Millisecond), state, time.Since(w.began).Round(time.Millisecond))

	for _, r := range []*replica{a, b} {
		replicaLogSummary(t, r)
	}
}

// launchJobs returns the simulator's LAUNCH jobs of the execution by wave.
func (w *replicaWorld) launchJobs(executionID string) map[string][]string {
	w.t.Helper()
	jobs, err := w.rec.DescribeJobs(context.Background(), wavedr.Target{Region: sim.LocalRegion}, wavedr.JobFilter{})
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[string][]string{}
	for _, j := range jobs {
		if j.Type == wavedr.JobTypeLaunch && j.Tags[wavedr.TagExecution] == executionID {
			out[j.Tags[wavedr.TagWave]] = append(out[j.Tags[wavedr.TagWave]], j.ID)
		}
	}
	return out
}

func replicaSince(d time.Duration) string {
	if d == 0 {
		return "not seen"
	}
	return d.Round(time.Millisecond).String()
}

// replicaRuns names the replicas that ran a job, in order, runs of one
// replica collapsed: "A×5, B×2, A×30".
func replicaRuns(byClient map[string]*replica, ids []string) string {
	var parts []string
	for i := 0; i < len(ids); {
		k := i
		for k < len(ids) && ids[k] == ids[i] {
			k++
		}
		name := ids[i]
		if r := byClient[name]; r != nil {
			name = r.name
		}
		parts = append(parts, fmt.Sprintf("%s×%d", name, k-i))
		i = k
	}
	return strings.Join(parts, ", ")
}

// replicaLogSummary logs what a replica logged: its events by message,
// and its warnings and errors.
func replicaLogSummary(t *testing.T, r *replica) {
	t.Helper()
	counts := map[string]int{}
	var problems []string
	for _, rec := range r.log.records() {
		msg, _ := rec["msg"].(string)
		level, _ := rec["level"].(string)
		counts[level+" "+msg]++
		if level == "WARN" || level == "ERROR" {
			line, _ := json.Marshal(rec)
			problems = append(problems, string(line))
		}
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %4d  %s", counts[k], k)
	}
	t.Logf("replica %s logged:%s", r.name, b.String())
	for i, p := range problems {
		if i == 20 {
			t.Logf("  ... %d more warnings and errors", len(problems)-i)
			break
		}
		t.Logf("  %s", p)
	}
	if strings.Contains(r.log.String(), `"msg":"wave.duplicate_jobs"`) {
		t.Errorf("replica %s found duplicate DRS jobs", r.name)
	}
}

// replicaPrefixWriter writes each chunk to w after a prefix (whole lines, as slog
// writes them).
type replicaPrefixWriter struct {
	prefix string
	w      io.Writer
}

func (p replicaPrefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix+string(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}
