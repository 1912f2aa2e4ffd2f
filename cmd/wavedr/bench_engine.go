//go:build unix

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"wavedr"
	"wavedr/aws"
	"wavedr/engine"
	"wavedr/sim"
	"wavedr/store"
)

func init() {
	registerBench(benchmark{name: "engine", summary: "concurrent drills on the engine: AWS calls and CPU per poll cycle, wave-transition latency", run: benchEngine})
}

// engineBench configures one run of the engine benchmark.
type engineBench struct {
	executions int           // drills started at once
	servers    int           // source servers per execution
	waves      int           // waves per plan, splitting the execution's servers
	db         string        // store URL; empty: SQLite in a temporary directory
	poll       time.Duration // engine.Config.PollInterval
	speed      float64       // simulated time runs this many times faster than the wall clock
	seed       int64         // simulator seed
	perAccount int           // executions per simulated account; 0: as many as the DRS quotas allow without a wait
	workers    int           // engine.Config.Workers
	timeout    time.Duration // the run fails when executions are still active after it
	cpuProfile string        // file for a CPU profile of the run; empty: none
	log        io.Writer     // engine and River logs; nil discards them
	stderr     io.Writer     // problems met while cleaning up
}

// benchEngine runs concurrent drills on the real engine (River on the
// store, the AWS adapter, the in-process simulator) and reports the AWS
// calls per poll cycle, the wave-transition latency and the CPU time per
// poll cycle. It fails when an execution does not end COMPLETED or a DRS
// job was started other than exactly once.
func benchEngine(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "bench engine", "[--executions N] [--servers N] [--waves N] [--db URL] [--poll D] [--speed N] [--seed N] [flags]")
	b := engineBench{stderr: e.stderr}
	fs.IntVar(&b.executions, "executions", 20, "drills started at once (1..200)")
	fs.IntVar(&b.servers, "servers", 100, "source servers per execution (1..1000)")
	fs.IntVar(&b.waves, "waves", 3, "waves per plan, splitting each execution's servers")
	fs.StringVar(&b.db, "db", "", "store: postgres://... (the run uses a schema of its own, dropped afterwards) or sqlite:///new-file.db (default: SQLite in a temporary directory)")
	fs.DurationVar(&b.poll, "poll", 500*time.Millisecond, "engine poll interval (at least 100ms)")
	fs.Float64Var(&b.speed, "speed", 60, "simulated DRS time runs this many times faster than the wall clock (a launch of 5-11 minutes takes 5-11 s at 60)")
	fs.Int64Var(&b.seed, "seed", 1, "simulator seed")
	fs.IntVar(&b.perAccount, "per-account", 0, "executions per simulated account (default: as many as fit the DRS quotas of 500 servers in active jobs and 20 concurrent jobs per account and region)")
	fs.IntVar(&b.workers, "workers", engine.WorkersDefault, "engine workers (River jobs run at once)")
	fs.DurationVar(&b.timeout, "timeout", 15*time.Minute, "give up when executions are still active after this long")
	fs.StringVar(&b.cpuProfile, "cpuprofile", "", "write a CPU profile of the run (workers started to every execution over) to this file")
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	verbose := fs.Bool("v", false, "log the engine's events to stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	switch {
	case b.executions < 1 || b.executions > 200:
		return usagef("--executions must be between 1 and 200")
	case b.servers < 1 || b.servers > 1000:
		return usagef("--servers must be between 1 and 1000")
	case b.waves < 1 || b.waves > min(b.servers, wavedr.MaxWaves):
		return usagef("--waves must be between 1 and %d (and at most --servers)", wavedr.MaxWaves)
	case b.poll < engine.PollIntervalMin:
		return usagef("--poll must be at least %s", engine.PollIntervalMin)
	case b.speed <= 0 || b.speed > 10000:
		return usagef("--speed must be above 0 and at most 10000")
	case b.perAccount < 0:
		return usagef("--per-account must not be negative")
	case b.workers < 1:
		return usagef("--workers must be at least 1")
	case b.timeout <= 0:
		return usagef("--timeout must be positive")
	}
	if b.db != "" && !strings.HasPrefix(b.db, "sqlite://") && !isPostgresURL(b.db) {
		return usagef("--db must be a sqlite:// or postgres:// URL")
	}
	if *verbose {
		b.log = e.stderr
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

func isPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// engineLayout places the executions in simulated accounts, all in one region,
// so that the DRS quotas (per account and region) hold every execution's
// in-flight wave at once, unless --per-account says otherwise.
type engineLayout struct {
	accounts   []string // account IDs; the first is the local account, the others are reached by AssumeRole
	perAccount []int    // executions in each account
	maxWave    int      // servers of the largest wave: the most one execution has in active jobs
	jobsOfWave int      // DRS jobs of the largest wave
	fits       bool     // the largest account's in-flight waves fit both quotas
}

func (b *engineBench) layout() engineLayout {
	l := engineLayout{maxWave: (b.servers + b.waves - 1) / b.waves}
	l.jobsOfWave = (l.maxWave + wavedr.MaxServersPerJob - 1) / wavedr.MaxServersPerJob
	per := b.perAccount
	if per == 0 {
		// The waves of a plan run one after the other, so an execution
		// has at most its largest wave in active DRS jobs.
		per = max(1, min(wavedr.MaxServersInActiveJobs/l.maxWave, wavedr.MaxConcurrentJobs/l.jobsOfWave))
	}
	per = min(per, b.executions)
	n := (b.executions + per - 1) / per
	l.perAccount = make([]int, n)
	for i := range b.executions {
		l.perAccount[i%n]++ // round-robin: the counts differ by at most one
	}
	for a := range n {
		l.accounts = append(l.accounts, benchAccountID(a))
	}
	busiest := l.perAccount[0]
	l.fits = busiest*l.maxWave <= wavedr.MaxServersInActiveJobs && busiest*l.jobsOfWave <= wavedr.MaxConcurrentJobs
	return l
}

// benchAccountID is the simulated account a: the local account first, then
// target accounts 200000000001, 200000000002, ...
func benchAccountID(a int) string {
	if a == 0 {
		return sim.LocalAccountID
	}
	return fmt.Sprintf("%012d", 200000000000+a)
}

func benchRoleARN(id string) string    { return "arn:aws:iam::" + id + ":role/wavedr-bench" }
func benchExternalID(id string) string { return "wavedr-bench-external-id-" + id }

// run sets everything up, runs the drills and measures them. It returns a
// result whenever the drills ran, with an error when the run was cut short.
func (b *engineBench) run(ctx context.Context) (*engineBenchResult, error) {
	l := b.layout()
	region := sim.LocalRegion

	// The simulator: one account per group of executions, each with a
	// fleet of db, app and web servers (legacy servers are left out: half
	// of them never finish their initial sync and fail to launch).
	var simAccounts []sim.AccountConfig
	for a, id := range l.accounts {
		ac := sim.AccountConfig{ID: id, Fleets: []sim.FleetConfig{{
			Region: region, Servers: l.perAccount[a] * b.servers,
			Tiers: []string{sim.TierDB, sim.TierApp, sim.TierWeb}, Application: "bench",
		}}}
		if a > 0 {
			ac.RoleARN, ac.ExternalID = benchRoleARN(id), benchExternalID(id)
		}
		simAccounts = append(simAccounts, ac)
	}
	s, err := sim.New(sim.Config{Seed: b.seed, Accounts: simAccounts, Speed: b.speed})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	// The engine runs on the wall clock and the simulator Speed times
	// faster: this maps a DRS time to the wall clock.
	wallOrigin, simOrigin := time.Now(), s.Now()
	simToWall := func(t time.Time) time.Time {
		return wallOrigin.Add(time.Duration(float64(t.Sub(simOrigin)) / b.speed))
	}

	dbURL, storeName, cleanup, err := benchDatabase(ctx, b.db, "engine", b.stderr)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()

	// Calls are counted per client: one serves the observation step of
	// the poll cycles (Enrich and DescribeJobLog, the only port methods it
	// uses), the other everything else (starts, wave launches).
	pollCalls, otherCalls := newCallTally(), newCallTally()
	newClient := func(onCall func(aws.Call)) (*aws.Client, error) {
		return aws.New(ctx, aws.Config{
			HTTPClient:  s.HTTPClient(),
			Endpoint:    s.Endpoint(),
			Credentials: &aws.Credentials{AccessKeyID: "AKIDWAVEDRBENCH", SecretAccessKey: "bench"},
			Region:      region,
			RateLimit:   -1, // the engine is measured, not the client-side limit
			OnCall:      onCall,
		})
	}
	setup, err := newClient(nil)
	if err != nil {
		return nil, err
	}
	pollClient, err := newClient(pollCalls.onCall)
	if err != nil {
		return nil, err
	}
	otherClient, err := newClient(otherCalls.onCall)
	if err != nil {
		return nil, err
	}
	plans, err := b.define(ctx, db, setup, l, region)
	if err != nil {
		return nil, err
	}

	logs := &logTally{counts: map[string]int{}}
	var next slog.Handler
	if b.log != nil {
		next = slog.NewTextHandler(b.log, nil)
	}
	cycles := &cycleLog{at: map[string][]time.Time{}}
	eng, err := engine.Open(ctx, engine.Config{
		DB:           db,
		Recovery:     routedRecovery{poll: pollClient, launch: otherClient},
		PollInterval: b.poll,
		Workers:      b.workers,
		Logger:       slog.New(tallyHandler{t: logs, next: next}),
		Hooks:        engine.Hooks{AfterObserve: cycles.observed},
	})
	if err != nil {
		return nil, err
	}

	// Every execution is created before the workers run, so that the
	// start's calls and CPU are counted apart from the run's.
	cpu0, start0 := cpuTime(), time.Now()
	ids, err := b.startAll(ctx, eng, plans)
	if err != nil {
		return nil, err
	}
	startWall, startCPU := time.Since(start0), cpuTime()-cpu0
	startCalls := otherCalls.snapshot()

	var profile *os.File
	if b.cpuProfile != "" {
		if profile, err = os.Create(b.cpuProfile); err != nil {
			return nil, err
		}
		defer profile.Close()
	}
	load0 := loadAverage()
	cpu1, run0 := cpuTime(), time.Now()
	if profile != nil {
		if err := pprof.StartCPUProfile(profile); err != nil {
			return nil, err
		}
	}
	if err := eng.StartWorkers(ctx); err != nil {
		if profile != nil {
			pprof.StopCPUProfile()
		}
		return nil, err
	}
	waitErr := b.waitAll(ctx, db)
	runCPU, seen := cpuTime()-cpu1, time.Since(run0)
	if profile != nil {
		pprof.StopCPUProfile()
	}
	load1 := loadAverage()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := eng.StopWorkers(stopCtx); err != nil && waitErr == nil {
		waitErr = fmt.Errorf("stop the workers: %w", err)
	}

	readCtx := context.WithoutCancel(ctx)
	var exs []*wavedr.Execution
	for _, id := range ids {
		ex, err := db.FindExecution(readCtx, id)
		if err != nil {
			return nil, err
		}
		exs = append(exs, ex)
	}
	res := &engineBenchResult{
		Executions: b.executions, ServersPerExecution: b.servers, WavesPerPlan: b.waves,
		Store: storeName, PollIntervalMs: toMs(b.poll), Speed: b.speed, Workers: b.workers,
		Region: region, Accounts: l.accounts, ExecutionsPerAccount: l.perAccount,
		MaxWaveServers: l.maxWave, QuotasFit: l.fits,
		StartMs: toMs(startWall), StartCPUMs: toMs(startCPU),
		CPUMs: toMs(runCPU), CPUProfile: b.cpuProfile,
		Statuses: map[string]int{}, Logs: logs.snapshot(),
		StartRecoveryOK: s.Stats()["drs:StartRecovery"].OK,
		CPUs:            runtime.NumCPU(), LoadBefore: load0, LoadAfter: load1,
	}
	res.measure(exs, run0, seen, simToWall, b.poll)
	res.PollCycles = cycles.total()
	if res.PollCycles > 0 {
		res.CPUPerCycleMs = res.CPUMs / float64(res.PollCycles)
	}
	res.PollPeriod = summarize(cycles.gaps(), b.poll)
	res.calls(pollCalls.snapshot(), subtractCalls(otherCalls.snapshot(), startCalls), startCalls)
	res.QuotaWaits = res.Logs["INFO wave.waiting"]
	return res, waitErr
}

// define stores the accounts, and per execution one protection group per
// wave (by server IDs) and one plan whose waves run one after the other
// with no gate. It returns the plan names, one per execution.
func (b *engineBench) define(ctx context.Context, db *store.DB, c *aws.Client, l engineLayout, region string) ([]string, error) {
	fleets := make([][]string, len(l.accounts)) // server IDs per account, sorted
	for a, id := range l.accounts {
		acc := &wavedr.Account{ID: id, Name: fmt.Sprintf("bench-account-%d", a), Regions: []string{region}}
		if a > 0 {
			acc.RoleARN, acc.ExternalID = benchRoleARN(id), benchExternalID(id)
		}
		if err := db.CreateAccount(ctx, acc); err != nil {
			return nil, err
		}
		servers, err := c.DescribeSourceServers(ctx, acc.Target(region), nil)
		if err != nil {
			return nil, err
		}
		for _, s := range servers {
			fleets[a] = append(fleets[a], s.ID)
		}
		sort.Strings(fleets[a])
		if len(fleets[a]) != l.perAccount[a]*b.servers {
			return nil, fmt.Errorf("account %s has %d source servers, want %d", id, len(fleets[a]), l.perAccount[a]*b.servers)
		}
	}
	used := make([]int, len(l.accounts)) // executions placed per account
	plans := make([]string, b.executions)
	for i := range b.executions {
		a := i % len(l.accounts)
		ids := fleets[a][used[a]*b.servers : (used[a]+1)*b.servers]
		used[a]++
		name := fmt.Sprintf("bench-%03d", i+1)
		plan := &wavedr.RecoveryPlan{Name: name, Description: "wavedr bench engine"}
		for w, part := range spread(ids, b.waves) {
			g := &wavedr.ProtectionGroup{
				Name: fmt.Sprintf("%s-w%d", name, w+1), AccountID: l.accounts[a], Region: region,
				ServerIDs: append([]string(nil), part...),
			}
			if err := db.CreateProtectionGroup(ctx, g); err != nil {
				return nil, err
			}
			plan.Waves = append(plan.Waves, wavedr.Wave{Name: fmt.Sprintf("w%d", w+1), Groups: []string{g.Name}})
		}
		if err := db.CreateRecoveryPlan(ctx, plan); err != nil {
			return nil, err
		}
		plans[i] = name
	}
	return plans, nil
}

// startAll starts a drill of every plan at once and returns the execution IDs.
func (b *engineBench) startAll(ctx context.Context, eng *engine.Engine, plans []string) ([]string, error) {
	ids := make([]string, len(plans))
	errs := make([]error, len(plans))
	var wg sync.WaitGroup
	for i, p := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ex, err := eng.Start(ctx, engine.StartInput{Plan: p, Mode: wavedr.ModeDrill, InitiatedBy: "wavedr-bench"})
			if err != nil {
				errs[i] = fmt.Errorf("start %s: %w", p, err)
				return
			}
			ids[i] = ex.ID
		}()
	}
	wg.Wait()
	return ids, errors.Join(errs...)
}

