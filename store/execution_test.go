package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"wavedr"
	"wavedr/store"
	"wavedr/store/storetest"
)

// fullExecution is an execution of a three-wave plan with every field set,
// nanosecond times in its documents and odd microseconds in its columns.
func fullExecution(t *testing.T, ctx context.Context, db *store.DB) *wavedr.Execution {
	t.Helper()
	p := createPlan(t, ctx, db, "full", 3)
	at := func(s int) time.Time { return start.Add(time.Duration(s)*time.Second + 123456789) }
	e := newExecution(t, ctx, db, p, start)
	must(t, e.SetStatus(wavedr.ExecutionRunning, at(1)))
	e.LastPolledAt = at(30).Truncate(time.Microsecond)
	e.PauseRequest = &wavedr.Request{By: "bob", At: at(2)}
	e.CancelRequest = &wavedr.Request{By: "carol", At: at(3)}
	e.Cleanup = wavedr.Cleanup{Status: wavedr.CleanupFailed, RequestedBy: "dave", Reason: "one instance stuck",
		Jobs:      []wavedr.WaveJob{{Chunk: 0, JobID: "drsjob-t1", Region: "eu-west-1", ServerIDs: []string{serverID(1)}}},
		StartedAt: at(40), EndedAt: at(50)}
	e.Reason = "testing"
	e.Pause = &wavedr.Pause{BeforeWave: "wave-2", Gate: true, At: at(4)}

	w := e.Waves[0]
	w.Status, w.Reason, w.GatePassedBy = wavedr.WaveInProgress, "", "erin"
	w.LaunchRequestedAt, w.StartedAt, w.DeadlineAt = at(5), at(6), at(5).Add(2*time.Hour)
	w.Jobs = []wavedr.WaveJob{{Chunk: 0, JobID: "drsjob-1", AccountID: "111111111111", Region: "eu-west-1",
		ServerIDs: []string{serverID(1), serverID(2)}, Status: wavedr.JobStarted,
		RequestedAt: at(5), CreatedAt: at(6), EndedAt: at(20)}}
	s := w.Servers[0]
	s.AccountID, s.Chunk, s.Status, s.Phase, s.Reason = "111111111111", 0, wavedr.ServerInProgress, wavedr.PhaseConversion, "why not"
	s.LaunchRequestedAt, s.JobStartedAt, s.SnapshotAt, s.ConversionAt = at(5), at(6), at(7), at(8)
	s.LaunchedAt, s.TerminatedAt = at(9), at(10)
	s.ServerDetail = wavedr.ServerDetail{
		SourceServerID: s.SourceServerID, JobID: "drsjob-1", Hostname: "web01", SourceIP: "10.0.0.1",
		SourceInstanceID: "i-0source", Tags: map[string]string{"tier": "web", "env": "prod"},
		ReplicationState: "CONTINUOUS", LaunchStatus: "LAUNCHED", RecoveryInstanceID: "i-0recovery",
		EC2InstanceID: "i-0ec2", EC2InstanceState: "running", IsDrill: true, PointInTimeSnapshot: at(11),
		InstanceType: "m5.large", PrivateIP: "10.1.0.1", PrivateDNS: "ip-10-1-0-1.ec2.internal",
		LaunchTime: at(12), InstanceState: "running", Missing: []string{"nothing really"},
	}
	e.Waves[2].Status, e.Waves[2].Reason = wavedr.WaveSkipped, "wave-1 failed"
	return e
}

func testExecutionRoundTrip(t *testing.T, d storetest.Dialect) {
	ctx, db, _ := setup(t, d)
	e := fullExecution(t, ctx, db)
	must(t, db.CreateExecution(ctx, e))
	if e.Version != 1 {
		t.Fatalf("version after create = %d", e.Version)
	}
	got, err := db.FindExecution(ctx, e.ID)
	must(t, err)
	sameJSON(t, "execution", got, e)
	wantTime(t, "createdAt", got.CreatedAt, start)
	wantTime(t, "lastPolledAt", got.LastPolledAt, e.LastPolledAt)
	if len(got.Waves) != 3 || got.Waves[1].Servers[1].SourceServerID != serverID(4) {
		t.Fatalf("waves and servers not as stored: %+v", got.Waves)
	}
	// Times inside documents keep their nanoseconds.
	wantTime(t, "server snapshotAt", got.Waves[0].Servers[0].SnapshotAt, e.Waves[0].Servers[0].SnapshotAt)

	sum := e.Summary()
	page, err := db.ListExecutions(ctx, wavedr.ExecutionFilter{})
	must(t, err)
	if len(page.Items) != 1 {
		t.Fatalf("ListExecutions = %+v", page)
	}
	sameJSON(t, "summary", page.Items[0], sum)

	wantCode(t, db.CreateExecution(ctx, e), wavedr.ECONFLICT)
	orphan := *e
	orphan.ID, orphan.PlanID = "", "plan-gone"
	wantCode(t, db.CreateExecution(ctx, &orphan), wavedr.ENOTFOUND)
	malformed := *e
	malformed.ID, malformed.Mode, malformed.Waves = "", "DRY", nil
	err = db.CreateExecution(ctx, &malformed)
	wantField(t, err, "mode")
	wantField(t, err, "waves")
	_, err = db.FindExecution(ctx, "ex-nope")
	wantCode(t, err, wavedr.ENOTFOUND)
}

