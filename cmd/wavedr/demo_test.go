package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"wavedr"
)

// runInProcess runs one wavedr command line in this process and returns
// its exit status, standard output and standard error. The command's
// getenv sees only vars, so the developer's WAVEDR_* settings stay out.
func runInProcess(t *testing.T, ctx context.Context, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := runInProcessTo(ctx, &stdout, &stderr, vars, args...)
	return code, stdout.String(), stderr.String()
}

func runInProcessTo(ctx context.Context, stdout, stderr io.Writer, vars map[string]string, args ...string) int {
	e := &env{stdout: stdout, stderr: stderr, stdin: strings.NewReader(""), getenv: func(k string) string { return vars[k] }}
	return run(ctx, e, args)
}

// The demo's speed in tests: the drill's ~35 simulated minutes in a few
// seconds.
const testDemoSpeed = "1200"

func TestDemoJSON(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runInProcess(t, context.Background(), nil,
		"demo", "--speed", testDemoSpeed, "--gate-wait", "10ms", "--data-dir", dir, "--json")
	if code != exitOK {
		t.Fatalf("exit %d\nstderr:\n%s", code, stderr)
	}
	var ex wavedr.Execution
	if err := json.Unmarshal([]byte(stdout), &ex); err != nil {
		t.Fatalf("stdout is not one execution as JSON: %v\n%s", err, stdout)
	}
	if ex.Status != wavedr.ExecutionCompleted || ex.Mode != wavedr.ModeDrill || ex.PlanName != "three-tier" {
		t.Errorf("execution %s %s of %s; want a COMPLETED DRILL of three-tier", ex.Status, ex.Mode, ex.PlanName)
	}
	if ex.Cleanup.Status != wavedr.CleanupCompleted {
		t.Errorf("cleanup %q (%s), want COMPLETED", ex.Cleanup.Status, ex.Cleanup.Reason)
	}
	if len(ex.Waves) != 3 {
		t.Fatalf("%d waves, want 3", len(ex.Waves))
	}
	servers := 0
	for _, w := range ex.Waves {
		if w.Status != wavedr.WaveCompleted {
			t.Errorf("wave %s %s", w.Name, w.Status)
		}
		for _, s := range w.Servers {
			servers++
			if s.Status != wavedr.ServerTerminated || s.EC2InstanceID == "" || s.LaunchedAt.IsZero() || s.TerminatedAt.IsZero() {
				t.Errorf("wave %s server %s: %s, instance %q, launched %v, terminated %v; want launched then terminated",
					w.Name, s.Hostname, s.Status, s.EC2InstanceID, s.LaunchedAt, s.TerminatedAt)
			}
		}
	}
	if servers != 10 {
		t.Errorf("%d servers, want 10", servers)
	}
	if app := ex.Wave("app"); app == nil || app.GatePassedBy == "" {
		t.Errorf("the app wave's gate was not passed by the demo: %+v", app)
	}
	// Progress went to stderr; the database was kept.
	if !strings.Contains(stderr, "Paused at the gate before wave app") {
		t.Errorf("stderr does not mention the gate:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "wavedr.db")); err != nil {
		t.Errorf("--data-dir: %v", err)
	}
}

func TestDemoText(t *testing.T) {
	code, stdout, stderr := runInProcess(t, context.Background(), nil,
		"demo", "--speed", testDemoSpeed, "--gate-wait", "10ms")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"Paused at the gate before wave app",
		"Gate approved: resumed by",
		"Cleanup COMPLETED: 10 recovery instances terminated",
		"Wave 1 database: COMPLETED",
		"Wave 2 app: COMPLETED",
		"Wave 3 web: COMPLETED",
		"RECOVERY",
		"DRILL COMPLETED: 10 of 10 servers launched in 3 waves",
		"cleanup COMPLETED, 10 terminated",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Not a terminal: appended lines, no cursor movement.
	if strings.Contains(stdout, "\x1b[") {
		t.Error("output to a non-terminal contains escape sequences")
	}
	// The temporary database is gone.
	m := regexp.MustCompile(`Database: (\S+) \(removed afterwards\)`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("output does not name the database:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Dir(m[1])); !os.IsNotExist(err) {
		t.Errorf("temporary directory %s: %v; want it removed", filepath.Dir(m[1]), err)
	}
	if t.Failed() {
		t.Logf("stdout:\n%s", stdout)
	}
}

// demoCancelOn cancels a context when the output shows the marker.
type demoCancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	cancel context.CancelFunc
}

func (c *demoCancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	if strings.Contains(c.buf.String(), c.marker) {
		c.cancel()
	}
	return len(p), nil
}

// Ctrl-C in the middle of the drill stops the demo with a failure status
// and leaves no temporary directory behind.
func TestDemoInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &demoCancelOn{marker: "1 database", cancel: cancel}
	var stderr bytes.Buffer
	code := runInProcessTo(ctx, out, &stderr, nil, "demo", "--speed", "60")
	if code != exitFailure || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("exit %d, stderr %q; want %d and interrupted", code, stderr.String(), exitFailure)
	}
	m := regexp.MustCompile(`Database: (\S+) \(removed afterwards\)`).FindStringSubmatch(out.buf.String())
	if m == nil {
		t.Fatalf("output does not name the database:\n%s", out.buf.String())
	}
	if _, err := os.Stat(filepath.Dir(m[1])); !os.IsNotExist(err) {
		t.Errorf("temporary directory %s: %v; want it removed", filepath.Dir(m[1]), err)
	}
}

func TestDemoFlags(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "--speed", "0"},
		{"demo", "--speed", "100000"},
		{"demo", "--gate-wait", "-1s"},
		{"demo", "extra"},
	} {
		if code, _, _ := runInProcess(t, context.Background(), nil, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}