// waitAll returns when no execution is active, or fails at the timeout.
func (b *engineBench) waitAll(ctx context.Context, db *store.DB) error {
	deadline := time.Now().Add(b.timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		active, err := db.ActiveExecutionIDs(ctx)
		if err != nil {
			return err
		}
		if len(active) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d executions still active after %s", len(active), b.executions, b.timeout)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d executions still active: %w", len(active), b.executions, ctx.Err())
		case <-tick.C:
		}
	}
}

// routedRecovery sends the observation of the poll cycles (Enrich and
// DescribeJobLog, the port methods of engine/poll.go gather) to one client
// and every other call (starts, wave launches) to another, so that each
// client's OnCall counts one kind of work. It also labels the CPU profile
// samples of each call with the work ("poll" or "launch") and the method,
// for `go tool pprof -tags`.
type routedRecovery struct {
	poll, launch wavedr.Recovery
}

var _ wavedr.Recovery = routedRecovery{}

func labelled[T any](ctx context.Context, work, method string, call func(context.Context) (T, error)) (out T, err error) {
	pprof.Do(ctx, pprof.Labels("work", work, "method", method), func(ctx context.Context) { out, err = call(ctx) })
	return out, err
}

func (r routedRecovery) Enrich(ctx context.Context, t wavedr.Target, jobIDs []string, opts wavedr.EnrichOptions) (*wavedr.Enrichment, error) {
	return labelled(ctx, "poll", "Enrich", func(ctx context.Context) (*wavedr.Enrichment, error) { return r.poll.Enrich(ctx, t, jobIDs, opts) })
}

