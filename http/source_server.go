package http

import (
	"context"
	"net/http"
	"slices"
	"sort"

	"wavedr"
)

// sourceServerView is a DRS source server with where it is and the
// protection groups that hold it.
type sourceServerView struct {
	*wavedr.SourceServer
	AccountID        string     `json:"accountId,omitempty"` // empty: the local account
	Region           string     `json:"region"`
	ProtectionGroups []groupRef `json:"protectionGroups"`
	key              string
}

// groupRef names a protection group.
type groupRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// targetProblem is an account and region that could not be listed.
type targetProblem struct {
	AccountID string `json:"accountId,omitempty"`
	Region    string `json:"region"`
	Code      string `json:"code"`
	Message   string `json:"message"`
}

// sourceServerPage is a page of source servers. Unreachable lists the
// accounts and regions DRS did not answer for: their servers are missing
// from every page, and a client shows that rather than an empty fleet.
type sourceServerPage struct {
	Items       []*sourceServerView `json:"items"`
	Next        string              `json:"next,omitempty"`
	Unreachable []targetProblem     `json:"unreachable,omitempty"`
}

// handleListSourceServers lists the replicating servers of one account
// and region, or by default of the local account (in its region and those
// of its groups) and of every stored account in each of its regions,
// ordered by account, region, hostname and ID.
func (s *Server) handleListSourceServers(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r, "accountId", "region", "limit", "cursor")
	accountID, region, limit := q.str("accountId"), q.str("region"), q.limit()
	if accountID != "" && !wavedr.ValidAccountID(accountID) {
		q.problems.Add("accountId", "must be a 12-digit AWS account ID")
	}
	if region != "" && !wavedr.ValidRegion(region) {
		q.problems.Add("region", "must be an AWS region name (like us-east-1)")
	}
	if err := q.err(); err != nil {
		return err
	}
	ctx := r.Context()
	accounts, err := s.accountMap(ctx)
	if err != nil {
		return err
	}
	groups, err := s.allGroups(ctx)
	if err != nil {
		return err
	}
	targets, err := s.serverTargets(accounts, groups, accountID, region)
	if err != nil {
		return err
	}
	var items []*sourceServerView
	var unreachable []targetProblem
	for _, t := range targets {
		servers, err := s.rec.DescribeSourceServers(ctx, t, nil)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			err = dependencyError(err)
			unreachable = append(unreachable, targetProblem{AccountID: t.AccountID, Region: t.Region,
				Code: wavedr.ErrorCode(err), Message: wavedr.ErrorMessage(err)})
			continue
		}
		for _, sv := range servers {
			v := &sourceServerView{SourceServer: sv, AccountID: t.AccountID, Region: t.Region, ProtectionGroups: []groupRef{},
				key: sortKey(t.AccountID, t.Region, sv.Hostname, sv.ID)}
			for _, g := range groups {
				if g.AccountID == t.AccountID && g.Region == t.Region &&
					(slices.Contains(g.ServerIDs, sv.ID) || g.Selector.Matches(sv.Tags)) {
					v.ProtectionGroups = append(v.ProtectionGroups, groupRef{ID: g.ID, Name: g.Name})
				}
			}
			items = append(items, v)
		}
	}
	sort.Slice(items, func(i, j int) bool { return items[i].key < items[j].key })
	page, err := pageOf(items, func(v *sourceServerView) string { return v.key }, false, "source-servers",
		filterDigest(accountID, region), q.str("cursor"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sourceServerPage{Items: page.Items, Next: page.Next, Unreachable: unreachable})
	return nil
}

// serverTargets returns the accounts and regions to list.
func (s *Server) serverTargets(accounts map[string]*wavedr.Account, groups []*wavedr.ProtectionGroup, accountID, region string) ([]wavedr.Target, error) {
	var out []wavedr.Target
	if accountID != "" {
		a, ok := accounts[accountID]
		if !ok {
			return nil, wavedr.Errorf(wavedr.ENOTFOUND, "account %s is not connected", accountID)
		}
		regions := a.Regions
		if region != "" {
			regions = []string{region}
		}
		for _, rg := range regions {
			out = append(out, a.Target(rg))
		}
		return out, nil
	}
	// The local account: its own region and the regions of its groups.
	var local []string
	if region != "" {
		local = []string{region}
	} else {
		if s.cfg.LocalRegion != "" {
			local = append(local, s.cfg.LocalRegion)
		}
		for _, g := range groups {
			if g.AccountID == "" && !slices.Contains(local, g.Region) {
				local = append(local, g.Region)
			}
		}
	}
	for _, rg := range local {
		out = append(out, wavedr.Target{Region: rg})
	}
	ids := make([]string, 0, len(accounts))
	for id := range accounts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		for _, rg := range accounts[id].Regions {
			if region == "" || rg == region {
				out = append(out, accounts[id].Target(rg))
			}
		}
	}
	return out, nil
}

// allGroups reads every protection group, page by page.
func (s *Server) allGroups(ctx context.Context) ([]*wavedr.ProtectionGroup, error) {
	var out []*wavedr.ProtectionGroup
	f := wavedr.ProtectionGroupFilter{Limit: wavedr.MaxPageSize}
	for {
		page, err := s.db.ListProtectionGroups(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			return out, nil
		}
		f.Cursor = page.Next
	}
}
