package sim_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/drs"
	drstypes "github.com/aws/aws-sdk-go-v2/service/drs/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"wavedr/sim"
)

// "Wave 1 finishes in minutes, wave 3 is slow."
func TestSlowLaunchFault(t *testing.T) {
	e := newEnv(t, sim.Config{Faults: []sim.Fault{{Kind: sim.FaultSlowLaunch, Servers: []string{"web-01"}, Factor: 10}}})
	fast := e.start(true, nil, "db-01")
	slow := e.start(true, nil, "web-01")
	e.clock.Advance(15 * time.Minute)
	if st := e.job(*fast.JobID).Status; st != drstypes.JobStatusCompleted {
		t.Errorf("fast job after 15 min: %s", st)
	}
	if st := e.job(*slow.JobID).Status; st != drstypes.JobStatusStarted {
		t.Errorf("slow job after 15 min: %s", st)
	}
	done := e.finish(*slow.JobID)
	start, _ := time.Parse(time.RFC3339, *done.CreationDateTime)
	end, _ := time.Parse(time.RFC3339, *done.EndDateTime)
	if end.Sub(start) < 40*time.Minute {
		t.Errorf("slow launch took %v", end.Sub(start))
	}
}

func TestFailLaunchFault(t *testing.T) {
	e := newEnv(t, sim.Config{})
	id := *e.servers()["app-01"].SourceServerID
	e.sim.AddFault(sim.Fault{Kind: sim.FaultFailLaunch, Servers: []string{id}, RawError: "boom: no capacity"})
	j := e.start(true, nil, "app-01", "app-03")
	done := e.finish(*j.JobID)
	if st := status(done); st[id] != drstypes.LaunchStatusFailed || st[*e.servers()["app-03"].SourceServerID] != drstypes.LaunchStatusLaunched {
		t.Errorf("outcome %v", st)
	}
	var raw string
	for _, it := range e.log(*j.JobID) {
		if it.Event == drstypes.JobLogEventLaunchFailed && *it.EventData.SourceServerID == id {
			raw = aws.ToString(it.EventData.RawError)
		}
	}
	if raw != "boom: no capacity" {
		t.Errorf("rawError %q", raw)
	}
	if s := e.servers()["app-01"]; s.LastLaunchResult != drstypes.LastLaunchResultFailed {
		t.Errorf("lastLaunchResult %s", s.LastLaunchResult)
	}
}

func TestHideInstanceFault(t *testing.T) {
	e := newEnv(t, sim.Config{})
	e.sim.AddFault(sim.Fault{Kind: sim.FaultHideInstance, Instances: []string{"db-03"}})
	ids := e.launched("db-03", "web-03")
	_, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{ids["db-03"]}})
	if apiCode(t, err) != "InvalidInstanceID.NotFound" {
		t.Errorf("hidden by ID: %v", err)
	}
	out, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("instance-id"), Values: []string{ids["db-03"], ids["web-03"]}},
	}})
	if got := instanceIDs(out); err != nil || len(got) != 1 || got[0] != ids["web-03"] {
		t.Errorf("hidden by filter: %v %v", got, err)
	}
	// DRS still knows the recovery instance.
	ris, _ := e.drs.DescribeRecoveryInstances(e.ctx, &drs.DescribeRecoveryInstancesInput{})
	if len(ris.Items) != 2 {
		t.Errorf("recovery instances %d", len(ris.Items))
	}
	e.sim.ClearFaults()
	if _, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{ids["db-03"]}}); err != nil {
		t.Errorf("after clearing: %v", err)
	}

	// Hidden only for a while after launch: eventual consistency.
	e.sim.AddFault(sim.Fault{Kind: sim.FaultHideInstance, Instances: []string{"app-04"}, For: sim.Duration(20 * time.Minute)})
	j := e.start(true, nil, "app-04")
	e.finish(*j.JobID)
	filter := &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{"app-04"}}}}
	if out, _ := e.ec2.DescribeInstances(e.ctx, filter); len(out.Reservations) != 0 {
		t.Errorf("app-04 visible right after launch")
	}
	e.clock.Advance(20 * time.Minute)
	if out, _ := e.ec2.DescribeInstances(e.ctx, filter); len(out.Reservations) != 1 {
		t.Errorf("app-04 still hidden after 20 minutes")
	}
}