func (r routedRecovery) DescribeJobLog(ctx context.Context, t wavedr.Target, jobID string) ([]wavedr.JobLogItem, error) {
	return labelled(ctx, "poll", "DescribeJobLog", func(ctx context.Context) ([]wavedr.JobLogItem, error) { return r.poll.DescribeJobLog(ctx, t, jobID) })
}

func (r routedRecovery) StartRecovery(ctx context.Context, t wavedr.Target, in wavedr.StartRecoveryInput) (*wavedr.Job, error) {
	return labelled(ctx, "launch", "StartRecovery", func(ctx context.Context) (*wavedr.Job, error) { return r.launch.StartRecovery(ctx, t, in) })
}

func (r routedRecovery) DescribeJobs(ctx context.Context, t wavedr.Target, f wavedr.JobFilter) ([]*wavedr.Job, error) {
	return labelled(ctx, "launch", "DescribeJobs", func(ctx context.Context) ([]*wavedr.Job, error) { return r.launch.DescribeJobs(ctx, t, f) })
}

func (r routedRecovery) DescribeRecoveryInstances(ctx context.Context, t wavedr.Target, f wavedr.RecoveryInstanceFilter) ([]*wavedr.RecoveryInstance, error) {
	return labelled(ctx, "launch", "DescribeRecoveryInstances", func(ctx context.Context) ([]*wavedr.RecoveryInstance, error) {
		return r.launch.DescribeRecoveryInstances(ctx, t, f)
	})
}

