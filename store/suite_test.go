package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"wavedr"
	"wavedr/store"
	"wavedr/store/storetest"
)

// The conformance suite: every case runs on SQLite and, when
// WAVEDR_TEST_POSTGRES is set, on PostgreSQL, each on a database of its own.

func TestSQLite(t *testing.T) { runSuite(t, storetest.SQLite) }

func TestPostgres(t *testing.T) {
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skip(storetest.PostgresSkip)
	}
	runSuite(t, storetest.Postgres)
}

var suite = []struct {
	name string
	run  func(t *testing.T, d storetest.Dialect)
}{
	{"Accounts", testAccounts},
	{"AccountValidation", testAccountValidation},
	{"ProtectionGroups", testProtectionGroups},
	{"ProtectionGroupRefusals", testProtectionGroupRefusals},
	{"ProtectionGroupPaging", testProtectionGroupPaging},
	{"RecoveryPlans", testRecoveryPlans},
	{"RecoveryPlanRefusals", testRecoveryPlanRefusals},
	{"RecoveryPlanPaging", testRecoveryPlanPaging},
	{"ExecutionRoundTrip", testExecutionRoundTrip},
	{"ExecutionUpdate", testExecutionUpdate},
	{"ExecutionStaleVersion", testExecutionStaleVersion},
	{"ExecutionConcurrentUpdates", testExecutionConcurrentUpdates},
	{"ExecutionManyWriters", testExecutionManyWriters},
	{"ExecutionPaging", testExecutionPaging},
	{"ExecutionCursorTampering", testExecutionCursorTampering},
	{"ActiveExecutions", testActiveExecutions},
	{"Claims", testClaims},
	{"Transactions", testTransactions},
	{"MigrationsIdempotent", testMigrationsIdempotent},
	{"APITokens", testAPITokens},
	{"APITokenRefusals", testAPITokenRefusals},
	{"APITokenTouch", testAPITokenTouch},
	{"AuditAppend", testAuditAppend},
	{"AuditPaging", testAuditPaging},
	{"AuditCursorTampering", testAuditCursorTampering},
}

func runSuite(t *testing.T, d storetest.Dialect) {
	t.Parallel()
	for _, c := range suite {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, d)
		})
	}
}

// start is the test clock's first reading: odd microseconds, so that
// truncation or rounding would show.
var start = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)

// setup opens a store on a new database with a test clock.
func setup(t *testing.T, d storetest.Dialect) (context.Context, *store.DB, *storetest.Clock) {
	t.Helper()
	clock := storetest.NewClock(start)
	db := d.Open(t, store.WithClock(clock.Now))
	return context.Background(), db, clock
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// wantCode fails t unless err carries the wavedr error code.
func wantCode(t *testing.T, err error, code string) *wavedr.Error {
	t.Helper()
	if got := wavedr.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
	var e *wavedr.Error
	errors.As(err, &e)
	return e
}

// wantField fails t unless err is EINVALID with a detail for field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	e := wantCode(t, err, wavedr.EINVALID)
	for _, d := range e.Details {
		if d.Field == field {
			return
		}
	}
	t.Fatalf("EINVALID details %v name no field %q", e.Details, field)
}

// sameJSON fails t unless got and want encode to the same JSON: every
// field, times to the nanosecond and in the same zone.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.MarshalIndent(got, "", " ")
	must(t, err)
	w, err := json.MarshalIndent(want, "", " ")
	must(t, err)
	if string(g) != string(w) {
		t.Fatalf("%s differs\n got: %s\nwant: %s", what, g, w)
	}
}

func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("%s = %v, want %v in UTC", what, got, want)
	}
}

// Fixtures.

func serverID(n int) string { return fmt.Sprintf("s-%017x", n) }

func newAccount(id, name string) *wavedr.Account {
	return &wavedr.Account{ID: id, Name: name, Regions: []string{"us-east-1", "us-west-2"}}
}

func newGroup(name string, servers ...int) *wavedr.ProtectionGroup {
	g := &wavedr.ProtectionGroup{Name: name, Region: "us-east-1"}
	for _, n := range servers {
		g.ServerIDs = append(g.ServerIDs, serverID(n))
	}
	return g
}

func newWave(name string, groups ...string) wavedr.Wave {
	return wavedr.Wave{Name: name, Groups: groups}
}

func newPlan(name string, waves ...wavedr.Wave) *wavedr.RecoveryPlan {
	return &wavedr.RecoveryPlan{Name: name, Waves: waves}
}

// createPlan stores groups g1..gN (one per wave, two servers each) and a
// plan with a wave per group.
func createPlan(t *testing.T, ctx context.Context, db *store.DB, name string, waves int) *wavedr.RecoveryPlan {
	t.Helper()
	p := newPlan(name)
	for i := 1; i <= waves; i++ {
		g := newGroup(fmt.Sprintf("%s-g%d", name, i), 2*i-1, 2*i)
		g.Region = "eu-west-1"
		must(t, db.CreateProtectionGroup(ctx, g))
		p.Waves = append(p.Waves, newWave(fmt.Sprintf("wave-%d", i), g.Name))
	}
	must(t, db.CreateRecoveryPlan(ctx, p))
	return p
}

// newExecution returns an execution of p with the servers of its groups.
func newExecution(t *testing.T, ctx context.Context, db *store.DB, p *wavedr.RecoveryPlan, now time.Time) *wavedr.Execution {
	t.Helper()
	e := wavedr.NewExecution(p, wavedr.ModeDrill, "alice@example.com", now)
	for _, w := range e.Waves {
		for _, name := range w.Groups {
			g, err := db.FindProtectionGroup(ctx, name)
			must(t, err)
			for _, id := range g.ServerIDs {
				w.Servers = append(w.Servers, &wavedr.ServerRun{
					ServerDetail: wavedr.ServerDetail{SourceServerID: id},
					Region:       g.Region, Group: g.Name, Status: wavedr.ServerPending,
				})
			}
		}
	}
	return e
}
