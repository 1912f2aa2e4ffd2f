package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"wavedr"
	"wavedr/store"
	"wavedr/store/storetest"
)

func testTransactions(t *testing.T, d storetest.Dialect) {
	ctx, db, clock := setup(t, d)

	// One clock reading per transaction; everything commits together.
	var g *wavedr.ProtectionGroup
	var p *wavedr.RecoveryPlan
	must(t, db.InTx(ctx, func(tx *store.Tx) error {
		now := tx.Now()
		clock.Advance(time.Hour)
		g = newGroup("g", 1)
		if err := tx.CreateProtectionGroup(ctx, g); err != nil {
			return err
		}
		p = newPlan("p", newWave("w", "g")) // sees the group created in the transaction
		if err := tx.CreateRecoveryPlan(ctx, p); err != nil {
			return err
		}
		if !g.CreatedAt.Equal(now) || !p.CreatedAt.Equal(now) || !tx.Now().Equal(now) {
			t.Errorf("one transaction, several times: %v %v %v", now, g.CreatedAt, p.CreatedAt)
		}
		return nil
	}))
	if _, err := db.FindRecoveryPlan(ctx, "p"); err != nil {
		t.Fatalf("committed plan: %v", err)
	}

	// An error rolls everything back.
	boom := errors.New("boom")
	err := db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateProtectionGroup(ctx, newGroup("h", 2)); err != nil {
			return err
		}
		if err := tx.DeleteRecoveryPlan(ctx, p.ID, p.Version); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx returned %v, want the function's error", err)
	}
	if _, err := db.FindProtectionGroup(ctx, "h"); wavedr.ErrorCode(err) != wavedr.ENOTFOUND {
		t.Fatalf("rolled-back group: %v", err)
	}
	if _, err := db.FindRecoveryPlan(ctx, p.ID); err != nil {
		t.Fatalf("rolled-back delete: %v", err)
	}
	if db.SQL() == nil {
		t.Fatal("no *sql.DB")
	}
	if (db.ListenerPool() != nil) != (db.Dialect() == store.Postgres) {
		t.Fatalf("listener pool %v on %s", db.ListenerPool(), db.Dialect())
	}
	must(t, db.InTx(ctx, func(tx *store.Tx) error {
		var n int
		return tx.SQL().QueryRowContext(ctx, "SELECT count(*) FROM recovery_plans").Scan(&n)
	}))
}

func testMigrationsIdempotent(t *testing.T, d storetest.Dialect) {
	url := d.URL(t)
	ctx := context.Background()
	first := storetest.OpenURL(t, url)
	must(t, first.CreateProtectionGroup(ctx, newGroup("kept", 1)))
	must(t, first.Close())

	// Several replicas starting at once on a migrated database, then on
	// it again: each migration stays applied once, and the data stays.
	var wg sync.WaitGroup
	dbs := make([]*store.DB, 3)
	errs := make([]error, 3)
	for i := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = store.Open(ctx, url)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		must(t, err)
		t.Cleanup(func() { dbs[i].Close() })
	}
	var n, distinct int
	must(t, dbs[0].SQL().QueryRowContext(ctx, "SELECT count(*), count(DISTINCT version) FROM wavedr_migrations").Scan(&n, &distinct))
	if n == 0 || n != distinct {
		t.Fatalf("wavedr_migrations has %d rows, %d versions", n, distinct)
	}
	if _, err := dbs[1].FindProtectionGroup(ctx, "KEPT"); err != nil {
		t.Fatalf("data after reopening: %v", err)
	}
}

// TestFreshMigrationsRace opens several stores on one new database at
// once: the migrations run once, whoever comes first.
func TestFreshMigrationsRace(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			url := d.URL(t)
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db, err := store.Open(context.Background(), url)
					if err == nil {
						err = db.Close()
					}
					errs[i] = err
				}()
			}
			wg.Wait()
			for _, err := range errs {
				must(t, err)
			}
		})
	}
}
