package http

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wavedr"
	"wavedr/store/storetest"
)

func TestBootstrapGeneratesAdminToken(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	dir := filepath.Join(t.TempDir(), "data")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if err := Bootstrap(ctx, db, dir, "", log); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, AdminTokenFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	secret := strings.TrimSpace(string(b))
	if !strings.HasPrefix(secret, wavedr.APITokenPrefix) {
		t.Fatalf("the file holds %q", secret)
	}
	if strings.Contains(logs.String(), secret) || !strings.Contains(logs.String(), path) {
		t.Errorf("the log must name the file and never the secret: %s", logs.String())
	}
	tok, err := db.FindAPITokenByHash(ctx, wavedr.HashAPITokenSecret(secret))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Role != wavedr.RoleAdmin || tok.Name != BootstrapTokenName || (tok.ExpiresAt.Sub(tok.CreatedAt)-BootstrapTokenLifetime).Abs() > time.Minute {
		t.Errorf("token %+v", tok)
	}
	// An active Admin token exists: nothing more is generated.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := Bootstrap(ctx, db, dir, "", log); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a second admin token was generated")
	}
	all, _ := db.ListAPITokens(ctx)
	if len(all) != 1 {
		t.Errorf("%d tokens", len(all))
	}
}

func TestBootstrapFromSecret(t *testing.T) {
	ctx := context.Background()
	db := storetest.MustOpen(t)
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	for _, bad := range []struct{ secret, want string }{
		{"wdr_short", "at least 32 characters"},
		{strings.Repeat("x", 40), "must start with wdr_"},
		{"wdr_" + strings.Repeat("x", 30) + " y", "white space"},
	} {
		err := Bootstrap(ctx, db, dir, bad.secret, log)
		if wavedr.ErrorCode(err) != wavedr.EINVALID || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("secret %q: %v, want EINVALID saying %q", bad.secret, err, bad.want)
		}
	}
	secret := "wdr_" + strings.Repeat("s", 40)
	for range 2 { // idempotent
		if err := Bootstrap(ctx, db, dir, secret, log); err != nil {
			t.Fatal(err)
		}
	}
	all, _ := db.ListAPITokens(ctx)
	if len(all) != 1 || all[0].Name != BootstrapTokenName || all[0].Role != wavedr.RoleAdmin {
		t.Fatalf("tokens %+v", all)
	}
	if _, err := os.Stat(filepath.Join(dir, AdminTokenFile)); !os.IsNotExist(err) {
		t.Errorf("a secret given in the environment is not written to a file")
	}
	// A revoked secret is refused with a clear error.
	if _, err := db.RevokeAPIToken(ctx, all[0].ID, "test", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := Bootstrap(ctx, db, dir, secret, log); wavedr.ErrorCode(err) != wavedr.EINVALID || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("revoked secret: %v", err)
	}
	// A new secret gets a token of its own, named apart from the first
	// (whose name is free again once it is revoked).
	if err := Bootstrap(ctx, db, dir, "wdr_"+strings.Repeat("t", 40), log); err != nil {
		t.Fatal(err)
	}
}

