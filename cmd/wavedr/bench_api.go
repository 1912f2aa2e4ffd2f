package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"wavedr"
	"wavedr/aws"
	"wavedr/engine"
	wdrhttp "wavedr/http"
	"wavedr/sim"
	"wavedr/store"
)

func init() {
	registerBench(benchmark{name: "api", summary: "GET /v1/executions paging over many stored executions: latency per page", run: benchAPI})
}

// Shape of the stored executions of `wavedr bench api`.
const (
	apiBenchPlans      = 4                // plans the executions are spread over
	apiBenchWaves      = 2                // waves per plan
	apiBenchServers    = 2                // servers per wave
	apiBenchBatch      = 1000             // executions per seeding transaction
	apiBenchWriters    = 4                // seeding transactions at once on PostgreSQL
	apiBenchStep       = 7 * time.Minute  // creation times: two executions every step, newest first
	apiBenchWaveLength = 11 * time.Minute // a wave's time from launch to its end
)

// apiBenchEpoch is the creation time of the newest stored execution; the
// others go back from it by apiBenchStep every two.
var apiBenchEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// apiBench configures one run of the API benchmark.
type apiBench struct {
	executions int
	db         string // store URL; empty: SQLite in a temporary directory
	limits     []int
	seed       int64
	cpuProfile string
	stderr     io.Writer
}

// benchAPI stores many small executions directly through the store, then
// pages through all of them with GET /v1/executions over real HTTP, at
// several page sizes and once with filters, and reports the latency per
// page. It fails when a run does not see every execution it should exactly
// once, in the list's order.
func benchAPI(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "bench api", "[--executions N] [--db URL] [--limits 50,100,500] [--seed N] [--json]")
	b := apiBench{stderr: e.stderr}
	fs.IntVar(&b.executions, "executions", 100000, "executions to store (1..1000000)")
	fs.StringVar(&b.db, "db", "", "store: postgres://... (the run uses a schema of its own, dropped afterwards) or sqlite:///new-file.db (default: SQLite in a temporary directory)")
	limits := fs.String("limits", "50,100,500", "page sizes to page through every execution with (1.."+strconv.Itoa(wavedr.MaxPageSize)+", comma-separated)")
	fs.Int64Var(&b.seed, "seed", 1, "seed of the executions' statuses, modes and initiators")
	fs.StringVar(&b.cpuProfile, "cpuprofile", "", "write a CPU profile of the paging (not the seeding) to this file")
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if b.executions < 1 || b.executions > 1000000 {
		return usagef("--executions must be between 1 and 1000000")
	}
	if b.db != "" && !strings.HasPrefix(b.db, "sqlite://") && !strings.HasPrefix(b.db, "postgres://") && !strings.HasPrefix(b.db, "postgresql://") {
		return usagef("--db must be a sqlite:// or postgres:// URL")
	}
	for _, s := range strings.Split(*limits, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > wavedr.MaxPageSize {
			return usagef("--limits: %q is not a page size from 1 to %d", s, wavedr.MaxPageSize)
		}
		b.limits = append(b.limits, n)
	}
	res, runErr := b.run(ctx)
	if res == nil {
		return runErr
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		res.print(e.stdout)
	}
	if runErr != nil {
		return runErr
	}
	return res.verdict()
}

// apiBenchResult is what `wavedr bench api` reports; durations are in
// milliseconds.
type apiBenchResult struct {
	Executions int    `json:"executions"`
	Plans      int    `json:"plans"`
	Waves      int    `json:"wavesPerExecution"`
	Servers    int    `json:"serversPerWave"`
	Store      string `json:"store"`
	CPUs       int    `json:"cpus"`
	Load       string `json:"loadAverage,omitempty"` // 1-minute load average before the paging

	SeedMs           float64        `json:"seedMs"`
	SeedTransactions int            `json:"seedTransactions"`
	Analyzed         bool           `json:"analyzed,omitempty"` // PostgreSQL: ANALYZE executions after the load
	Statuses         map[string]int `json:"statuses"`           // stored executions by status

	CPUProfile string        `json:"cpuProfile,omitempty"`
	Runs       []apiBenchRun `json:"runs"`
	Problems   []string      `json:"problems,omitempty"`
}

