// Package engine runs recovery plans: it is the single writer of execution
// status (the advance step), and its durable work — polling executions,
// launching waves, terminating drill instances, finding executions that lost
// their poll — runs as River jobs in the store's own database, enqueued in
// the same transaction as the state change that needs them.
package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"wavedr"
	"wavedr/store"
)

// Defaults and bounds of Config.
const (
	PollIntervalDefault = 5 * time.Second
	PollIntervalMin     = 100 * time.Millisecond
	FindIntervalDefault = 15 * time.Second
	WorkersDefault      = 10
	RescueAfterDefault  = 2 * time.Minute
)

// Config configures an Engine.
type Config struct {
	// DB is the store; River's tables live in the same database.
	DB *store.DB
	// Recovery is the port to DRS and EC2 (the AWS adapter).
	Recovery wavedr.Recovery
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// PollInterval is the time between two observations of an execution's
	// in-flight waves. Default PollIntervalDefault; at least PollIntervalMin.
	PollInterval time.Duration
	// FindInterval is the period of the find safety net. Default
	// FindIntervalDefault; at least PollInterval.
	FindInterval time.Duration
	// Workers is the number of jobs one process runs at once. Default WorkersDefault.
	Workers int
	// RescueAfter is how long a job may stay running before River takes it
	// for crashed and runs it again (on any replica). Every engine job is
	// one short step, so it can be small. River's rescuer runs on the
	// leader, when it takes leadership and then about every 30s: a step
	// lost with its process resumes within RescueAfter + 30s on a surviving
	// replica, and about 20s after the start of a new engine when the
	// crashed process was the only one (its leadership expires first).
	// Default RescueAfterDefault; at least 1s.
	RescueAfter time.Duration
	// Logger receives the engine's events; nil means slog.Default().
	Logger *slog.Logger
	// Hooks are called at the steps of a launch, for tests that stop the
	// engine there; nil hooks do nothing.
	Hooks Hooks
}

// Hooks are test points at the steps of a launch, and the poll cycle's
// measurement. A hook that returns an error stops the step there.
type Hooks struct {
	BeforeStartRecovery func(executionID, wave string, chunk int) error
	AfterStartRecovery  func(executionID, wave string, chunk int, jobID string) error
	AfterObserve        func(executionID string) error
	// AfterPollCycle is called after each poll cycle that recorded its
	// observation, with the cycle's wall-clock duration (for metrics).
	AfterPollCycle func(executionID string, d time.Duration)
}

