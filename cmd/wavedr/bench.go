package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, to create and drop a benchmark's schema

	"wavedr"
	"wavedr/aws"
	"wavedr/sim"
)

func init() {
	register(command{name: "bench", summary: "count the AWS calls of wavedr against the built-in simulator", run: runBench})
	registerBench(benchmark{name: "enrich", summary: "one Enrich over many launch jobs: calls per operation and batch ratios", run: benchEnrich})
}

// benchmark is one sub-benchmark of `wavedr bench`. Each lives in a file of
// its own and registers itself from init with registerBench.
type benchmark struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

var benchmarks = map[string]benchmark{}

func registerBench(b benchmark) {
	if _, dup := benchmarks[b.name]; dup {
		panic("wavedr: benchmark registered twice: " + b.name)
	}
	benchmarks[b.name] = b
}

func runBench(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		benchUsage(e.stderr)
		if len(args) == 0 {
			return usagef("name a benchmark")
		}
		return nil
	}
	b, ok := benchmarks[args[0]]
	if !ok {
		benchUsage(e.stderr)
		return usagef("unknown benchmark %q", args[0])
	}
	return b.run(ctx, e, args[1:])
}

func benchUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: wavedr bench BENCHMARK [flags]\n\nbenchmarks:")
	names := make([]string, 0, len(benchmarks))
	for n := range benchmarks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, benchmarks[n].summary)
	}
}

// benchEnrich launches a fleet of the simulator as drills, then makes one
// Enrich over all the jobs and reports the calls it took against the fewest
// the batch limits allow. It fails when a lookup took more.
func benchEnrich(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "bench enrich", "[--servers N] [--jobs N] [--seed N]")
	servers := fs.Int("servers", 1000, "source servers to launch (1..100000)")
	jobs := fs.Int("jobs", 0, "launch jobs to spread them over (default: servers/100 rounded up; at most 100 servers per job)")
	seed := fs.Int64("seed", 1, "simulator seed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *servers < 1 || *servers > 100000 {
		return usagef("--servers must be between 1 and 100000")
	}
	if *jobs == 0 {
		*jobs = (*servers + wavedr.MaxServersPerJob - 1) / wavedr.MaxServersPerJob
	}
	if *jobs < 1 || *jobs > *servers {
		return usagef("--jobs must be between 1 and --servers")
	}
	if (*servers+*jobs-1) / *jobs > wavedr.MaxServersPerJob {
		return usagef("%d servers in %d jobs is more than %d per job", *servers, *jobs, wavedr.MaxServersPerJob)
	}

	clock := sim.NewManualClock(time.Time{})
	s, err := sim.New(sim.Config{Seed: *seed, Servers: *servers, Clock: clock})
	if err != nil {
		return err
	}
	defer s.Close()
	c, err := aws.New(ctx, aws.Config{
		HTTPClient:  s.HTTPClient(),
		Endpoint:    s.Endpoint(),
		Credentials: &aws.Credentials{AccessKeyID: "AKIDWAVEDRBENCH", SecretAccessKey: "bench"},
		Region:      sim.LocalRegion,
		RateLimit:   -1,
	})
	if err != nil {
		return err
	}
	t := wavedr.Target{AccountID: sim.LocalAccountID, Region: sim.LocalRegion}

	fleet, err := c.DescribeSourceServers(ctx, t, nil)
	if err != nil {
		return err
	}
	ids := make([]string, len(fleet))
	for i, srv := range fleet {
		ids[i] = srv.ID
	}
	launchStart, simStart := time.Now(), s.Now()
	jobIDs, err := launchDrills(ctx, c, clock, t, spread(ids, *jobs))
	if err != nil {
		return err
	}
	launchTook := time.Since(launchStart)

	s.ResetStats()
	start := time.Now()
	res, err := c.Enrich(ctx, t, jobIDs, wavedr.EnrichOptions{})
	if err != nil {
		return err
	}
	took := time.Since(start)

	instances, incomplete := 0, 0
	for _, d := range res.Servers {
		if d.RecoveryInstanceID != "" {
			instances++
		}
		if len(d.Missing) > 0 {
			incomplete++
		}
	}
	fmt.Fprintf(e.stdout, "enrich: %d servers in %d jobs launched in %s (simulated %s)\n",
		len(res.Servers), len(res.Jobs), launchTook.Round(time.Millisecond), s.Now().Sub(simStart).Round(time.Second))
	fmt.Fprintf(e.stdout, "one Enrich: %s, %d recovery instances, %d servers with missing parts, %d jobs missing\n\n",
		took.Round(time.Microsecond), instances, incomplete, len(res.Missing))

	stats := s.Stats()
	rows := []lookupRow{
		{"drs:DescribeJobs", len(res.Jobs), "jobs", wavedr.MaxJobIDsPerCall},
		{"drs:DescribeRecoveryInstances", instances, "recovery instances", wavedr.MaxRecoveryInstanceIDsPerCall},
		{"ec2:DescribeInstances", instances, "instances", wavedr.MaxInstanceIDsPerCall},
		{"drs:DescribeSourceServers", len(res.Servers), "servers", wavedr.MaxSourceServerIDsPerCall},
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "operation\tcalls\tminimum\titems\tratio\t")
	var total, over int64
	known := map[string]bool{}
	for _, r := range rows {
		known[r.op] = true
		calls := stats[r.op].Calls
		minimum := int64((r.items + r.per - 1) / r.per)
		total += calls
		if calls > minimum {
			over++
		}
		ratio := "-"
		if r.items > 0 {
			ratio = strconv.FormatFloat(float64(calls)*float64(r.per)/float64(r.items), 'f', 2, 64) + " per " + strconv.Itoa(r.per) + " " + r.unit
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\t\n", r.op, calls, minimum, r.items, ratio)
	}
	for op, st := range stats {
		if !known[op] {
			total += st.Calls
			fmt.Fprintf(w, "%s\t%d\t-\t-\t(unexpected)\t\n", op, st.Calls)
			over++
		}
	}
	fmt.Fprintf(w, "total\t%d\t\t\t\t\n", total)
	w.Flush()
	if over > 0 {
		return fmt.Errorf("%d operations took more calls than the batch limits need", over)
	}
	fmt.Fprintln(e.stdout, "\nevery lookup at the batch minimum")
	return nil
}

