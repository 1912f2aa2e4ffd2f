package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"wavedr"
	"wavedr/engine"
	"wavedr/examples"
	"wavedr/manifest"
	"wavedr/sim"
	"wavedr/store"
)

// opSetup serves the simulator over HTTP and points the standard AWS
// settings at it, as `wavedr sim` and AWS_ENDPOINT_URL do for an operator;
// it applies the example plans to a new SQLite database and returns its URL.
func opSetup(t *testing.T) string {
	t.Helper()
	s, err := sim.New(sim.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	// The AWS SDK reads the process environment, not the command's getenv.
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            srv.URL,
		"AWS_ACCESS_KEY_ID":           "AKIDWAVEDROPTEST",
		"AWS_SECRET_ACCESS_KEY":       "secret",
		"AWS_REGION":                  sim.LocalRegion,
		"AWS_CONFIG_FILE":             filepath.Join(dir, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}

	url := "sqlite://" + filepath.ToSlash(filepath.Join(dir, "wavedr.db"))
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, err := manifest.Load(examples.ThreeTierName, bytes.NewReader(examples.ThreeTier))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(ctx, func(tx *store.Tx) error { _, err := manifest.Apply(ctx, tx, m); return err }); err != nil {
		t.Fatal(err)
	}
	return url
}

// opRun runs `wavedr op ARGS --db URL`.
func opRun(t *testing.T, url string, args ...string) (int, string, string) {
	t.Helper()
	return runInProcess(t, context.Background(), nil, append(append([]string{"op"}, args...), "--db", url)...)
}

func TestOpVerbs(t *testing.T) {
	url := opSetup(t)

	// start: flags after the plan name work too.
	code, stdout, stderr := opRun(t, url, "start", "three-tier", "--mode", "drill", "--by", "alice", "-o", "json")
	if code != exitOK {
		t.Fatalf("start: exit %d: %s", code, stderr)
	}
	var ex wavedr.Execution
	if err := json.Unmarshal([]byte(stdout), &ex); err != nil {
		t.Fatalf("start -o json: %v\n%s", err, stdout)
	}
	if ex.ID == "" || ex.Status != wavedr.ExecutionPending || ex.InitiatedBy != "alice" || len(ex.Waves) != 3 || ex.Counts().Total != 10 {
		t.Fatalf("started %s %s by %s, %d waves, %d servers", ex.ID, ex.Status, ex.InitiatedBy, len(ex.Waves), ex.Counts().Total)
	}
	id := ex.ID

	// Without workers nothing runs: poll observes and reports, and never
	// moves the execution.
	for i := 0; i < 3; i++ {
		code, stdout, stderr = opRun(t, url, "poll", id)
		if code != exitOK || !strings.Contains(stdout, "allWavesComplete false") || !strings.Contains(stdout, "PENDING") {
			t.Fatalf("poll %d: exit %d\n%s%s", i, code, stdout, stderr)
		}
	}
	code, stdout, _ = opRun(t, url, "poll", id, "-o", "json")
	var pr engine.PollResult
	if err := json.Unmarshal([]byte(stdout), &pr); code != exitOK || err != nil || pr.AllWavesComplete || pr.Execution.LastPolledAt.IsZero() {
		t.Fatalf("poll -o json: exit %d, %v: %s", code, err, stdout)
	}

	// finalize refuses while waves are open, naming them.
	code, _, stderr = opRun(t, url, "finalize", id)
	if code != exitConflict || !strings.Contains(stderr, "database PENDING") || !strings.Contains(stderr, "web PENDING") {
		t.Errorf("finalize: exit %d, %q; want %d naming the open waves", code, stderr, exitConflict)
	}

	// resume of an execution that is not paused is harmless.
	code, stdout, _ = opRun(t, url, "resume", id, "--by", "bob")
	if code != exitOK || !strings.Contains(stdout, "nothing to resume") || !strings.Contains(stdout, "is PENDING") {
		t.Errorf("resume: exit %d, %q", code, stdout)
	}

	// cancel ends a PENDING execution at once; a second cancel conflicts.
	code, stdout, _ = opRun(t, url, "cancel", id, "--by", "carol")
	if code != exitOK || !strings.Contains(stdout, "is CANCELLED") {
		t.Errorf("cancel: exit %d, %q", code, stdout)
	}
	if code, _, stderr = opRun(t, url, "cancel", id); code != exitConflict {
		t.Errorf("second cancel: exit %d, %q; want %d", code, stderr, exitConflict)
	}

	code, stdout, _ = opRun(t, url, "get", id, "-o", "json")
	var got wavedr.Execution
	if err := json.Unmarshal([]byte(stdout), &got); code != exitOK || err != nil {
		t.Fatalf("get -o json: exit %d, %v: %s", code, err, stdout)
	}
	if got.Status != wavedr.ExecutionCancelled || got.CancelRequest == nil || got.CancelRequest.By != "carol" || got.Counts().Cancelled != 10 {
		t.Errorf("after cancel: %s, request %+v, counts %+v", got.Status, got.CancelRequest, got.Counts())
	}
	for _, w := range got.Waves {
		if w.Status != wavedr.WaveCancelled {
			t.Errorf("wave %s %s, want CANCELLED", w.Name, w.Status)
		}
	}

	// finalize of a final execution is a no-op; terminate has nothing to do.
	if code, stdout, _ = opRun(t, url, "finalize", id); code != exitOK || !strings.Contains(stdout, "already final") {
		t.Errorf("finalize after cancel: exit %d, %q", code, stdout)
	}
	if code, _, stderr = opRun(t, url, "terminate", id); code != exitConflict || !strings.Contains(stderr, "nothing to terminate") {
		t.Errorf("terminate: exit %d, %q", code, stderr)
	}

	// The text views and find.
	if code, stdout, _ = opRun(t, url, "get", id); code != exitOK || !strings.Contains(stdout, "CANCELLED") || !strings.Contains(stdout, "1 database") {
		t.Errorf("get: exit %d\n%s", code, stdout)
	}
	if code, stdout, _ = opRun(t, url, "report", id); code != exitOK || !strings.Contains(stdout, "Wave 3 web: CANCELLED") {
		t.Errorf("report: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = opRun(t, url, "report", id, "-o", "json")
	var rep wavedr.Report
	if err := json.Unmarshal([]byte(stdout), &rep); code != exitOK || err != nil || rep.ExecutionID != id || len(rep.Waves) != 3 {
		t.Errorf("report -o json: exit %d, %v\n%s", code, err, stdout)
	}
	if code, stdout, _ = opRun(t, url, "find"); code != exitOK || !strings.Contains(stdout, "0 active executions") {
		t.Errorf("find: exit %d, %q", code, stdout)
	}
}

func TestOpErrors(t *testing.T) {
	url := opSetup(t)
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"get", "ex-0000000000000000000000000"}, exitNotFound},
		{[]string{"start", "no-such-plan"}, exitNotFound},
		{[]string{"start", "three-tier", "--mode", "failover"}, exitUsage},
		{[]string{"start"}, exitUsage},
		{[]string{"find", "extra"}, exitUsage},
		{[]string{"poll", "a", "b"}, exitUsage},
		{[]string{"get", "x", "-o", "yaml"}, exitUsage},
		{[]string{"bogus"}, exitUsage},
	}
	for _, tt := range tests {
		if code, _, stderr := opRun(t, url, tt.args...); code != tt.code {
			t.Errorf("op %v: exit %d (%s), want %d", tt.args, code, strings.TrimSpace(stderr), tt.code)
		}
	}
	if code, _, _ := runInProcess(t, context.Background(), nil, "op"); code != exitUsage {
		t.Errorf("op without a verb: exit %d, want %d", code, exitUsage)
	}
}

