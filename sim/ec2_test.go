package sim_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/drs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"wavedr/sim"
)

// launched starts a drill of the hosts, lets it finish and returns the EC2
// instance IDs by hostname.
func (e *env) launched(hosts ...string) map[string]string {
	e.t.Helper()
	j := e.start(true, nil, hosts...)
	e.finish(*j.JobID)
	fleet := e.servers()
	ris, err := e.drs.DescribeRecoveryInstances(e.ctx, &drs.DescribeRecoveryInstancesInput{})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, h := range hosts {
		for _, ri := range ris.Items {
			if *ri.SourceServerID == *fleet[h].SourceServerID {
				out[h] = *ri.Ec2InstanceID
			}
		}
	}
	return out
}

func instanceIDs(out *ec2.DescribeInstancesOutput) []string {
	var ids []string
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			ids = append(ids, *in.InstanceId)
		}
	}
	slices.Sort(ids)
	return ids
}

func TestDescribeInstances(t *testing.T) {
	e := newEnv(t, sim.Config{})
	ids := e.launched("db-01", "db-02", "app-01", "app-03", "web-01", "web-02", "web-03")
	all := make([]string, 0, len(ids))
	for _, id := range ids {
		all = append(all, id)
	}
	slices.Sort(all)

	// One unknown ID fails the whole call.
	_, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{ids["db-01"], "i-0123456789abcdef0"}})
	if code := apiCode(t, err); code != "InvalidInstanceID.NotFound" {
		t.Errorf("unknown ID: %v", err)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorMessage() != "The instance ID 'i-0123456789abcdef0' does not exist" {
		t.Errorf("message %q", ae.ErrorMessage())
	}
	// A filter returns what exists.
	out, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("instance-id"), Values: []string{ids["db-01"], "i-0123456789abcdef0"}},
	}})
	if err != nil || !slices.Equal(instanceIDs(out), []string{ids["db-01"]}) {
		t.Errorf("instance-id filter: %v %v", instanceIDs(out), err)
	}
	out, err = e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:Tier"), Values: []string{"web"}},
		{Name: aws.String("instance-state-name"), Values: []string{"running", "pending"}},
	}})
	want := []string{ids["web-01"], ids["web-02"], ids["web-03"]}
	slices.Sort(want)
	if err != nil || !slices.Equal(instanceIDs(out), want) {
		t.Errorf("tag:Tier=web filter: %v %v", instanceIDs(out), err)
	}
	out, _ = e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{"app-*"}}}})
	if len(instanceIDs(out)) != 2 {
		t.Errorf("tag:Name=app-* gave %v", instanceIDs(out))
	}
	_, err = e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("flavour"), Values: []string{"x"}}}})
	if apiCode(t, err) != "InvalidParameterValue" {
		t.Errorf("unknown filter: %v", err)
	}
	// MaxResults cannot go with instance IDs.
	_, err = e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{ids["db-01"]}, MaxResults: aws.Int32(5)})
	if apiCode(t, err) != "InvalidParameterCombination" {
		t.Errorf("MaxResults with IDs: %v", err)
	}
	// Pagination: 7 instances in pages of 5.
	var got []string
	pages := 0
	p := ec2.NewDescribeInstancesPaginator(e.ec2, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		page, err := p.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, instanceIDs(page)...)
	}
	slices.Sort(got)
	if pages != 2 || !slices.Equal(got, all) {
		t.Errorf("%d pages, %v, want %v", pages, got, all)
	}
}

func TestDescribeInstanceStatus(t *testing.T) {
	e := newEnv(t, sim.Config{})
	ids := e.launched("db-01")
	out, err := e.ec2.DescribeInstanceStatus(e.ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{ids["db-01"]}})
	if err != nil || len(out.InstanceStatuses) != 1 {
		t.Fatalf("%v %v", out, err)
	}
	st := out.InstanceStatuses[0]
	if *st.InstanceId != ids["db-01"] || st.InstanceState.Name != ec2types.InstanceStateNameRunning || *st.AvailabilityZone != "us-east-1a" {
		t.Errorf("status %+v", st)
	}
	e.clock.Advance(10 * time.Minute)
	out, _ = e.ec2.DescribeInstanceStatus(e.ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{ids["db-01"]}})
	if out.InstanceStatuses[0].InstanceStatus.Status != ec2types.SummaryStatusOk {
		t.Errorf("after 10 minutes: %s", out.InstanceStatuses[0].InstanceStatus.Status)
	}
	_, err = e.ec2.DescribeInstanceStatus(e.ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	if apiCode(t, err) != "InvalidInstanceID.NotFound" {
		t.Errorf("unknown ID: %v", err)
	}
	out, _ = e.ec2.DescribeInstanceStatus(e.ctx, &ec2.DescribeInstanceStatusInput{IncludeAllInstances: aws.Bool(true)})
	if len(out.InstanceStatuses) != 1 {
		t.Errorf("IncludeAllInstances: %d", len(out.InstanceStatuses))
	}
}

func TestEC2Throttling(t *testing.T) {
	e := newEnv(t, sim.Config{})
	e.sim.AddFault(sim.Fault{Kind: sim.FaultThrottle, Op: "ec2:*"})
	_, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{})
	if apiCode(t, err) != "RequestLimitExceeded" {
		t.Errorf("got %v", err)
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() != 503 {
		t.Errorf("status %d, want 503", re.HTTPStatusCode())
	}
	if st := e.sim.Stats()["ec2:DescribeInstances"]; st.Throttled != 1 {
		t.Errorf("stats %+v", st)
	}
}