// apiBenchRun is one paging through a list, page after page.
type apiBenchRun struct {
	Name     string  `json:"name"`
	Query    string  `json:"query"` // the query string of the first page
	Via      string  `json:"via"`   // "http" or "store" (db.ListExecutions, no HTTP)
	Limit    int     `json:"limit"`
	Expected int     `json:"expected"` // executions the filter matches
	Pages    int     `json:"pages"`
	Items    int     `json:"items"`
	Bytes    int64   `json:"bytes,omitempty"` // response bodies
	TotalMs  float64 `json:"totalMs"`         // the whole paging, client decoding included
	PerSec   float64 `json:"itemsPerSecond"`
	P50Ms    float64 `json:"p50Ms"` // per page: request sent → body read
	P90Ms    float64 `json:"p90Ms"`
	P99Ms    float64 `json:"p99Ms"`
	MaxMs    float64 `json:"maxMs"`
	FirstMs  float64 `json:"firstTenthP50Ms"` // p50 of the first tenth of the pages
	LastMs   float64 `json:"lastTenthP50Ms"`  // p50 of the last tenth: deep pages cost what the first ones do under keyset paging
	Seen     bool    `json:"exactlyOnceInOrder"`
	Problem  string  `json:"problem,omitempty"`
}

func (b *apiBench) run(ctx context.Context) (*apiBenchResult, error) {
	dbURL, storeName, cleanup, err := benchDatabase(ctx, b.db, "api", b.stderr)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()

	res := &apiBenchResult{Executions: b.executions, Plans: apiBenchPlans, Waves: apiBenchWaves, Servers: apiBenchServers,
		Store: storeName, CPUs: runtime.NumCPU(), Statuses: map[string]int{}}
	t0 := time.Now()
	all, txs, err := b.populate(ctx, db)
	if err != nil {
		return nil, err
	}
	res.SeedMs, res.SeedTransactions = toMillis(time.Since(t0)), txs
	if db.Dialect() == store.Postgres {
		// What autovacuum does shortly after such a load: without
		// statistics the planner guesses, and some filters are then read
		// with a bitmap scan and a sort instead of an index in order.
		if _, err := db.SQL().ExecContext(ctx, "ANALYZE executions"); err != nil {
			return nil, fmt.Errorf("analyze: %w", err)
		}
		res.Analyzed = true
	}
	for _, s := range all {
		res.Statuses[string(s.status)]++
	}

	// The API as serve mounts it, over the simulator for the engine's
	// port (the list reads the store only), with an Admin API token.
	s, err := sim.New(sim.Config{Seed: 1})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	rec, err := aws.New(ctx, aws.Config{HTTPClient: s.HTTPClient(), Endpoint: s.Endpoint(), Region: sim.LocalRegion, RateLimit: -1,
		Credentials: &aws.Credentials{AccessKeyID: "AKIDWAVEDRBENCH", SecretAccessKey: "bench"}})
	if err != nil {
		return nil, err
	}
	quiet := slog.New(slog.DiscardHandler)
	eng, err := engine.Open(ctx, engine.Config{DB: db, Recovery: rec, Logger: quiet}) // no workers
	if err != nil {
		return nil, err
	}
	api, err := wdrhttp.NewServer(wdrhttp.Config{DB: db, Engine: eng, Recovery: rec, LocalRegion: sim.LocalRegion, Logger: quiet})
	if err != nil {
		return nil, err
	}
	secret, hash := wavedr.NewAPITokenSecret()
	if err := db.CreateAPIToken(ctx, &wavedr.APIToken{Name: "bench-api", Role: wavedr.RoleAdmin, CreatedBy: "wavedr-bench",
		ExpiresAt: time.Now().Add(24 * time.Hour), Hash: hash}); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close below
	defer srv.Close()
	client := &apiBenchClient{base: "http://" + ln.Addr().String(), token: secret,
		http: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 2}}}

	if b.cpuProfile != "" {
		f, err := os.Create(b.cpuProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
		res.CPUProfile = b.cpuProfile
	}
	res.Load = benchLoadAverage()

	everything := func(apiBenchSummary) bool { return true }
	for _, limit := range b.limits {
		q := url.Values{"limit": {strconv.Itoa(limit)}}
		res.Runs = append(res.Runs, client.page(ctx, "all", q, limit, all, everything))
	}
	// COMPLETED executions created in the middle half of the stored span.
	newest, oldest := all[0].created, all[len(all)-1].created
	span := newest.Sub(oldest)
	since, until := oldest.Add(span/4).Truncate(time.Minute), oldest.Add(3*span/4).Truncate(time.Minute)
	if !until.After(since) {
		until = since.Add(time.Minute)
	}
	q := url.Values{"limit": {"100"}, "status": {"COMPLETED"}, "since": {since.Format(time.RFC3339)}, "until": {until.Format(time.RFC3339)}}
	res.Runs = append(res.Runs, client.page(ctx, "COMPLETED in a time range", q, 100, all, func(s apiBenchSummary) bool {
		return s.status == wavedr.ExecutionCompleted && !s.created.Before(since) && s.created.Before(until)
	}))
	q = url.Values{"limit": {"100"}, "since": {since.Format(time.RFC3339)}, "until": {until.Format(time.RFC3339)}}
	res.Runs = append(res.Runs, client.page(ctx, "a time range", q, 100, all, func(s apiBenchSummary) bool {
		return !s.created.Before(since) && s.created.Before(until)
	}))
	// The store alone, for the share of HTTP, authentication and JSON.
	res.Runs = append(res.Runs, pageStore(ctx, db, 100, all))

	for _, r := range res.Runs {
		if r.Problem != "" {
			res.Problems = append(res.Problems, fmt.Sprintf("%s (limit %d, %s): %s", r.Name, r.Limit, r.Via, r.Problem))
		}
	}
	return res, nil
}

