package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"wavedr"
)

// Authenticator turns the bearer token of a request into a principal:
// API tokens (secrets starting with wavedr.APITokenPrefix) by their hash in
// the store, anything else as an OIDC token when OIDC is configured.
type Authenticator struct {
	Tokens wavedr.APITokenStore
	OIDC   *OIDC // nil: API tokens only
	Now    func() time.Time
	Logger *slog.Logger
}

// touchEvery is how often a token's last use is written: a token used on
// every request would otherwise write on every request.
const touchEvery = time.Minute

// Authenticate returns the principal of r, or EUNAUTHORIZED. The messages
// say what to fix without telling a guesser anything: "invalid token" for
// every secret that is not a live credential.
func (a *Authenticator) Authenticate(r *http.Request) (*wavedr.Principal, error) {
	raw, err := bearerToken(r)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(raw, wavedr.APITokenPrefix) {
		return a.apiToken(r.Context(), raw)
	}
	if a.OIDC == nil {
		return nil, unauthorized("invalid token")
	}
	return a.OIDC.Principal(r.Context(), raw)
}

func unauthorized(msg string) error { return wavedr.Errorf(wavedr.EUNAUTHORIZED, "%s", msg) }

// bearerToken reads "Authorization: Bearer TOKEN".
func bearerToken(r *http.Request) (string, error) {
	h := r.Header.Values("Authorization")
	switch {
	case len(h) == 0:
		return "", unauthorized("authentication required: send Authorization: Bearer TOKEN (an API token or an OIDC token)")
	case len(h) > 1:
		return "", unauthorized("malformed Authorization header: send it once")
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(h[0]), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return "", unauthorized("malformed Authorization header: want Bearer TOKEN")
	}
	return token, nil
}

func (a *Authenticator) apiToken(ctx context.Context, secret string) (*wavedr.Principal, error) {
	t, err := a.Tokens.FindAPITokenByHash(ctx, wavedr.HashAPITokenSecret(secret))
	switch {
	case wavedr.ErrorCode(err) == wavedr.ENOTFOUND:
		return nil, unauthorized("invalid token")
	case err != nil:
		return nil, err
	}
	now := a.Now()
	switch {
	case !t.RevokedAt.IsZero():
		return nil, unauthorized("token revoked")
	case !t.Active(now):
		return nil, unauthorized("token expired")
	}
	if now.Sub(t.LastUsedAt) >= touchEvery {
		if err := a.Tokens.TouchAPIToken(ctx, t.ID, now); err != nil {
			a.Logger.Warn("auth.touch_failed", "requestId", RequestIDFromContext(ctx), "tokenId", t.ID, "err", err)
		}
	}
	return &wavedr.Principal{Name: t.Name, Kind: wavedr.PrincipalToken, Subject: t.ID, Roles: []wavedr.Role{t.Role}}, nil
}

// DefaultGroupsClaim is the claim that lists an OIDC subject's groups.
const DefaultGroupsClaim = "groups"