func (r routedRecovery) DescribeSourceServers(ctx context.Context, t wavedr.Target, ids []string) ([]*wavedr.SourceServer, error) {
	return labelled(ctx, "launch", "DescribeSourceServers", func(ctx context.Context) ([]*wavedr.SourceServer, error) {
		return r.launch.DescribeSourceServers(ctx, t, ids)
	})
}

func (r routedRecovery) DescribeInstances(ctx context.Context, t wavedr.Target, ids []string) ([]*wavedr.Instance, error) {
	return labelled(ctx, "launch", "DescribeInstances", func(ctx context.Context) ([]*wavedr.Instance, error) { return r.launch.DescribeInstances(ctx, t, ids) })
}

func (r routedRecovery) TerminateRecoveryInstances(ctx context.Context, t wavedr.Target, ids []string) ([]*wavedr.Job, error) {
	return labelled(ctx, "launch", "TerminateRecoveryInstances", func(ctx context.Context) ([]*wavedr.Job, error) {
		return r.launch.TerminateRecoveryInstances(ctx, t, ids)
	})
}

func (r routedRecovery) GetLaunchConfiguration(ctx context.Context, t wavedr.Target, id string) (*wavedr.LaunchConfiguration, error) {
	return labelled(ctx, "launch", "GetLaunchConfiguration", func(ctx context.Context) (*wavedr.LaunchConfiguration, error) {
		return r.launch.GetLaunchConfiguration(ctx, t, id)
	})
}

