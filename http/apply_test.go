package http

import (
	"net/http"
	"testing"

	"wavedr"
	"wavedr/store/storetest"
)

func TestApplyPermissionsPerKind(t *testing.T) {
	h := newHarness(t, storetest.SQLite, harnessOptions{})
	yaml := func(rq request) request {
		rq.method, rq.path = "POST", "/v1/apply"+rq.path
		rq.header = map[string]string{"Content-Type": "application/yaml"}
		return rq
	}
	account := "kind: Account\nid: \"123456789012\"\nname: prod\nregions: [us-east-1]\n"
	group := "kind: ProtectionGroup\nname: g\nregion: us-east-1\nselector: {tags: {Tier: db}}\n"
	plan := "kind: RecoveryPlan\nname: p\nwaves:\n  - name: a\n    groups: [g]\n"

	// A PlanManager manages groups and plans, not accounts.
	r := h.call(yaml(request{token: h.tokens["planmanager"], body: account + "---\n" + group}), http.StatusForbidden, nil)
	if e := r.errorBody(t); e.Details[0].Rule != "accounts:manage is required" {
		t.Errorf("accounts by a PlanManager: %s", r.body)
	}
	// Nothing was written.
	h.call(request{method: "GET", path: "/v1/protection-groups/g", token: h.tokens["admin"]}, http.StatusNotFound, nil)

	// A dry run answers the diff and writes nothing.
	var res applyResult
	h.call(yaml(request{path: "?dryRun=true", token: h.tokens["planmanager"], body: group + "---\n" + plan}), http.StatusOK, &res)
	if !res.DryRun || len(res.Changes) != 2 || res.Changes[0].Action != "created" || res.Summary != "2 created, 0 updated, 0 unchanged" {
		t.Errorf("dry run: %+v", res)
	}
	h.call(request{method: "GET", path: "/v1/recovery-plans/p", token: h.tokens["admin"]}, http.StatusNotFound, nil)

	h.call(yaml(request{token: h.tokens["planmanager"], body: group + "---\n" + plan}), http.StatusOK, &res)
	h.call(yaml(request{token: h.tokens["planmanager"], body: group + "---\n" + plan}), http.StatusOK, &res)
	if res.Summary != "no changes" {
		t.Errorf("second apply: %+v", res)
	}
	// An Admin may apply accounts.
	h.call(yaml(request{token: h.tokens["admin"], body: account}), http.StatusOK, &res)
	if res.Changes[0].Kind != "Account" || res.Changes[0].Action != "created" {
		t.Errorf("account: %+v", res)
	}
	// The entries name the principal and the outcome.
	page, err := h.db.ListAudit(t.Context(), wavedr.AuditFilter{Principal: "token:planmanager"})
	if err != nil || len(page.Items) != 4 || page.Items[3].Outcome != wavedr.AuditDenied || page.Items[0].Action != "manifest.apply" {
		t.Errorf("audit: %+v %v", page, err)
	}
}
