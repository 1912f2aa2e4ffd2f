package http

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"wavedr"
	"wavedr/store/storetest"
)

// samplePath fills the parameters of a route's path with well-formed IDs
// of objects that do not exist. A route with a parameter not known here
// fails the test, so that a new route is added to it deliberately.
func samplePath(t *testing.T, rt route) string {
	t.Helper()
	now := time.Now()
	ids := map[string]string{
		"/v1/accounts/":          "999999999999",
		"/v1/protection-groups/": wavedr.NewID(wavedr.PrefixProtectionGroup, now),
		"/v1/recovery-plans/":    wavedr.NewID(wavedr.PrefixRecoveryPlan, now),
		"/v1/executions/":        wavedr.NewID(wavedr.PrefixExecution, now),
		"/v1/tokens/":            wavedr.NewID(wavedr.PrefixAPIToken, now),
	}
	p := rt.path
	for prefix, id := range ids {
		if strings.HasPrefix(p, prefix+"{id}") {
			p = strings.Replace(p, "{id}", id, 1)
		}
	}
	p = strings.Replace(p, "{wave}", "web", 1)
	if strings.Contains(p, "{") {
		t.Fatalf("route %s: no sample for its path parameters; add one to samplePath", rt.pattern())
	}
	if rt.method == http.MethodDelete && rt.path != "/v1/tokens/{id}" {
		p += "?version=1"
	}
	return p
}

// credential is one way of (not) authenticating, with the roles it
// authenticates with; ok is false for credentials that must be refused.
type credential struct {
	name   string
	header string // the Authorization header, "" for none
	roles  []wavedr.Role
	ok     bool
}

func TestRouteMatrixSQLite(t *testing.T) { testRouteMatrix(t, storetest.SQLite) }

func TestRouteMatrixPostgres(t *testing.T) {
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skip(storetest.PostgresSkip)
	}
	testRouteMatrix(t, storetest.Postgres)
}

