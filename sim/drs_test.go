package sim_test

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/drs"
	drstypes "github.com/aws/aws-sdk-go-v2/service/drs/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"wavedr"
	"wavedr/sim"
)

var (
	sourceIDRE = regexp.MustCompile(`^s-[0-9a-f]{17}$`)
	jobIDRE    = regexp.MustCompile(`^drsjob-[0-9a-z]{17}$`)
	ec2IDRE    = regexp.MustCompile(`^i-[0-9a-f]{17}$`)
)

func TestDefaultFleet(t *testing.T) {
	e := newEnv(t, sim.Config{Seed: 1})
	// Three pages of five, five and two.
	var pages [][]drstypes.SourceServer
	p := drs.NewDescribeSourceServersPaginator(e.drs, &drs.DescribeSourceServersInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		page, err := p.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, page.Items)
	}
	if len(pages) != 3 || len(pages[0]) != 5 || len(pages[2]) != 2 {
		t.Fatalf("pages of %v, want 5, 5, 2", lens(pages))
	}
	fleet := e.servers()
	want := map[string]struct {
		tier, state, typ string
	}{
		"db-01": {"db", "CONTINUOUS", "r6i.2xlarge"}, "db-02": {"db", "CONTINUOUS", "r6i.2xlarge"}, "db-03": {"db", "CONTINUOUS", "r6i.2xlarge"},
		"app-01": {"app", "CONTINUOUS", "m6i.xlarge"}, "app-02": {"app", "BACKLOG", "m6i.xlarge"},
		"app-03": {"app", "CONTINUOUS", "m6i.xlarge"}, "app-04": {"app", "CONTINUOUS", "m6i.xlarge"},
		"web-01": {"web", "CONTINUOUS", "t3.medium"}, "web-02": {"web", "CONTINUOUS", "t3.medium"}, "web-03": {"web", "CONTINUOUS", "t3.medium"},
		"legacy-01": {"legacy", "STALLED", "m5.large"}, "legacy-02": {"legacy", "INITIAL_SYNC", "m5.large"},
	}
	if len(fleet) != len(want) {
		t.Fatalf("fleet has %d servers, want %d", len(fleet), len(want))
	}
	for host, w := range want {
		s, ok := fleet[host]
		if !ok {
			t.Errorf("no server %s", host)
			continue
		}
		id := *s.SourceServerID
		if !sourceIDRE.MatchString(id) {
			t.Errorf("%s: ID %q", host, id)
		}
		if got := *s.Arn; got != "arn:aws:drs:us-east-1:111111111111:source-server/"+id {
			t.Errorf("%s: ARN %q", host, got)
		}
		wantTags := map[string]string{"Tier": w.tier, "Application": "shop", "Environment": "production", "Name": host}
		if fmt.Sprint(s.Tags) != fmt.Sprint(wantTags) {
			t.Errorf("%s: tags %v, want %v", host, s.Tags, wantTags)
		}
		if got := string(s.DataReplicationInfo.DataReplicationState); got != w.state {
			t.Errorf("%s: replication %s, want %s", host, got, w.state)
		}
		sp := s.SourceProperties
		if *sp.IdentificationHints.Fqdn != host+".shop.internal" || *sp.RecommendedInstanceType != w.typ ||
			len(sp.NetworkInterfaces) != 1 || !strings.HasPrefix(sp.NetworkInterfaces[0].Ips[0], "10.0.") ||
			sp.RamBytes == 0 || len(sp.Cpus) == 0 || sp.Os.FullString == nil || len(sp.Disks) == 0 {
			t.Errorf("%s: source properties %+v", host, sp)
		}
		if s.LastLaunchResult != drstypes.LastLaunchResultNotStarted || s.RecoveryInstanceId != nil {
			t.Errorf("%s: last launch %s, recovery instance %v", host, s.LastLaunchResult, s.RecoveryInstanceId)
		}
		if _, err := time.Parse(time.RFC3339, *s.LifeCycle.AddedToServiceDateTime); err != nil {
			t.Errorf("%s: addedToServiceDateTime: %v", host, err)
		}
	}
	if lag := *fleet["app-02"].DataReplicationInfo.LagDuration; lag == "" || lag == "P0D" {
		t.Errorf("app-02 lag %q, want a lag", lag)
	}
	if ip := fleet["db-01"].SourceProperties.NetworkInterfaces[0].Ips[0]; ip != "10.0.1.11" {
		t.Errorf("db-01 IP %s", ip)
	}

	// Filter by ID.
	out, err := e.drs.DescribeSourceServers(e.ctx, &drs.DescribeSourceServersInput{
		Filters: &drstypes.DescribeSourceServersRequestFilters{SourceServerIDs: []string{*fleet["web-02"].SourceServerID}},
	})
	if err != nil || len(out.Items) != 1 || *out.Items[0].SourceProperties.IdentificationHints.Hostname != "web-02" {
		t.Fatalf("filter by ID: %v %v", out, err)
	}
}

