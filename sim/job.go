package sim

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

const (
	jobPending   = "PENDING"
	jobStarted   = "STARTED"
	jobCompleted = "COMPLETED"

	jobTypeLaunch    = "LAUNCH"
	jobTypeTerminate = "TERMINATE"

	launchPending    = "PENDING"
	launchInProgress = "IN_PROGRESS"
	launchLaunched   = "LAUNCHED"
	launchFailed     = "FAILED"
	launchTerminated = "TERMINATED"
)

// Raw errors of the launches that fail.
const (
	rawErrorNoSnapshot = "Source server has not completed its initial sync: no point-in-time snapshot is available to launch from."
	rawErrorInjected   = "Failed to launch recovery instance: InsufficientInstanceCapacity: There is not enough capacity to fulfil the request in the requested Availability Zone."
)

// logEvent is one job log item.
type logEvent struct {
	at               time.Time
	event            string
	sourceServerID   string
	targetInstanceID string
	rawError         string
}

// jobServer is one source server's part in a job: it waits until start, is
// in progress until end, and then has its outcome.
type jobServer struct {
	sourceServerID     string
	recoveryInstanceID string
	start, end         time.Time
	outcome            string
}

func (p *jobServer) statusAt(now time.Time) string {
	switch {
	case now.Before(p.start):
		return launchPending
	case now.Before(p.end):
		return launchInProgress
	}
	return p.outcome
}

// job is a DRS job with its whole schedule, fixed when it is created.
type job struct {
	seq         int
	id, arn     string
	typ         string
	initiatedBy string
	isDrill     bool
	created     time.Time
	started     time.Time
	ended       time.Time
	tags        map[string]string
	servers     []*jobServer
	log         []logEvent
}

func (j *job) statusAt(now time.Time) string {
	switch {
	case now.Before(j.started):
		return jobPending
	case now.Before(j.ended):
		return jobStarted
	}
	return jobCompleted
}

func (j *job) server(id string) *jobServer {
	for _, p := range j.servers {
		if p.sourceServerID == id {
			return p
		}
	}
	return nil
}

// logAt returns the events that happened by now, oldest first.
func (j *job) logAt(now time.Time) []logEvent {
	n := 0
	for n < len(j.log) && !j.log[n].at.After(now) {
		n++
	}
	return j.log[:n]
}

// launchPlan is what faults say about one server's launch.
type launchPlan struct {
	fail     bool
	rawError string
	factor   float64 // durations multiply by it; 0 means 1
}

func (g *region) newJob(seed int64, typ, initiatedBy string, now time.Time, tags map[string]string) *job {
	id := g.newJobID()
	j := &job{
		seq: g.nextSeq(), id: id, arn: g.arn("job", id), typ: typ, initiatedBy: initiatedBy,
		created: now, tags: maps.Clone(tags),
	}
	if j.tags == nil {
		j.tags = map[string]string{}
	}
	r := stream(seed, "job", g.account, g.name, id)
	pending := between(r, 10*time.Second, 30*time.Second)
	if typ == jobTypeTerminate {
		pending = between(r, 5*time.Second, 15*time.Second)
	}
	j.started = now.Add(pending)
	j.log = []logEvent{{at: j.started, event: "JOB_START"}}
	return j
}

// finish closes the schedule: the job ends when its last server does.
func (g *region) finish(j *job) {
	j.ended = j.started
	for _, p := range j.servers {
		if p.end.After(j.ended) {
			j.ended = p.end
		}
	}
	slices.SortStableFunc(j.log, func(a, b logEvent) int { return a.at.Compare(b.at) })
	j.log = append(j.log, logEvent{at: j.ended, event: "JOB_END"})
	g.jobs = append(g.jobs, j)
	g.jobByID[j.id] = j
}

// startLaunch schedules a LAUNCH job for the servers and the instances it
// will create. plan gives the faults that apply to each server.
func (g *region) startLaunch(seed int64, servers []*sourceServer, isDrill bool, tags map[string]string, now time.Time, plan func(*sourceServer) launchPlan) *job {
	initiatedBy := "START_RECOVERY"
	if isDrill {
		initiatedBy = "START_DRILL"
	}
	j := g.newJob(seed, jobTypeLaunch, initiatedBy, now, tags)
	j.isDrill = isDrill
	for _, s := range servers {
		j.servers = append(j.servers, g.scheduleLaunch(seed, j, s, now, plan(s)))
	}
	g.finish(j)
	return j
}