func testExecutionUpdate(t *testing.T, d storetest.Dialect) {
	ctx, db, clock := setup(t, d)
	p := createPlan(t, ctx, db, "plan", 3)
	e := newExecution(t, ctx, db, p, clock.Now())
	must(t, db.CreateExecution(ctx, e))

	// Waves are keyed by name: their order in the list does not matter.
	e.Waves[0], e.Waves[2] = e.Waves[2], e.Waves[0]
	must(t, e.SetStatus(wavedr.ExecutionRunning, clock.Advance(time.Second)))
	mid := e.Wave("wave-2")
	must(t, mid.SetStatus(wavedr.WaveLaunching, clock.Now()))
	removed := mid.Servers[0].SourceServerID
	mid.Servers = mid.Servers[1:]
	last := e.Wave("wave-3")
	last.Servers = append(last.Servers, &wavedr.ServerRun{ServerDetail: wavedr.ServerDetail{SourceServerID: serverID(99)}, Region: "eu-west-1", Status: wavedr.ServerPending})
	must(t, db.UpdateExecution(ctx, e))
	if e.Version != 2 {
		t.Fatalf("version after update = %d", e.Version)
	}
	got, err := db.FindExecution(ctx, e.ID)
	must(t, err)
	for i, w := range got.Waves {
		if w.Number != i+1 || w.Name != fmt.Sprintf("wave-%d", i+1) {
			t.Fatalf("waves[%d] is %s number %d; want them ordered by number", i, w.Name, w.Number)
		}
	}
	if got.Wave("wave-2").Status != wavedr.WaveLaunching || got.Wave("wave-2").Server(removed) != nil {
		t.Fatalf("wave-2 not updated: %+v", got.Wave("wave-2"))
	}
	if n := len(got.Wave("wave-3").Servers); n != 3 || got.Wave("wave-3").Servers[2].SourceServerID != serverID(99) {
		t.Fatalf("wave-3 servers = %d, want the new one last", n)
	}
	if n := len(got.Wave("wave-1").Servers); n != 2 {
		t.Fatalf("wave-1 lost servers: %d left", n)
	}

	// Every wave is carried by every update; none is added later.
	before := got
	short := *got
	short.Waves = got.Waves[:2]
	wantField(t, db.UpdateExecution(ctx, &short), "waves")
	extra := *got
	extra.Waves = append(append([]*wavedr.WaveRun{}, got.Waves...), &wavedr.WaveRun{Wave: wavedr.Wave{Name: "wave-9"}, Number: 9, Status: wavedr.WavePending})
	wantField(t, db.UpdateExecution(ctx, &extra), "waves[3].name")
	dup := *got
	dup.Waves = append(append([]*wavedr.WaveRun{}, got.Waves...), got.Waves[0])
	wantField(t, db.UpdateExecution(ctx, &dup), "waves[3].name")
	after, err := db.FindExecution(ctx, e.ID)
	must(t, err)
	sameJSON(t, "execution after refused updates", after, before)

	// What the execution is cannot change: the stored plan and creation
	// time come back.
	moved := *after
	moved.PlanID, moved.CreatedAt = "plan-other", start.Add(time.Hour)
	must(t, db.UpdateExecution(ctx, &moved))
	if moved.PlanID != p.ID || !moved.CreatedAt.Equal(start) {
		t.Fatalf("update changed fixed fields: plan %s created %v", moved.PlanID, moved.CreatedAt)
	}

	// Only changed rows are rewritten: a change of one server, a swap of
	// two servers' positions and no change at all each read back exactly.
	cur, err := db.FindExecution(ctx, e.ID)
	must(t, err)
	w1 := cur.Wave("wave-1")
	w1.Servers[0], w1.Servers[1] = w1.Servers[1], w1.Servers[0]
	cur.Wave("wave-3").Servers[1].Hostname = "renamed-host"
	must(t, db.UpdateExecution(ctx, cur))
	again, err := db.FindExecution(ctx, e.ID)
	must(t, err)
	sameJSON(t, "execution after a partial change", again, cur)
	must(t, db.UpdateExecution(ctx, again))
	unchanged, err := db.FindExecution(ctx, e.ID)
	must(t, err)
	sameJSON(t, "execution after an update without changes", unchanged, again)
}

