package aws

import (
	"log/slog"
	"time"

	drstypes "github.com/aws/aws-sdk-go-v2/service/drs/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"wavedr"
)

// isoLayout is the format of the dates wavedr sends to DRS (job filters).
const isoLayout = "2006-01-02T15:04:05Z"

// timeLayouts are the ISO-8601 forms DRS is known to answer with: with or
// without fractional seconds, with an offset or Z, or without a zone (UTC).
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// parseTime parses an ISO-8601 date from DRS. An empty or malformed value
// yields the zero time; a malformed one is logged, since it means DRS
// changed its format and some timestamps will be missing.
func parseTime(log *slog.Logger, field string, s *string) time.Time {
	if s == nil || *s == "" {
		return time.Time{}
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, *s); err == nil {
			return t.UTC()
		}
	}
	log.Warn("aws.time_malformed", "field", field, "value", *s)
	return time.Time{}
}

func formatTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(isoLayout)
	return &s
}

func toJob(log *slog.Logger, j *drstypes.Job) *wavedr.Job {
	job := &wavedr.Job{
		ID:          deref(j.JobID),
		ARN:         deref(j.Arn),
		Type:        wavedr.JobType(j.Type),
		InitiatedBy: string(j.InitiatedBy),
		Status:      wavedr.JobStatus(j.Status),
		CreatedAt:   parseTime(log, "job.creationDateTime", j.CreationDateTime),
		EndedAt:     parseTime(log, "job.endDateTime", j.EndDateTime),
		Tags:        copyTags(j.Tags),
		Servers:     make([]wavedr.ParticipatingServer, 0, len(j.ParticipatingServers)),
	}
	for _, p := range j.ParticipatingServers {
		job.Servers = append(job.Servers, wavedr.ParticipatingServer{
			SourceServerID:     deref(p.SourceServerID),
			RecoveryInstanceID: deref(p.RecoveryInstanceID),
			LaunchStatus:       wavedr.LaunchStatus(p.LaunchStatus),
		})
	}
	return job
}

func toJobLogItem(log *slog.Logger, l *drstypes.JobLog) wavedr.JobLogItem {
	item := wavedr.JobLogItem{
		Event: string(l.Event),
		Time:  parseTime(log, "jobLog.logDateTime", l.LogDateTime),
	}
	if d := l.EventData; d != nil {
		item.SourceServerID = deref(d.SourceServerID)
		item.TargetInstanceID = deref(d.TargetInstanceID)
		item.RawError = deref(d.RawError)
	}
	return item
}

func toRecoveryInstance(log *slog.Logger, r *drstypes.RecoveryInstance) *wavedr.RecoveryInstance {
	return &wavedr.RecoveryInstance{
		ID:                  deref(r.RecoveryInstanceID),
		EC2InstanceID:       deref(r.Ec2InstanceID),
		EC2InstanceState:    string(r.Ec2InstanceState),
		JobID:               deref(r.JobID),
		SourceServerID:      deref(r.SourceServerID),
		IsDrill:             r.IsDrill != nil && *r.IsDrill,
		PointInTimeSnapshot: parseTime(log, "recoveryInstance.pointInTimeSnapshotDateTime", r.PointInTimeSnapshotDateTime),
	}
}

func toSourceServer(s *drstypes.SourceServer) *wavedr.SourceServer {
	out := &wavedr.SourceServer{
		ID:                 deref(s.SourceServerID),
		ARN:                deref(s.Arn),
		Tags:               copyTags(s.Tags),
		LastLaunchResult:   string(s.LastLaunchResult),
		RecoveryInstanceID: deref(s.RecoveryInstanceId),
	}
	if d := s.DataReplicationInfo; d != nil {
		out.ReplicationState = wavedr.ReplicationState(d.DataReplicationState)
		out.LagDuration = deref(d.LagDuration)
	}
	if a := s.StagingArea; a != nil {
		out.StagingAccountID = deref(a.StagingAccountID)
	}
	if p := s.SourceProperties; p != nil {
		if h := p.IdentificationHints; h != nil {
			out.Hostname = deref(h.Hostname)
			out.FQDN = deref(h.Fqdn)
			out.SourceInstanceID = deref(h.AwsInstanceID)
		}
		if out.Hostname == "" {
			out.Hostname = out.FQDN
		}
		out.IPs = interfaceIPs(p.NetworkInterfaces)
		if p.Os != nil {
			out.OS = deref(p.Os.FullString)
		}
		for _, c := range p.Cpus {
			out.CPUs += int(c.Cores)
		}
		out.RAMBytes = p.RamBytes
		out.RecommendedInstanceType = deref(p.RecommendedInstanceType)
	}
	return out
}

// interfaceIPs lists the IPs of the primary interface first, so IPs[0] is
// the address people know the server by.
func interfaceIPs(nics []drstypes.NetworkInterface) []string {
	var primary, rest []string
	for _, n := range nics {
		if n.IsPrimary != nil && *n.IsPrimary {
			primary = append(primary, n.Ips...)
		} else {
			rest = append(rest, n.Ips...)
		}
	}
	return append(primary, rest...)
}

func toInstance(i *ec2types.Instance) *wavedr.Instance {
	out := &wavedr.Instance{
		ID:         deref(i.InstanceId),
		Type:       string(i.InstanceType),
		PrivateIP:  deref(i.PrivateIpAddress),
		PrivateDNS: deref(i.PrivateDnsName),
	}
	if i.State != nil {
		out.State = string(i.State.Name)
	}
	if i.LaunchTime != nil {
		out.LaunchTime = i.LaunchTime.UTC()
	}
	return out
}

func toLaunchConfiguration(sourceServerID string, name, templateID *string, copyIP, copyTags *bool, disposition drstypes.LaunchDisposition,
	lic *drstypes.Licensing, rightSizing drstypes.TargetInstanceTypeRightSizingMethod, postLaunch *bool) *wavedr.LaunchConfiguration {
	c := &wavedr.LaunchConfiguration{
		SourceServerID:      sourceServerID,
		Name:                deref(name),
		EC2LaunchTemplateID: deref(templateID),
		CopyPrivateIP:       isTrue(copyIP),
		CopyTags:            isTrue(copyTags),
		LaunchDisposition:   string(disposition),
		RightSizingMethod:   string(rightSizing),
		PostLaunchEnabled:   isTrue(postLaunch),
	}
	if lic != nil {
		c.OSByol = isTrue(lic.OsByol)
	}
	return c
}

func isTrue(b *bool) bool { return b != nil && *b }

func copyTags(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
