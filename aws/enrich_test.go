package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	"wavedr"
	"wavedr/sim"
)

func TestEnrich(t *testing.T) {
	ctx := context.Background()
	s, clock := newSim(t, sim.Config{})
	c := newClient(t, s, nil)
	ids := healthyIDs(t, c, local, 5)
	jobIDs, err := launchAll(ctx, c, clock, local, ids, 2)
	if err != nil {
		t.Fatal(err)
	}

	// Hide the EC2 instance of the first server.
	if err := s.AddFault(sim.Fault{Kind: sim.FaultHideInstance, Instances: ids[:1]}); err != nil {
		t.Fatal(err)
	}
	s.ResetStats()
	res, err := c.Enrich(ctx, local, append(jobIDs, "drsjob-00000000000000000"), wavedr.EnrichOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != len(jobIDs) || len(res.Missing) != 1 || res.Missing[0] != "drsjob-00000000000000000" {
		t.Fatalf("jobs %d, missing %v", len(res.Jobs), res.Missing)
	}
	for i, j := range res.Jobs {
		if j.ID != jobIDs[i] {
			t.Errorf("jobs[%d] = %s, want %s (request order)", i, j.ID, jobIDs[i])
		}
	}
	if len(res.Servers) != 5 {
		t.Fatalf("%d servers, want 5", len(res.Servers))
	}
	for _, d := range res.Servers {
		if d.SourceServerID == "" || d.JobID == "" || d.Hostname == "" || d.SourceIP == "" || d.ReplicationState == "" || d.Tags["Tier"] == "" ||
			d.LaunchStatus != wavedr.LaunchLaunched || d.RecoveryInstanceID == "" || d.EC2InstanceID == "" || !d.IsDrill {
			t.Errorf("server detail incomplete: %+v", d)
		}
		hidden := d.SourceServerID == ids[0]
		if hidden {
			if d.InstanceType != "" || d.PrivateIP != "" || !d.LaunchTime.IsZero() || len(d.Missing) != 1 || !strings.Contains(d.Missing[0], d.EC2InstanceID) {
				t.Errorf("hidden instance: %+v, want EC2 fields empty and one reason", d)
			}
			continue
		}
		if d.InstanceType == "" || d.PrivateIP == "" || d.PrivateDNS == "" || d.LaunchTime.IsZero() || d.InstanceState == "" || len(d.Missing) != 0 {
			t.Errorf("server detail incomplete: %+v", d)
		}
	}
	for op, want := range map[string]int64{"drs:DescribeJobs": 1, "drs:DescribeRecoveryInstances": 1, "ec2:DescribeInstances": 1, "drs:DescribeSourceServers": 1} {
		if got := calls(s, op); got != want {
			t.Errorf("%s: %d calls, want %d", op, got, want)
		}
	}
}

// Before any server launched there is nothing to ask of recovery instances
// or EC2.
func TestEnrichSkipsEmptyLookups(t *testing.T) {
	ctx := context.Background()
	s, _ := newSim(t, sim.Config{})
	c := newClient(t, s, nil)
	ids := healthyIDs(t, c, local, 2)
	job, err := c.StartRecovery(ctx, local, wavedr.StartRecoveryInput{SourceServerIDs: ids, IsDrill: true})
	if err != nil {
		t.Fatal(err)
	}
	s.ResetStats()
	res, err := c.Enrich(ctx, local, []string{job.ID}, wavedr.EnrichOptions{})
	if err != nil || len(res.Servers) != 2 {
		t.Fatalf("Enrich: %+v, %v", res, err)
	}
	for _, d := range res.Servers {
		if d.Hostname == "" || d.EC2InstanceID != "" || len(d.Missing) != 0 {
			t.Errorf("pending server: %+v", d)
		}
	}
	if calls(s, "drs:DescribeRecoveryInstances") != 0 || calls(s, "ec2:DescribeInstances") != 0 {
		t.Errorf("lookups with nothing to ask: %v", s.Stats())
	}
	empty, err := c.Enrich(ctx, local, nil, wavedr.EnrichOptions{})
	if err != nil || len(empty.Jobs) != 0 || len(empty.Servers) != 0 {
		t.Errorf("Enrich of no jobs: %+v, %v", empty, err)
	}
}

// A failing EC2 lookup leaves the EC2 fields empty with the reason; what
// DRS said is still returned.
func TestEnrichDegradesOnLookupFailure(t *testing.T) {
	ctx := context.Background()
	s, clock := newSim(t, sim.Config{})
	c := newClient(t, s, func(c *Config) { c.MaxAttempts = 1 })
	ids := healthyIDs(t, c, local, 2)
	jobIDs, err := launchAll(ctx, c, clock, local, ids, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddFault(sim.Fault{Kind: sim.FaultError, Op: "ec2:DescribeInstances"}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Enrich(ctx, local, jobIDs, wavedr.EnrichOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range res.Servers {
		if d.Hostname == "" || d.EC2InstanceID == "" || d.InstanceType != "" || len(d.Missing) != 1 || !strings.Contains(d.Missing[0], "DescribeInstances") {
			t.Errorf("degraded server: %+v", d)
		}
	}
}

// launchFleet launches all n servers of a fresh simulator in jobs of 100
// and waits for the jobs to complete.
func launchFleet(tb testing.TB, n int) (*sim.Simulator, *Client, []string) {
	s, clock := newSim(tb, sim.Config{Servers: n})
	c := newClient(tb, s, nil)
	jobIDs, err := launchAll(context.Background(), c, clock, local, sourceIDs(tb, c, local), wavedr.MaxServersPerJob)
	if err != nil {
		tb.Fatal(err)
	}
	clock.Advance(time.Hour)
	return s, c, jobIDs
}

// enrichCalls makes one Enrich over jobIDs and returns the calls it took
// per operation, with the numbers of participating servers and of those
// with a recovery instance.
func enrichCalls(tb testing.TB, s *sim.Simulator, c *Client, jobIDs []string) (stats map[string]int64, res *wavedr.Enrichment, instances int) {
	s.ResetStats()
	res, err := c.Enrich(context.Background(), local, jobIDs, wavedr.EnrichOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, d := range res.Servers {
		if d.RecoveryInstanceID != "" {
			instances++
		}
	}
	stats = map[string]int64{}
	for op, st := range s.Stats() {
		stats[op] = st.Calls
	}
	return stats, res, instances
}

func ceilDiv(a, b int) int64 { return int64((a + b - 1) / b) }

func TestEnrichCallCounts1000(t *testing.T) {
	s, c, jobIDs := launchFleet(t, 1000)
	stats, res, instances := enrichCalls(t, s, c, jobIDs)
	jobs, servers := len(res.Jobs), len(res.Servers)
	if jobs != 10 || servers != 1000 || instances < 800 {
		t.Fatalf("%d jobs, %d servers, %d recovery instances; want 10, 1000 and most launched", jobs, servers, instances)
	}
	want := map[string]int64{
		"drs:DescribeJobs":              ceilDiv(jobs, 1000),
		"drs:DescribeRecoveryInstances": ceilDiv(instances, 200),
		"ec2:DescribeInstances":         ceilDiv(instances, 1000),
		"drs:DescribeSourceServers":     ceilDiv(servers, 200),
	}
	for op, w := range want {
		if stats[op] != w {
			t.Errorf("%s: %d calls, want %d", op, stats[op], w)
		}
	}
	if len(stats) != len(want) {
		t.Errorf("calls beyond the four lookups: %v", stats)
	}
	t.Logf("1000 servers, %d recovery instances: %v", instances, stats)
}

// BenchmarkEnrich1000 times one Enrich over 1,000 launched servers in ten
// jobs and reports its calls per batch of items.
func BenchmarkEnrich1000(b *testing.B) {
	s, c, jobIDs := launchFleet(b, 1000)
	var stats map[string]int64
	var res *wavedr.Enrichment
	var instances int
	for b.Loop() {
		stats, res, instances = enrichCalls(b, s, c, jobIDs)
	}
	per := func(op string, items, batch int) float64 {
		return float64(stats[op]) * float64(batch) / float64(max(items, 1))
	}
	b.ReportMetric(per("drs:DescribeJobs", len(res.Jobs), 1000), "DescribeJobs/1000jobs")
	b.ReportMetric(per("drs:DescribeRecoveryInstances", instances, 200), "DescribeRecoveryInstances/200servers")
	b.ReportMetric(per("ec2:DescribeInstances", instances, 1000), "EC2calls/1000instances")
	b.ReportMetric(per("drs:DescribeSourceServers", len(res.Servers), 200), "DescribeSourceServers/200servers")
	var total int64
	for _, n := range stats {
		total += n
	}
	b.ReportMetric(float64(total), "calls/enrich")
}

// Without the source servers, an Enrich makes no DescribeSourceServers call
// and still reports every job, launch status and instance.
func TestEnrichSkipSourceServers(t *testing.T) {
	s, c, jobIDs := launchFleet(t, 150)
	s.ResetStats()
	res, err := c.Enrich(context.Background(), local, jobIDs, wavedr.EnrichOptions{SkipSourceServers: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Stats()["drs:DescribeSourceServers"].Calls; n != 0 {
		t.Errorf("DescribeSourceServers called %d times", n)
	}
	if len(res.Jobs) != len(jobIDs) || len(res.Servers) == 0 {
		t.Fatalf("%d jobs, %d servers", len(res.Jobs), len(res.Servers))
	}
	for _, d := range res.Servers {
		if d.Hostname != "" {
			t.Fatalf("server %s has a hostname without its source server", d.SourceServerID)
		}
		if d.LaunchStatus == wavedr.LaunchLaunched && (d.EC2InstanceID == "" || d.InstanceType == "") {
			t.Fatalf("launched server %s lacks its instance: %+v", d.SourceServerID, d)
		}
	}
}