// The same seed throttles the same calls; the fraction is close to asked.
func TestThrottleFractionIsDeterministic(t *testing.T) {
	pattern := func() string {
		e := newEnv(t, sim.Config{Seed: 3, Faults: []sim.Fault{{Kind: sim.FaultThrottle, Op: "drs:DescribeJobs", Rate: 0.3}}})
		var b strings.Builder
		for range 100 {
			_, err := e.drs.DescribeJobs(e.ctx, &drs.DescribeJobsInput{})
			var te *drstypes.ThrottlingException
			switch {
			case errors.As(err, &te):
				b.WriteByte('T')
			case err == nil:
				b.WriteByte('.')
			default:
				t.Fatal(err)
			}
		}
		if st := e.sim.Stats()["drs:DescribeJobs"]; st.Calls != 100 || st.Throttled+st.OK != 100 {
			t.Errorf("stats %+v", st)
		}
		return b.String()
	}
	a, b := pattern(), pattern()
	if a != b {
		t.Errorf("same seed, different throttling:\n%s\n%s", a, b)
	}
	if n := strings.Count(a, "T"); n < 25 || n > 35 {
		t.Errorf("%d of 100 throttled at rate 0.3: %s", n, a)
	}
}

func TestLatencyHonoursContext(t *testing.T) {
	e := newEnv(t, sim.Config{Faults: []sim.Fault{{Kind: sim.FaultLatency, Op: "drs:DescribeJobs", Latency: sim.Duration(time.Hour)}}})
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	_, err := e.drs.DescribeJobs(ctx, &drs.DescribeJobsInput{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	// Cancelled while waiting out the latency.
	ctx, cancel = context.WithCancel(e.ctx)
	time.AfterFunc(10*time.Millisecond, cancel)
	req, _ := http.NewRequestWithContext(ctx, "POST", e.sim.Endpoint()+"/DescribeJobs", strings.NewReader("{}"))
	if _, err := e.sim.HTTPClient().Do(req); !errors.Is(err, context.Canceled) {
		t.Errorf("raw request: %v", err)
	}
}

func TestFaultValidation(t *testing.T) {
	e := newEnv(t, sim.Config{})
	for _, f := range []sim.Fault{
		{Kind: "explode"},
		{Kind: sim.FaultThrottle, Rate: 1.5},
		{Kind: sim.FaultThrottle, Op: "DescribeJobs"},
		{Kind: sim.FaultLatency},
		{Kind: sim.FaultFailLaunch},
		{Kind: sim.FaultHideInstance},
	} {
		var fe *sim.FieldError
		if err := e.sim.AddFault(f); !errors.As(err, &fe) {
			t.Errorf("AddFault(%+v) = %v, want a FieldError", f, err)
		}
	}
	if len(e.sim.Faults()) != 0 {
		t.Errorf("invalid faults were added: %+v", e.sim.Faults())
	}
}

// Concurrent callers; run with -race.
func TestConcurrentRequests(t *testing.T) {
	e := newEnv(t, sim.Config{Servers: 40})
	var ids []drstypes.StartRecoveryRequestSourceServer
	for _, s := range e.servers() {
		ids = append(ids, drstypes.StartRecoveryRequestSourceServer{SourceServerID: s.SourceServerID})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	started := 0
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.drs.StartRecovery(e.ctx, &drs.StartRecoveryInput{SourceServers: ids[i*2 : i*2+2], IsDrill: aws.Bool(true)})
			if err == nil {
				mu.Lock()
				started++
				mu.Unlock()
			}
			e.drs.DescribeJobs(e.ctx, &drs.DescribeJobsInput{})
			e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{})
			e.clock.Advance(time.Second)
		}()
	}
	wg.Wait()
	out, _ := e.drs.DescribeJobs(e.ctx, &drs.DescribeJobsInput{})
	if started != 20 || len(out.Items) != 20 {
		t.Errorf("%d started, %d jobs", started, len(out.Items))
	}
}