func TestOIDCPrincipal(t *testing.T) {
	h := newHarness(t, storetest.SQLite, harnessOptions{})
	cases := []struct {
		claims map[string]any
		name   string
		roles  []wavedr.Role
	}{
		{map[string]any{"preferred_username": "alice", "email": "a@example.com", "groups": []string{testOperGroup, testAdminGroup}}, "alice", []wavedr.Role{wavedr.RoleAdmin, wavedr.RoleOperator}},
		{map[string]any{"email": "bob@example.com", "groups": testOperGroup}, "bob@example.com", []wavedr.Role{wavedr.RoleOperator}},
		{map[string]any{"sub": "carol-id", "groups": []string{"staff"}}, "carol-id", []wavedr.Role{}},
	}
	for _, c := range cases {
		tok := h.issuer.token(t, c.claims)
		p, err := h.api.auth.OIDC.Principal(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != c.name || p.Kind != wavedr.PrincipalOIDC || len(p.Roles) != len(c.roles) {
			t.Errorf("%v: principal %+v, want %s with %v", c.claims, p, c.name, c.roles)
		}
		for i := range c.roles {
			if p.Roles[i] != c.roles[i] {
				t.Errorf("%v: roles %v, want %v", c.claims, p.Roles, c.roles)
			}
		}
	}
	var got me
	h.call(request{method: "GET", path: "/v1/me", header: map[string]string{"Authorization": "Bearer " + h.issuer.token(t, map[string]any{"preferred_username": "dave", "groups": []string{testOperGroup}})}}, http.StatusOK, &got)
	if got.Principal.String() != "oidc:dave" || len(got.Permissions) != 4 {
		t.Errorf("me: %+v %v", got.Principal, got.Permissions)
	}
}

func TestParseOIDCRoles(t *testing.T) {
	m, err := ParseOIDCRoles(" dr-admins=Admin, dr-operators=operator ,")
	if err != nil || m["dr-admins"] != wavedr.RoleAdmin || m["dr-operators"] != wavedr.RoleOperator || len(m) != 2 {
		t.Errorf("%v %v", m, err)
	}
	for _, bad := range []string{"dr-admins", "x=Root", "a=Admin,a=Operator", "=Admin"} {
		if _, err := ParseOIDCRoles(bad); wavedr.ErrorCode(err) != wavedr.EINVALID {
			t.Errorf("%q: %v, want EINVALID", bad, err)
		}
	}
}

func TestTokens(t *testing.T) {
	h := newHarness(t, storetest.SQLite, harnessOptions{})
	admin := h.tokens["admin"]
	exp := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	var created map[string]any
	r := h.call(request{method: "POST", path: "/v1/tokens", token: admin, body: `{"name":"ci","role":"Operator","expiresAt":"` + exp + `"}`}, http.StatusCreated, &created)
	secret, _ := created["secret"].(string)
	if !strings.HasPrefix(secret, wavedr.APITokenPrefix) || created["createdBy"] != "token:admin" || bytes.Contains(r.body, []byte("hash")) {
		t.Fatalf("created: %s", r.body)
	}
	id := created["id"].(string)
	var me me
	h.call(request{method: "GET", path: "/v1/me", token: secret}, http.StatusOK, &me)
	if me.Principal.Name != "ci" || me.Principal.Roles[0] != wavedr.RoleOperator {
		t.Errorf("me: %+v", me.Principal)
	}
	// Listed without secret or hash; paged newest first.
	r = h.call(request{method: "GET", path: "/v1/tokens?limit=2", token: admin}, http.StatusOK, nil)
	if bytes.Contains(r.body, []byte(secret)) || bytes.Contains(r.body, []byte("hash")) || bytes.Contains(r.body, []byte("secret")) {
		t.Errorf("the list shows a secret or a hash: %s", r.body)
	}
	var page wavedr.Page[*wavedr.APIToken]
	h.call(request{method: "GET", path: "/v1/tokens?limit=2", token: admin}, http.StatusOK, &page)
	if len(page.Items) != 2 || page.Items[0].ID != id || page.Next == "" {
		t.Fatalf("first page: %+v", page)
	}
	seen := 2
	for page.Next != "" {
		next := page.Next
		page = wavedr.Page[*wavedr.APIToken]{}
		h.call(request{method: "GET", path: "/v1/tokens?limit=2&cursor=" + next, token: admin}, http.StatusOK, &page)
		seen += len(page.Items)
	}
	if seen != len(wavedr.Roles)+1 {
		t.Errorf("paged through %d tokens, want %d", seen, len(wavedr.Roles)+1)
	}
	// Revoked: it no longer authenticates, with a message saying so.
	var revoked wavedr.APIToken
	h.call(request{method: "DELETE", path: "/v1/tokens/" + id, token: admin}, http.StatusOK, &revoked)
	if revoked.RevokedBy != "token:admin" || revoked.RevokedAt.IsZero() {
		t.Errorf("revoked: %+v", revoked)
	}
	r = h.call(request{method: "GET", path: "/v1/me", token: secret}, http.StatusUnauthorized, nil)
	if e := r.errorBody(t); e.Message != "token revoked" {
		t.Errorf("revoked token: %s", r.body)
	}
	// Lifetime rules.
	far := time.Now().Add(400 * 24 * time.Hour).UTC().Format(time.RFC3339)
	r = h.call(request{method: "POST", path: "/v1/tokens", token: admin, body: `{"name":"long","role":"Operator","expiresAt":"` + far + `"}`}, http.StatusBadRequest, nil)
	if e := r.errorBody(t); e.Details[0].Field != "expiresAt" {
		t.Errorf("too long a life: %s", r.body)
	}
}
