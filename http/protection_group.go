package http

import (
	"context"
	"fmt"
	"net/http"
	"sort"

	"wavedr"
)

// idKinds names the kind of each ID prefix, to tell a caller who sent the
// ID of one kind to a route of another.
var idKinds = map[string]string{
	wavedr.PrefixProtectionGroup: "protection group",
	wavedr.PrefixRecoveryPlan:    "recovery plan",
	wavedr.PrefixExecution:       "execution",
	wavedr.PrefixAPIToken:        "API token",
	wavedr.PrefixAudit:           "audit entry",
}

// pathRef reads the {id} of a route whose objects have IDs with prefix
// and, when byName, unique names: an ID or a name is accepted, an ID of
// another kind or anything else is EINVALID.
func pathRef(r *http.Request, prefix string, byName bool) (string, error) {
	id := r.PathValue("id")
	if wavedr.ValidID(prefix, id) {
		return id, nil
	}
	for p, kind := range idKinds {
		if p != prefix && wavedr.ValidID(p, id) {
			return "", invalidf("id", "%s is the ID of %s, not of %s", id, article(kind), article(idKinds[prefix]))
		}
	}
	if byName && wavedr.ValidName(id) {
		return id, nil
	}
	rule := fmt.Sprintf("must be %s ID (%s-...)", article(idKinds[prefix]), prefix)
	if byName {
		rule += " or name"
	}
	return "", invalidf("id", "%s", rule)
}

func article(s string) string {
	switch s[0] {
	case 'a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U':
		return "an " + s
	}
	return "a " + s
}

func (s *Server) handleListGroups(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r, "accountId", "region", "limit", "cursor")
	f := wavedr.ProtectionGroupFilter{AccountID: q.str("accountId"), Region: q.str("region"), Cursor: q.str("cursor"), Limit: q.limit()}
	if err := q.err(); err != nil {
		return err
	}
	page, err := s.db.ListProtectionGroups(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) handleCreateGroup(w http.ResponseWriter, r *http.Request) error {
	var g wavedr.ProtectionGroup
	keys, err := decodeJSON(w, r, &g, bodyRequired)
	if err != nil {
		return err
	}
	if err := serverSetFields(keys, "id", "version", "createdAt", "updatedAt"); err != nil {
		return err
	}
	if err := s.db.CreateProtectionGroup(r.Context(), &g); err != nil {
		return err
	}
	stateOf(r).target = g.ID
	w.Header().Set("Location", "/v1/protection-groups/"+g.ID)
	writeJSON(w, http.StatusCreated, g)
	return nil
}

// groupPreview is the answer of POST /v1/protection-groups/preview.
type groupPreview struct {
	AccountID string `json:"accountId,omitempty"`
	Region    string `json:"region"`
	// Items are the servers the group resolves to now, by hostname.
	Items []*wavedr.SourceServer `json:"items"`
	// Missing lists the server IDs the group names that DRS does not have.
	Missing []string `json:"missing"`
}

// handlePreviewGroup answers the servers a group (not stored) would hold
// if a wave launched it now: listed IDs that exist, or the servers its
// selector matches.
func (s *Server) handlePreviewGroup(w http.ResponseWriter, r *http.Request) error {
	var g wavedr.ProtectionGroup
	if _, err := decodeJSON(w, r, &g, bodyRequired); err != nil {
		return err
	}
	if g.Name == "" {
		g.Name = "preview" // a name is not needed to preview
	}
	if err := g.Validate(); err != nil {
		return err
	}
	accounts, err := s.accountMap(r.Context())
	if err != nil {
		return err
	}
	if _, ok := accounts[g.AccountID]; g.AccountID != "" && !ok {
		return invalidf("accountId", "account %s is not connected; add it first", g.AccountID)
	}
	t := g.Target(accounts)
	servers, err := s.rec.DescribeSourceServers(r.Context(), t, nil)
	if err != nil {
		return dependencyError(err)
	}
	out := groupPreview{AccountID: g.AccountID, Region: g.Region, Items: []*wavedr.SourceServer{}, Missing: []string{}}
	if g.Selector != nil {
		for _, sv := range servers {
			if g.Selector.Matches(sv.Tags) {
				out.Items = append(out.Items, sv)
			}
		}
	} else {
		byID := map[string]*wavedr.SourceServer{}
		for _, sv := range servers {
			byID[sv.ID] = sv
		}
		for _, id := range g.ServerIDs {
			if sv, ok := byID[id]; ok {
				out.Items = append(out.Items, sv)
			} else {
				out.Missing = append(out.Missing, id)
			}
		}
	}
	sort.Slice(out.Items, func(i, j int) bool {
		a, b := out.Items[i], out.Items[j]
		return sortKey(a.Hostname, a.ID) < sortKey(b.Hostname, b.ID)
	})
	writeJSON(w, http.StatusOK, out)
	return nil
}

// accountMap returns the stored accounts by ID.
func (s *Server) accountMap(ctx context.Context) (map[string]*wavedr.Account, error) {
	list, err := s.db.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*wavedr.Account, len(list))
	for _, a := range list {
		m[a.ID] = a
	}
	return m, nil
}

// dependencyError keeps AWS's refusal of wavedr's own credentials from
// reading as the caller's: the caller was authorized, AWS was not.
func dependencyError(err error) error {
	switch wavedr.ErrorCode(err) {
	case wavedr.EFORBIDDEN, wavedr.EUNAUTHORIZED:
		return wavedr.Errorf(wavedr.EUNAVAILABLE, "AWS refused wavedr's credentials: %s", wavedr.ErrorMessage(err))
	}
	return err
}

// groupObject serves GET, PUT and DELETE of /v1/protection-groups/{id}.
func (s *Server) groupObject() namedObject[wavedr.ProtectionGroup] {
	return namedObject[wavedr.ProtectionGroup]{
		prefix: wavedr.PrefixProtectionGroup,
		find:   s.db.FindProtectionGroup, update: s.db.UpdateProtectionGroup, delete: s.db.DeleteProtectionGroup,
		ids: func(g *wavedr.ProtectionGroup) (*string, int64) { return &g.ID, g.Version },
	}
}