func (g *region) scheduleLaunch(seed int64, j *job, s *sourceServer, now time.Time, lp launchPlan) *jobServer {
	r := stream(seed, "launch", g.account, g.name, j.id, s.id)
	factor := lp.factor
	if factor <= 0 {
		factor = 1
	}
	scale := func(lo, hi time.Duration) time.Duration {
		return time.Duration(float64(between(r, lo, hi)) * factor)
	}
	snapshot, conversion, launch := scale(time.Minute, 3*time.Minute), scale(2*time.Minute, 5*time.Minute), scale(time.Minute, 3*time.Minute)

	p := &jobServer{sourceServerID: s.id, start: j.started}
	t := j.started
	add := func(at time.Time, event, target, rawError string) {
		j.log = append(j.log, logEvent{at: at, event: event, sourceServerID: s.id, targetInstanceID: target, rawError: rawError})
	}

	var pointInTime time.Time
	switch s.replication {
	case "INITIAL_SYNC":
		add(t, "SNAPSHOT_START", "", "")
		t = t.Add(snapshot)
		add(t, "SNAPSHOT_FAIL", "", rawErrorNoSnapshot)
		add(t, "LAUNCH_FAILED", "", rawErrorNoSnapshot)
		p.end, p.outcome = t, launchFailed
		return p
	case "STALLED":
		// The last snapshot taken before replication stalled.
		pointInTime = now.Add(-parseLag(s.lag))
		add(t, "USING_PREVIOUS_SNAPSHOT", "", "")
	default:
		add(t, "SNAPSHOT_START", "", "")
		t = t.Add(snapshot)
		pointInTime = t
		add(t, "SNAPSHOT_END", "", "")
	}
	add(t, "CONVERSION_START", "", "")
	t = t.Add(conversion)
	add(t, "CONVERSION_END", "", "")
	launchStart := t
	t = t.Add(launch)
	p.end = t
	if lp.fail {
		add(launchStart, "LAUNCH_START", "", "")
		add(t, "LAUNCH_FAILED", "", cmp.Or(lp.rawError, rawErrorInjected))
		p.outcome = launchFailed
		return p
	}

	in := g.newInstance(seed, j, s, r, launchStart, t)
	add(launchStart, "LAUNCH_START", in.id, "")
	ri := &recoveryInstance{
		seq: g.nextSeq(), id: g.newEC2ID(), ec2ID: in.id, jobID: j.id, sourceServerID: s.id,
		isDrill: j.isDrill, pointInTime: pointInTime, createdAt: t, tags: map[string]string{},
	}
	ri.arn = g.arn("recovery-instance", ri.id)
	// A server has one recovery instance: the new one replaces the old.
	if old := g.recoveryInstanceOf(s.id, now); old != nil {
		old.removedAt = t
		if oi := g.instanceByID[old.ec2ID]; oi != nil && oi.terminatedAt.IsZero() {
			oi.terminatingAt, oi.terminatedAt = t, t.Add(between(r, 30*time.Second, 60*time.Second))
		}
	}
	g.recovery = append(g.recovery, ri)
	g.recoveryByID[ri.id] = ri
	p.recoveryInstanceID, p.outcome = ri.id, launchLaunched
	return p
}

// newInstance creates the EC2 instance of a launch: pending from start,
// running from end.
func (g *region) newInstance(seed int64, j *job, s *sourceServer, r *rand.Rand, start, end time.Time) *instance {
	in := &instance{
		seq: g.nextSeq(), id: g.newEC2ID(), sourceServerID: s.id, windows: s.windows,
		launchTime: start, runningAt: end,
		az:       g.name + "a",
		imageID:  "ami-" + randString(g.ids, hexDigits, 17),
		subnetID: fmt.Sprintf("subnet-%s", randString(stream(seed, "subnet", g.account, g.name), hexDigits, 17)),
		vpcID:    fmt.Sprintf("vpc-%s", randString(stream(seed, "vpc", g.account, g.name), hexDigits, 17)),
	}
	in.reservationID = "r-" + randString(g.ids, hexDigits, 17)
	in.instanceType = s.instanceType
	if s.launch.rightSizing == "NONE" {
		in.instanceType = "m5.large"
	}
	if s.launch.copyPrivateIP {
		in.privateIP = s.ip
	} else {
		in.privateIP = fmt.Sprintf("172.31.%d.%d", s.subnet*16+r.IntN(16), 10+r.IntN(240))
	}
	in.privateDNS = privateDNSName(in.privateIP, g.name)
	in.tags = map[string]string{
		"AWSElasticDisasterRecoveryManaged":        "drs.amazonaws.com",
		"AWSElasticDisasterRecoverySourceServerID": s.id,
	}
	if s.launch.copyTags {
		for k, v := range s.tags {
			in.tags[k] = v
		}
	}
	if _, ok := in.tags["Name"]; !ok {
		in.tags["Name"] = s.hostname
	}
	g.instances = append(g.instances, in)
	g.instanceByID[in.id] = in
	return in
}

// startTerminate schedules a TERMINATE job for the recovery instances.
func (g *region) startTerminate(seed int64, ris []*recoveryInstance, now time.Time) *job {
	j := g.newJob(seed, jobTypeTerminate, "TERMINATE_RECOVERY_INSTANCES", now, nil)
	for _, ri := range ris {
		r := stream(seed, "terminate", g.account, g.name, j.id, ri.id)
		p := &jobServer{sourceServerID: ri.sourceServerID, recoveryInstanceID: ri.id, start: j.started, outcome: launchTerminated}
		p.end = j.started.Add(between(r, time.Minute, 2*time.Minute))
		j.log = append(j.log,
			logEvent{at: p.start, event: "CLEANUP_START", sourceServerID: ri.sourceServerID, targetInstanceID: ri.ec2ID},
			logEvent{at: p.end, event: "CLEANUP_END", sourceServerID: ri.sourceServerID, targetInstanceID: ri.ec2ID})
		if in := g.instanceByID[ri.ec2ID]; in != nil && (in.terminatedAt.IsZero() || in.terminatedAt.After(p.end)) {
			in.terminatingAt, in.terminatedAt = j.started, p.end
			if in.runningAt.After(j.started) {
				in.runningAt = j.started
			}
		}
		j.servers = append(j.servers, p)
	}
	g.finish(j)
	for _, ri := range ris {
		ri.removedAt = j.ended
	}
	return j
}

func privateDNSName(ip, region string) string {
	host := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + region + ".compute.internal"
}

// parseLag reads the simple ISO-8601 durations the fleet uses (PT3H12M).
func parseLag(s string) time.Duration {
	var d time.Duration
	var n int64
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			n = n*10 + int64(c-'0')
		case c == 'H':
			d += time.Duration(n) * time.Hour
			n = 0
		case c == 'M':
			d += time.Duration(n) * time.Minute
			n = 0
		case c == 'S':
			d += time.Duration(n) * time.Second
			n = 0
		default:
			n = 0
		}
	}
	return d
}
