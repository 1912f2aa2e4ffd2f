package sim_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/drs"
	drstypes "github.com/aws/aws-sdk-go-v2/service/drs/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"wavedr/sim"
)

// env is a simulator on a manual clock with SDK clients wired to it
// in-process.
type env struct {
	t     *testing.T
	sim   *sim.Simulator
	clock *sim.ManualClock
	drs   *drs.Client
	ec2   *ec2.Client
	sts   *sts.Client
	ctx   context.Context
}

func newEnv(t *testing.T, cfg sim.Config) *env {
	t.Helper()
	clock := sim.NewManualClock(time.Time{})
	cfg.Clock = clock
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatalf("sim.New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	e := &env{t: t, sim: s, clock: clock, ctx: context.Background()}
	e.drs, e.ec2, e.sts = e.clients(sim.LocalRegion, credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""))
	return e
}

// awsConfig returns an SDK configuration that talks to the simulator
// in-process and never retries, so that errors surface at once.
func (e *env) awsConfig(region string, creds aws.CredentialsProvider) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  creds,
		HTTPClient:   e.sim.HTTPClient(),
		BaseEndpoint: aws.String(e.sim.Endpoint()),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

func (e *env) clients(region string, creds aws.CredentialsProvider) (*drs.Client, *ec2.Client, *sts.Client) {
	cfg := e.awsConfig(region, creds)
	return drs.NewFromConfig(cfg), ec2.NewFromConfig(cfg), sts.NewFromConfig(cfg)
}

// servers returns the local fleet by hostname.
func (e *env) servers() map[string]drstypes.SourceServer {
	e.t.Helper()
	out := map[string]drstypes.SourceServer{}
	p := drs.NewDescribeSourceServersPaginator(e.drs, &drs.DescribeSourceServersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(e.ctx)
		if err != nil {
			e.t.Fatalf("DescribeSourceServers: %v", err)
		}
		for _, s := range page.Items {
			out[*s.SourceProperties.IdentificationHints.Hostname] = s
		}
	}
	return out
}

func (e *env) ids(hosts ...string) []drstypes.StartRecoveryRequestSourceServer {
	e.t.Helper()
	all := e.servers()
	var out []drstypes.StartRecoveryRequestSourceServer
	for _, h := range hosts {
		s, ok := all[h]
		if !ok {
			e.t.Fatalf("no server %s", h)
		}
		out = append(out, drstypes.StartRecoveryRequestSourceServer{SourceServerID: s.SourceServerID})
	}
	return out
}

func (e *env) start(isDrill bool, tags map[string]string, hosts ...string) *drstypes.Job {
	e.t.Helper()
	out, err := e.drs.StartRecovery(e.ctx, &drs.StartRecoveryInput{SourceServers: e.ids(hosts...), IsDrill: aws.Bool(isDrill), Tags: tags})
	if err != nil {
		e.t.Fatalf("StartRecovery(%v): %v", hosts, err)
	}
	return out.Job
}

func (e *env) job(id string) drstypes.Job {
	e.t.Helper()
	out, err := e.drs.DescribeJobs(e.ctx, &drs.DescribeJobsInput{Filters: &drstypes.DescribeJobsRequestFilters{JobIDs: []string{id}}})
	if err != nil {
		e.t.Fatalf("DescribeJobs: %v", err)
	}
	if len(out.Items) != 1 {
		e.t.Fatalf("DescribeJobs(%s) returned %d jobs", id, len(out.Items))
	}
	return out.Items[0]
}

func (e *env) log(id string) []drstypes.JobLog {
	e.t.Helper()
	var items []drstypes.JobLog
	p := drs.NewDescribeJobLogItemsPaginator(e.drs, &drs.DescribeJobLogItemsInput{JobID: aws.String(id), MaxResults: aws.Int32(3)})
	for p.HasMorePages() {
		page, err := p.NextPage(e.ctx)
		if err != nil {
			e.t.Fatalf("DescribeJobLogItems: %v", err)
		}
		items = append(items, page.Items...)
	}
	return items
}

// finish advances the clock until the job is COMPLETED (a bounded number
// of simulated minutes).
func (e *env) finish(id string) drstypes.Job {
	e.t.Helper()
	for range 600 {
		j := e.job(id)
		if j.Status == drstypes.JobStatusCompleted {
			return j
		}
		e.clock.Advance(time.Minute)
	}
	e.t.Fatalf("job %s did not complete in 10 simulated hours", id)
	return drstypes.Job{}
}

func status(j drstypes.Job) map[string]drstypes.LaunchStatus {
	out := map[string]drstypes.LaunchStatus{}
	for _, p := range j.ParticipatingServers {
		out[*p.SourceServerID] = p.LaunchStatus
	}
	return out
}

func apiCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not a smithy.APIError", err, err)
	}
	return ae.ErrorCode()
}
