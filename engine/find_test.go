package engine_test

import (
	"context"
	"testing"
	"time"

	"wavedr"
	"wavedr/engine"
	"wavedr/sim"
	"wavedr/store/storetest"
)

// TestFindReschedulesLostCleanup: a drill's cleanup runs after its
// execution is over; when its terminate job is lost, find schedules it
// again and the cleanup ends.
func TestFindReschedulesLostCleanup(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			h := newHarnessWith(t, d, sim.Config{Seed: 1}, func(c *engine.Config) { c.FindInterval = time.Hour })
			ctx := context.Background()
			ex := h.start("three-tier", wavedr.ModeDrill)
			h.waitFor(ex.ID, "the gate", func(e *wavedr.Execution) bool { return e.Status == wavedr.ExecutionPaused })
			if _, err := h.eng.Resume(ctx, ex.ID, "bob"); err != nil {
				t.Fatal(err)
			}
			done := h.waitEnd(ex.ID)
			if done.Status != wavedr.ExecutionCompleted {
				t.Fatalf("status %s: %s", done.Status, done.Reason)
			}

			// The cleanup is asked for while no worker runs, and its job is
			// lost before any worker sees it.
			if err := h.eng.StopWorkers(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := h.eng.Terminate(ctx, ex.ID, "alice"); err != nil {
				t.Fatal(err)
			}
			res, err := h.db.SQL().ExecContext(ctx, `DELETE FROM river_job WHERE kind = 'wavedr.terminate'`)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("%d terminate jobs removed, want 1", n)
			}

			active, rescheduled, err := h.eng.Find(ctx)
			if err != nil || active != 0 || rescheduled != 1 {
				t.Fatalf("Find = %d active, %d rescheduled, %v; want 0, 1", active, rescheduled, err)
			}
			if _, again, err := h.eng.Find(ctx); err != nil || again != 0 {
				t.Fatalf("a second Find rescheduled %d (%v), want 0", again, err)
			}
			if err := h.eng.StartWorkers(ctx); err != nil {
				t.Fatal(err)
			}
			clean := h.waitFor(ex.ID, "cleanup", func(e *wavedr.Execution) bool {
				return e.Cleanup.Status == wavedr.CleanupCompleted || e.Cleanup.Status == wavedr.CleanupFailed
			})
			if clean.Cleanup.Status != wavedr.CleanupCompleted || clean.Counts().Terminated != 10 {
				t.Fatalf("cleanup %s (%s), terminated %d", clean.Cleanup.Status, clean.Cleanup.Reason, clean.Counts().Terminated)
			}
		})
	}
}
