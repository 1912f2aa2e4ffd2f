package http

import (
	"net/http"

	"wavedr"
)

func (s *Server) handleListAccounts(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r, "limit", "cursor")
	limit := q.limit()
	if err := q.err(); err != nil {
		return err
	}
	all, err := s.db.ListAccounts(r.Context())
	if err != nil {
		return err
	}
	page, err := pageOf(all, func(a *wavedr.Account) string { return a.ID }, false, "accounts", "", q.str("cursor"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) handleCreateAccount(w http.ResponseWriter, r *http.Request) error {
	var a wavedr.Account
	keys, err := decodeJSON(w, r, &a, bodyRequired)
	if err != nil {
		return err
	}
	if err := serverSetFields(keys, "version", "createdAt", "updatedAt"); err != nil {
		return err
	}
	if err := s.db.CreateAccount(r.Context(), &a); err != nil {
		return err
	}
	stateOf(r).target = a.ID
	w.Header().Set("Location", "/v1/accounts/"+a.ID)
	writeJSON(w, http.StatusCreated, a)
	return nil
}

// accountID reads the {id} of an account route: a 12-digit account ID.
func accountID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !wavedr.ValidAccountID(id) {
		return "", invalidf("id", "must be a 12-digit AWS account ID")
	}
	return id, nil
}

func (s *Server) handleGetAccount(w http.ResponseWriter, r *http.Request) error {
	id, err := accountID(r)
	if err != nil {
		return err
	}
	a, err := s.db.FindAccount(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) handleUpdateAccount(w http.ResponseWriter, r *http.Request) error {
	id, err := accountID(r)
	if err != nil {
		return err
	}
	var a wavedr.Account
	keys, err := decodeJSON(w, r, &a, bodyRequired)
	if err != nil {
		return err
	}
	if err := updateFields(keys, a.ID, id, a.Version); err != nil {
		return err
	}
	a.ID = id
	if err := s.db.UpdateAccount(r.Context(), &a); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) handleDeleteAccount(w http.ResponseWriter, r *http.Request) error {
	id, err := accountID(r)
	if err != nil {
		return err
	}
	q := newQuery(r, "version")
	version := q.version()
	if err := q.err(); err != nil {
		return err
	}
	if err := s.db.DeleteAccount(r.Context(), id, version); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// serverSetFields refuses, in a creation, the fields the server sets.
func serverSetFields(keys map[string]bool, fields ...string) error {
	var p wavedr.Problems
	for _, f := range fields {
		if keys[f] {
			p.Add(f, "is set by the server; leave it out when creating")
		}
	}
	return p.Err("request body")
}

// updateFields checks an update's body: the version read is required (the
// write is conditional on it), and an ID, if given, must be the path's.
// createdAt and updatedAt are accepted and ignored, so that what a GET
// answered can be changed and sent back.
func updateFields(keys map[string]bool, bodyID, pathID string, version int64) error {
	var p wavedr.Problems
	switch {
	case !keys["version"]:
		p.Add("version", "is required: the version you read, so that a concurrent change is not overwritten")
	case version < 1:
		p.Add("version", "must be a positive integer")
	}
	if keys["id"] && bodyID != pathID {
		p.Add("id", "must be %s, the ID in the path, or left out", pathID)
	}
	return p.Err("request body")
}