func lens[T any](pages [][]T) []int {
	var n []int
	for _, p := range pages {
		n = append(n, len(p))
	}
	return n
}

func TestDeterminism(t *testing.T) {
	fleet := func(seed int64) string {
		e := newEnv(t, sim.Config{Seed: seed})
		var b strings.Builder
		for _, h := range []string{"db-01", "app-03", "web-02", "legacy-02"} {
			s := e.servers()[h]
			fmt.Fprintf(&b, "%s %s %s %s|", h, *s.SourceServerID, s.SourceProperties.NetworkInterfaces[0].Ips[0], *s.SourceProperties.NetworkInterfaces[0].MacAddress)
		}
		j := e.start(true, nil, "db-01")
		e.finish(*j.JobID)
		ri, _ := e.drs.DescribeRecoveryInstances(e.ctx, &drs.DescribeRecoveryInstancesInput{})
		fmt.Fprintf(&b, "%s %s %s", *j.JobID, *ri.Items[0].RecoveryInstanceID, *ri.Items[0].Ec2InstanceID)
		return b.String()
	}
	a, b, c := fleet(7), fleet(7), fleet(8)
	if a != b {
		t.Errorf("same seed, different fleets:\n%s\n%s", a, b)
	}
	if a == c {
		t.Errorf("different seeds, same fleet: %s", a)
	}
}

func TestFleetSizes(t *testing.T) {
	for _, n := range []int{1, 4, 6, 12, 24, 50} {
		e := newEnv(t, sim.Config{Servers: n})
		tiers := map[string]int{}
		for _, s := range e.servers() {
			tiers[s.Tags["Tier"]]++
		}
		total := 0
		for _, c := range tiers {
			total += c
		}
		if total != n {
			t.Errorf("servers=%d: got %d servers %v", n, total, tiers)
		}
		if n >= 4 && len(tiers) != 4 {
			t.Errorf("servers=%d: tiers %v, want all four", n, tiers)
		}
		if n == 24 && (tiers["db"] != 6 || tiers["app"] != 8 || tiers["web"] != 6 || tiers["legacy"] != 4) {
			t.Errorf("servers=24: tiers %v, want 6/8/6/4", tiers)
		}
	}
}

