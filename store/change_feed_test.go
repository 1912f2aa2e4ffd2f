package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"wavedr"
	"wavedr/store"
	"wavedr/store/storetest"
)

func TestChangeFeed(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			t.Run("WatchedExecutions", func(t *testing.T) { t.Parallel(); testWatchedExecutions(t, d) })
			t.Run("StatusCounts", func(t *testing.T) { t.Parallel(); testStatusCounts(t, d) })
			t.Run("Health", func(t *testing.T) { t.Parallel(); testHealthQueries(t, d) })
			t.Run("FindExecutionSnapshot", func(t *testing.T) { t.Parallel(); testFindExecutionSnapshot(t, d) })
		})
	}
}

func testWatchedExecutions(t *testing.T, d storetest.Dialect) {
	ctx, db, clock := setup(t, d)
	p := createPlan(t, ctx, db, "p", 2)
	create := func(status wavedr.ExecutionStatus) *wavedr.Execution {
		e := newExecution(t, ctx, db, p, clock.Advance(time.Second))
		e.Status = status
		must(t, db.CreateExecution(ctx, e))
		return e
	}
	running := create(wavedr.ExecutionRunning)
	done := create(wavedr.ExecutionCompleted)
	old := create(wavedr.ExecutionFailed)

	watched := func(recent time.Duration, ids ...string) string {
		t.Helper()
		vs, err := db.WatchedExecutions(ctx, recent, ids)
		must(t, err)
		return fmt.Sprint(vs)
	}
	want := func(es ...*wavedr.Execution) string {
		var vs []store.ExecutionVersion
		for _, e := range es {
			vs = append(vs, store.ExecutionVersion{ID: e.ID, Version: e.Version})
		}
		if vs == nil {
			vs = []store.ExecutionVersion{}
		}
		return fmt.Sprint(vs)
	}
	// IDs are ordered by creation time, as the test clock advances.
	if got, w := watched(time.Hour), want(running, done, old); got != w {
		t.Fatalf("watched within an hour = %s, want %s", got, w)
	}
	// The window is measured by the database's clock, not the store's
	// (the test clock stands still).
	time.Sleep(300 * time.Millisecond)
	if got, w := watched(100*time.Millisecond), want(running); got != w {
		t.Fatalf("watched within 100ms = %s, want only the active one %s", got, w)
	}
	// A write to an execution that is over brings it back into view.
	done.Cleanup.Status = wavedr.CleanupTerminating
	must(t, db.UpdateExecution(ctx, done))
	if got, w := watched(200*time.Millisecond), want(running, done); got != w {
		t.Fatalf("watched after a cleanup write = %s, want %s", got, w)
	}
	// Named executions are watched whatever their state; unknown IDs are left out.
	time.Sleep(300 * time.Millisecond)
	if got, w := watched(100*time.Millisecond, old.ID, "ex-unknown", running.ID), want(running, old); got != w {
		t.Fatalf("watched by ID = %s, want %s", got, w)
	}
	// Many named executions take several queries.
	ids := make([]string, 1200)
	for i := range ids {
		ids[i] = fmt.Sprintf("ex-%d", i)
	}
	ids[1100] = old.ID
	if got, w := watched(100*time.Millisecond, ids...), want(running, old); got != w {
		t.Fatalf("watched by 1200 IDs = %s, want %s", got, w)
	}
}

func testStatusCounts(t *testing.T, d storetest.Dialect) {
	ctx, db, clock := setup(t, d)
	c, err := db.StatusCounts(ctx)
	must(t, err)
	if len(c.Executions) != 8 || len(c.Waves) != 8 || c.Executions[wavedr.ExecutionRunning] != 0 || c.Waves[wavedr.WavePending] != 0 {
		t.Fatalf("empty store counts = %+v, want every status at 0", c)
	}
	p := createPlan(t, ctx, db, "p", 3)
	for _, s := range []wavedr.ExecutionStatus{wavedr.ExecutionRunning, wavedr.ExecutionRunning, wavedr.ExecutionFailed} {
		e := newExecution(t, ctx, db, p, clock.Advance(time.Second))
		e.Status = s
		if s == wavedr.ExecutionFailed {
			for _, w := range e.Waves {
				w.Status = wavedr.WaveSkipped
			}
			e.Waves[0].Status = wavedr.WaveFailed
		}
		must(t, db.CreateExecution(ctx, e))
	}
	c, err = db.StatusCounts(ctx)
	must(t, err)
	got := fmt.Sprint(c.Executions[wavedr.ExecutionRunning], c.Executions[wavedr.ExecutionFailed], c.Executions[wavedr.ExecutionPending],
		c.Waves[wavedr.WavePending], c.Waves[wavedr.WaveFailed], c.Waves[wavedr.WaveSkipped])
	if want := "2 1 0 6 1 2"; got != want {
		t.Fatalf("running, failed, pending executions; pending, failed, skipped waves = %s, want %s", got, want)
	}
}

func testHealthQueries(t *testing.T, d storetest.Dialect) {
	ctx, db, _ := setup(t, d)
	must(t, db.Ping(ctx))
	// River's tables are created by the job engine, not by the store.
	if err := db.CheckJobQueue(ctx); err == nil {
		t.Fatal("CheckJobQueue without River's tables succeeded")
	}
	if _, err := db.JobCounts(ctx); err == nil {
		t.Fatal("JobCounts without River's tables succeeded")
	}
	must(t, db.Close())
	if err := db.Ping(ctx); err == nil {
		t.Fatal("Ping of a closed store succeeded")
	}
}

// testFindExecutionSnapshot reads an execution while another goroutine
// writes it: the version read always matches the servers read.
func testFindExecutionSnapshot(t *testing.T, d storetest.Dialect) {
	ctx, db, clock := setup(t, d)
	p := createPlan(t, ctx, db, "p", 2)
	e := newExecution(t, ctx, db, p, clock.Now())
	mark := func(e *wavedr.Execution, v int64) {
		for _, w := range e.Waves {
			for _, s := range w.Servers {
				s.Reason = fmt.Sprint("written at version ", v)
			}
		}
	}
	mark(e, 1)
	must(t, db.CreateExecution(ctx, e))
	_, err := db.FindExecution(ctx, "ex-unknown")
	wantCode(t, err, wavedr.ENOTFOUND)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	written := make(chan error, 1)
	go func() {
		cur := *e
		for ctx.Err() == nil {
			mark(&cur, cur.Version+1)
			if err := db.UpdateExecution(ctx, &cur); err != nil && ctx.Err() == nil {
				written <- err
				return
			}
		}
		written <- nil
	}()
	for range 200 {
		got, err := db.FindExecution(ctx, e.ID)
		must(t, err)
		for _, w := range got.Waves {
			for _, s := range w.Servers {
				if want := fmt.Sprint("written at version ", got.Version); s.Reason != want {
					t.Fatalf("execution at version %d holds server %s %q", got.Version, s.SourceServerID, s.Reason)
				}
			}
		}
	}
	cancel()
	must(t, <-written)
}