func (r routedRecovery) UpdateLaunchConfiguration(ctx context.Context, t wavedr.Target, c *wavedr.LaunchConfiguration) (*wavedr.LaunchConfiguration, error) {
	return labelled(ctx, "launch", "UpdateLaunchConfiguration", func(ctx context.Context) (*wavedr.LaunchConfiguration, error) {
		return r.launch.UpdateLaunchConfiguration(ctx, t, c)
	})
}

func (r routedRecovery) AccountID(ctx context.Context, t wavedr.Target) (string, error) {
	return labelled(ctx, "launch", "AccountID", func(ctx context.Context) (string, error) { return r.launch.AccountID(ctx, t) })
}

// callTally counts HTTP requests to AWS by "service:Operation", from
// aws.Config.OnCall.
type callTally struct {
	mu  sync.Mutex
	ops map[string]opTally
}

// opTally is the requests of one operation: all of them (every page and
// attempt), and those that failed, by outcome.
type opTally struct {
	Calls  int64            `json:"calls"`
	Failed map[string]int64 `json:"failed,omitempty"`
}

func newCallTally() *callTally { return &callTally{ops: map[string]opTally{}} }

func (c *callTally) onCall(call aws.Call) {
	op := call.Service + ":" + call.Operation
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.ops[op]
	t.Calls++
	if call.Outcome != aws.OutcomeOK {
		if t.Failed == nil {
			t.Failed = map[string]int64{}
		}
		t.Failed[call.Outcome]++
	}
	c.ops[op] = t
}

func (c *callTally) snapshot() map[string]opTally {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]opTally, len(c.ops))
	for op, t := range c.ops {
		f := make(map[string]int64, len(t.Failed))
		for k, v := range t.Failed {
			f[k] = v
		}
		out[op] = opTally{Calls: t.Calls, Failed: f}
	}
	return out
}

// subtractCalls returns a − b per operation.
func subtractCalls(a, b map[string]opTally) map[string]opTally {
	out := map[string]opTally{}
	for op, t := range a {
		d := opTally{Calls: t.Calls - b[op].Calls, Failed: map[string]int64{}}
		for k, v := range t.Failed {
			if n := v - b[op].Failed[k]; n > 0 {
				d.Failed[k] = n
			}
		}
		if d.Calls > 0 {
			out[op] = d
		}
	}
	return out
}

// cycleLog records when each execution's poll cycles observed, from
// engine.Hooks.AfterObserve (once per cycle, after the AWS calls).
type cycleLog struct {
	mu sync.Mutex
	at map[string][]time.Time
}

func (c *cycleLog) observed(executionID string) error {
	now := time.Now()
	c.mu.Lock()
	c.at[executionID] = append(c.at[executionID], now)
	c.mu.Unlock()
	return nil
}

func (c *cycleLog) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, ts := range c.at {
		n += len(ts)
	}
	return n
}

// gaps returns the times between two successive cycles of one execution.
func (c *cycleLog) gaps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, ts := range c.at {
		for i := 1; i < len(ts); i++ {
			out = append(out, ts[i].Sub(ts[i-1]))
		}
	}
	return out
}

// logTally counts the engine's warnings and errors, and its quota waits,
// by level and message; it passes every record on to next when set.
type logTally struct {
	mu     sync.Mutex
	counts map[string]int
}

func (t *logTally) snapshot() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]int, len(t.counts))
	for k, v := range t.counts {
		out[k] = v
	}
	return out
}

type tallyHandler struct {
	t    *logTally
	next slog.Handler
}