func TestLaunchLifecycle(t *testing.T) {
	e := newEnv(t, sim.Config{Seed: 1})
	fleet := e.servers()
	id := func(h string) string { return *fleet[h].SourceServerID }
	tags := map[string]string{wavedr.TagExecution: "exec-1", wavedr.TagWave: "db", wavedr.TagChunk: "0"}
	created := e.clock.Now()
	j := e.start(true, tags, "db-01", "app-02", "legacy-01", "legacy-02")

	if !jobIDRE.MatchString(*j.JobID) || *j.Arn != "arn:aws:drs:us-east-1:111111111111:job/"+*j.JobID {
		t.Errorf("job ID %q ARN %q", *j.JobID, *j.Arn)
	}
	if j.Status != drstypes.JobStatusPending || j.Type != drstypes.JobTypeLaunch || j.InitiatedBy != drstypes.InitiatedByStartDrill {
		t.Errorf("new job: status %s type %s initiatedBy %s", j.Status, j.Type, j.InitiatedBy)
	}
	if ct, err := time.Parse(time.RFC3339, *j.CreationDateTime); err != nil || !ct.Equal(created) {
		t.Errorf("creationDateTime %q (%v), want %v", *j.CreationDateTime, err, created)
	}
	if j.EndDateTime != nil || len(j.ParticipatingServers) != 4 || fmt.Sprint(j.Tags) != fmt.Sprint(tags) {
		t.Errorf("new job: end %v servers %d tags %v", j.EndDateTime, len(j.ParticipatingServers), j.Tags)
	}
	for _, p := range j.ParticipatingServers {
		if p.LaunchStatus != drstypes.LaunchStatusPending || p.RecoveryInstanceID != nil {
			t.Errorf("new job: server %s %s %v", *p.SourceServerID, p.LaunchStatus, p.RecoveryInstanceID)
		}
	}
	// Source servers show the launch as pending.
	if s := e.servers()["db-01"]; s.LastLaunchResult != drstypes.LastLaunchResultPending || *s.LifeCycle.LastLaunch.Initiated.JobID != *j.JobID ||
		s.LifeCycle.LastLaunch.Initiated.Type != drstypes.LastLaunchTypeDrill {
		t.Errorf("db-01 during launch: %s %+v", s.LastLaunchResult, s.LifeCycle.LastLaunch)
	}

	e.clock.Advance(45 * time.Second)
	got := e.job(*j.JobID)
	if got.Status != drstypes.JobStatusStarted {
		t.Errorf("after 45s: status %s", got.Status)
	}
	for sid, st := range status(got) {
		if st != drstypes.LaunchStatusInProgress {
			t.Errorf("after 45s: %s %s", sid, st)
		}
	}

	got = e.finish(*j.JobID)
	end, err := time.Parse(time.RFC3339, aws.ToString(got.EndDateTime))
	if err != nil || !end.After(created.Add(4*time.Minute)) {
		t.Errorf("endDateTime %v (%v): a launch takes minutes", got.EndDateTime, err)
	}
	want := map[string]drstypes.LaunchStatus{
		id("db-01"): drstypes.LaunchStatusLaunched, id("app-02"): drstypes.LaunchStatusLaunched,
		id("legacy-01"): drstypes.LaunchStatusLaunched, id("legacy-02"): drstypes.LaunchStatusFailed,
	}
	if fmt.Sprint(status(got)) != fmt.Sprint(want) {
		t.Errorf("outcome %v, want %v", status(got), want)
	}

	// The log: per server, in order.
	events := map[string][]string{}
	var rawError, target string
	logItems := e.log(*j.JobID)
	for _, it := range logItems {
		sid := ""
		if it.EventData != nil {
			sid = aws.ToString(it.EventData.SourceServerID)
			if it.Event == drstypes.JobLogEventLaunchFailed && sid == id("legacy-02") {
				rawError = aws.ToString(it.EventData.RawError)
			}
			if it.Event == drstypes.JobLogEventLaunchStart && sid == id("db-01") {
				target = aws.ToString(it.EventData.TargetInstanceID)
			}
		}
		events[sid] = append(events[sid], string(it.Event))
	}
	if first, last := logItems[0].Event, logItems[len(logItems)-1].Event; first != "JOB_START" || last != "JOB_END" {
		t.Errorf("log runs from %s to %s", first, last)
	}
	wantEvents := map[string]string{
		"db-01":     "SNAPSHOT_START SNAPSHOT_END CONVERSION_START CONVERSION_END LAUNCH_START",
		"app-02":    "SNAPSHOT_START SNAPSHOT_END CONVERSION_START CONVERSION_END LAUNCH_START",
		"legacy-01": "USING_PREVIOUS_SNAPSHOT CONVERSION_START CONVERSION_END LAUNCH_START",
		"legacy-02": "SNAPSHOT_START SNAPSHOT_FAIL LAUNCH_FAILED",
	}
	for h, w := range wantEvents {
		if g := strings.Join(events[id(h)], " "); g != w {
			t.Errorf("%s events %q, want %q", h, g, w)
		}
	}
	if rawError == "" {
		t.Error("LAUNCH_FAILED of legacy-02 has no rawError")
	}

	// Recovery instances: one per launched server.
	ris, err := e.drs.DescribeRecoveryInstances(e.ctx, &drs.DescribeRecoveryInstancesInput{
		Filters: &drstypes.DescribeRecoveryInstancesRequestFilters{SourceServerIDs: []string{id("db-01"), id("legacy-02")}},
	})
	if err != nil || len(ris.Items) != 1 {
		t.Fatalf("DescribeRecoveryInstances: %d items, %v", len(ris.Items), err)
	}
	ri := ris.Items[0]
	if !ec2IDRE.MatchString(*ri.RecoveryInstanceID) || !ec2IDRE.MatchString(*ri.Ec2InstanceID) || *ri.RecoveryInstanceID == *ri.Ec2InstanceID {
		t.Errorf("recovery instance %s, EC2 instance %s", *ri.RecoveryInstanceID, *ri.Ec2InstanceID)
	}
	if *ri.Ec2InstanceID != target {
		t.Errorf("LAUNCH_START target %s, EC2 instance %s", target, *ri.Ec2InstanceID)
	}
	if ri.Ec2InstanceState != drstypes.EC2InstanceStateRunning || !aws.ToBool(ri.IsDrill) || *ri.JobID != *j.JobID ||
		*ri.SourceServerID != id("db-01") || ri.PointInTimeSnapshotDateTime == nil ||
		*ri.Arn != "arn:aws:drs:us-east-1:111111111111:recovery-instance/"+*ri.RecoveryInstanceID {
		t.Errorf("recovery instance %+v", ri)
	}
	for _, p := range got.ParticipatingServers {
		if *p.SourceServerID == id("db-01") && aws.ToString(p.RecoveryInstanceID) != *ri.RecoveryInstanceID {
			t.Errorf("participating db-01 recovery instance %v", p.RecoveryInstanceID)
		}
	}
	all, _ := e.drs.DescribeRecoveryInstances(e.ctx, &drs.DescribeRecoveryInstancesInput{})
	if len(all.Items) != 3 {
		t.Errorf("%d recovery instances, want 3", len(all.Items))
	}

	// Source servers now point at their recovery instance.
	after := e.servers()
	if s := after["db-01"]; aws.ToString(s.RecoveryInstanceId) != *ri.RecoveryInstanceID || s.LastLaunchResult != drstypes.LastLaunchResultSucceeded ||
		s.LifeCycle.LastLaunch.Status != drstypes.LaunchStatusLaunched {
		t.Errorf("db-01 after launch: %v %s", s.RecoveryInstanceId, s.LastLaunchResult)
	}
	if s := after["legacy-02"]; s.LastLaunchResult != drstypes.LastLaunchResultFailed || s.RecoveryInstanceId != nil {
		t.Errorf("legacy-02 after launch: %v %s", s.RecoveryInstanceId, s.LastLaunchResult)
	}

	// The EC2 instance.
	di, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{*ri.Ec2InstanceID}})
	if err != nil || len(di.Reservations) != 1 || len(di.Reservations[0].Instances) != 1 {
		t.Fatalf("DescribeInstances: %v %v", di, err)
	}
	in := di.Reservations[0].Instances[0]
	if in.InstanceType != "r6i.2xlarge" || in.State.Name != "running" || aws.ToInt32(in.State.Code) != 16 ||
		!strings.HasPrefix(aws.ToString(in.PrivateIpAddress), "172.31.") || !strings.HasSuffix(aws.ToString(in.PrivateDnsName), ".ec2.internal") ||
		in.LaunchTime == nil || !in.LaunchTime.After(created) || *di.Reservations[0].OwnerId != sim.LocalAccountID {
		t.Errorf("EC2 instance %+v", in)
	}
	tagMap := map[string]string{}
	for _, tg := range in.Tags {
		tagMap[*tg.Key] = *tg.Value
	}
	if tagMap["Name"] != "db-01" || tagMap["Tier"] != "db" || tagMap["AWSElasticDisasterRecoverySourceServerID"] != id("db-01") {
		t.Errorf("EC2 tags %v", tagMap)
	}

	// Job tags through the tagging API.
	lt, err := e.drs.ListTagsForResource(e.ctx, &drs.ListTagsForResourceInput{ResourceArn: j.Arn})
	if err != nil || fmt.Sprint(lt.Tags) != fmt.Sprint(tags) {
		t.Errorf("ListTagsForResource: %v %v", lt, err)
	}
	if _, err := e.drs.TagResource(e.ctx, &drs.TagResourceInput{ResourceArn: j.Arn, Tags: map[string]string{"extra": "1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.drs.UntagResource(e.ctx, &drs.UntagResourceInput{ResourceArn: j.Arn, TagKeys: []string{wavedr.TagChunk}}); err != nil {
		t.Fatal(err)
	}
	if got := e.job(*j.JobID).Tags; got["extra"] != "1" || got[wavedr.TagChunk] != "" || got[wavedr.TagWave] != "db" {
		t.Errorf("tags after tag/untag %v", got)
	}
	_, err = e.drs.ListTagsForResource(e.ctx, &drs.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:drs:us-east-1:111111111111:job/drsjob-00000000000000000")})
	var nf *drstypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("tags of an unknown job: %v", err)
	}
}

func TestRecoveryInitiatedBy(t *testing.T) {
	e := newEnv(t, sim.Config{})
	j := e.start(false, nil, "web-01")
	if j.InitiatedBy != drstypes.InitiatedByStartRecovery {
		t.Errorf("initiatedBy %s", j.InitiatedBy)
	}
	e.finish(*j.JobID)
	ri, _ := e.drs.DescribeRecoveryInstances(e.ctx, &drs.DescribeRecoveryInstancesInput{})
	if len(ri.Items) != 1 || aws.ToBool(ri.Items[0].IsDrill) {
		t.Errorf("recovery instances %+v", ri.Items)
	}
}

func TestTerminate(t *testing.T) {
	e := newEnv(t, sim.Config{})
	j := e.start(true, nil, "db-01", "web-01")
	e.finish(*j.JobID)
	ris, _ := e.drs.DescribeRecoveryInstances(e.ctx, &drs.DescribeRecoveryInstancesInput{})
	var riIDs, ec2IDs []string
	for _, ri := range ris.Items {
		riIDs, ec2IDs = append(riIDs, *ri.RecoveryInstanceID), append(ec2IDs, *ri.Ec2InstanceID)
	}
	out, err := e.drs.TerminateRecoveryInstances(e.ctx, &drs.TerminateRecoveryInstancesInput{RecoveryInstanceIDs: riIDs})
	if err != nil {
		t.Fatal(err)
	}
	tj := out.Job
	if tj.Type != drstypes.JobTypeTerminate || tj.InitiatedBy != drstypes.InitiatedByTerminateRecoveryInstances || len(tj.ParticipatingServers) != 2 {
		t.Errorf("terminate job %+v", tj)
	}
	// A second terminate of the same instances conflicts with the first.
	_, err = e.drs.TerminateRecoveryInstances(e.ctx, &drs.TerminateRecoveryInstancesInput{RecoveryInstanceIDs: riIDs[:1]})
	var ce *drstypes.ConflictException
	if !errors.As(err, &ce) {
		t.Errorf("second terminate: %v", err)
	}

	e.clock.Advance(20 * time.Second)
	states := func() []string {
		di, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{InstanceIds: ec2IDs})
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, r := range di.Reservations {
			s = append(s, string(r.Instances[0].State.Name))
		}
		return s
	}
	if s := states(); !slices.Equal(s, []string{"shutting-down", "shutting-down"}) {
		t.Errorf("EC2 during terminate: %v", s)
	}
	mid, _ := e.drs.DescribeRecoveryInstances(e.ctx, &drs.DescribeRecoveryInstancesInput{})
	if len(mid.Items) != 2 || mid.Items[0].Ec2InstanceState != drstypes.EC2InstanceStateShuttingDown {
		t.Errorf("recovery instances during terminate: %+v", mid.Items)
	}

	done := e.finish(*tj.JobID)
	for _, p := range done.ParticipatingServers {
		if p.LaunchStatus != drstypes.LaunchStatusTerminated || p.RecoveryInstanceID == nil {
			t.Errorf("terminated participant %+v", p)
		}
	}
	if s := states(); !slices.Equal(s, []string{"terminated", "terminated"}) {
		t.Errorf("EC2 after terminate: %v", s)
	}
	gone, _ := e.drs.DescribeRecoveryInstances(e.ctx, &drs.DescribeRecoveryInstancesInput{})
	if len(gone.Items) != 0 {
		t.Errorf("recovery instances after terminate: %d", len(gone.Items))
	}
	if s := e.servers()["db-01"]; s.RecoveryInstanceId != nil || s.LifeCycle.LastLaunch.Status != drstypes.LaunchStatusTerminated {
		t.Errorf("db-01 after terminate: %v %+v", s.RecoveryInstanceId, s.LifeCycle.LastLaunch)
	}
	tl := e.log(*tj.JobID)
	var names []string
	for _, it := range tl {
		names = append(names, string(it.Event))
	}
	if got := strings.Join(names, " "); got != "JOB_START CLEANUP_START CLEANUP_START CLEANUP_END CLEANUP_END JOB_END" {
		t.Errorf("terminate log %q", got)
	}
	// An instance that is gone cannot be terminated again.
	if _, err := e.drs.TerminateRecoveryInstances(e.ctx, &drs.TerminateRecoveryInstancesInput{RecoveryInstanceIDs: riIDs[:1]}); apiCode(t, err) != "ValidationException" {
		t.Errorf("terminate of a gone instance: %v", err)
	}
}

