package http

import (
	"net/http"

	"wavedr"
)

func (s *Server) handleListPlans(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r, "limit", "cursor")
	f := wavedr.RecoveryPlanFilter{Cursor: q.str("cursor"), Limit: q.limit()}
	if err := q.err(); err != nil {
		return err
	}
	page, err := s.db.ListRecoveryPlans(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) handleCreatePlan(w http.ResponseWriter, r *http.Request) error {
	var p wavedr.RecoveryPlan
	keys, err := decodeJSON(w, r, &p, bodyRequired)
	if err != nil {
		return err
	}
	if err := serverSetFields(keys, "id", "version", "createdAt", "updatedAt"); err != nil {
		return err
	}
	if err := s.db.CreateRecoveryPlan(r.Context(), &p); err != nil {
		return err
	}
	stateOf(r).target = p.ID
	w.Header().Set("Location", "/v1/recovery-plans/"+p.ID)
	writeJSON(w, http.StatusCreated, p)
	return nil
}

// handleValidatePlan checks a plan body against the stored groups without
// storing it: 200 {"valid":true}, or 400 naming every problem.
func (s *Server) handleValidatePlan(w http.ResponseWriter, r *http.Request) error {
	var p wavedr.RecoveryPlan
	if _, err := decodeJSON(w, r, &p, bodyRequired); err != nil {
		return err
	}
	ctx := r.Context()
	var lookupErr error
	groups := map[string]*wavedr.ProtectionGroup{}
	lookup := func(name string) *wavedr.ProtectionGroup {
		if g, ok := groups[name]; ok {
			return g
		}
		g, err := s.db.FindProtectionGroup(ctx, name)
		if err != nil && wavedr.ErrorCode(err) != wavedr.ENOTFOUND && lookupErr == nil {
			lookupErr = err
		}
		groups[name] = g
		return g
	}
	err := p.Validate(lookup)
	if lookupErr != nil {
		return lookupErr
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"valid": true})
	return nil
}

// planObject serves GET, PUT and DELETE of /v1/recovery-plans/{id}.
func (s *Server) planObject() namedObject[wavedr.RecoveryPlan] {
	return namedObject[wavedr.RecoveryPlan]{
		prefix: wavedr.PrefixRecoveryPlan,
		find:   s.db.FindRecoveryPlan, update: s.db.UpdateRecoveryPlan, delete: s.db.DeleteRecoveryPlan,
		ids: func(p *wavedr.RecoveryPlan) (*string, int64) { return &p.ID, p.Version },
	}
}