func (h tallyHandler) Enabled(ctx context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h tallyHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn || r.Message == "wave.waiting" {
		h.t.mu.Lock()
		h.t.counts[r.Level.String()+" "+r.Message]++
		h.t.mu.Unlock()
	}
	if h.next != nil {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h tallyHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if h.next != nil {
		h.next = h.next.WithAttrs(attrs)
	}
	return h
}

func (h tallyHandler) WithGroup(name string) slog.Handler {
	if h.next != nil {
		h.next = h.next.WithGroup(name)
	}
	return h
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage is the 1-minute load average of the machine, where the
// system tells it (/proc/loadavg), else "".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return ""
}

func toMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// engineBenchResult is what `wavedr bench engine` reports; durations are
// in milliseconds of the wall clock, which is also the engine's clock.
type engineBenchResult struct {
	Executions           int      `json:"executions"`
	ServersPerExecution  int      `json:"serversPerExecution"`
	WavesPerPlan         int      `json:"wavesPerPlan"`
	Store                string   `json:"store"`
	PollIntervalMs       float64  `json:"pollIntervalMs"`
	Speed                float64  `json:"simulatorSpeed"`
	Workers              int      `json:"workers"`
	Region               string   `json:"region"`
	Accounts             []string `json:"accounts"`
	ExecutionsPerAccount []int    `json:"executionsPerAccount"`
	MaxWaveServers       int      `json:"maxWaveServers"`
	QuotasFit            bool     `json:"quotasFit"`

	CPUs       int    `json:"cpus"`
	LoadBefore string `json:"loadAverageBefore,omitempty"` // 1-minute load average of the machine
	LoadAfter  string `json:"loadAverageAfter,omitempty"`

	StartMs    float64 `json:"startMs"`    // creating every execution, before the workers ran
	StartCPUMs float64 `json:"startCpuMs"` // CPU time of the process meanwhile

	WallMs          float64          `json:"wallMs"` // workers started → last execution ended
	CPUMs           float64          `json:"cpuMs"`  // CPU time of the process (user+system) over the run
	CPUPerCycleMs   float64          `json:"cpuPerPollCycleMs"`
	CPUProfile      string           `json:"cpuProfile,omitempty"`
	Statuses        map[string]int   `json:"statuses"` // executions by final status
	Completed       int              `json:"completed"`
	Waves           int              `json:"waves"`
	WavesCompleted  int              `json:"wavesCompleted"`
	WavesLaunched   int              `json:"wavesLaunched"`
	Jobs            int              `json:"drsJobs"`
	StartRecovery   int64            `json:"startRecoveryCalls"`            // HTTP requests, every attempt
	StartRecoveryOK int64            `json:"startRecoveryOk"`               // those that started a job, as the simulator counted them
	StartRefused    map[string]int64 `json:"startRecoveryFailed,omitempty"` // the others, by outcome (a quota refusal starts no job)
	QuotaWaits      int              `json:"quotaWaits"`                    // launch steps that waited for a DRS quota
	PollCycles      int              `json:"pollCycles"`

	Calls []callRow `json:"calls"`

	Transition latencySummary `json:"waveTransition"` // wave COMPLETED seen → next wave's StartRecovery requested
	Detection  latencySummary `json:"completionSeen"` // the wave's last DRS job ended → the poll that recorded the wave over
	PollPeriod latencySummary `json:"pollPeriod"`     // one poll cycle of an execution → its next
	Logs       map[string]int `json:"engineLogs"`     // warnings, errors and quota waits by level and message
}

// callRow is one operation: requests in poll cycles, in wave launches,
// and in starts, and each per unit of that work.
type callRow struct {
	Op           string           `json:"operation"`
	Poll         int64            `json:"pollCycles"`
	PerCycle     float64          `json:"perPollCycle"`
	Launch       int64            `json:"waveLaunches"`
	PerWave      float64          `json:"perWaveLaunch"`
	Start        int64            `json:"starts"`
	PerExecution float64          `json:"perStart"`
	Failed       map[string]int64 `json:"failed,omitempty"`
}

// latencySummary summarises durations, also as multiples of the poll interval.
type latencySummary struct {
	N     int     `json:"n"`
	MinMs float64 `json:"minMs"`
	P50Ms float64 `json:"p50Ms"`
	P95Ms float64 `json:"p95Ms"`
	MaxMs float64 `json:"maxMs"`
	MinX  float64 `json:"minPolls"`
	P50X  float64 `json:"p50Polls"`
	P95X  float64 `json:"p95Polls"`
	MaxX  float64 `json:"maxPolls"`
}

func summarize(ds []time.Duration, poll time.Duration) latencySummary {
	if len(ds) == 0 {
		return latencySummary{}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	at := func(p float64) time.Duration { // nearest rank
		k := int(math.Ceil(p*float64(len(ds)))) - 1
		return ds[max(0, min(k, len(ds)-1))]
	}
	x := func(d time.Duration) float64 { return float64(d) / float64(poll) }
	mn, p50, p95, mx := ds[0], at(0.50), at(0.95), ds[len(ds)-1]
	return latencySummary{N: len(ds),
		MinMs: toMs(mn), P50Ms: toMs(p50), P95Ms: toMs(p95), MaxMs: toMs(mx),
		MinX: x(mn), P50X: x(p50), P95X: x(p95), MaxX: x(mx)}
}

// measure reads the outcome and the latencies from the stored executions.
// Wave EndedAt and job RequestedAt are stamped with the engine's clock
// (here the wall clock); DRS job end times are on the simulator's clock
// and are mapped to the wall clock with simToWall.
func (r *engineBenchResult) measure(exs []*wavedr.Execution, run0 time.Time, seen time.Duration, simToWall func(time.Time) time.Time, poll time.Duration) {
	var transitions, detections []time.Duration
	var last time.Time
	allOver := true
	jobs := map[string]bool{}
	for _, ex := range exs {
		r.Statuses[string(ex.Status)]++
		allOver = allOver && ex.Status.IsTerminal()
		if ex.Status == wavedr.ExecutionCompleted {
			r.Completed++
		}
		if ex.EndedAt.After(last) {
			last = ex.EndedAt
		}
		waves := append([]*wavedr.WaveRun(nil), ex.Waves...)
		sort.Slice(waves, func(i, j int) bool { return waves[i].Number < waves[j].Number })
		for i, w := range waves {
			r.Waves++
			if !w.LaunchRequestedAt.IsZero() {
				r.WavesLaunched++
			}
			if w.Status == wavedr.WaveCompleted {
				r.WavesCompleted++
			}
			var requested, jobEnd time.Time
			for _, j := range w.Jobs {
				if j.JobID != "" {
					jobs[j.JobID] = true
				}
				if !j.RequestedAt.IsZero() && (requested.IsZero() || j.RequestedAt.Before(requested)) {
					requested = j.RequestedAt
				}
				if j.EndedAt.After(jobEnd) {
					jobEnd = j.EndedAt
				}
			}
			if !jobEnd.IsZero() && !w.EndedAt.IsZero() {
				detections = append(detections, w.EndedAt.Sub(simToWall(jobEnd)))
			}
			if i > 0 && !requested.IsZero() && !waves[i-1].EndedAt.IsZero() {
				transitions = append(transitions, requested.Sub(waves[i-1].EndedAt))
			}
		}
	}
	r.Jobs = len(jobs)
	r.WallMs = toMs(seen)
	if allOver && last.After(run0) && last.Sub(run0) < seen {
		r.WallMs = toMs(last.Sub(run0)) // the end as recorded, not as the waiting loop noticed it
	}
	r.Transition = summarize(transitions, poll)
	r.Detection = summarize(detections, poll)
}

// calls fills the table of calls per operation.
func (r *engineBenchResult) calls(poll, launch, start map[string]opTally) {
	ops := map[string]bool{}
	for _, m := range []map[string]opTally{poll, launch, start} {
		for op := range m {
			ops[op] = true
		}
	}
	per := func(n int64, d int) float64 {
		if d == 0 {
			return 0
		}
		return float64(n) / float64(d)
	}
	for op := range ops {
		row := callRow{Op: op, Poll: poll[op].Calls, Launch: launch[op].Calls, Start: start[op].Calls}
		row.PerCycle = per(row.Poll, r.PollCycles)
		row.PerWave = per(row.Launch, r.WavesLaunched)
		row.PerExecution = per(row.Start, r.Executions)
		for _, m := range []map[string]opTally{poll, launch, start} {
			for k, v := range m[op].Failed {
				if row.Failed == nil {
					row.Failed = map[string]int64{}
				}
				row.Failed[k] += v
			}
		}
		r.Calls = append(r.Calls, row)
		if op == "drs:StartRecovery" {
			r.StartRecovery = row.Poll + row.Launch + row.Start
			r.StartRefused = row.Failed
		}
	}
	sort.Slice(r.Calls, func(i, j int) bool {
		a, b := r.Calls[i], r.Calls[j]
		if a.Poll != b.Poll {
			return a.Poll > b.Poll
		}
		if a.Launch != b.Launch {
			return a.Launch > b.Launch
		}
		return a.Op < b.Op
	})
}

// verdict fails the run unless every execution COMPLETED and every DRS job
// was started by exactly one StartRecovery. Calls DRS refused (a quota
// reached since the engine's own check) started nothing and do not count.
func (r *engineBenchResult) verdict() error {
	var problems []string
	if r.Completed != r.Executions {
		problems = append(problems, fmt.Sprintf("%d of %d executions COMPLETED (%s)", r.Completed, r.Executions, countList(r.Statuses)))
	}
	if r.StartRecoveryOK != int64(r.Jobs) {
		problems = append(problems, fmt.Sprintf("%d StartRecovery calls started a job (of %d calls) for %d DRS jobs", r.StartRecoveryOK, r.StartRecovery, r.Jobs))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func sortedNames[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func countList(m map[string]int) string {
	keys := sortedNames(m)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

func (r *engineBenchResult) print(w io.Writer) {
	poll := time.Duration(r.PollIntervalMs * float64(time.Millisecond))
	fmt.Fprintf(w, "engine: %d drills of %d servers in %d waves at once; poll %s, simulator %g× the wall clock, %d workers, store %s\n",
		r.Executions, r.ServersPerExecution, r.WavesPerPlan, poll, r.Speed, r.Workers, r.Store)
	accounts := []string{r.Accounts[0] + " (local)"}
	switch n := len(r.Accounts); {
	case n == 2:
		accounts = append(accounts, r.Accounts[1]+" (by AssumeRole)")
	case n > 2:
		accounts = append(accounts, fmt.Sprintf("%s..%s (by AssumeRole)", r.Accounts[1], r.Accounts[n-1]))
	}
	busiest := r.ExecutionsPerAccount[0]
	fmt.Fprintf(w, "accounts: %d in %s, %s; up to %d executions each, so up to %d servers in %d active DRS jobs per account and region\n",
		len(r.Accounts), r.Region, strings.Join(accounts, ", "), busiest,
		busiest*r.MaxWaveServers, busiest*((r.MaxWaveServers+wavedr.MaxServersPerJob-1)/wavedr.MaxServersPerJob))
	if r.QuotasFit {
		fmt.Fprintf(w, "  (within the DRS quotas of %d servers and %d jobs: no launch has to wait, so the latency is the engine's)\n",
			wavedr.MaxServersInActiveJobs, wavedr.MaxConcurrentJobs)
	} else {
		fmt.Fprintf(w, "  (beyond the DRS quotas of %d servers and %d jobs: launches wait for quota, and the wave-transition latency includes those waits)\n",
			wavedr.MaxServersInActiveJobs, wavedr.MaxConcurrentJobs)
	}
	if r.LoadBefore != "" {
		fmt.Fprintf(w, "machine: %d CPUs; 1-minute load average %s before the run, %s after (other processes stretch the latencies)\n",
			r.CPUs, r.LoadBefore, r.LoadAfter)
	} else {
		fmt.Fprintf(w, "machine: %d CPUs\n", r.CPUs)
	}
	fmt.Fprintf(w, "start: %d executions created in %s (CPU %s), before the workers ran\n\n",
		r.Executions, msDur(r.StartMs), msDur(r.StartCPUMs))

	fmt.Fprintf(w, "run: %s wall; %d of %d executions COMPLETED", msDur(r.WallMs), r.Completed, r.Executions)
	if r.Completed != r.Executions {
		fmt.Fprintf(w, " (%s)", countList(r.Statuses))
	}
	fmt.Fprintf(w, "; %d waves (%d COMPLETED); %d DRS jobs; %d StartRecovery calls", r.Waves, r.WavesCompleted, r.Jobs, r.StartRecovery)
	switch {
	case r.StartRecoveryOK != int64(r.Jobs):
		fmt.Fprintf(w, " (%d started a job: NOT one per job)", r.StartRecoveryOK)
	case r.StartRecovery == int64(r.Jobs):
		fmt.Fprint(w, " (exactly one per job)")
	default:
		var refused []string
		for _, k := range sortedNames(r.StartRefused) {
			refused = append(refused, fmt.Sprintf("%d %s", r.StartRefused[k], k))
		}
		fmt.Fprintf(w, " (one started each job; the others failed and started none: %s)", strings.Join(refused, ", "))
	}
	fmt.Fprintf(w, "; %d quota waits\n", r.QuotaWaits)
	perEx := 0.0
	if r.Executions > 0 {
		perEx = float64(r.PollCycles) / float64(r.Executions)
	}
	fmt.Fprintf(w, "poll cycles: %d (%.1f per execution)\n", r.PollCycles, perEx)
	fmt.Fprintf(w, "CPU: %s user+system over the run = %s per poll cycle (the whole process: engine, River, store driver and the in-process simulator)\n",
		msDur(r.CPUMs), msDur(r.CPUPerCycleMs))
	if r.CPUProfile != "" {
		fmt.Fprintf(w, "CPU profile of the run: %s (go tool pprof -top %s; -tags splits the AWS calls by work and method)\n", r.CPUProfile, r.CPUProfile)
	}
	fmt.Fprintln(w)

	// Numbers align right; the operation names are padded to align left.
	width := len("total")
	for _, c := range r.Calls {
		width = max(width, len(c.Op))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\tin poll cycles\tper cycle\tlaunching waves\tper wave\tstarting\tper start\t\n", width, "AWS calls")
	var tp, tl, ts int64
	var failed []string
	for _, c := range r.Calls {
		fmt.Fprintf(tw, "%-*s\t%d\t%.2f\t%d\t%.2f\t%d\t%.2f\t\n", width, c.Op, c.Poll, c.PerCycle, c.Launch, c.PerWave, c.Start, c.PerExecution)
		tp, tl, ts = tp+c.Poll, tl+c.Launch, ts+c.Start
		for k, v := range c.Failed {
			failed = append(failed, fmt.Sprintf("%s %d %s", c.Op, v, k))
		}
	}
	div := func(n int64, d int) float64 {
		if d == 0 {
			return 0
		}
		return float64(n) / float64(d)
	}
	fmt.Fprintf(tw, "%-*s\t%d\t%.2f\t%d\t%.2f\t%d\t%.2f\t\n", width, "total", tp, div(tp, r.PollCycles), tl, div(tl, r.WavesLaunched), ts, div(ts, r.Executions))
	tw.Flush()
	sort.Strings(failed)
	if len(failed) > 0 {
		fmt.Fprintf(w, "failed requests: %s\n", strings.Join(failed, ", "))
	}
	fmt.Fprintln(w, "(every HTTP request, pages and retries included; \"in poll cycles\" is the observation step, Enrich and DescribeJobLog)")
	fmt.Fprintln(w)

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "latency (wall clock = engine clock; × the poll interval of %s)\tn\tmin\tp50\tp95\tmax\n", poll)
	row := func(name string, l latencySummary) {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", name, l.N,
			latencyCell(l.MinMs, l.MinX), latencyCell(l.P50Ms, l.P50X), latencyCell(l.P95Ms, l.P95X), latencyCell(l.MaxMs, l.MaxX))
	}
	row("wave transition: COMPLETED seen → next wave's StartRecovery requested", r.Transition)
	row("completion seen: last DRS job ended → poll that saw it", r.Detection)
	row("poll period: a cycle of an execution → its next", r.PollPeriod)
	tw.Flush()

	if keys := sortedNames(r.Logs); len(keys) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "engine logs (warnings, errors, quota waits):")
		for _, k := range keys {
			fmt.Fprintf(w, "  %6d  %s\n", r.Logs[k], k)
		}
	}
}

// msDur prints milliseconds as a rounded duration.
func msDur(v float64) string {
	d := time.Duration(v * float64(time.Millisecond))
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

func latencyCell(v, x float64) string { return fmt.Sprintf("%s (%.2f×)", msDur(v), x) }