func TestRelaunchReplacesRecoveryInstance(t *testing.T) {
	e := newEnv(t, sim.Config{})
	first := e.start(true, nil, "db-02")
	e.finish(*first.JobID)
	old, _ := e.drs.DescribeRecoveryInstances(e.ctx, &drs.DescribeRecoveryInstancesInput{})
	second := e.start(true, nil, "db-02")
	e.finish(*second.JobID)
	now, _ := e.drs.DescribeRecoveryInstances(e.ctx, &drs.DescribeRecoveryInstancesInput{})
	if len(old.Items) != 1 || len(now.Items) != 1 || *old.Items[0].RecoveryInstanceID == *now.Items[0].RecoveryInstanceID ||
		*now.Items[0].JobID != *second.JobID {
		t.Fatalf("before %+v after %+v", old.Items, now.Items)
	}
	di, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{*old.Items[0].Ec2InstanceID}})
	if err != nil {
		t.Fatal(err)
	}
	if st := di.Reservations[0].Instances[0].State.Name; st != "terminated" && st != "shutting-down" {
		t.Errorf("replaced EC2 instance is %s", st)
	}
	if s := e.servers()["db-02"]; aws.ToString(s.RecoveryInstanceId) != *now.Items[0].RecoveryInstanceID {
		t.Errorf("db-02 points at %v", s.RecoveryInstanceId)
	}
}

