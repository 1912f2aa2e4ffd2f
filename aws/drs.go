package aws

import (
	"context"
	"slices"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/drs"
	drstypes "github.com/aws/aws-sdk-go-v2/service/drs/types"

	"wavedr"
)

// StartRecovery starts one LAUNCH job for 1..wavedr.MaxServersPerJob
// distinct servers; more is refused here (EINVALID) without calling DRS.
// Only failures that prove DRS created no job are retried (launchRetryer);
// after any other failure the caller must look for the tagged job before
// launching again.
func (c *Client) StartRecovery(ctx context.Context, t wavedr.Target, in wavedr.StartRecoveryInput) (*wavedr.Job, error) {
	const op = "drs StartRecovery"
	if err := validateStart(in); err != nil {
		return nil, err
	}
	tc, err := c.clients(t)
	if err != nil {
		return nil, err
	}
	servers := make([]drstypes.StartRecoveryRequestSourceServer, len(in.SourceServerIDs))
	for i, id := range in.SourceServerIDs {
		servers[i] = drstypes.StartRecoveryRequestSourceServer{SourceServerID: sdkaws.String(id)}
	}
	out, err := tc.drs.StartRecovery(ctx, &drs.StartRecoveryInput{
		SourceServers: servers,
		IsDrill:       sdkaws.Bool(in.IsDrill),
		Tags:          in.Tags,
	}, tc.launch)
	if err != nil {
		return nil, mapError(op, tc.target, err)
	}
	if out.Job == nil {
		return nil, wavedr.Errorf(wavedr.EINTERNAL, "%s in %s: DRS answered without a job", op, tc.target.Key())
	}
	return toJob(c.log, out.Job), nil
}

func validateStart(in wavedr.StartRecoveryInput) error {
	var p wavedr.Problems
	switch n := len(in.SourceServerIDs); {
	case n == 0:
		p.Add("sourceServerIds", "must name at least one source server")
	case n > wavedr.MaxServersPerJob:
		p.Add("sourceServerIds", "names %d servers; one DRS job takes at most %d", n, wavedr.MaxServersPerJob)
	}
	seen := map[string]bool{}
	for i, id := range in.SourceServerIDs {
		switch {
		case id == "":
			p.Add(wavedr.Indexed("sourceServerIds", i), "is empty")
		case seen[id]:
			p.Add(wavedr.Indexed("sourceServerIds", i), "%s is listed twice", id)
		}
		seen[id] = true
	}
	return p.Err("recovery launch")
}

// DescribeJobs returns the jobs matching f, newest first, asking for up to
// wavedr.MaxJobIDsPerCall IDs per call and reading every page.
func (c *Client) DescribeJobs(ctx context.Context, t wavedr.Target, f wavedr.JobFilter) ([]*wavedr.Job, error) {
	tc, err := c.clients(t)
	if err != nil {
		return nil, err
	}
	jobs, err := c.describeJobs(ctx, tc, f)
	return jobs, mapError("drs DescribeJobs", tc.target, err)
}

func (c *Client) describeJobs(ctx context.Context, tc *targetClients, f wavedr.JobFilter) ([]*wavedr.Job, error) {
	filters := drstypes.DescribeJobsRequestFilters{FromDate: formatTime(f.From), ToDate: formatTime(f.To)}
	ids := unique(f.IDs)
	if len(f.IDs) > 0 && len(ids) == 0 {
		return nil, nil
	}
	batchList := batches(ids, wavedr.MaxJobIDsPerCall)
	if len(ids) == 0 {
		batchList = [][]string{nil} // every job in the time range
	}
	var jobs []*wavedr.Job
	for _, batch := range batchList {
		fb := filters
		fb.JobIDs = batch
		p := drs.NewDescribeJobsPaginator(tc.drs, &drs.DescribeJobsInput{Filters: &fb, MaxResults: c.pageSize()})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for i := range page.Items {
				jobs = append(jobs, toJob(c.log, &page.Items[i]))
			}
		}
	}
	// Each call answers newest first; batches must be merged.
	slices.SortStableFunc(jobs, func(a, b *wavedr.Job) int {
		if n := b.CreatedAt.Compare(a.CreatedAt); n != 0 {
			return n
		}
		return strings.Compare(b.ID, a.ID)
	})
	return jobs, nil
}