func TestReportText(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {1499 * time.Millisecond, "1s"}, {65 * time.Second, "1m05s"},
		{time.Hour + 2*time.Minute + 3*time.Second, "1h02m03s"}, {-90 * time.Second, "-1m30s"},
	} {
		if got := reportDuration(tt.d); got != tt.want {
			t.Errorf("reportDuration(%s) = %s, want %s", tt.d, got, tt.want)
		}
	}
	t0 := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	if got := reportOffset(t0.Add(65*time.Second), t0); got != "+1m05s" {
		t.Errorf("reportOffset = %s", got)
	}
	if got := reportOffset(time.Time{}, t0); got != "-" {
		t.Errorf("reportOffset(unknown) = %s", got)
	}

	ex := &wavedr.Execution{ID: "ex-1", PlanName: "p", Mode: wavedr.ModeDrill, Status: wavedr.ExecutionPartial, InitiatedBy: "alice",
		Reason: "wave w PARTIAL: 1 of 3 servers failed", CreatedAt: t0, StartedAt: t0, EndedAt: t0.Add(10 * time.Minute),
		Waves: []*wavedr.WaveRun{{Wave: wavedr.Wave{Name: "w"}, Number: 1, Status: wavedr.WavePartial,
			Jobs: []wavedr.WaveJob{{JobID: "drsjob-1"}}, LaunchRequestedAt: t0,
			Servers: []*wavedr.ServerRun{
				{ServerDetail: wavedr.ServerDetail{SourceServerID: "s-2", Hostname: "web-02"}, Status: wavedr.ServerFailed, Reason: "LAUNCH_FAILED", LaunchRequestedAt: t0},
				{ServerDetail: wavedr.ServerDetail{SourceServerID: "s-1", Hostname: "web-01", EC2InstanceID: "i-1", InstanceType: "t3.medium", PrivateIP: "10.0.0.1"},
					Status: wavedr.ServerLaunched, LaunchRequestedAt: t0, JobStartedAt: t0.Add(time.Second), SnapshotAt: t0.Add(2 * time.Minute),
					ConversionAt: t0.Add(5 * time.Minute), LaunchedAt: t0.Add(6*time.Minute + 5*time.Second)},
				{ServerDetail: wavedr.ServerDetail{SourceServerID: "s-3", Hostname: "web-03"}, Status: wavedr.ServerFailed, Reason: "LAUNCH_FAILED", LaunchRequestedAt: t0},
			}}},
	}
	var b bytes.Buffer
	printReport(&b, ex.Report())
	out := b.String()
	for _, want := range []string{
		"Execution ex-1: DRILL of plan p (version 0), initiated by alice",
		"Wave 1 w: PARTIAL, recovery time 6m05s, launched at +0s, job drsjob-1",
		"web-02, web-03: LAUNCH_FAILED", // one line per reason
		"DRILL PARTIAL: 1 of 3 servers launched, 2 failed in 1 wave; recovery time 6m05s; took 10m00s; instances not terminated",
		"wave w PARTIAL: 1 of 3 servers failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// A row per server, by hostname, with offsets and the recovery time.
	row := regexp.MustCompile(`(?m)^  web-01 +s-1 +LAUNCHED +i-1 +t3.medium +10.0.0.1 +\+0s +\+1s +\+2m00s +\+5m00s +\+6m05s +6m05s$`)
	if !row.MatchString(out) || strings.Index(out, "web-01") > strings.Index(out, "web-02") {
		t.Errorf("server rows not as expected")
	}
	if t.Failed() {
		t.Log("\n" + out)
	}
}