func TestDescribeJobsPaginationAndFilters(t *testing.T) {
	e := newEnv(t, sim.Config{})
	hosts := []string{"db-01", "db-02", "db-03", "app-01", "app-02", "app-03", "app-04"}
	var ids []string
	var mid time.Time
	for i, h := range hosts {
		ids = append(ids, *e.start(true, nil, h).JobID)
		if i == 3 {
			mid = e.clock.Now()
		}
		e.clock.Advance(time.Second)
	}
	var got []string
	p := drs.NewDescribeJobsPaginator(e.drs, &drs.DescribeJobsInput{MaxResults: aws.Int32(3)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, j := range page.Items {
			got = append(got, *j.JobID)
		}
	}
	want := slices.Clone(ids)
	slices.Reverse(want)
	if pages != 3 || !slices.Equal(got, want) {
		t.Errorf("%d pages %v, want newest first %v", pages, got, want)
	}
	out, err := e.drs.DescribeJobs(e.ctx, &drs.DescribeJobsInput{Filters: &drstypes.DescribeJobsRequestFilters{
		FromDate: aws.String(mid.Format(time.RFC3339)), JobIDs: []string{ids[0], ids[4], ids[5]},
	}})
	if err != nil || len(out.Items) != 2 || *out.Items[0].JobID != ids[5] || *out.Items[1].JobID != ids[4] {
		t.Errorf("filtered: %v %v", out, err)
	}
	out, err = e.drs.DescribeJobs(e.ctx, &drs.DescribeJobsInput{Filters: &drstypes.DescribeJobsRequestFilters{
		ToDate: aws.String(mid.Add(-time.Second).Format(time.RFC3339)),
	}})
	if err != nil || len(out.Items) != 3 {
		t.Errorf("toDate: %d items, %v", len(out.Items), err)
	}
}

func TestLaunchConfiguration(t *testing.T) {
	e := newEnv(t, sim.Config{})
	id := e.servers()["app-01"].SourceServerID
	lc, err := e.drs.GetLaunchConfiguration(e.ctx, &drs.GetLaunchConfigurationInput{SourceServerID: id})
	if err != nil {
		t.Fatal(err)
	}
	if *lc.SourceServerID != *id || *lc.Name != "app-01" || !strings.HasPrefix(*lc.Ec2LaunchTemplateID, "lt-") ||
		aws.ToBool(lc.CopyPrivateIp) || !aws.ToBool(lc.CopyTags) || lc.LaunchDisposition != drstypes.LaunchDispositionStarted ||
		lc.TargetInstanceTypeRightSizingMethod != drstypes.TargetInstanceTypeRightSizingMethodBasic {
		t.Errorf("launch configuration %+v", lc)
	}
	up, err := e.drs.UpdateLaunchConfiguration(e.ctx, &drs.UpdateLaunchConfigurationInput{
		SourceServerID: id, CopyPrivateIp: aws.Bool(true), Licensing: &drstypes.Licensing{OsByol: aws.Bool(true)},
		LaunchDisposition: drstypes.LaunchDispositionStopped,
	})
	if err != nil || !aws.ToBool(up.CopyPrivateIp) || !aws.ToBool(up.Licensing.OsByol) || up.LaunchDisposition != drstypes.LaunchDispositionStopped {
		t.Fatalf("update: %+v %v", up, err)
	}
	j := e.start(true, nil, "app-01")
	e.finish(*j.JobID)
	ri, _ := e.drs.DescribeRecoveryInstances(e.ctx, &drs.DescribeRecoveryInstancesInput{})
	di, _ := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{*ri.Items[0].Ec2InstanceID}})
	if ip := aws.ToString(di.Reservations[0].Instances[0].PrivateIpAddress); ip != "10.0.2.11" {
		t.Errorf("copyPrivateIp: instance IP %s, want the source's 10.0.2.11", ip)
	}
	_, err = e.drs.GetLaunchConfiguration(e.ctx, &drs.GetLaunchConfigurationInput{SourceServerID: aws.String("s-00000000000000000")})
	var nf *drstypes.ResourceNotFoundException
	if !errors.As(err, &nf) || aws.ToString(nf.ResourceId) != "s-00000000000000000" {
		t.Errorf("unknown server: %v", err)
	}
}