func (c *Config) setDefaults() error {
	if c.DB == nil || c.Recovery == nil {
		return errors.New("engine: Config.DB and Config.Recovery are required")
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.PollInterval == 0 {
		c.PollInterval = PollIntervalDefault
	}
	if c.PollInterval < PollIntervalMin {
		return fmt.Errorf("engine: PollInterval %s is below the minimum %s", c.PollInterval, PollIntervalMin)
	}
	if c.FindInterval == 0 {
		c.FindInterval = max(FindIntervalDefault, c.PollInterval)
	}
	if c.FindInterval < c.PollInterval {
		return fmt.Errorf("engine: FindInterval %s is below PollInterval %s", c.FindInterval, c.PollInterval)
	}
	if c.Workers == 0 {
		c.Workers = WorkersDefault
	}
	if c.RescueAfter == 0 {
		c.RescueAfter = RescueAfterDefault
	}
	if c.RescueAfter < time.Second {
		return fmt.Errorf("engine: RescueAfter %s is below 1s", c.RescueAfter)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Engine runs executions. Its verbs (Start, Poll, Pause, ...) may be called
// from any process sharing the database; its workers run only after
// StartWorkers.
type Engine struct {
	cfg   Config
	db    *store.DB
	rec   wavedr.Recovery
	log   *slog.Logger
	river *river.Client[*sql.Tx]
}

// Open migrates River's tables and returns an engine whose verbs can be
// used at once; call StartWorkers to run jobs in this process too.
func Open(ctx context.Context, cfg Config) (*Engine, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, db: cfg.DB, rec: cfg.Recovery, log: cfg.Logger}
	driver := riverDriver(cfg.DB)
	if err := migrateRiver(ctx, cfg.DB, driver); err != nil {
		return nil, err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &pollWorker{e: e})
	river.AddWorker(workers, &launchWorker{e: e})
	river.AddWorker(workers, &terminateWorker{e: e})
	river.AddWorker(workers, &findWorker{e: e})
	rc, err := river.NewClient(driver, &river.Config{
		Logger:               riverLogger(cfg.Logger),
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:              workers,
		FetchPollInterval:    max(cfg.PollInterval/5, PollIntervalMin),
		JobTimeout:           cfg.RescueAfter / 2,
		RescueStuckJobsAfter: cfg.RescueAfter,
		MaxAttempts:          100,
		RetryPolicy:          retryPolicy{max: 30 * time.Second},
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(
			river.PeriodicInterval(cfg.FindInterval),
			func() (river.JobArgs, *river.InsertOpts) { return findArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true},
		)},
	})
	if err != nil {
		return nil, fmt.Errorf("engine: river client: %w", err)
	}
	e.river = rc
	return e, nil
}

// riverDriver picks River's driver for the store's database. Both work on
// database/sql, so the store's transaction is River's transaction.
func riverDriver(db *store.DB) riverdriver.Driver[*sql.Tx] {
	if db.Dialect() == store.Postgres {
		return riverdatabasesql.NewWithPgxListener(db.SQL(), db.ListenerPool())
	}
	return riversqlite.New(db.SQL())
}

// migrateRiver brings River's tables up to date. On SQLite it runs in one
// transaction. On PostgreSQL River needs a transaction per migration (one
// adds an enum value that the next uses), so replicas starting together
// are serialised by a session advisory lock held on a connection of its own.
func migrateRiver(ctx context.Context, db *store.DB, driver riverdriver.Driver[*sql.Tx]) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("engine: river migrator: %w", err)
	}
	if db.Dialect() != store.Postgres {
		return db.InTx(ctx, func(tx *store.Tx) error {
			if _, err := m.MigrateTx(ctx, tx.SQL(), rivermigrate.DirectionUp, nil); err != nil {
				return fmt.Errorf("engine: river migrations: %w", err)
			}
			return nil
		})
	}
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		return fmt.Errorf("engine: river migrations: %w", err)
	}
	defer conn.Close()
	const lockKey = 7262797663 // any constant shared by every wavedr replica
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return fmt.Errorf("engine: river migrations lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockKey) //nolint:errcheck // released with the connection anyway
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("engine: river migrations: %w", err)
	}
	return nil
}

// StartWorkers runs the engine's jobs in this process until StopWorkers.
func (e *Engine) StartWorkers(ctx context.Context) error {
	return e.river.Start(ctx)
}

// StopWorkers lets running jobs finish their step and stops. Work left is
// picked up by another replica, or by this one after a restart.
func (e *Engine) StopWorkers(ctx context.Context) error {
	return e.river.Stop(ctx)
}

// Kill stops the workers without letting running steps finish: their
// contexts are cancelled and River records them for a retry. Unlike a
// crash, it hands River's leadership over and leaves no job running; the
// crash tests kill a real engine process instead.
func (e *Engine) Kill(ctx context.Context) error {
	return e.river.StopAndCancel(ctx)
}

// ClientID names this process among the replicas sharing the job queue
// (River's client ID, as River's own tables record it).
func (e *Engine) ClientID() string { return e.river.ID() }

// now returns the engine's clock reading in UTC.
func (e *Engine) now() time.Time { return e.cfg.Now().UTC() }

// insert enqueues a job in the caller's transaction.
func (e *Engine) insert(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	if _, err := e.river.InsertTx(ctx, tx.SQL(), args, opts); err != nil {
		return fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	return nil
}

// retryPolicy retries a failed step soon: engine steps are idempotent and a
// DR run cannot wait River's default hours-long backoff.
type retryPolicy struct{ max time.Duration }

func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	d := time.Second << min(job.Attempt, 5)
	return time.Now().Add(min(d, p.max))
}

// riverLogger is the engine's logger for River, which reports its routine
// (producer counts, maintenance runs) at INFO every few seconds: those
// lines are kept only when the engine's logger shows debug events.
func riverLogger(l *slog.Logger) *slog.Logger {
	h := l.Handler()
	if !h.Enabled(context.Background(), slog.LevelDebug) {
		h = minLevel{Handler: h, min: slog.LevelWarn}
	}
	return slog.New(h).With("component", "river")
}

// minLevel drops the records of a handler below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(attrs), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}
