package wavedr

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

var reportT0 = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)

// reportAt returns the time m minutes and s seconds after reportT0.
func reportAt(m, s int) time.Time {
	return reportT0.Add(time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
}

func TestServerReportPhases(t *testing.T) {
	type phase struct {
		name string
		d    time.Duration
	}
	tests := []struct {
		name     string
		server   ServerRun
		phases   []phase
		recovery time.Duration
	}{
		{
			name:   "pending: nothing measured",
			server: ServerRun{Status: ServerPending},
		},
		{
			name:   "launch requested only",
			server: ServerRun{Status: ServerPending, LaunchRequestedAt: reportAt(0, 0)},
		},
		{
			name: "every step known",
			server: ServerRun{Status: ServerLaunched, LaunchRequestedAt: reportAt(0, 0), JobStartedAt: reportAt(0, 2),
				SnapshotAt: reportAt(2, 30), ConversionAt: reportAt(6, 0), LaunchedAt: reportAt(8, 15)},
			phases:   []phase{{"request", 2 * time.Second}, {"snapshot", 2*time.Minute + 28*time.Second}, {"conversion", 3*time.Minute + 30*time.Second}, {"launch", 2*time.Minute + 15*time.Second}},
			recovery: 8*time.Minute + 15*time.Second,
		},
		{
			name: "snapshot not observed: joined to conversion",
			server: ServerRun{Status: ServerLaunched, LaunchRequestedAt: reportAt(0, 0), JobStartedAt: reportAt(0, 2),
				ConversionAt: reportAt(6, 0), LaunchedAt: reportAt(8, 0)},
			phases:   []phase{{"request", 2 * time.Second}, {"snapshot+conversion", 5*time.Minute + 58*time.Second}, {"launch", 2 * time.Minute}},
			recovery: 8 * time.Minute,
		},
		{
			name: "only the ends known",
			server: ServerRun{Status: ServerLaunched, LaunchRequestedAt: reportAt(0, 0),
				LaunchedAt: reportAt(9, 0)},
			phases:   []phase{{"request+snapshot+conversion+launch", 9 * time.Minute}},
			recovery: 9 * time.Minute,
		},
		{
			name: "failed in launch: measured up to conversion, no recovery time",
			server: ServerRun{Status: ServerFailed, Reason: "LAUNCH_FAILED", LaunchRequestedAt: reportAt(0, 0), JobStartedAt: reportAt(0, 1),
				SnapshotAt: reportAt(2, 0), ConversionAt: reportAt(5, 0)},
			phases: []phase{{"request", time.Second}, {"snapshot", 119 * time.Second}, {"conversion", 3 * time.Minute}},
		},
		{
			name: "launch request unknown: counted from the job",
			server: ServerRun{Status: ServerLaunched, JobStartedAt: reportAt(0, 0), SnapshotAt: reportAt(1, 0),
				LaunchedAt: reportAt(5, 0)},
			phases: []phase{{"snapshot", time.Minute}, {"conversion+launch", 4 * time.Minute}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newServerReport(&tt.server)
			var got []phase
			for _, p := range r.Phases {
				got = append(got, phase{p.Phase, p.Duration.Duration()})
			}
			if !reflect.DeepEqual(got, tt.phases) {
				t.Errorf("phases %v, want %v", got, tt.phases)
			}
			if r.RecoveryTime.Duration() != tt.recovery {
				t.Errorf("recovery time %s, want %s", r.RecoveryTime.Duration(), tt.recovery)
			}
			if r.Phases == nil {
				t.Error("phases is nil; want an empty list so that JSON has []")
			}
		})
	}
}

// reportExecution is a three-wave drill: database completed (one job,
// one of two chunks never started), app partial, web skipped.
func reportExecution() *Execution {
	db1 := &ServerRun{ServerDetail: ServerDetail{SourceServerID: "s-db1", Hostname: "db-01", EC2InstanceID: "i-db1", InstanceType: "r5.large", PrivateIP: "10.0.0.11"},
		Status: ServerTerminated, LaunchRequestedAt: reportAt(0, 0), JobStartedAt: reportAt(0, 1), SnapshotAt: reportAt(2, 0), ConversionAt: reportAt(5, 0), LaunchedAt: reportAt(7, 0), TerminatedAt: reportAt(40, 0)}
	db2 := &ServerRun{ServerDetail: ServerDetail{SourceServerID: "s-db2", Hostname: "db-02", EC2InstanceID: "i-db2"},
		Status: ServerTerminated, LaunchRequestedAt: reportAt(0, 0), JobStartedAt: reportAt(0, 1), SnapshotAt: reportAt(3, 0), ConversionAt: reportAt(6, 0), LaunchedAt: reportAt(8, 30), TerminatedAt: reportAt(40, 0)}
	app1 := &ServerRun{ServerDetail: ServerDetail{SourceServerID: "s-app1", Hostname: "app-01", EC2InstanceID: "i-app1"},
		Status: ServerTerminated, LaunchRequestedAt: reportAt(12, 0), JobStartedAt: reportAt(12, 0), SnapshotAt: reportAt(14, 0), ConversionAt: reportAt(17, 0), LaunchedAt: reportAt(20, 0), TerminatedAt: reportAt(40, 0)}
	app2 := &ServerRun{ServerDetail: ServerDetail{SourceServerID: "s-app2", Hostname: "app-02"},
		Status: ServerFailed, Reason: "LAUNCH_FAILED at ...: injected", LaunchRequestedAt: reportAt(12, 0), JobStartedAt: reportAt(12, 0), SnapshotAt: reportAt(14, 0), ConversionAt: reportAt(17, 0)}
	web1 := &ServerRun{ServerDetail: ServerDetail{SourceServerID: "s-web1", Hostname: "web-01"},
		Status: ServerCancelled, Reason: "not launched"}
	return &Execution{
		ID: "ex-1", PlanID: "rp-1", PlanName: "three-tier", PlanVersion: 2, Mode: ModeDrill,
		Status: ExecutionPartial, Reason: "wave app PARTIAL", InitiatedBy: "alice",
		CreatedAt: reportAt(0, 0).Add(-time.Second), StartedAt: reportAt(0, 0), EndedAt: reportAt(21, 0),
		Cleanup: Cleanup{Status: CleanupCompleted, RequestedBy: "alice", StartedAt: reportAt(38, 0), EndedAt: reportAt(40, 0)},
		Waves: []*WaveRun{
			{Wave: Wave{Name: "database"}, Number: 1, Status: WaveCompleted,
				Jobs:              []WaveJob{{Chunk: 0, JobID: "drsjob-1"}, {Chunk: 1}},
				LaunchRequestedAt: reportAt(0, 0), StartedAt: reportAt(0, 1), EndedAt: reportAt(9, 0), Servers: []*ServerRun{db1, db2}},
			{Wave: Wave{Name: "app"}, Number: 2, Status: WavePartial, Reason: "1 of 2 servers failed", GatePassedBy: "bob",
				Jobs:              []WaveJob{{Chunk: 0, JobID: "drsjob-2"}},
				LaunchRequestedAt: reportAt(12, 0), StartedAt: reportAt(12, 0), EndedAt: reportAt(21, 0), Servers: []*ServerRun{app1, app2}},
			{Wave: Wave{Name: "web"}, Number: 3, Status: WaveSkipped, Reason: "wave app PARTIAL and its failure policy is STOP",
				Jobs: []WaveJob{}, EndedAt: reportAt(21, 0), Servers: []*ServerRun{web1}},
		},
	}
}

func TestExecutionReport(t *testing.T) {
	r := reportExecution().Report()

	if r.ExecutionID != "ex-1" || r.PlanName != "three-tier" || r.PlanVersion != 2 || r.Mode != ModeDrill ||
		r.Status != ExecutionPartial || r.InitiatedBy != "alice" || r.Reason == "" {
		t.Errorf("header: %+v", r)
	}
	if want := (Counts{Total: 5, Launched: 0, Failed: 1, Cancelled: 1, Terminated: 3}); r.Counts != want {
		t.Errorf("counts %+v, want %+v", r.Counts, want)
	}
	checks := []struct {
		what string
		got  Seconds
		want time.Duration
	}{
		{"execution duration", r.Duration, 21 * time.Minute},
		{"execution recovery time (to the last launch)", r.RecoveryTime, 20 * time.Minute},
		{"cleanup duration", r.Cleanup.Duration, 2 * time.Minute},
		{"database recovery time", r.Waves[0].RecoveryTime, 8*time.Minute + 30*time.Second},
		{"app recovery time", r.Waves[1].RecoveryTime, 8 * time.Minute},
		{"web recovery time", r.Waves[2].RecoveryTime, 0},
		{"db-02 recovery time", r.Waves[0].Servers[1].RecoveryTime, 8*time.Minute + 30*time.Second},
		{"app-02 recovery time (failed)", r.Waves[1].Servers[1].RecoveryTime, 0},
	}
	for _, c := range checks {
		if c.got.Duration() != c.want {
			t.Errorf("%s: %s, want %s", c.what, c.got.Duration(), c.want)
		}
	}
	if r.Cleanup.Status != CleanupCompleted || r.Cleanup.RequestedBy != "alice" {
		t.Errorf("cleanup %+v", r.Cleanup)
	}

	waves := []struct {
		name    string
		number  int
		status  WaveStatus
		jobs    []string
		servers []string
		gate    string
	}{
		{"database", 1, WaveCompleted, []string{"drsjob-1"}, []string{"s-db1", "s-db2"}, ""},
		{"app", 2, WavePartial, []string{"drsjob-2"}, []string{"s-app1", "s-app2"}, "bob"},
		{"web", 3, WaveSkipped, []string{}, []string{"s-web1"}, ""},
	}
	if len(r.Waves) != len(waves) {
		t.Fatalf("%d waves, want %d", len(r.Waves), len(waves))
	}
	for i, want := range waves {
		w := r.Waves[i]
		var ids []string
		for _, s := range w.Servers {
			ids = append(ids, s.SourceServerID)
		}
		if w.Name != want.name || w.Number != want.number || w.Status != want.status || w.GatePassedBy != want.gate ||
			!reflect.DeepEqual(w.Jobs, want.jobs) || !reflect.DeepEqual(ids, want.servers) {
			t.Errorf("wave %d: %s #%d %s jobs %v servers %v gate %q; want %+v", i, w.Name, w.Number, w.Status, w.Jobs, ids, w.GatePassedBy, want)
		}
		if w.Counts.Total != len(want.servers) {
			t.Errorf("wave %s counts %+v", w.Name, w.Counts)
		}
	}
	db1 := r.Waves[0].Servers[0]
	if db1.Hostname != "db-01" || db1.EC2InstanceID != "i-db1" || db1.InstanceType != "r5.large" || db1.PrivateIP != "10.0.0.11" ||
		db1.Status != ServerTerminated || !db1.LaunchedAt.Equal(reportAt(7, 0)) || len(db1.Phases) != 4 {
		t.Errorf("db-01: %+v", db1)
	}
}

func TestReportOfNewExecution(t *testing.T) {
	e := &Execution{ID: "ex-2", Status: ExecutionPending, CreatedAt: reportT0,
		Waves: []*WaveRun{{Wave: Wave{Name: "w"}, Number: 1, Status: WavePending, Jobs: []WaveJob{},
			Servers: []*ServerRun{{ServerDetail: ServerDetail{SourceServerID: "s-1"}, Status: ServerPending}}}}}
	b, err := json.Marshal(e.Report())
	if err != nil {
		t.Fatal(err)
	}
	js := string(b)
	// Nothing measured yet: no duration, no end, no phase; lists are [].
	for _, absent := range []string{"durationSeconds", "recoveryTimeSeconds", "endedAt", "startedAt", "launchedAt"} {
		if strings.Contains(js, `"`+absent+`"`) {
			t.Errorf("%s present in %s", absent, js)
		}
	}
	for _, present := range []string{`"jobs":[]`, `"phases":[]`, `"cleanup":{"status":""}`, `"executionId":"ex-2"`} {
		if !strings.Contains(js, present) {
			t.Errorf("%s missing in %s", present, js)
		}
	}
}

func TestReportJSON(t *testing.T) {
	b, err := json.Marshal(reportExecution().Report())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Duration     float64 `json:"durationSeconds"`
		RecoveryTime float64 `json:"recoveryTimeSeconds"`
		Waves        []struct {
			RecoveryTime float64 `json:"recoveryTimeSeconds"`
			Servers      []struct {
				LaunchedAt   time.Time `json:"launchedAt"`
				RecoveryTime float64   `json:"recoveryTimeSeconds"`
				Phases       []struct {
					Phase    string  `json:"phase"`
					Duration float64 `json:"durationSeconds"`
				} `json:"phases"`
			} `json:"servers"`
		} `json:"waves"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Waves[0].Servers[1]
	if doc.Duration != 1260 || doc.RecoveryTime != 1200 || doc.Waves[0].RecoveryTime != 510 ||
		s.RecoveryTime != 510 || !s.LaunchedAt.Equal(reportAt(8, 30)) || len(s.Phases) != 4 ||
		s.Phases[0].Phase != "request" || s.Phases[0].Duration != 1 || s.Phases[3].Phase != "launch" || s.Phases[3].Duration != 150 {
		t.Errorf("JSON: %s", b)
	}
	// The report reads back as it was written.
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, reportExecution().Report()) {
		t.Errorf("round trip changed the report:\n%+v\n%+v", back, reportExecution().Report())
	}
}

func TestSecondsJSON(t *testing.T) {
	tests := []struct {
		d    time.Duration
		json string
		back time.Duration
	}{
		{0, "0", 0},
		{time.Second, "1", time.Second},
		{65*time.Second + 250*time.Millisecond, "65.25", 65*time.Second + 250*time.Millisecond},
		{1500 * time.Microsecond, "0.002", 2 * time.Millisecond}, // rounded to the millisecond
		{-2 * time.Second, "-2", -2 * time.Second},
		{36 * time.Hour, "129600", 36 * time.Hour},
	}
	for _, tt := range tests {
		b, err := json.Marshal(Seconds(tt.d))
		if err != nil || string(b) != tt.json {
			t.Errorf("Marshal(%s) = %s, %v; want %s", tt.d, b, err, tt.json)
		}
		var s Seconds
		if err := json.Unmarshal(b, &s); err != nil || s.Duration() != tt.back {
			t.Errorf("Unmarshal(%s) = %s, %v; want %s", b, s.Duration(), err, tt.back)
		}
	}
	var s Seconds
	if err := json.Unmarshal([]byte(`"90s"`), &s); err == nil {
		t.Error(`Unmarshal("90s") succeeded; want an error: the unit is seconds, as a number`)
	}
}

func TestExecutionViewJSON(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	plan := &RecoveryPlan{ID: NewID(PrefixRecoveryPlan, now), Name: "p", Waves: []Wave{{Name: "w", Groups: []string{"g"}}}}
	ex := NewExecution(plan, ModeDrill, "token:alice", now)
	b, err := json.Marshal(ex.View())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "status", "waves", "canPause", "canResume", "canCancel", "canTerminate", "counts", "report"} {
		if _, ok := got[k]; !ok {
			t.Errorf("view JSON has no %q: %s", k, b)
		}
	}
	if got["canCancel"] != ex.CanCancel() || got["canTerminate"] != false {
		t.Errorf("canCancel %v canTerminate %v", got["canCancel"], got["canTerminate"])
	}
}
