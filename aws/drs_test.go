package aws

import (
	"context"
	"slices"
	"testing"
	"time"

	"wavedr"
	"wavedr/sim"
)

func TestOperationsAgainstSimulator(t *testing.T) {
	s, clock := newSim(t, sim.Config{})
	exerciseOperations(t, s, clock, newClient(t, s, nil))
}

// exerciseOperations runs every operation of the port against s, checking
// that the answers are fully mapped to the domain types.
func exerciseOperations(t *testing.T, s *sim.Simulator, clock *sim.ManualClock, c *Client) {
	t.Helper()
	ctx := context.Background()
	servers, err := c.DescribeSourceServers(ctx, local, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(servers) != sim.DefaultServers {
		t.Fatalf("DescribeSourceServers: %d servers, want %d", len(servers), sim.DefaultServers)
	}
	for _, srv := range servers {
		if srv.ID == "" || srv.Hostname == "" || srv.ReplicationState == "" || len(srv.IPs) == 0 || srv.Tags["Tier"] == "" {
			t.Errorf("source server not fully mapped: %+v", srv)
		}
	}
	ids := healthyIDs(t, c, local, 3)

	byID, err := c.DescribeSourceServers(ctx, local, ids[:2])
	if err != nil || len(byID) != 2 {
		t.Fatalf("DescribeSourceServers by ID: %d servers, %v", len(byID), err)
	}

	start := s.Now()
	tags := map[string]string{wavedr.TagExecution: "exec-1", wavedr.TagWave: "db", wavedr.TagChunk: "0"}
	job, err := c.StartRecovery(ctx, local, wavedr.StartRecoveryInput{SourceServerIDs: ids, IsDrill: true, Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	if job.ID == "" || job.Type != wavedr.JobTypeLaunch || job.Status == wavedr.JobCompleted || job.CreatedAt.IsZero() || len(job.Servers) != 3 {
		t.Fatalf("StartRecovery returned %+v", job)
	}
	if job.Tags[wavedr.TagExecution] != "exec-1" {
		t.Errorf("job tags = %v", job.Tags)
	}

	clock.Advance(2 * time.Hour)
	jobs, err := c.DescribeJobs(ctx, local, wavedr.JobFilter{IDs: []string{job.ID}})
	if err != nil || len(jobs) != 1 {
		t.Fatalf("DescribeJobs by ID: %v, %v", jobs, err)
	}
	done := jobs[0]
	if done.Status != wavedr.JobCompleted || done.EndedAt.IsZero() {
		t.Fatalf("job after 2h: status %s, ended %v", done.Status, done.EndedAt)
	}
	var riIDs []string
	for _, p := range done.Servers {
		if p.LaunchStatus != wavedr.LaunchLaunched || p.RecoveryInstanceID == "" {
			t.Errorf("participating server %+v, want LAUNCHED with a recovery instance", p)
		}
		riIDs = append(riIDs, p.RecoveryInstanceID)
	}

	// Time filters: the job is in [start, now] and not after now.
	inRange, err := c.DescribeJobs(ctx, local, wavedr.JobFilter{From: start.Add(-time.Minute), To: s.Now().Add(time.Minute)})
	if err != nil || !slices.ContainsFunc(inRange, func(j *wavedr.Job) bool { return j.ID == job.ID }) {
		t.Errorf("DescribeJobs in time range: %d jobs, %v; want the job", len(inRange), err)
	}
	later, err := c.DescribeJobs(ctx, local, wavedr.JobFilter{From: s.Now().Add(time.Hour)})
	if err != nil || len(later) != 0 {
		t.Errorf("DescribeJobs from the future: %d jobs, %v", len(later), err)
	}

	log, err := c.DescribeJobLog(ctx, local, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) < 2 || log[0].Event != wavedr.EventJobStart || log[len(log)-1].Event != wavedr.EventJobEnd {
		t.Errorf("job log does not run from JOB_START to JOB_END: %+v", log)
	}
	if !slices.IsSortedFunc(log, func(a, b wavedr.JobLogItem) int { return a.Time.Compare(b.Time) }) {
		t.Errorf("job log not oldest first")
	}

	ris, err := c.DescribeRecoveryInstances(ctx, local, wavedr.RecoveryInstanceFilter{IDs: riIDs})
	if err != nil || len(ris) != 3 {
		t.Fatalf("DescribeRecoveryInstances by ID: %d, %v", len(ris), err)
	}
	bySource, err := c.DescribeRecoveryInstances(ctx, local, wavedr.RecoveryInstanceFilter{SourceServerIDs: ids[:1]})
	if err != nil || len(bySource) != 1 || bySource[0].SourceServerID != ids[0] {
		t.Fatalf("DescribeRecoveryInstances by source server: %+v, %v", bySource, err)
	}
	var ec2IDs []string
	for _, ri := range ris {
		if ri.EC2InstanceID == "" || !ri.IsDrill || ri.JobID != job.ID || ri.PointInTimeSnapshot.IsZero() {
			t.Errorf("recovery instance not fully mapped: %+v", ri)
		}
		ec2IDs = append(ec2IDs, ri.EC2InstanceID)
	}

	// One unknown ID must not hide the others.
	instances, err := c.DescribeInstances(ctx, local, append(ec2IDs, "i-0123456789abcdef0"))
	if err != nil || len(instances) != 3 {
		t.Fatalf("DescribeInstances: %d instances, %v", len(instances), err)
	}
	for _, in := range instances {
		if in.Type == "" || in.State == "" || in.PrivateIP == "" || in.LaunchTime.IsZero() {
			t.Errorf("instance not fully mapped: %+v", in)
		}
	}

	lc, err := c.GetLaunchConfiguration(ctx, local, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	lc.CopyTags = !lc.CopyTags
	lc.LaunchDisposition = "STOPPED"
	lc.RightSizingMethod = "NONE"
	updated, err := c.UpdateLaunchConfiguration(ctx, local, lc)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.GetLaunchConfiguration(ctx, local, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if again.CopyTags != lc.CopyTags || again.LaunchDisposition != "STOPPED" || updated.CopyTags != lc.CopyTags {
		t.Errorf("launch configuration not updated: %+v", again)
	}

	terms, err := c.TerminateRecoveryInstances(ctx, local, riIDs)
	if err != nil || len(terms) != 1 || terms[0].Type != wavedr.JobTypeTerminate {
		t.Fatalf("TerminateRecoveryInstances: %+v, %v", terms, err)
	}
}

func TestDescribeJobsNewestFirst(t *testing.T) {
	ctx := context.Background()
	s, clock := newSim(t, sim.Config{})
	c := newClient(t, s, nil)
	var ids []string
	for _, id := range healthyIDs(t, c, local, 3) {
		job, err := c.StartRecovery(ctx, local, wavedr.StartRecoveryInput{SourceServerIDs: []string{id}, IsDrill: true})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, job.ID)
		clock.Advance(time.Minute)
	}
	jobs, err := c.DescribeJobs(ctx, local, wavedr.JobFilter{IDs: ids})
	if err != nil || len(jobs) != 3 {
		t.Fatalf("DescribeJobs: %d, %v", len(jobs), err)
	}
	for i, j := range jobs {
		if want := ids[len(ids)-1-i]; j.ID != want {
			t.Errorf("jobs[%d] = %s, want %s (newest first)", i, j.ID, want)
		}
	}
}

func TestPagination(t *testing.T) {
	ctx := context.Background()
	s, clock := newSim(t, sim.Config{})
	c := newClient(t, s, func(c *Config) { c.PageSize = 5 })

	servers, err := c.DescribeSourceServers(ctx, local, nil)
	if err != nil || len(servers) != sim.DefaultServers {
		t.Fatalf("DescribeSourceServers: %d, %v", len(servers), err)
	}
	if got := calls(s, "drs:DescribeSourceServers"); got != 3 {
		t.Errorf("12 servers in pages of 5 took %d calls, want 3", got)
	}

	ids := healthyIDs(t, c, local, 6)
	var jobIDs []string
	for _, id := range ids {
		job, err := c.StartRecovery(ctx, local, wavedr.StartRecoveryInput{SourceServerIDs: []string{id}, IsDrill: true})
		if err != nil {
			t.Fatal(err)
		}
		jobIDs = append(jobIDs, job.ID)
	}
	clock.Advance(2 * time.Hour)
	s.ResetStats()
	jobs, err := c.DescribeJobs(ctx, local, wavedr.JobFilter{})
	if err != nil || len(jobs) != 6 {
		t.Fatalf("DescribeJobs: %d jobs, %v; want 6", len(jobs), err)
	}
	if got := calls(s, "drs:DescribeJobs"); got != 2 {
		t.Errorf("6 jobs in pages of 5 took %d calls, want 2", got)
	}
	ris, err := c.DescribeRecoveryInstances(ctx, local, wavedr.RecoveryInstanceFilter{})
	if err != nil || len(ris) != 6 {
		t.Fatalf("DescribeRecoveryInstances: %d, %v; want 6", len(ris), err)
	}
	var ec2IDs []string
	for _, ri := range ris {
		ec2IDs = append(ec2IDs, ri.EC2InstanceID)
	}
	instances, err := c.DescribeInstances(ctx, local, ec2IDs)
	if err != nil || len(instances) != 6 {
		t.Fatalf("DescribeInstances: %d, %v; want 6", len(instances), err)
	}
	if got := calls(s, "ec2:DescribeInstances"); got != 2 {
		t.Errorf("6 instances in pages of 5 took %d EC2 calls, want 2", got)
	}
	log, err := c.DescribeJobLog(ctx, local, jobIDs[0])
	if err != nil || len(log) < 6 {
		t.Fatalf("DescribeJobLog: %d items, %v; want at least 6 (several pages)", len(log), err)
	}
	if got := calls(s, "drs:DescribeJobLogItems"); got < 2 {
		t.Errorf("job log of %d items in pages of 5 took %d calls", len(log), got)
	}
}

// fakeIDs returns n distinct IDs shaped like prefix followed by 17 hex digits.
func fakeIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = prefix + hex17(i)
	}
	return ids
}

func hex17(i int) string {
	const digits = "0123456789abcdef"
	b := []byte("00000000000000000")
	for p := len(b) - 1; p >= 0 && i > 0; p-- {
		b[p] = digits[i%16]
		i /= 16
	}
	return string(b)
}

func TestBatching(t *testing.T) {
	ctx := context.Background()
	s, _ := newSim(t, sim.Config{})
	c := newClient(t, s, nil)

	for _, tc := range []struct {
		op   string
		n    int
		want int64
		call func(ids []string) error
	}{
		{"drs:DescribeRecoveryInstances", 450, 3, func(ids []string) error {
			_, err := c.DescribeRecoveryInstances(ctx, local, wavedr.RecoveryInstanceFilter{IDs: ids})
			return err
		}},
		{"drs:DescribeSourceServers", 401, 3, func(ids []string) error {
			_, err := c.DescribeSourceServers(ctx, local, ids)
			return err
		}},
		{"drs:DescribeJobs", 2001, 3, func(ids []string) error {
			_, err := c.DescribeJobs(ctx, local, wavedr.JobFilter{IDs: ids})
			return err
		}},
		{"ec2:DescribeInstances", 2500, 3, func(ids []string) error {
			_, err := c.DescribeInstances(ctx, local, ids)
			return err
		}},
	} {
		prefix := map[string]string{"drs:DescribeRecoveryInstances": "i-", "drs:DescribeSourceServers": "s-", "drs:DescribeJobs": "drsjob-", "ec2:DescribeInstances": "i-"}[tc.op]
		ids := fakeIDs(prefix, tc.n)
		ids = append(ids, ids[:10]...) // repeats are asked once
		s.ResetStats()
		if err := tc.call(ids); err != nil {
			t.Errorf("%s with %d IDs: %v", tc.op, tc.n, err)
			continue
		}
		if got := calls(s, tc.op); got != tc.want {
			t.Errorf("%s with %d IDs took %d calls, want %d", tc.op, tc.n, got, tc.want)
		}
	}

}

// Real recovery instances, more than two batches of them: described and
// terminated 200 per call, one TERMINATE job per call.
func TestTerminateBatches(t *testing.T) {
	ctx := context.Background()
	s, clock := newSim(t, sim.Config{Servers: 500})
	c := newClient(t, s, nil)
	if _, err := launchAll(ctx, c, clock, local, sourceIDs(t, c, local), wavedr.MaxServersPerJob); err != nil {
		t.Fatal(err)
	}
	all, err := c.DescribeRecoveryInstances(ctx, local, wavedr.RecoveryInstanceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) <= 400 {
		t.Fatalf("%d recovery instances, want more than 400", len(all))
	}
	ids := make([]string, len(all))
	for i, ri := range all {
		ids[i] = ri.ID
	}
	want := ceilDiv(len(ids), wavedr.MaxRecoveryInstanceIDsPerCall)

	s.ResetStats()
	byID, err := c.DescribeRecoveryInstances(ctx, local, wavedr.RecoveryInstanceFilter{IDs: ids})
	if err != nil || len(byID) != len(ids) {
		t.Fatalf("DescribeRecoveryInstances by %d IDs: %d, %v", len(ids), len(byID), err)
	}
	if got := calls(s, "drs:DescribeRecoveryInstances"); got != want {
		t.Errorf("describing %d recovery instances took %d calls, want %d", len(ids), got, want)
	}

	jobs, err := c.TerminateRecoveryInstances(ctx, local, ids)
	if err != nil {
		t.Fatal(err)
	}
	if got := calls(s, "drs:TerminateRecoveryInstances"); got != want || int64(len(jobs)) != want {
		t.Errorf("terminating %d took %d calls and %d jobs, want %d", len(ids), got, len(jobs), want)
	}
	for _, j := range jobs {
		if j.Type != wavedr.JobTypeTerminate || len(j.Servers) == 0 || len(j.Servers) > wavedr.MaxRecoveryInstanceIDsPerCall {
			t.Errorf("terminate job %s: type %s, %d servers", j.ID, j.Type, len(j.Servers))
		}
	}
}

func TestAssumeRole(t *testing.T) {
	ctx := context.Background()
	s, _ := newSim(t, sim.Config{})
	c := newClient(t, s, nil)

	id, err := c.AccountID(ctx, local)
	if err != nil || id != sim.LocalAccountID {
		t.Fatalf("local AccountID = %q, %v", id, err)
	}
	id, err = c.AccountID(ctx, remote)
	if err != nil || id != sim.TargetAccountID {
		t.Fatalf("target AccountID = %q, %v; want %s", id, err, sim.TargetAccountID)
	}
	servers, err := c.DescribeSourceServers(ctx, remote, nil)
	if err != nil {
		t.Fatal(err)
	}
	localServers := sourceIDs(t, c, local)
	if len(servers) == 0 || len(servers) == len(localServers) {
		t.Fatalf("target account has %d servers, local %d: describe did not land in %s", len(servers), len(localServers), sim.TargetAccountID)
	}
	for _, srv := range servers {
		if slices.Contains(localServers, srv.ID) {
			t.Errorf("server %s of the local account listed in the target account", srv.ID)
		}
	}
	if got := calls(s, "sts:AssumeRole"); got != 1 {
		t.Errorf("AssumeRole called %d times, want 1 (credentials cached)", got)
	}

	wrong := remote
	wrong.ExternalID = "wavedr-wrong-external-id"
	_, err = c.AccountID(ctx, wrong)
	if code := wavedr.ErrorCode(err); code != wavedr.EFORBIDDEN {
		t.Fatalf("wrong external ID: %v (code %q), want %s", err, code, wavedr.EFORBIDDEN)
	}
	_, err = c.DescribeSourceServers(ctx, wrong, nil)
	if code := wavedr.ErrorCode(err); code != wavedr.EFORBIDDEN {
		t.Fatalf("describe with a wrong external ID: %v (code %q), want %s", err, code, wavedr.EFORBIDDEN)
	}
}