// apiBenchSummary is what the benchmark keeps of a stored execution to
// check the lists with.
type apiBenchSummary struct {
	id      string
	created time.Time
	status  wavedr.ExecutionStatus
}

// populate stores the plans and executions, apiBenchBatch executions per
// transaction, and returns the executions in the list's order: newest
// first, by creation time then ID.
func (b *apiBench) populate(ctx context.Context, db *store.DB) ([]apiBenchSummary, int, error) {
	var plans []*wavedr.RecoveryPlan
	server := 0
	for p := range apiBenchPlans {
		plan := &wavedr.RecoveryPlan{Name: fmt.Sprintf("bench-api-%d", p+1), Description: "wavedr bench api"}
		for w := range apiBenchWaves {
			g := &wavedr.ProtectionGroup{Name: fmt.Sprintf("bench-api-%d-w%d", p+1, w+1), Region: sim.LocalRegion}
			for range apiBenchServers {
				server++
				g.ServerIDs = append(g.ServerIDs, fmt.Sprintf("s-%017x", server))
			}
			if err := db.CreateProtectionGroup(ctx, g); err != nil {
				return nil, 0, err
			}
			plan.Waves = append(plan.Waves, wavedr.Wave{Name: fmt.Sprintf("w%d", w+1), Groups: []string{g.Name}})
		}
		if err := db.CreateRecoveryPlan(ctx, plan); err != nil {
			return nil, 0, err
		}
		plans = append(plans, plan)
	}
	groups := map[string]*wavedr.ProtectionGroup{}
	for _, p := range plans {
		for _, w := range p.Waves {
			g, err := db.FindProtectionGroup(ctx, w.Groups[0])
			if err != nil {
				return nil, 0, err
			}
			groups[g.Name] = g
		}
	}

	// The batches are made in order (the seed decides them), and stored by
	// a few transactions at once on PostgreSQL; SQLite has one writer.
	writers := 1
	if db.Dialect() == store.Postgres {
		writers = apiBenchWriters
	}
	rng := mrand.New(mrand.NewPCG(uint64(b.seed), 0x61706962656e6368))
	batches := make(chan []*wavedr.Execution)
	stored := make(chan []*wavedr.Execution)
	errc := make(chan error, writers)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range batches {
				err := db.InTx(cctx, func(tx *store.Tx) error {
					for _, ex := range batch {
						if err := tx.CreateExecution(cctx, ex); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					errc <- fmt.Errorf("store %d executions: %w", len(batch), err)
					cancel()
					return
				}
				stored <- batch
			}
		}()
	}
	go func() {
		defer close(batches)
		for lo := 0; lo < b.executions; lo += apiBenchBatch {
			hi := min(lo+apiBenchBatch, b.executions)
			batch := make([]*wavedr.Execution, 0, hi-lo)
			for i := lo; i < hi; i++ {
				batch = append(batch, apiBenchExecution(rng, i, plans[i%len(plans)], groups))
			}
			select {
			case batches <- batch:
			case <-cctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(stored) }()
	all := make([]apiBenchSummary, 0, b.executions)
	txs := 0
	for batch := range stored {
		txs++
		for _, ex := range batch {
			all = append(all, apiBenchSummary{id: ex.ID, created: ex.CreatedAt, status: ex.Status})
		}
	}
	select {
	case err := <-errc:
		return nil, 0, err
	default:
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	sort.Slice(all, func(i, j int) bool {
		if c := all[i].created.Compare(all[j].created); c != 0 {
			return c > 0
		}
		return all[i].id > all[j].id
	})
	return all, txs, nil
}

// apiBenchExecution returns the i-th execution of the benchmark, of plan:
// created apiBenchStep before the (i-2)-th (two executions share each
// creation time, so the ID breaks ties), its waves and servers as the
// engine leaves them. The newest few are still running; of the others,
// most COMPLETED, some FAILED, PARTIAL or CANCELLED.
func apiBenchExecution(rng *mrand.Rand, i int, plan *wavedr.RecoveryPlan, groups map[string]*wavedr.ProtectionGroup) *wavedr.Execution {
	created := apiBenchEpoch.Add(-time.Duration(i/2) * apiBenchStep)
	mode := wavedr.ModeDrill
	if rng.IntN(10) == 0 {
		mode = wavedr.ModeRecovery
	}
	who := []string{"alice@example.com", "bob@example.com", "token:ci-nightly", "token:dr-runbook"}[rng.IntN(4)]
	ex := wavedr.NewExecution(plan, mode, who, created)
	ex.ID = wavedr.NewID(wavedr.PrefixExecution, created)
	ex.StartedAt = created.Add(time.Second)
	status := wavedr.ExecutionCompleted
	switch r := rng.IntN(100); {
	case i < 5:
		status = wavedr.ExecutionRunning
	case r < 8:
		status = wavedr.ExecutionFailed
	case r < 12:
		status = wavedr.ExecutionPartial
	case r < 15:
		status = wavedr.ExecutionCancelled
	}
	ex.Status = status
	at := ex.StartedAt
	for n, w := range ex.Waves {
		g := groups[w.Groups[0]]
		job := fmt.Sprintf("drsjob-%08x%09x", i, n)
		w.LaunchRequestedAt, w.StartedAt = at, at.Add(2*time.Second)
		w.DeadlineAt = at.Add(time.Duration(w.Deadline))
		w.Jobs = []wavedr.WaveJob{{Chunk: 0, JobID: job, Region: g.Region, ServerIDs: g.ServerIDs, Status: wavedr.JobCompleted,
			RequestedAt: at, CreatedAt: at.Add(2 * time.Second), EndedAt: at.Add(apiBenchWaveLength)}}
		w.Status = wavedr.WaveCompleted
		server := wavedr.ServerLaunched
		switch {
		case status == wavedr.ExecutionRunning && n == len(ex.Waves)-1:
			w.Status, server = wavedr.WaveInProgress, wavedr.ServerInProgress
			w.Jobs[0].Status, w.Jobs[0].EndedAt = wavedr.JobStarted, time.Time{}
		case status == wavedr.ExecutionFailed && n == 0, status == wavedr.ExecutionPartial && n == len(ex.Waves)-1:
			w.Status, server = wavedr.WaveFailed, wavedr.ServerFailed
		case status == wavedr.ExecutionCancelled:
			w.Status, server = wavedr.WaveCancelled, wavedr.ServerCancelled
			w.LaunchRequestedAt, w.StartedAt, w.DeadlineAt, w.Jobs = time.Time{}, time.Time{}, time.Time{}, []wavedr.WaveJob{}
		case status == wavedr.ExecutionFailed:
			w.Status, server = wavedr.WaveSkipped, wavedr.ServerCancelled
			w.LaunchRequestedAt, w.StartedAt, w.DeadlineAt, w.Jobs = time.Time{}, time.Time{}, time.Time{}, []wavedr.WaveJob{}
		}
		if w.Status.IsTerminal() {
			w.EndedAt = at.Add(apiBenchWaveLength)
		}
		for k, id := range g.ServerIDs {
			sr := &wavedr.ServerRun{Region: g.Region, Group: g.Name, Status: server,
				ServerDetail: wavedr.ServerDetail{SourceServerID: id, Hostname: fmt.Sprintf("%s-%d", g.Name, k+1),
					SourceIP: fmt.Sprintf("10.0.%d.%d", n, k+10), Tags: map[string]string{"Plan": plan.Name}}}
			if len(w.Jobs) > 0 {
				sr.JobID, sr.IsDrill, sr.LaunchRequestedAt, sr.JobStartedAt = job, mode == wavedr.ModeDrill, at, at.Add(2*time.Second)
			}
			switch server {
			case wavedr.ServerLaunched:
				sr.LaunchStatus = wavedr.LaunchLaunched
				sr.RecoveryInstanceID = fmt.Sprintf("i-%08x%09x", i, 2*n+k)
				sr.EC2InstanceID, sr.EC2InstanceState, sr.InstanceState = sr.RecoveryInstanceID, "running", "running"
				sr.InstanceType, sr.PrivateIP = "m5.large", fmt.Sprintf("10.1.%d.%d", n, k+10)
				sr.SnapshotAt, sr.ConversionAt = at.Add(3*time.Minute), at.Add(7*time.Minute)
				sr.LaunchedAt, sr.LaunchTime = at.Add(10*time.Minute), at.Add(9*time.Minute)
			case wavedr.ServerFailed:
				sr.LaunchStatus, sr.Reason = wavedr.LaunchFailed, "launch failed: the source server's replication is not healthy"
			case wavedr.ServerInProgress:
				sr.LaunchStatus, sr.Phase = wavedr.LaunchInProgress, wavedr.PhaseConversion
			}
			w.Servers = append(w.Servers, sr)
		}
		at = at.Add(apiBenchWaveLength + time.Minute)
	}
	if status.IsTerminal() {
		ex.EndedAt = at
		ex.LastPolledAt = at
		if mode == wavedr.ModeDrill && status != wavedr.ExecutionCancelled && status != wavedr.ExecutionFailed {
			ex.Cleanup = wavedr.Cleanup{Status: wavedr.CleanupCompleted, RequestedBy: who, StartedAt: at.Add(time.Hour), EndedAt: at.Add(time.Hour + 5*time.Minute)}
		}
	} else {
		ex.LastPolledAt = at
	}
	if status == wavedr.ExecutionFailed {
		ex.Reason = "wave w1 failed: no server launched"
	}
	return ex
}

// apiBenchClient pages through GET /v1/executions.
type apiBenchClient struct {
	base, token string
	http        *http.Client
}

// page pages through the list from the first page, limit items a page,
// and checks that it returns exactly the executions of all that keep
// holds, in all's order.
func (c *apiBenchClient) page(ctx context.Context, name string, q url.Values, limit int, all []apiBenchSummary, keep func(apiBenchSummary) bool) apiBenchRun {
	run := apiBenchRun{Name: name, Query: q.Encode(), Via: "http", Limit: limit}
	want := apiBenchWanted(all, keep)
	run.Expected = len(want)
	var lat []time.Duration
	got := make([]string, 0, len(want))
	began := time.Now()
	for cursor := ""; ; {
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/v1/executions?"+q.Encode(), nil)
		if err != nil {
			run.Problem = err.Error()
			break
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		t0 := time.Now()
		resp, err := c.http.Do(req)
		if err != nil {
			run.Problem = err.Error()
			break
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(t0))
		if err != nil || resp.StatusCode != http.StatusOK {
			run.Problem = fmt.Sprintf("page %d: %d %v %.200s", len(lat), resp.StatusCode, err, body)
			break
		}
		run.Bytes += int64(len(body))
		var page wavedr.Page[wavedr.ExecutionSummary]
		if err := json.Unmarshal(body, &page); err != nil {
			run.Problem = fmt.Sprintf("page %d: %v", len(lat), err)
			break
		}
		if len(page.Items) > limit || (len(page.Items) < limit && page.Next != "") {
			run.Problem = fmt.Sprintf("page %d holds %d items with limit %d (next %q)", len(lat), len(page.Items), limit, page.Next)
			break
		}
		for _, s := range page.Items {
			got = append(got, s.ID)
		}
		if page.Next == "" || len(got) > len(want) {
			break
		}
		cursor = page.Next
	}
	run.finish(time.Since(began), lat, got, want)
	return run
}

// pageStore pages through every execution with db.ListExecutions: the
// store's share of a page, without HTTP, authentication or JSON.
func pageStore(ctx context.Context, db *store.DB, limit int, all []apiBenchSummary) apiBenchRun {
	run := apiBenchRun{Name: "all, store only", Query: "limit=" + strconv.Itoa(limit), Via: "store", Limit: limit}
	want := apiBenchWanted(all, func(apiBenchSummary) bool { return true })
	run.Expected = len(want)
	var lat []time.Duration
	got := make([]string, 0, len(want))
	began := time.Now()
	for f := (wavedr.ExecutionFilter{Limit: limit}); ; {
		t0 := time.Now()
		page, err := db.ListExecutions(ctx, f)
		lat = append(lat, time.Since(t0))
		if err != nil {
			run.Problem = fmt.Sprintf("page %d: %v", len(lat), err)
			break
		}
		for _, s := range page.Items {
			got = append(got, s.ID)
		}
		if page.Next == "" || len(got) > len(want) {
			break
		}
		f.Cursor = page.Next
	}
	run.finish(time.Since(began), lat, got, want)
	return run
}

func apiBenchWanted(all []apiBenchSummary, keep func(apiBenchSummary) bool) []string {
	var want []string
	for _, s := range all {
		if keep(s) {
			want = append(want, s.id)
		}
	}
	return want
}

// finish computes the figures of a run and checks what it saw.
func (r *apiBenchRun) finish(total time.Duration, lat []time.Duration, got, want []string) {
	r.Pages, r.Items, r.TotalMs = len(lat), len(got), toMillis(total)
	if total > 0 {
		r.PerSec = float64(len(got)) / total.Seconds()
	}
	if len(lat) > 0 {
		tenth := max(1, len(lat)/10)
		r.FirstMs, r.LastMs = toMillis(apiPercentile(lat[:tenth], 0.5)), toMillis(apiPercentile(lat[len(lat)-tenth:], 0.5))
		sorted := slices.Clone(lat)
		slices.Sort(sorted)
		r.P50Ms, r.P90Ms, r.P99Ms = toMillis(apiPercentile(sorted, 0.5)), toMillis(apiPercentile(sorted, 0.9)), toMillis(apiPercentile(sorted, 0.99))
		r.MaxMs = toMillis(sorted[len(sorted)-1])
	}
	if r.Problem != "" {
		return
	}
	seen := make(map[string]bool, len(got))
	for i, id := range got {
		switch {
		case seen[id]:
			r.Problem = fmt.Sprintf("%s listed twice (item %d)", id, i+1)
		case i >= len(want):
			r.Problem = fmt.Sprintf("%d items, %d executions match", len(got), len(want))
		case id != want[i]:
			r.Problem = fmt.Sprintf("item %d is %s, want %s (newest first, by creation time then ID)", i+1, id, want[i])
		}
		if r.Problem != "" {
			return
		}
		seen[id] = true
	}
	if len(got) != len(want) {
		r.Problem = fmt.Sprintf("%d items, %d executions match", len(got), len(want))
		return
	}
	r.Seen = true
}

// apiPercentile returns the nearest-rank percentile p of ds (sorted for
// anything but the median of a slice).
func apiPercentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := ds
	if !slices.IsSorted(s) {
		s = slices.Clone(ds)
		slices.Sort(s)
	}
	k := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(k, len(s)-1))]
}

func toMillis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// benchLoadAverage is the 1-minute load average of the machine, where the
// system tells it (/proc/loadavg), else "".
func benchLoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return ""
}