// OIDCConfig configures OIDC authentication.
type OIDCConfig struct {
	// Issuer is the issuer URL; its /.well-known/openid-configuration is
	// read at NewOIDC. Required.
	Issuer string
	// Audience is the client ID tokens must be issued for. Required.
	Audience string
	// GroupsClaim names the claim listing the subject's groups (a list of
	// strings, or one string). Default DefaultGroupsClaim.
	GroupsClaim string
	// Roles maps groups to wavedr roles; a subject gets the roles of all
	// its groups. A subject whose groups map to no role may do nothing.
	Roles map[string]wavedr.Role
	// HTTPClient reaches the issuer; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// TokenVerifier checks a raw OIDC token's signature, issuer, audience and
// expiry. *oidc.IDTokenVerifier is one.
type TokenVerifier interface {
	Verify(ctx context.Context, rawToken string) (*oidc.IDToken, error)
}

// OIDC authenticates OIDC ID tokens and JWT access tokens.
type OIDC struct {
	verifier    TokenVerifier
	groupsClaim string
	roles       map[string]wavedr.Role
}

// discoveryTimeout bounds the issuer's discovery at startup.
const discoveryTimeout = 15 * time.Second

// NewOIDC reads the issuer's discovery document and returns an
// authenticator that verifies tokens with the issuer's keys (fetched, and
// refreshed when a token names a new key, by go-oidc). EINVALID for a
// missing setting; EUNAVAILABLE when the issuer cannot be reached.
func NewOIDC(ctx context.Context, cfg OIDCConfig) (*OIDC, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.HTTPClient != nil {
		ctx = oidc.ClientContext(ctx, cfg.HTTPClient)
	}
	dctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	p, err := oidc.NewProvider(dctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", wavedr.Errorf(wavedr.EUNAVAILABLE, "OIDC issuer %s: discovery failed", cfg.Issuer), err)
	}
	// The key set keeps the client but not the discovery deadline.
	return NewOIDCWithVerifier(p.VerifierContext(context.WithoutCancel(ctx), &oidc.Config{ClientID: cfg.Audience}), cfg)
}

// NewOIDCWithVerifier is NewOIDC with a verifier of the caller's.
func NewOIDCWithVerifier(v TokenVerifier, cfg OIDCConfig) (*OIDC, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	claim := cfg.GroupsClaim
	if claim == "" {
		claim = DefaultGroupsClaim
	}
	return &OIDC{verifier: v, groupsClaim: claim, roles: cfg.Roles}, nil
}

func (c OIDCConfig) validate() error {
	var p wavedr.Problems
	if c.Issuer == "" {
		p.Add("issuer", "is required")
	}
	if c.Audience == "" {
		p.Add("audience", "is required (the client ID tokens are issued for)")
	}
	for g, r := range c.Roles {
		if !r.Valid() {
			p.Add("roles."+g, "%q is not a role", r)
		}
	}
	return p.Err("OIDC configuration")
}

// Principal verifies raw and returns its subject with the roles of its
// groups; EUNAUTHORIZED for a token that is not valid here (another
// issuer, another audience, a bad signature, expired).
func (o *OIDC) Principal(ctx context.Context, raw string) (*wavedr.Principal, error) {
	tok, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return nil, unauthorized("token expired")
		}
		return nil, unauthorized("invalid token")
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, unauthorized("invalid token")
	}
	name := tok.Subject
	for _, k := range []string{"preferred_username", "email"} {
		if v, ok := claims[k].(string); ok && strings.TrimSpace(v) != "" {
			name = v
			break
		}
	}
	roles := []wavedr.Role{}
	for _, g := range claimStrings(claims[o.groupsClaim]) {
		if r, ok := o.roles[g]; ok && !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	slices.SortFunc(roles, func(a, b wavedr.Role) int {
		return slices.Index(wavedr.Roles, a) - slices.Index(wavedr.Roles, b)
	})
	return &wavedr.Principal{Name: name, Kind: wavedr.PrincipalOIDC, Subject: tok.Subject, Roles: roles}, nil
}

// claimStrings reads a claim that is a list of strings or one string.
func claimStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// ParseOIDCRoles reads a group-to-role mapping written
// "dr-admins=Admin,dr-operators=Operator" (roles ignore case). A group
// may appear once.
func ParseOIDCRoles(s string) (map[string]wavedr.Role, error) {
	out := map[string]wavedr.Role{}
	var p wavedr.Problems
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		group, role, ok := strings.Cut(part, "=")
		group = strings.TrimSpace(group)
		if !ok || group == "" {
			p.Add("", "%q is not GROUP=ROLE", part)
			continue
		}
		r, err := wavedr.ParseRole(role)
		if err != nil {
			p.Add(group, "%s", wavedr.ErrorMessage(err))
			continue
		}
		if _, dup := out[group]; dup {
			p.Add(group, "is mapped twice")
			continue
		}
		out[group] = r
	}
	return out, p.Err("OIDC role mapping")
}

// me is the answer of GET /v1/me.
type me struct {
	Principal   *wavedr.Principal   `json:"principal"`
	Permissions []wavedr.Permission `json:"permissions"`
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) error {
	p := PrincipalFromContext(r.Context())
	out := me{Principal: p, Permissions: []wavedr.Permission{}}
	for _, perm := range wavedr.Permissions {
		if p.Can(perm) {
			out.Permissions = append(out.Permissions, perm)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