// lookupRow is one line of the enrich report: an operation, the items it
// looked up, and how many of them one call may carry.
type lookupRow struct {
	op    string
	items int
	unit  string
	per   int
}

// spread splits ids into n chunks whose sizes differ by at most one.
func spread(ids []string, n int) [][]string {
	chunks := make([][]string, 0, n)
	for i := range n {
		lo, hi := i*len(ids)/n, (i+1)*len(ids)/n
		if hi > lo {
			chunks = append(chunks, ids[lo:hi])
		}
	}
	return chunks
}

// launchDrills starts one drill job per chunk, staying within the DRS quotas
// of concurrent jobs and servers in active jobs: when the next job would
// break one, it advances the simulated clock and waits for jobs to complete.
// It returns when every job has completed.
func launchDrills(ctx context.Context, c wavedr.Recovery, clock *sim.ManualClock, t wavedr.Target, chunks [][]string) ([]string, error) {
	var all []string
	active := map[string]int{} // job ID → servers
	inFlight := 0
	settle := func() error {
		clock.Advance(5 * time.Minute)
		ids := make([]string, 0, len(active))
		for id := range active {
			ids = append(ids, id)
		}
		jobs, err := c.DescribeJobs(ctx, t, wavedr.JobFilter{IDs: ids})
		if err != nil {
			return err
		}
		for _, j := range jobs {
			if j.Status == wavedr.JobCompleted {
				inFlight -= active[j.ID]
				delete(active, j.ID)
			}
		}
		return nil
	}
	for i := 0; i < len(chunks); {
		chunk := chunks[i]
		if len(active) >= wavedr.MaxConcurrentJobs || inFlight+len(chunk) > wavedr.MaxServersInActiveJobs {
			if err := settle(); err != nil {
				return nil, err
			}
			continue
		}
		job, err := c.StartRecovery(ctx, t, wavedr.StartRecoveryInput{
			SourceServerIDs: chunk,
			IsDrill:         true,
			Tags:            map[string]string{wavedr.TagExecution: "bench", wavedr.TagWave: "all", wavedr.TagChunk: strconv.Itoa(i)},
		})
		if err != nil {
			return nil, err
		}
		all = append(all, job.ID)
		active[job.ID] = len(chunk)
		inFlight += len(chunk)
		i++
	}
	for step := 0; len(active) > 0; step++ {
		if step == 10000 {
			return nil, fmt.Errorf("%d jobs still running after %d simulated steps", len(active), step)
		}
		if err := settle(); err != nil {
			return nil, err
		}
	}
	return all, nil
}

// benchDatabase returns the store URL a benchmark opens, its name for the
// report, and a cleanup: given no URL, a SQLite file in a temporary
// directory removed afterwards; given a PostgreSQL URL, a schema of the
// run's own (search_path) dropped afterwards, so the database is left as
// it was.
func benchDatabase(ctx context.Context, dbURL, bench string, stderr io.Writer) (string, string, func(), error) {
	switch {
	case dbURL == "":
		dir, err := os.MkdirTemp("", "wavedr-bench-"+bench+"-")
		if err != nil {
			return "", "", nil, err
		}
		u := url.URL{Path: filepath.ToSlash(filepath.Join(dir, "wavedr.db"))}
		return "sqlite://" + u.EscapedPath(), "sqlite (temporary file)", func() { os.RemoveAll(dir) }, nil
	case strings.HasPrefix(dbURL, "sqlite://"):
		return dbURL, "sqlite (" + strings.TrimPrefix(dbURL, "sqlite://") + ")", func() {}, nil
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", "", nil, usagef("--db: %v", err)
	}
	var r [6]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", "", nil, err
	}
	schema := "wavedr_bench_" + hex.EncodeToString(r[:])
	admin, err := sql.Open("pgx", dbURL)
	if err != nil {
		return "", "", nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(cctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return "", "", nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	cleanup := func() {
		defer admin.Close()
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if _, err := admin.ExecContext(dctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			fmt.Fprintf(stderr, "wavedr bench %s: drop schema %s: %v\n", bench, schema, err)
		}
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), "postgres (schema " + schema + ", dropped afterwards)", cleanup, nil
}