// apiCountList prints counts by name: "3 COMPLETED, 1 FAILED", largest first.
func apiCountList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

// verdict fails the run unless every run saw each execution exactly once,
// in order.
func (r *apiBenchResult) verdict() error {
	if len(r.Problems) > 0 {
		return errors.New(strings.Join(r.Problems, "; "))
	}
	return nil
}

func (r *apiBenchResult) print(w io.Writer) {
	fmt.Fprintf(w, "api: GET /v1/executions paging over %d stored executions (%d plans of %d waves × %d servers); store %s\n",
		r.Executions, r.Plans, r.Waves, r.Servers, r.Store)
	txs := fmt.Sprintf("%d transactions", r.SeedTransactions)
	if r.SeedTransactions == 1 {
		txs = "one transaction"
	}
	fmt.Fprintf(w, "seed: %d executions in %s in %s (%.0f/s): %s\n",
		r.Executions, txs, apiMs(r.SeedMs), float64(r.Executions)/(r.SeedMs/1000), apiCountList(r.Statuses))
	if r.Analyzed {
		fmt.Fprintln(w, "  (then ANALYZE executions, as autovacuum would after such a load)")
	}
	if r.Load != "" {
		fmt.Fprintf(w, "machine: %d CPUs; 1-minute load average %s before the paging\n", r.CPUs, r.Load)
	} else {
		fmt.Fprintf(w, "machine: %d CPUs\n", r.CPUs)
	}
	fmt.Fprintln(w, "server: the API handler on a loopback listener, an Admin API token; one client, one request at a time")
	if r.CPUProfile != "" {
		fmt.Fprintf(w, "CPU profile of the paging: %s (go tool pprof -top %s)\n", r.CPUProfile, r.CPUProfile)
	}
	fmt.Fprintln(w)
	// Numbers align right; the run names are padded to align left.
	width := len("run")
	for _, run := range r.Runs {
		width = max(width, len(run.Name))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tvia\tlimit\tpages\titems\tp50\tp90\tp99\tmax\tfirst tenth p50\tlast tenth p50\titems/s\ttotal\tonce, in order\t\n", width, "run")
	for _, run := range r.Runs {
		ok := "yes"
		if !run.Seen {
			ok = "NO"
		}
		fmt.Fprintf(tw, "%-*s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%.0f\t%s\t%s\t\n", width, run.Name, run.Via, run.Limit, run.Pages, run.Items,
			apiMs(run.P50Ms), apiMs(run.P90Ms), apiMs(run.P99Ms), apiMs(run.MaxMs), apiMs(run.FirstMs), apiMs(run.LastMs),
			run.PerSec, apiMs(run.TotalMs), ok)
	}
	tw.Flush()
	fmt.Fprintln(w, "(latency per page: request sent → response body read, by the client; items/s over the whole run, client JSON decoding included)")
	for _, run := range r.Runs {
		if run.Via == "http" && run.Query != "limit="+strconv.Itoa(run.Limit) {
			q, err := url.QueryUnescape(run.Query)
			if err != nil {
				q = run.Query
			}
			fmt.Fprintf(w, "%s: ?%s, %d of %d executions\n", run.Name, q, run.Expected, r.Executions)
		}
	}
	fmt.Fprintln(w)
	if len(r.Problems) == 0 {
		fmt.Fprintln(w, "every run saw each execution it should exactly once, newest first")
		return
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "PROBLEM: %s\n", p)
	}
}

// apiMs prints milliseconds as a rounded duration.
func apiMs(v float64) string {
	d := time.Duration(v * float64(time.Millisecond))
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}