func testExecutionStaleVersion(t *testing.T, d storetest.Dialect) {
	ctx, db, _ := setup(t, d)
	e := newExecution(t, ctx, db, createPlan(t, ctx, db, "p", 2), start)
	must(t, db.CreateExecution(ctx, e))
	want, err := db.FindExecution(ctx, e.ID)
	must(t, err)

	stale := *want
	stale.Version = 7
	stale.Reason = "lost"
	stale.Waves = []*wavedr.WaveRun{want.Waves[0], want.Waves[1]}
	err = db.UpdateExecution(ctx, &stale)
	if we := wantCode(t, err, wavedr.ECONFLICT); !wavedr.IsStaleVersion(we) || !strings.Contains(we.Error(), "7 is stale; the current version is 1") {
		t.Errorf("stale message = %q", we.Message)
	}
	if stale.Version != 7 {
		t.Errorf("a failed update changed the caller's version to %d", stale.Version)
	}
	got, err := db.FindExecution(ctx, e.ID)
	must(t, err)
	sameJSON(t, "execution after a stale update", got, want)

	gone := *want
	gone.ID = wavedr.NewID(wavedr.PrefixExecution, start)
	wantCode(t, db.UpdateExecution(ctx, &gone), wavedr.ENOTFOUND)
}

// testExecutionConcurrentUpdates: two writers read one version and update
// different servers; exactly one wins, the other gets ECONFLICT, re-reads,
// retries, and both changes are kept.
func testExecutionConcurrentUpdates(t *testing.T, d storetest.Dialect) {
	ctx, db, _ := setup(t, d)
	e := newExecution(t, ctx, db, createPlan(t, ctx, db, "p", 2), start)
	must(t, db.CreateExecution(ctx, e))

	changes := []func(e *wavedr.Execution) error{
		func(e *wavedr.Execution) error { return e.Waves[0].Servers[0].SetStatus(wavedr.ServerLaunched) },
		func(e *wavedr.Execution) error { return e.Waves[1].Servers[1].SetStatus(wavedr.ServerFailed) },
	}
	var read, wrote sync.WaitGroup
	read.Add(len(changes))
	wrote.Add(len(changes))
	errs := make([]error, len(changes))
	copies := make([]*wavedr.Execution, len(changes))
	for i, change := range changes {
		go func() {
			defer wrote.Done()
			c, err := db.FindExecution(ctx, e.ID)
			read.Done()
			if err != nil {
				errs[i] = err
				return
			}
			read.Wait() // both have read version 1 before either writes
			if err := change(c); err != nil {
				errs[i] = err
				return
			}
			copies[i] = c
			errs[i] = db.UpdateExecution(ctx, c)
		}()
	}
	wrote.Wait()

	winners, loser := 0, -1
	for i, err := range errs {
		switch wavedr.ErrorCode(err) {
		case "":
			winners++
		case wavedr.ECONFLICT:
			if !wavedr.IsStaleVersion(err) {
				t.Fatalf("writer %d: %v is not a stale version", i, err)
			}
			loser = i
		default:
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	if winners != 1 || loser < 0 {
		t.Fatalf("winners = %d, errors %v; want exactly one winner and one ECONFLICT", winners, errs)
	}
	if copies[loser].Version != 1 {
		t.Fatalf("the loser's copy changed version to %d", copies[loser].Version)
	}
	fresh, err := db.FindExecution(ctx, e.ID)
	must(t, err)
	must(t, changes[loser](fresh))
	must(t, db.UpdateExecution(ctx, fresh))

	got, err := db.FindExecution(ctx, e.ID)
	must(t, err)
	if got.Version != 3 {
		t.Fatalf("version = %d, want 3", got.Version)
	}
	if s := got.Waves[0].Servers[0].Status; s != wavedr.ServerLaunched {
		t.Errorf("first change lost: %s", s)
	}
	if s := got.Waves[1].Servers[1].Status; s != wavedr.ServerFailed {
		t.Errorf("second change lost: %s", s)
	}
	if c := got.Summary().Counts; c.Launched != 1 || c.Failed != 1 || c.Pending != 2 {
		t.Errorf("counts = %+v", c)
	}
}

// testExecutionManyWriters: writers that re-read and retry on ECONFLICT
// never lose one another's changes.
func testExecutionManyWriters(t *testing.T, d storetest.Dialect) {
	ctx, db, _ := setup(t, d)
	p := createPlan(t, ctx, db, "p", 4) // 8 servers
	e := newExecution(t, ctx, db, p, start)
	must(t, db.CreateExecution(ctx, e))

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for wave := range 4 {
		for server := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for attempt := 0; attempt < 200; attempt++ {
					c, err := db.FindExecution(ctx, e.ID)
					if err != nil {
						errs <- err
						return
					}
					s := c.Waves[wave].Servers[server]
					s.Hostname = fmt.Sprintf("host-%d-%d", wave, server)
					if err := s.SetStatus(wavedr.ServerLaunched); err != nil {
						errs <- err
						return
					}
					err = db.UpdateExecution(ctx, c)
					if wavedr.IsStaleVersion(err) {
						continue
					}
					errs <- err
					return
				}
				errs <- fmt.Errorf("wave %d server %d: no luck in 200 attempts", wave, server)
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	got, err := db.FindExecution(ctx, e.ID)
	must(t, err)
	if got.Version != 9 {
		t.Errorf("version = %d, want 9 (one per writer)", got.Version)
	}
	for wi, w := range got.Waves {
		for si, s := range w.Servers {
			if s.Status != wavedr.ServerLaunched || s.Hostname != fmt.Sprintf("host-%d-%d", wi, si) {
				t.Errorf("wave %d server %d lost its change: %s %q", wi, si, s.Status, s.Hostname)
			}
		}
	}
}

func testActiveExecutions(t *testing.T, d storetest.Dialect) {
	ctx, db, clock := setup(t, d)
	p := createPlan(t, ctx, db, "p", 1)
	ids, err := db.ActiveExecutionIDs(ctx)
	must(t, err)
	if len(ids) != 0 {
		t.Fatalf("active = %v, want none", ids)
	}
	var want []string
	for i, status := range []wavedr.ExecutionStatus{wavedr.ExecutionPending, wavedr.ExecutionRunning, wavedr.ExecutionCompleted,
		wavedr.ExecutionPaused, wavedr.ExecutionFailed, wavedr.ExecutionCancelling, wavedr.ExecutionCancelled} {
		e := newExecution(t, ctx, db, p, clock.Advance(time.Duration(i)*time.Second))
		e.Status = status
		must(t, db.CreateExecution(ctx, e))
		if !status.IsTerminal() {
			want = append(want, e.ID)
		}
	}
	ids, err = db.ActiveExecutionIDs(ctx)
	must(t, err)
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Fatalf("active = %v, want %v", ids, want)
	}

	// Cleanups in progress are listed whatever the execution's status,
	// and leave the list when they end.
	ids, err = db.CleaningExecutionIDs(ctx)
	must(t, err)
	if len(ids) != 0 {
		t.Fatalf("cleaning = %v, want none", ids)
	}
	done := newExecution(t, ctx, db, p, clock.Advance(time.Minute))
	done.Status = wavedr.ExecutionCompleted
	done.Cleanup = wavedr.Cleanup{Status: wavedr.CleanupTerminating, RequestedBy: "alice", StartedAt: clock.Now()}
	must(t, db.CreateExecution(ctx, done))
	ids, err = db.CleaningExecutionIDs(ctx)
	must(t, err)
	if strings.Join(ids, ",") != done.ID {
		t.Fatalf("cleaning = %v, want %s", ids, done.ID)
	}
	done.Cleanup.Status = wavedr.CleanupCompleted
	must(t, db.UpdateExecution(ctx, done))
	ids, err = db.CleaningExecutionIDs(ctx)
	must(t, err)
	if len(ids) != 0 {
		t.Fatalf("cleaning after the cleanup ended = %v, want none", ids)
	}
}