// testRouteMatrix sends every route of the table with every credential and
// checks that the status is what the permission table says: 401 for bad
// credentials, 403 exactly when the roles lack the route's permission,
// and otherwise neither (nor a 5xx; the dummy body or ID may be refused).
func testRouteMatrix(t *testing.T, d storetest.Dialect) {
	t.Parallel()
	// The API's clock runs an hour ahead, so a token stored to expire in
	// half an hour is expired for it.
	h := newHarness(t, d, harnessOptions{clockSkew: time.Hour})
	ctx := context.Background()

	revoked := h.newToken("revoked", wavedr.RoleAdmin, 24*time.Hour)
	tok, err := h.db.FindAPITokenByHash(ctx, wavedr.HashAPITokenSecret(revoked))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.RevokeAPIToken(ctx, tok.ID, "test", time.Time{}); err != nil {
		t.Fatal(err)
	}
	expired := h.newToken("expired", wavedr.RoleAdmin, 30*time.Minute)
	other := newTestIssuerWithKey(t, issuerKey(t, 1))
	groups := func(g ...string) map[string]any { return map[string]any{"groups": g} }

	var creds []credential
	for _, r := range wavedr.Roles {
		creds = append(creds, credential{name: "token " + string(r), header: "Bearer " + h.tokens[strings.ToLower(string(r))], roles: []wavedr.Role{r}, ok: true})
	}
	creds = append(creds,
		credential{name: "OIDC admin", header: "Bearer " + h.issuer.token(t, groups(testAdminGroup)), roles: []wavedr.Role{wavedr.RoleAdmin}, ok: true},
		credential{name: "OIDC operator", header: "Bearer " + h.issuer.token(t, groups("staff", testOperGroup)), roles: []wavedr.Role{wavedr.RoleOperator}, ok: true},
		credential{name: "OIDC without a mapped group", header: "Bearer " + h.issuer.token(t, groups("staff")), ok: true},
		credential{name: "no Authorization header"},
		credential{name: "malformed header", header: "Basic YWRtaW46YWRtaW4="},
		credential{name: "bearer without token", header: "Bearer "},
		credential{name: "unknown API token", header: "Bearer " + wavedr.APITokenPrefix + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		credential{name: "revoked token", header: "Bearer " + revoked},
		credential{name: "expired token", header: "Bearer " + expired},
		credential{name: "OIDC token of another issuer", header: "Bearer " + other.token(t, groups(testAdminGroup))},
		credential{name: "OIDC token of our issuer URL, signed by another key", header: "Bearer " + (&testIssuer{url: h.issuer.url, key: other.key}).token(t, groups(testAdminGroup))},
		credential{name: "OIDC token for another audience", header: "Bearer " + h.issuer.token(t, map[string]any{"aud": "another-client", "groups": []string{testAdminGroup}})},
		credential{name: "expired OIDC token", header: "Bearer " + h.issuer.token(t, map[string]any{"exp": time.Now().Add(-time.Minute).Unix(), "groups": []string{testAdminGroup}})},
		credential{name: "garbage bearer token", header: "Bearer not-a-jwt"},
	)

	if len(h.api.table) < 30 {
		t.Fatalf("the route table has %d routes; the matrix expects them all", len(h.api.table))
	}
	statuses := map[int]int{}
	defer func() { t.Logf("%d routes × %d credentials; statuses %v", len(h.api.table), len(creds), statuses) }()
	for _, rt := range h.api.table {
		path := samplePath(t, rt)
		for _, c := range creds {
			rq := request{method: rt.method, path: path, header: map[string]string{}}
			if c.header != "" {
				rq.header["Authorization"] = c.header
			}
			if rt.method != http.MethodGet {
				rq.body = "{}"
				if rt.path == "/v1/apply" {
					rq.header["Content-Type"] = "application/yaml"
					rq.body = "kind: ProtectionGroup\nname: matrix\nregion: us-east-1\nselector: {tags: {Tier: none}}\n"
				}
			}
			r := h.do(rq)
			statuses[r.status]++
			what := rt.pattern() + " with " + c.name
			if r.status >= 500 {
				t.Errorf("%s: status %d: %s", what, r.status, r.body)
				continue
			}
			allowed := rt.public
			for _, role := range c.roles {
				allowed = allowed || role.Allows(rt.perm)
			}
			switch {
			case rt.public:
				if r.status == http.StatusUnauthorized || r.status == http.StatusForbidden {
					t.Errorf("%s: status %d for a public route", what, r.status)
				}
			case !c.ok:
				if r.status != http.StatusUnauthorized {
					t.Errorf("%s: status %d, want 401: %s", what, r.status, r.body)
					continue
				}
				if e := r.errorBody(t); e.Code != wavedr.EUNAUTHORIZED || r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: code %s, WWW-Authenticate %q", what, e.Code, r.header.Get("WWW-Authenticate"))
				}
			case !allowed:
				if r.status != http.StatusForbidden {
					t.Errorf("%s: status %d, want 403: %s", what, r.status, r.body)
					continue
				}
				if e := r.errorBody(t); e.Code != wavedr.EFORBIDDEN || !strings.Contains(e.Message, string(rt.perm)) {
					t.Errorf("%s: the 403 does not name %s: %s", what, rt.perm, r.body)
				}
			default:
				if r.status == http.StatusUnauthorized || r.status == http.StatusForbidden {
					t.Errorf("%s: status %d, want neither 401 nor 403: %s", what, r.status, r.body)
				}
			}
		}
	}

	// Refusals of mutating routes are audited, as "anonymous" when no
	// principal was authenticated.
	page, err := h.db.ListAudit(ctx, wavedr.AuditFilter{Principal: "anonymous", Limit: 1})
	if err != nil || len(page.Items) != 1 || page.Items[0].Outcome != wavedr.AuditDenied || page.Items[0].Status != http.StatusUnauthorized {
		t.Errorf("no DENIED audit entry of an anonymous request: %+v, %v", page, err)
	}
	page, err = h.db.ListAudit(ctx, wavedr.AuditFilter{Principal: "token:readonly", Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	denied := 0
	for _, e := range page.Items {
		if e.Outcome == wavedr.AuditDenied && e.Status == http.StatusForbidden && e.RequestID != "" {
			denied++
		}
	}
	if denied == 0 {
		t.Errorf("no DENIED audit entry of the ReadOnly token's refused writes")
	}
}
