package wavedr

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// APITokenPrefix starts every API token secret, so a leaked one is easy to
// recognise (and to find with secret scanners).
const APITokenPrefix = "wdr_"

// MaxAPITokenLifetime bounds how long a token may live; a token that never
// expires is a credential nobody remembers to rotate.
const MaxAPITokenLifetime = 366 * 24 * time.Hour

// APIToken is a credential for scripts, pipelines and chat-ops. Its secret
// is shown once, when created; the store keeps only its SHA-256 hash.
type APIToken struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Role       Role      `json:"role"`
	CreatedBy  string    `json:"createdBy"`
	CreatedAt  time.Time `json:"createdAt"`
	ExpiresAt  time.Time `json:"expiresAt"`
	RevokedAt  time.Time `json:"revokedAt,omitzero"`
	RevokedBy  string    `json:"revokedBy,omitempty"`
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
	Hash       string    `json:"-"` // hex SHA-256 of the secret
}

// Validate reports every broken rule of a token about to be created at now.
func (t *APIToken) Validate(now time.Time) error {
	var p Problems
	name := strings.TrimSpace(t.Name)
	switch {
	case name == "":
		p.Add("name", "is required")
	case len(name) > 128:
		p.Add("name", "must be at most 128 characters")
	}
	if !t.Role.Valid() {
		p.Add("role", "must be one of %s", roleList())
	}
	switch {
	case t.ExpiresAt.IsZero():
		p.Add("expiresAt", "is required")
	case !t.ExpiresAt.After(now):
		p.Add("expiresAt", "must be in the future")
	case t.ExpiresAt.Sub(now) > MaxAPITokenLifetime:
		p.Add("expiresAt", "must be within %d days", int(MaxAPITokenLifetime/(24*time.Hour)))
	}
	return p.Err("API token " + quoteName(t.Name))
}

// Active reports whether the token authenticates at now.
func (t *APIToken) Active(now time.Time) bool {
	return t.RevokedAt.IsZero() && now.Before(t.ExpiresAt)
}

// NewAPITokenSecret returns a new random secret and its hash.
func NewAPITokenSecret() (secret, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("wavedr: no randomness: " + err.Error()) // crypto/rand never fails on supported platforms
	}
	secret = APITokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashAPITokenSecret(secret)
}

// HashAPITokenSecret is how a secret is looked up. The secrets are 256
// random bits, so a fast hash is enough: there is nothing to brute-force.
func HashAPITokenSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// APITokenStore keeps API tokens.
type APITokenStore interface {
	// CreateAPIToken stores t with its hash, giving it an ID (when it has
	// none) and its creation time; ECONFLICT when an active token has the
	// same name.
	CreateAPIToken(ctx context.Context, t *APIToken) error
	// FindAPITokenByHash returns the token with that hash; ENOTFOUND.
	FindAPITokenByHash(ctx context.Context, hash string) (*APIToken, error)
	// ListAPITokens returns every token, newest first.
	ListAPITokens(ctx context.Context) ([]*APIToken, error)
	// RevokeAPIToken revokes the token at now; ENOTFOUND, and nothing
	// changes for a token already revoked.
	RevokeAPIToken(ctx context.Context, id, by string, now time.Time) (*APIToken, error)
	// TouchAPIToken records a use of the token (at most once a minute).
	TouchAPIToken(ctx context.Context, id string, now time.Time) error
}
