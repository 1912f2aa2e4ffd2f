package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"wavedr/store/storetest"
)

// benchAPISmall is a small run of `wavedr bench api`, fast enough for a
// test: 500 executions, pages of 7 (an uneven last page), 50 and 500 (all
// in one page).
var benchAPISmall = []string{"bench", "api", "--executions", "500", "--limits", "7,50,500"}

func runBenchAPI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}
	code := run(context.Background(), e, args)
	if stderr.Len() > 0 {
		t.Logf("stderr:\n%s", stderr.String())
	}
	return code, stdout.String()
}

// TestBenchAPI checks that the benchmark runs on both databases and that
// every run saw each execution it should exactly once, in order. It
// asserts no time.
func TestBenchAPI(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			args := append([]string(nil), benchAPISmall...)
			base := ""
			if d.Name == "postgres" {
				if base = os.Getenv(storetest.PostgresEnv); base == "" {
					t.Skip(storetest.PostgresSkip)
				}
				args = append(args, "--db", base)
			}
			code, out := runBenchAPI(t, append(args, "--json")...)
			if code != exitOK {
				t.Fatalf("exit status %d, want 0; output:\n%s", code, out)
			}
			var r apiBenchResult
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("output is not the JSON result: %v\n%s", err, out)
			}
			total := 0
			for _, n := range r.Statuses {
				total += n
			}
			if r.Executions != 500 || total != 500 || r.Statuses["COMPLETED"] == 0 || r.Statuses["RUNNING"] == 0 {
				t.Errorf("stored %d executions (%v), want 500 of several statuses", total, r.Statuses)
			}
			// Three page sizes, the two filtered runs, the store alone.
			if len(r.Runs) != 6 {
				t.Fatalf("%d runs, want 6: %+v", len(r.Runs), r.Runs)
			}
			for i, run := range r.Runs {
				if !run.Seen || run.Problem != "" || run.Items != run.Expected || run.Expected == 0 {
					t.Errorf("run %s limit %d via %s: %d of %d items, exactly once in order %v, problem %q",
						run.Name, run.Limit, run.Via, run.Items, run.Expected, run.Seen, run.Problem)
				}
				if wantPages := max(1, (run.Expected+run.Limit-1)/run.Limit); run.Pages != wantPages {
					t.Errorf("run %s limit %d: %d pages, want %d", run.Name, run.Limit, run.Pages, wantPages)
				}
				if i < 3 && run.Expected != 500 {
					t.Errorf("run %s limit %d expects %d executions, want all 500", run.Name, run.Limit, run.Expected)
				}
			}
			if f := r.Runs[3]; f.Expected >= r.Runs[4].Expected || !strings.Contains(f.Query, "status=COMPLETED") {
				t.Errorf("the filtered runs: %+v, %+v", f, r.Runs[4])
			}
			if base != "" {
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

func TestBenchAPITable(t *testing.T) {
	code, out := runBenchAPI(t, "bench", "api", "--executions", "120", "--limits", "50")
	t.Logf("output:\n%s", out)
	if code != exitOK {
		t.Fatalf("exit status %d, want 0", code)
	}
	for _, want := range []string{
		"paging over 120 stored executions",
		"seed: 120 executions in one transaction",
		"first tenth p50",
		"COMPLETED in a time range",
		"store only",
		"every run saw each execution it should exactly once, newest first",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestBenchAPIUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--executions", "0"},
		{"--limits", "0"},
		{"--limits", "501"},
		{"--limits", "50,x"},
		{"--db", "mysql://x"},
		{"extra"},
	} {
		code, _ := runBenchAPI(t, append([]string{"bench", "api"}, args...)...)
		if code != exitUsage {
			t.Errorf("bench api %s: exit status %d, want %d", strings.Join(args, " "), code, exitUsage)
		}
	}
}
