package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"wavedr"
)

// targets maps the account IDs of groups and servers to AWS targets (with
// the role and external ID of target accounts).
type targets map[string]*wavedr.Account

func (t targets) target(accountID, region string) wavedr.Target {
	if a, ok := t[accountID]; ok {
		return a.Target(region)
	}
	return wavedr.Target{AccountID: accountID, Region: region}
}

// loadTargets reads the accounts wavedr knows.
func (e *Engine) loadTargets(ctx context.Context) (targets, error) {
	accounts, err := e.db.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	t := targets{}
	for _, a := range accounts {
		t[a.ID] = a
	}
	return t, nil
}

// fleet caches the source servers of each target for one resolution, so a
// plan with many groups in one account and region lists its servers once.
type fleet struct {
	e       *Engine
	targets targets
	servers map[string]map[string]*wavedr.SourceServer // target key → server ID → server
}

func (e *Engine) newFleet(t targets) *fleet {
	return &fleet{e: e, targets: t, servers: map[string]map[string]*wavedr.SourceServer{}}
}

func (f *fleet) list(ctx context.Context, t wavedr.Target) (map[string]*wavedr.SourceServer, error) {
	if m, ok := f.servers[t.Key()]; ok {
		return m, nil
	}
	all, err := f.e.rec.DescribeSourceServers(ctx, t, nil)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*wavedr.SourceServer, len(all))
	for _, s := range all {
		m[s.ID] = s
	}
	f.servers[t.Key()] = m
	return m, nil
}

// resolve returns the servers of group g as DRS reports them now: listed
// IDs checked to exist, a tag selector matched against every server of the
// group's account and region.
func (f *fleet) resolve(ctx context.Context, g *wavedr.ProtectionGroup) ([]*wavedr.ServerRun, error) {
	t := f.targets.target(g.AccountID, g.Region)
	servers, err := f.list(ctx, t)
	if err != nil {
		return nil, err
	}
	var out []*wavedr.ServerRun
	if g.Selector != nil {
		for _, s := range servers {
			if g.Selector.Matches(s.Tags) {
				out = append(out, newServerRun(s, g, t))
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].SourceServerID < out[j].SourceServerID })
		return out, nil
	}
	var missing []string
	for _, id := range g.ServerIDs {
		s, ok := servers[id]
		if !ok {
			missing = append(missing, id)
			continue
		}
		out = append(out, newServerRun(s, g, t))
	}
	if len(missing) > 0 {
		return nil, wavedr.Errorf(wavedr.EINVALID, "protection group %q: DRS has no source server %s in %s",
			g.Name, strings.Join(missing, ", "), t.Key())
	}
	return out, nil
}

func newServerRun(s *wavedr.SourceServer, g *wavedr.ProtectionGroup, t wavedr.Target) *wavedr.ServerRun {
	r := &wavedr.ServerRun{
		ServerDetail: wavedr.ServerDetail{
			SourceServerID:   s.ID,
			Hostname:         s.Hostname,
			SourceInstanceID: s.SourceInstanceID,
			Tags:             s.Tags,
			ReplicationState: s.ReplicationState,
		},
		AccountID: t.AccountID,
		Region:    t.Region,
		Group:     g.Name,
		Status:    wavedr.ServerPending,
	}
	if len(s.IPs) > 0 {
		r.SourceIP = s.IPs[0]
	}
	return r
}

// activeJobHorizon bounds how far back a DRS job may have started and still
// be running: DescribeJobs has no status filter, so the engine asks for the
// jobs created since then and keeps those not COMPLETED.
const activeJobHorizon = 48 * time.Hour

// activeJobs returns the DRS jobs of t that are not COMPLETED.
func (e *Engine) activeJobs(ctx context.Context, t wavedr.Target) ([]*wavedr.Job, error) {
	jobs, err := e.rec.DescribeJobs(ctx, t, wavedr.JobFilter{From: e.now().Add(-activeJobHorizon)})
	if err != nil {
		return nil, err
	}
	active := jobs[:0]
	for _, j := range jobs {
		if j.Status != wavedr.JobCompleted {
			active = append(active, j)
		}
	}
	return active, nil
}

// foreignJobs maps each server in an active DRS job not started by
// execution ex to that job.
func foreignJobs(jobs []*wavedr.Job, executionID string) map[string]*wavedr.Job {
	out := map[string]*wavedr.Job{}
	for _, j := range jobs {
		if j.Tags[wavedr.TagExecution] == executionID && executionID != "" {
			continue
		}
		if j.Type != "" && j.Type != wavedr.JobTypeLaunch && j.Type != wavedr.JobTypeTerminate {
			continue
		}
		for _, s := range j.Servers {
			out[s.SourceServerID] = j
		}
	}
	return out
}

// describeJob names a job for a conflict message.
func describeJob(j *wavedr.Job) string {
	if ex := j.Tags[wavedr.TagExecution]; ex != "" {
		return fmt.Sprintf("DRS job %s of execution %s (%s)", j.ID, ex, j.Status)
	}
	return fmt.Sprintf("DRS job %s started outside wavedr (%s, %s)", j.ID, j.InitiatedBy, j.Status)
}
