package wavedr

import (
	"testing"
	"time"
)

// TestPermissionTable spells the whole table out, so a change to it is a
// deliberate change to this test too.
func TestPermissionTable(t *testing.T) {
	const (
		y = true
		n = false
	)
	//                               view groups plans drill recovery control terminate accounts tokens audit
	want := map[Role][10]bool{
		RoleAdmin:           {y, y, y, y, y, y, y, y, y, y},
		RoleRecoveryManager: {y, y, y, y, y, y, y, n, n, y},
		RolePlanManager:     {y, y, y, y, n, y, y, n, n, n},
		RoleOperator:        {y, n, n, y, n, y, y, n, n, n},
		RoleReadOnly:        {y, n, n, n, n, n, n, n, n, n},
	}
	if len(Permissions) != 10 || len(want) != len(Roles) {
		t.Fatalf("%d permissions, %d roles: update the table", len(Permissions), len(Roles))
	}
	for _, r := range Roles {
		for i, p := range Permissions {
			if got := r.Allows(p); got != want[r][i] {
				t.Errorf("%s allows %s = %v, want %v", r, p, got, want[r][i])
			}
			pr := &Principal{Name: "x", Kind: PrincipalToken, Roles: []Role{r}}
			if pr.Can(p) != want[r][i] {
				t.Errorf("principal with %s: Can(%s) = %v", r, p, pr.Can(p))
			}
		}
	}
	var nobody *Principal
	if nobody.Can(PermView) || (&Principal{}).Can(PermView) || Role("Root").Allows(PermView) {
		t.Error("a nil principal, one without roles, or an unknown role is allowed something")
	}
	if nobody.String() != "anonymous" || (&Principal{Name: "ci", Kind: PrincipalToken}).String() != "token:ci" {
		t.Error("principal names")
	}
}

func TestParseRole(t *testing.T) {
	for _, s := range []string{"admin", "Admin", " recoverymanager ", "READONLY"} {
		if _, err := ParseRole(s); err != nil {
			t.Errorf("ParseRole(%q): %v", s, err)
		}
	}
	if _, err := ParseRole("root"); ErrorCode(err) != EINVALID {
		t.Errorf("ParseRole(root) = %v, want EINVALID", err)
	}
}

func TestAPITokenValidate(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ok := APIToken{Name: "ci", Role: RoleOperator, ExpiresAt: now.Add(30 * 24 * time.Hour)}
	if err := ok.Validate(now); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		field string
		edit  func(*APIToken)
	}{
		{"name", func(t *APIToken) { t.Name = " " }},
		{"name", func(t *APIToken) { t.Name = string(make([]byte, 129)) }},
		{"role", func(t *APIToken) { t.Role = "Root" }},
		{"expiresAt", func(t *APIToken) { t.ExpiresAt = time.Time{} }},
		{"expiresAt", func(t *APIToken) { t.ExpiresAt = now }},
		{"expiresAt", func(t *APIToken) { t.ExpiresAt = now.Add(MaxAPITokenLifetime + time.Hour) }},
	}
	for _, c := range cases {
		tok := ok
		c.edit(&tok)
		err := tok.Validate(now)
		if ErrorCode(err) != EINVALID {
			t.Errorf("%s: %v, want EINVALID", c.field, err)
			continue
		}
		var found bool
		for _, d := range err.(*Error).Details {
			found = found || d.Field == c.field
		}
		if !found {
			t.Errorf("%s: details %+v do not name the field", c.field, err.(*Error).Details)
		}
	}
	if !ok.Active(now) || ok.Active(ok.ExpiresAt) {
		t.Error("Active before and at expiry")
	}
	revoked := ok
	revoked.RevokedAt = now
	if revoked.Active(now) {
		t.Error("a revoked token is active")
	}
	s1, h1 := NewAPITokenSecret()
	s2, _ := NewAPITokenSecret()
	if s1 == s2 || h1 != HashAPITokenSecret(s1) || len(s1) < 40 || s1[:4] != APITokenPrefix {
		t.Errorf("secrets %q %q", s1, s2)
	}
}