// DescribeJobLog returns the job's log, oldest first, every page read.
func (c *Client) DescribeJobLog(ctx context.Context, t wavedr.Target, jobID string) ([]wavedr.JobLogItem, error) {
	const op = "drs DescribeJobLogItems"
	tc, err := c.clients(t)
	if err != nil {
		return nil, err
	}
	var items []wavedr.JobLogItem
	p := drs.NewDescribeJobLogItemsPaginator(tc.drs, &drs.DescribeJobLogItemsInput{JobID: sdkaws.String(jobID), MaxResults: c.pageSize()})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, mapError(op, tc.target, err)
		}
		for i := range page.Items {
			items = append(items, toJobLogItem(c.log, &page.Items[i]))
		}
	}
	slices.SortStableFunc(items, func(a, b wavedr.JobLogItem) int { return a.Time.Compare(b.Time) })
	return items, nil
}

// DescribeRecoveryInstances returns the recovery instances matching f: by
// ID (up to wavedr.MaxRecoveryInstanceIDsPerCall per call, then kept only
// if of one of f.SourceServerIDs when those are given too), else by source
// server (as many per call), else all of them.
func (c *Client) DescribeRecoveryInstances(ctx context.Context, t wavedr.Target, f wavedr.RecoveryInstanceFilter) ([]*wavedr.RecoveryInstance, error) {
	tc, err := c.clients(t)
	if err != nil {
		return nil, err
	}
	ris, err := c.describeRecoveryInstances(ctx, tc, f)
	return ris, mapError("drs DescribeRecoveryInstances", tc.target, err)
}

func (c *Client) describeRecoveryInstances(ctx context.Context, tc *targetClients, f wavedr.RecoveryInstanceFilter) ([]*wavedr.RecoveryInstance, error) {
	ids, servers := unique(f.IDs), unique(f.SourceServerIDs)
	if (len(f.IDs) > 0 && len(ids) == 0) || (len(f.SourceServerIDs) > 0 && len(servers) == 0) {
		return nil, nil
	}
	var filters []drstypes.DescribeRecoveryInstancesRequestFilters
	switch {
	case len(ids) > 0:
		for _, b := range batches(ids, wavedr.MaxRecoveryInstanceIDsPerCall) {
			filters = append(filters, drstypes.DescribeRecoveryInstancesRequestFilters{RecoveryInstanceIDs: b})
		}
	case len(servers) > 0:
		for _, b := range batches(servers, wavedr.MaxRecoveryInstanceIDsPerCall) {
			filters = append(filters, drstypes.DescribeRecoveryInstancesRequestFilters{SourceServerIDs: b})
		}
	default:
		filters = append(filters, drstypes.DescribeRecoveryInstancesRequestFilters{})
	}
	var keep map[string]bool
	if len(ids) > 0 && len(servers) > 0 {
		keep = make(map[string]bool, len(servers))
		for _, s := range servers {
			keep[s] = true
		}
	}
	var out []*wavedr.RecoveryInstance
	for i := range filters {
		p := drs.NewDescribeRecoveryInstancesPaginator(tc.drs, &drs.DescribeRecoveryInstancesInput{Filters: &filters[i], MaxResults: c.pageSize()})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for j := range page.Items {
				ri := toRecoveryInstance(c.log, &page.Items[j])
				if keep == nil || keep[ri.SourceServerID] {
					out = append(out, ri)
				}
			}
		}
	}
	return out, nil
}

// DescribeSourceServers returns the source servers with the IDs (up to
// wavedr.MaxSourceServerIDsPerCall per call), or all of them when ids is
// empty.
func (c *Client) DescribeSourceServers(ctx context.Context, t wavedr.Target, ids []string) ([]*wavedr.SourceServer, error) {
	tc, err := c.clients(t)
	if err != nil {
		return nil, err
	}
	servers, err := c.describeSourceServers(ctx, tc, ids)
	return servers, mapError("drs DescribeSourceServers", tc.target, err)
}

