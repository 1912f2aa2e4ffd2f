//go:build unix

package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"wavedr/store/storetest"
)

// benchEngineSmall is a small run of `wavedr bench engine`: three drills of
// twenty servers in two waves, fast enough for a test.
var benchEngineSmall = []string{"bench", "engine", "--executions", "3", "--servers", "20", "--waves", "2", "--poll", "100ms", "--speed", "600", "--timeout", "2m"}

// runBenchEngine runs the command line and returns its exit status and
// standard output; standard error is logged.
func runBenchEngine(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}
	code := run(context.Background(), e, args)
	if stderr.Len() > 0 {
		t.Logf("stderr:\n%s", stderr.String())
	}
	return code, stdout.String()
}

func TestBenchEngineTable(t *testing.T) {
	code, out := runBenchEngine(t, benchEngineSmall...)
	t.Logf("output:\n%s", out)
	if code != exitOK {
		t.Fatalf("exit status %d, want 0", code)
	}
	for _, want := range []string{
		"3 drills of 20 servers in 2 waves",
		"3 of 3 executions COMPLETED",
		"6 waves (6 COMPLETED); 6 DRS jobs; 6 StartRecovery calls (exactly one per job)",
		"per poll cycle",
		"in poll cycles",
		"drs:DescribeJobs",
		"drs:StartRecovery",
		"wave transition: COMPLETED seen → next wave's StartRecovery requested  3 ",
		"poll period",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if !regexp.MustCompile(`poll cycles: [1-9][0-9]*`).MatchString(out) {
		t.Error("output counts no poll cycle")
	}
}

func TestBenchEngineJSON(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			args := append([]string(nil), benchEngineSmall...)
			base := ""
			if d.Name == "postgres" {
				if base = os.Getenv(storetest.PostgresEnv); base == "" {
					t.Skip(storetest.PostgresSkip)
				}
				args = append(args, "--db", base)
			}
			profile := filepath.Join(t.TempDir(), "cpu.prof")
			args = append(args, "--json", "--cpuprofile", profile)
			code, out := runBenchEngine(t, args...)
			if code != exitOK {
				t.Fatalf("exit status %d, want 0; output:\n%s", code, out)
			}
			var r engineBenchResult
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("output is not the JSON result: %v\n%s", err, out)
			}
			if r.Completed != 3 || r.Statuses["COMPLETED"] != 3 || r.Waves != 6 || r.WavesLaunched != 6 || r.WavesCompleted != 6 {
				t.Errorf("completed %d (%v), waves %d (%d completed); want 3 executions and 6 waves COMPLETED", r.Completed, r.Statuses, r.Waves, r.WavesCompleted)
			}
			if r.Jobs != 6 || r.StartRecovery != 6 || r.StartRecoveryOK != 6 {
				t.Errorf("%d DRS jobs, %d StartRecovery calls (%d OK); want 6 of each", r.Jobs, r.StartRecovery, r.StartRecoveryOK)
			}
			if r.PollCycles < 3 || r.CPUMs <= 0 || r.CPUPerCycleMs <= 0 || r.WallMs <= 0 {
				t.Errorf("poll cycles %d, CPU %.1fms (%.2fms per cycle), wall %.1fms: want them counted", r.PollCycles, r.CPUMs, r.CPUPerCycleMs, r.WallMs)
			}
			if r.Transition.N != 3 || r.Transition.MaxMs < r.Transition.MinMs || r.PollPeriod.N == 0 || r.Detection.N != 6 {
				t.Errorf("latencies %+v, %+v, %+v: want 3 transitions, 6 completions and some poll periods", r.Transition, r.Detection, r.PollPeriod)
			}
			byOp := map[string]callRow{}
			for _, c := range r.Calls {
				byOp[c.Op] = c
			}
			if c := byOp["drs:DescribeJobs"]; c.Poll == 0 || c.PerCycle <= 0 || c.Launch == 0 || c.Start != 3 {
				t.Errorf("drs:DescribeJobs %+v: want calls in poll cycles, launches and one per start", c)
			}
			if c := byOp["drs:StartRecovery"]; c.Launch != 6 || c.Poll != 0 || c.Start != 0 {
				t.Errorf("drs:StartRecovery %+v: want 6 calls, all in wave launches", c)
			}
			if st, err := os.Stat(profile); err != nil || st.Size() == 0 {
				t.Errorf("CPU profile: %v", err)
			}
			if base != "" {
				// The run's schema is gone.
				m := regexp.MustCompile(`schema (wavedr_bench_[0-9a-f]+)`).FindStringSubmatch(r.Store)
				if m == nil {
					t.Fatalf("store %q names no schema", r.Store)
				}
				admin, err := sql.Open("pgx", base)
				if err != nil {
					t.Fatal(err)
				}
				defer admin.Close()
				var n int
				if err := admin.QueryRow("SELECT count(*) FROM pg_namespace WHERE nspname = $1", m[1]).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Errorf("schema %s was not dropped", m[1])
				}
			}
		})
	}
}

func TestBenchEngineLayout(t *testing.T) {
	for _, c := range []struct {
		executions, servers, waves, perAccount int
		want                                   []int
		fits                                   bool
	}{
		// 34 servers in flight per execution: 14 fit 500, so two accounts of 10.
		{20, 100, 3, 0, []int{10, 10}, true},
		// A whole execution in flight: 5 per account.
		{20, 100, 1, 0, []int{5, 5, 5, 5}, true},
		// 200 servers in two jobs per execution: 2 per account.
		{20, 200, 1, 0, []int{2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, true},
		// 20 servers per wave: the quota of 20 concurrent jobs binds.
		{20, 100, 5, 0, []int{20}, true},
		{3, 20, 2, 0, []int{3}, true},
		// Forced into one account: beyond the quota of 500 servers.
		{20, 100, 3, 20, []int{20}, false},
		{7, 100, 1, 3, []int{3, 2, 2}, true},
	} {
		b := engineBench{stderr: io.Discard, executions: c.executions, servers: c.servers, waves: c.waves, perAccount: c.perAccount}
		l := b.layout()
		if !slices.Equal(l.perAccount, c.want) || l.fits != c.fits || len(l.accounts) != len(c.want) {
			t.Errorf("%d×%d in %d waves, --per-account %d: %v (fits %v), want %v (fits %v)",
				c.executions, c.servers, c.waves, c.perAccount, l.perAccount, l.fits, c.want, c.fits)
		}
	}
}

func TestBenchEngineUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--waves", "0"},
		{"--servers", "10", "--waves", "11"},
		{"--poll", "10ms"},
		{"--db", "mysql://x"},
		{"--speed", "0"},
		{"extra"},
	} {
		code, _ := runBenchEngine(t, append([]string{"bench", "engine"}, args...)...)
		if code != exitUsage {
			t.Errorf("bench engine %s: exit status %d, want %d", strings.Join(args, " "), code, exitUsage)
		}
	}
}
