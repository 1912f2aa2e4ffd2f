package sim

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// The state of one account in one region. Objects carry the times at which
// they appear, change and go away; what a request sees is derived from those
// times and the clock's now, so progress needs no background work.

type disk struct {
	name  string
	bytes int64
}

type launchConfig struct {
	name          string
	templateID    string
	copyPrivateIP bool
	copyTags      bool
	disposition   string
	rightSizing   string
	osByol        bool
	postLaunch    bool
}

type sourceServer struct {
	id, arn        string
	hostname, fqdn string
	tier           string
	ip, mac        string
	subnet         int
	os             string
	windows        bool
	cores          int
	ramBytes       int64
	disks          []disk
	instanceType   string
	tags           map[string]string
	replication    string
	lag            string
	addedAt        time.Time
	launch         launchConfig
}

// recoveryInstance exists from createdAt until removedAt (zero: for good).
type recoveryInstance struct {
	seq            int
	id, arn        string
	ec2ID          string
	jobID          string
	sourceServerID string
	isDrill        bool
	pointInTime    time.Time
	tags           map[string]string
	createdAt      time.Time
	removedAt      time.Time
}

func (ri *recoveryInstance) existsAt(now time.Time) bool {
	return !now.Before(ri.createdAt) && (ri.removedAt.IsZero() || now.Before(ri.removedAt))
}

// instance is an EC2 instance. It exists from launchTime, runs from
// runningAt, shuts down from terminatingAt and is gone at terminatedAt
// (zero times: not scheduled).
type instance struct {
	seq            int
	id             string
	reservationID  string
	imageID        string
	instanceType   string
	privateIP      string
	privateDNS     string
	subnetID       string
	vpcID          string
	az             string
	windows        bool
	sourceServerID string
	tags           map[string]string
	launchTime     time.Time
	runningAt      time.Time
	terminatingAt  time.Time
	terminatedAt   time.Time
}

func (in *instance) existsAt(now time.Time) bool { return !now.Before(in.launchTime) }

// stateAt returns the EC2 state name and code at now.
func (in *instance) stateAt(now time.Time) (string, int) {
	switch {
	case !in.terminatedAt.IsZero() && !now.Before(in.terminatedAt):
		return "terminated", 48
	case !in.terminatingAt.IsZero() && !now.Before(in.terminatingAt):
		return "shutting-down", 32
	case now.Before(in.runningAt):
		return "pending", 0
	}
	return "running", 16
}

// region is one account's resources in one region.
type region struct {
	account, name string
	servers       []*sourceServer
	serverByID    map[string]*sourceServer
	jobs          []*job // creation order
	jobByID       map[string]*job
	recovery      []*recoveryInstance
	recoveryByID  map[string]*recoveryInstance
	instances     []*instance
	instanceByID  map[string]*instance
	ids           *rand.Rand // runtime IDs, in request order
	seq           int
}

func newRegion(seed int64, account, name string) *region {
	return &region{
		account:      account,
		name:         name,
		serverByID:   map[string]*sourceServer{},
		jobByID:      map[string]*job{},
		recoveryByID: map[string]*recoveryInstance{},
		instanceByID: map[string]*instance{},
		ids:          stream(seed, "ids", account, name),
	}
}

func (g *region) addServer(s *sourceServer) {
	g.servers = append(g.servers, s)
	g.serverByID[s.id] = s
}

func (g *region) nextSeq() int { g.seq++; return g.seq }

func (g *region) arn(kind, id string) string {
	return fmt.Sprintf("arn:aws:drs:%s:%s:%s/%s", g.name, g.account, kind, id)
}

// newEC2ID returns an unused "i-" + 17 hex ID (shared by recovery instance
// and EC2 instance IDs, so that the two never collide).
func (g *region) newEC2ID() string {
	for {
		id := "i-" + randString(g.ids, hexDigits, 17)
		if g.recoveryByID[id] == nil && g.instanceByID[id] == nil {
			return id
		}
	}
}

func (g *region) newJobID() string {
	for {
		id := "drsjob-" + randString(g.ids, alnumDigits, 17)
		if g.jobByID[id] == nil {
			return id
		}
	}
}

// activeJobs returns the jobs not yet COMPLETED at now.
func (g *region) activeJobs(now time.Time) []*job {
	var out []*job
	for _, j := range g.jobs {
		if j.statusAt(now) != jobCompleted {
			out = append(out, j)
		}
	}
	return out
}

// activeJobOf returns the job not yet COMPLETED at now in which the source
// server takes part, or nil.
func (g *region) activeJobOf(serverID string, now time.Time) *job {
	for _, j := range g.activeJobs(now) {
		for _, p := range j.servers {
			if p.sourceServerID == serverID {
				return j
			}
		}
	}
	return nil
}

// recoveryInstanceOf returns the recovery instance of the source server that
// exists at now, or nil.
func (g *region) recoveryInstanceOf(serverID string, now time.Time) *recoveryInstance {
	var found *recoveryInstance
	for _, ri := range g.recovery {
		if ri.sourceServerID == serverID && ri.existsAt(now) {
			found = ri
		}
	}
	return found
}

// lastLaunch returns the newest LAUNCH job of the server created by now and
// the server's part in it.
func (g *region) lastLaunch(serverID string, now time.Time) (*job, *jobServer) {
	for i := len(g.jobs) - 1; i >= 0; i-- {
		j := g.jobs[i]
		if j.typ != jobTypeLaunch || j.created.After(now) {
			continue
		}
		if p := j.server(serverID); p != nil {
			return j, p
		}
	}
	return nil, nil
}

// resourceTags returns the tag map of the DRS resource with the ARN.
func (g *region) resourceTags(arn string) (map[string]string, bool) {
	i := strings.LastIndexByte(arn, '/')
	if i < 0 {
		return nil, false
	}
	id := arn[i+1:]
	switch {
	case arn == g.arn("source-server", id) && g.serverByID[id] != nil:
		return g.serverByID[id].tags, true
	case arn == g.arn("job", id) && g.jobByID[id] != nil:
		return g.jobByID[id].tags, true
	case arn == g.arn("recovery-instance", id) && g.recoveryByID[id] != nil:
		return g.recoveryByID[id].tags, true
	}
	return nil, false
}
