package aws

import (
	"context"
	"errors"
	"fmt"

	"wavedr"
)

// Enrich observes launch jobs and merges, for every participating server,
// the job's record with the DRS recovery instance, the EC2 instance and the
// DRS source server. It makes at most four kinds of batched calls, never one
// per server:
//
//	DescribeJobs               ≤1000 job IDs per call
//	DescribeRecoveryInstances  ≤200 recovery instance IDs per call
//	EC2 DescribeInstances      instance-id filter, ≤1000 IDs per call
//	DescribeSourceServers      ≤200 source server IDs per call
//
// A call with nothing to ask is skipped. Jobs DRS does not return are listed
// in Enrichment.Missing. A recovery instance, EC2 instance or source server
// that is not found, or whose lookup failed, leaves its fields empty with
// the reason in ServerDetail.Missing; only a failure of DescribeJobs (or
// a canceled context) fails the whole call.
func (c *Client) Enrich(ctx context.Context, t wavedr.Target, jobIDs []string, opts wavedr.EnrichOptions) (*wavedr.Enrichment, error) {
	const op = "drs DescribeJobs"
	tc, err := c.clients(t)
	if err != nil {
		return nil, err
	}
	ids := unique(jobIDs)
	res := &wavedr.Enrichment{Jobs: []*wavedr.Job{}, Servers: []*wavedr.ServerDetail{}}
	if len(ids) == 0 {
		return res, nil
	}
	jobs, err := c.describeJobs(ctx, tc, wavedr.JobFilter{IDs: ids})
	if err != nil {
		return nil, mapError(op, tc.target, err)
	}

	byID := make(map[string]*wavedr.Job, len(jobs))
	for _, j := range jobs {
		byID[j.ID] = j
	}
	var riIDs, serverIDs []string
	for _, id := range ids {
		j, ok := byID[id]
		if !ok {
			res.Missing = append(res.Missing, id)
			continue
		}
		res.Jobs = append(res.Jobs, j)
		for _, p := range j.Servers {
			d := &wavedr.ServerDetail{
				SourceServerID:     p.SourceServerID,
				JobID:              j.ID,
				LaunchStatus:       p.LaunchStatus,
				RecoveryInstanceID: p.RecoveryInstanceID,
			}
			if d.RecoveryInstanceID == "" && p.LaunchStatus == wavedr.LaunchLaunched {
				d.Missing = append(d.Missing, "DRS reports the server launched but names no recovery instance")
			}
			res.Servers = append(res.Servers, d)
			riIDs = append(riIDs, p.RecoveryInstanceID)
			serverIDs = append(serverIDs, p.SourceServerID)
		}
	}

	if err := c.mergeRecoveryInstances(ctx, tc, res.Servers, unique(riIDs)); err != nil {
		return nil, err
	}
	if opts.SkipSourceServers {
		return res, nil
	}
	if err := c.mergeSourceServers(ctx, tc, res.Servers, unique(serverIDs)); err != nil {
		return nil, err
	}
	return res, nil
}

// mergeRecoveryInstances fills the recovery instance and EC2 fields.
func (c *Client) mergeRecoveryInstances(ctx context.Context, tc *targetClients, servers []*wavedr.ServerDetail, riIDs []string) error {
	if len(riIDs) == 0 {
		return nil
	}
	ris, err := c.describeRecoveryInstances(ctx, tc, wavedr.RecoveryInstanceFilter{IDs: riIDs})
	if err != nil {
		return c.degrade(ctx, tc, "drs DescribeRecoveryInstances", err, servers, func(d *wavedr.ServerDetail) bool { return d.RecoveryInstanceID != "" })
	}
	byRI := make(map[string]*wavedr.RecoveryInstance, len(ris))
	var ec2IDs []string
	for _, ri := range ris {
		byRI[ri.ID] = ri
		ec2IDs = append(ec2IDs, ri.EC2InstanceID)
	}
	withEC2 := func(d *wavedr.ServerDetail) bool { return d.EC2InstanceID != "" }
	for _, d := range servers {
		if d.RecoveryInstanceID == "" {
			continue
		}
		ri, ok := byRI[d.RecoveryInstanceID]
		if !ok {
			d.Missing = append(d.Missing, fmt.Sprintf("recovery instance %s not found", d.RecoveryInstanceID))
			continue
		}
		d.EC2InstanceID = ri.EC2InstanceID
		d.EC2InstanceState = ri.EC2InstanceState
		d.IsDrill = ri.IsDrill
		d.PointInTimeSnapshot = ri.PointInTimeSnapshot
		if d.EC2InstanceID == "" {
			d.Missing = append(d.Missing, fmt.Sprintf("recovery instance %s names no EC2 instance", ri.ID))
		}
	}

	ec2IDs = unique(ec2IDs)
	if len(ec2IDs) == 0 {
		return nil
	}
	instances, err := c.describeInstances(ctx, tc, ec2IDs)
	if err != nil {
		return c.degrade(ctx, tc, "ec2 DescribeInstances", err, servers, withEC2)
	}
	byInstance := make(map[string]*wavedr.Instance, len(instances))
	for _, in := range instances {
		byInstance[in.ID] = in
	}
	for _, d := range servers {
		if d.EC2InstanceID == "" {
			continue
		}
		in, ok := byInstance[d.EC2InstanceID]
		if !ok {
			// Normal for a short while after a launch (EC2 is eventually
			// consistent), or the instance was terminated and expired.
			d.Missing = append(d.Missing, fmt.Sprintf("EC2 instance %s not found (yet)", d.EC2InstanceID))
			continue
		}
		d.InstanceType = in.Type
		d.PrivateIP = in.PrivateIP
		d.PrivateDNS = in.PrivateDNS
		d.LaunchTime = in.LaunchTime
		d.InstanceState = in.State
	}
	return nil
}

// mergeSourceServers fills the source server fields.
func (c *Client) mergeSourceServers(ctx context.Context, tc *targetClients, servers []*wavedr.ServerDetail, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	sources, err := c.describeSourceServers(ctx, tc, ids)
	if err != nil {
		return c.degrade(ctx, tc, "drs DescribeSourceServers", err, servers, func(*wavedr.ServerDetail) bool { return true })
	}
	byID := make(map[string]*wavedr.SourceServer, len(sources))
	for _, s := range sources {
		byID[s.ID] = s
	}
	for _, d := range servers {
		s, ok := byID[d.SourceServerID]
		if !ok {
			d.Missing = append(d.Missing, fmt.Sprintf("source server %s not found", d.SourceServerID))
			continue
		}
		d.Hostname = s.Hostname
		if len(s.IPs) > 0 {
			d.SourceIP = s.IPs[0]
		}
		d.SourceInstanceID = s.SourceInstanceID
		d.Tags = copyTags(s.Tags)
		d.ReplicationState = s.ReplicationState
	}
	return nil
}

// degrade records a failed lookup on the servers it concerned, so that one
// unavailable service does not hide what the others told. A canceled
// context still fails the whole Enrich.
func (c *Client) degrade(ctx context.Context, tc *targetClients, op string, err error, servers []*wavedr.ServerDetail, concerns func(*wavedr.ServerDetail) bool) error {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	mapped := mapError(op, tc.target, err)
	c.log.Warn("aws.enrich_degraded", "target", tc.target.Key(), "operation", op, "code", wavedr.ErrorCode(mapped), "error", mapped.Error())
	reason := fmt.Sprintf("%s failed: %s", op, wavedr.ErrorMessage(mapped))
	for _, d := range servers {
		if concerns(d) {
			d.Missing = append(d.Missing, reason)
		}
	}
	return nil
}
