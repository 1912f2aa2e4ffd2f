package http

import (
	"net/http"
	"time"

	"wavedr"
)

// createdToken is the answer of POST /v1/tokens: the token and, this once,
// its secret. The hash is never answered (its field is not JSON).
type createdToken struct {
	*wavedr.APIToken
	Secret string `json:"secret"`
}

// tokenRequest is the body of POST /v1/tokens.
type tokenRequest struct {
	Name      string      `json:"name"`
	Role      wavedr.Role `json:"role"`
	ExpiresAt time.Time   `json:"expiresAt"`
}

func (s *Server) handleListTokens(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r, "limit", "cursor")
	limit := q.limit()
	if err := q.err(); err != nil {
		return err
	}
	all, err := s.db.ListAPITokens(r.Context())
	if err != nil {
		return err
	}
	// Newest first, as the store lists them; IDs sort by creation time.
	key := func(t *wavedr.APIToken) string {
		return sortKey(t.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000Z"), t.ID)
	}
	page, err := pageOf(all, key, true, "tokens", "", q.str("cursor"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request) error {
	var in tokenRequest
	if _, err := decodeJSON(w, r, &in, bodyRequired); err != nil {
		return err
	}
	who := PrincipalFromContext(r.Context())
	// A token may not carry more than its creator holds: that would be a
	// way around the permission table.
	if in.Role.Valid() {
		for _, perm := range wavedr.Permissions {
			if in.Role.Allows(perm) && !who.Can(perm) {
				err := permit(who, perm).(*wavedr.Error)
				err.Message += " (a " + string(in.Role) + " token would grant it)"
				return err
			}
		}
	}
	secret, hash := wavedr.NewAPITokenSecret()
	t := &wavedr.APIToken{Name: in.Name, Role: in.Role, ExpiresAt: in.ExpiresAt, CreatedBy: who.String(), Hash: hash}
	if err := s.db.CreateAPIToken(r.Context(), t); err != nil {
		return err
	}
	stateOf(r).target = t.ID
	writeJSON(w, http.StatusCreated, createdToken{APIToken: t, Secret: secret})
	return nil
}

func (s *Server) handleRevokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathRef(r, wavedr.PrefixAPIToken, false)
	if err != nil {
		return err
	}
	t, err := s.db.RevokeAPIToken(r.Context(), id, PrincipalFromContext(r.Context()).String(), time.Time{})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}
