package http

import (
	"bytes"
	"mime"
	"net/http"

	"wavedr"
	"wavedr/manifest"
	"wavedr/store"
)

// manifestName names the request body in the locations of a manifest's
// problems ("request#2 (RecoveryPlan x) line 9: ...").
const manifestName = "request"

// applyResult is the answer of POST /v1/apply.
type applyResult struct {
	DryRun  bool              `json:"dryRun"`
	Summary string            `json:"summary"`
	Changes []manifest.Change `json:"changes"`
}

// handleApply applies the YAML of `wavedr apply` in one transaction, or
// with ?dryRun=true answers what it would change. The route needs
// plans:manage; a manifest holding groups or accounts needs the right to
// manage those too, checked per kind before anything is read from the
// store.
func (s *Server) handleApply(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r, "dryRun")
	dryRun := q.bool("dryRun")
	if err := q.err(); err != nil {
		return err
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err == nil && (mt == "application/yaml" || mt == "text/yaml" || mt == "application/x-yaml" || mt == "text/x-yaml"):
	default:
		return &statusError{status: http.StatusUnsupportedMediaType,
			err: &wavedr.Error{Code: wavedr.EINVALID, Message: "unsupported request body type",
				Details: []wavedr.FieldError{{Field: "Content-Type", Rule: "must be application/yaml or text/yaml (the files of wavedr apply)"}}}}
	}
	body, err := readBody(w, r, manifest.MaxSize)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return invalidf("", "a YAML manifest is required in the request body")
	}
	m, loadErr := manifest.Load(manifestName, bytes.NewReader(body))
	if m == nil {
		return loadErr
	}
	p := PrincipalFromContext(r.Context())
	for _, need := range []struct {
		kind manifest.Kind
		perm wavedr.Permission
	}{{manifest.KindAccount, wavedr.PermManageAccounts}, {manifest.KindProtectionGroup, wavedr.PermManageGroups}} {
		if len(m.Of(need.kind)) > 0 && !p.Can(need.perm) {
			err := permit(p, need.perm).(*wavedr.Error)
			err.Message += " (the manifest holds " + string(need.kind) + " documents)"
			return err
		}
	}
	if loadErr != nil {
		return loadErr
	}
	var res *manifest.Result
	err = s.db.InTx(r.Context(), func(tx *store.Tx) error {
		var err error
		if dryRun {
			res, err = manifest.Diff(r.Context(), tx, m)
		} else {
			res, err = manifest.Apply(r.Context(), tx, m)
		}
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, applyResult{DryRun: dryRun, Summary: res.Summary(), Changes: res.Changes})
	return nil
}