func (c *Client) describeSourceServers(ctx context.Context, tc *targetClients, ids []string) ([]*wavedr.SourceServer, error) {
	u := unique(ids)
	if len(ids) > 0 && len(u) == 0 {
		return nil, nil
	}
	batchList := batches(u, wavedr.MaxSourceServerIDsPerCall)
	if len(u) == 0 {
		batchList = [][]string{nil}
	}
	var out []*wavedr.SourceServer
	for _, b := range batchList {
		p := drs.NewDescribeSourceServersPaginator(tc.drs, &drs.DescribeSourceServersInput{
			Filters:    &drstypes.DescribeSourceServersRequestFilters{SourceServerIDs: b},
			MaxResults: c.pageSize(),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for i := range page.Items {
				out = append(out, toSourceServer(&page.Items[i]))
			}
		}
	}
	return out, nil
}

// TerminateRecoveryInstances starts one TERMINATE job per
// wavedr.MaxRecoveryInstanceIDsPerCall recovery instances. On a failure it
// returns the jobs already started with the error.
func (c *Client) TerminateRecoveryInstances(ctx context.Context, t wavedr.Target, recoveryInstanceIDs []string) ([]*wavedr.Job, error) {
	const op = "drs TerminateRecoveryInstances"
	ids := unique(recoveryInstanceIDs)
	if len(ids) == 0 {
		return nil, nil
	}
	tc, err := c.clients(t)
	if err != nil {
		return nil, err
	}
	var jobs []*wavedr.Job
	for _, b := range batches(ids, wavedr.MaxRecoveryInstanceIDsPerCall) {
		out, err := tc.drs.TerminateRecoveryInstances(ctx, &drs.TerminateRecoveryInstancesInput{RecoveryInstanceIDs: b})
		if err != nil {
			return jobs, mapError(op, tc.target, err)
		}
		if out.Job != nil {
			jobs = append(jobs, toJob(c.log, out.Job))
		}
	}
	return jobs, nil
}

// GetLaunchConfiguration returns a source server's launch configuration.
func (c *Client) GetLaunchConfiguration(ctx context.Context, t wavedr.Target, sourceServerID string) (*wavedr.LaunchConfiguration, error) {
	const op = "drs GetLaunchConfiguration"
	tc, err := c.clients(t)
	if err != nil {
		return nil, err
	}
	out, err := tc.drs.GetLaunchConfiguration(ctx, &drs.GetLaunchConfigurationInput{SourceServerID: sdkaws.String(sourceServerID)})
	if err != nil {
		return nil, mapError(op, tc.target, err)
	}
	return toLaunchConfiguration(sourceServerID, out.Name, out.Ec2LaunchTemplateID, out.CopyPrivateIp, out.CopyTags,
		out.LaunchDisposition, out.Licensing, out.TargetInstanceTypeRightSizingMethod, out.PostLaunchEnabled), nil
}

// UpdateLaunchConfiguration writes every field of cfg (an empty Name,
// LaunchDisposition or RightSizingMethod is left unchanged) and returns the
// configuration DRS answers with.
func (c *Client) UpdateLaunchConfiguration(ctx context.Context, t wavedr.Target, cfg *wavedr.LaunchConfiguration) (*wavedr.LaunchConfiguration, error) {
	const op = "drs UpdateLaunchConfiguration"
	if cfg == nil || cfg.SourceServerID == "" {
		return nil, wavedr.Errorf(wavedr.EINVALID, "%s: the launch configuration names no source server", op)
	}
	tc, err := c.clients(t)
	if err != nil {
		return nil, err
	}
	in := &drs.UpdateLaunchConfigurationInput{
		SourceServerID:    sdkaws.String(cfg.SourceServerID),
		CopyPrivateIp:     sdkaws.Bool(cfg.CopyPrivateIP),
		CopyTags:          sdkaws.Bool(cfg.CopyTags),
		Licensing:         &drstypes.Licensing{OsByol: sdkaws.Bool(cfg.OSByol)},
		PostLaunchEnabled: sdkaws.Bool(cfg.PostLaunchEnabled),
	}
	if cfg.Name != "" {
		in.Name = sdkaws.String(cfg.Name)
	}
	if cfg.LaunchDisposition != "" {
		in.LaunchDisposition = drstypes.LaunchDisposition(cfg.LaunchDisposition)
	}
	if cfg.RightSizingMethod != "" {
		in.TargetInstanceTypeRightSizingMethod = drstypes.TargetInstanceTypeRightSizingMethod(cfg.RightSizingMethod)
	}
	out, err := tc.drs.UpdateLaunchConfiguration(ctx, in)
	if err != nil {
		return nil, mapError(op, tc.target, err)
	}
	return toLaunchConfiguration(cfg.SourceServerID, out.Name, out.Ec2LaunchTemplateID, out.CopyPrivateIp, out.CopyTags,
		out.LaunchDisposition, out.Licensing, out.TargetInstanceTypeRightSizingMethod, out.PostLaunchEnabled), nil
}

func (c *Client) pageSize() *int32 {
	return sdkaws.Int32(int32(c.cfg.PageSize))
}
