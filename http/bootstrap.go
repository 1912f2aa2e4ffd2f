package http

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"wavedr"
)

// Bootstrap settings.
const (
	// BootstrapTokenName names the Admin token Bootstrap creates.
	BootstrapTokenName = "bootstrap-admin"
	// BootstrapTokenLifetime is how long that token lives.
	BootstrapTokenLifetime = 90 * 24 * time.Hour
	// AdminTokenFile is the file of the data directory that receives the
	// secret of a generated Admin token.
	AdminTokenFile = "admin-token"
	// MinAdminTokenLength is the shortest secret WAVEDR_ADMIN_TOKEN may hold.
	MinAdminTokenLength = 32
)

// Bootstrap makes sure someone can administer a new installation.
//
// With adminToken (WAVEDR_ADMIN_TOKEN) set, an active Admin token with that
// secret must exist: it is created, named bootstrap-admin and valid for
// BootstrapTokenLifetime, when no token has the secret; a secret that is
// too short, lacks the wdr_ prefix, or belongs to a revoked, expired or
// non-Admin token is EINVALID. Without it, when no active Admin token
// exists, one is generated and its secret written to dataDir/admin-token
// (mode 0600); the log names the file, never the secret. Replicas that
// start together on one database may both generate a token; each keeps
// its own file and both tokens work.
func Bootstrap(ctx context.Context, tokens wavedr.APITokenStore, dataDir, adminToken string, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	now := time.Now().UTC()
	if adminToken != "" {
		return bootstrapFromSecret(ctx, tokens, adminToken, now, log)
	}
	all, err := tokens.ListAPITokens(ctx)
	if err != nil {
		return err
	}
	for _, t := range all {
		if t.Role == wavedr.RoleAdmin && t.Active(now) {
			log.Debug("bootstrap.admin_token_exists", "tokenId", t.ID, "name", t.Name)
			return nil
		}
	}
	secret, hash := wavedr.NewAPITokenSecret()
	path := filepath.Join(dataDir, AdminTokenFile)
	// The file is written first: a token whose secret was lost would lock
	// the installation out until someone sets WAVEDR_ADMIN_TOKEN.
	if err := writeSecretFile(path, secret); err != nil {
		return fmt.Errorf("bootstrap: cannot write the admin token to %s (set WAVEDR_ADMIN_TOKEN instead): %w", path, err)
	}
	t, err := createBootstrapToken(ctx, tokens, hash, now)
	if err != nil {
		_ = os.Remove(path)
		return err
	}
	log.Warn("bootstrap.admin_token_created", "tokenId", t.ID, "name", t.Name, "file", path,
		"expiresAt", t.ExpiresAt.Format(time.RFC3339),
		"note", "the secret is in the file; create named tokens with it, then revoke it")
	return nil
}

func bootstrapFromSecret(ctx context.Context, tokens wavedr.APITokenStore, secret string, now time.Time, log *slog.Logger) error {
	switch {
	case len(secret) < MinAdminTokenLength:
		return wavedr.Errorf(wavedr.EINVALID, "WAVEDR_ADMIN_TOKEN must be at least %d characters", MinAdminTokenLength)
	case !strings.HasPrefix(secret, wavedr.APITokenPrefix):
		return wavedr.Errorf(wavedr.EINVALID, "WAVEDR_ADMIN_TOKEN must start with %s, as API token secrets do", wavedr.APITokenPrefix)
	case strings.ContainsAny(secret, " \t\r\n"):
		return wavedr.Errorf(wavedr.EINVALID, "WAVEDR_ADMIN_TOKEN must not contain white space")
	}
	hash := wavedr.HashAPITokenSecret(secret)
	t, err := tokens.FindAPITokenByHash(ctx, hash)
	switch {
	case wavedr.ErrorCode(err) == wavedr.ENOTFOUND:
		t, err = createBootstrapToken(ctx, tokens, hash, now)
		if wavedr.ErrorCode(err) == wavedr.ECONFLICT {
			// Another replica created it meanwhile.
			t, err = tokens.FindAPITokenByHash(ctx, hash)
		}
		if err != nil {
			return err
		}
		log.Info("bootstrap.admin_token_created", "tokenId", t.ID, "name", t.Name, "expiresAt", t.ExpiresAt.Format(time.RFC3339))
		return nil
	case err != nil:
		return err
	}
	switch {
	case !t.RevokedAt.IsZero():
		return wavedr.Errorf(wavedr.EINVALID, "WAVEDR_ADMIN_TOKEN is the secret of API token %s (%s), revoked on %s: set a new secret",
			t.ID, t.Name, t.RevokedAt.Format(time.DateOnly))
	case !t.Active(now):
		return wavedr.Errorf(wavedr.EINVALID, "WAVEDR_ADMIN_TOKEN is the secret of API token %s (%s), expired on %s: set a new secret",
			t.ID, t.Name, t.ExpiresAt.Format(time.DateOnly))
	case t.Role != wavedr.RoleAdmin:
		return wavedr.Errorf(wavedr.EINVALID, "WAVEDR_ADMIN_TOKEN is the secret of API token %s (%s), a %s token, not an Admin one",
			t.ID, t.Name, t.Role)
	}
	if left := t.ExpiresAt.Sub(now); left < 14*24*time.Hour {
		log.Warn("bootstrap.admin_token_expiring", "tokenId", t.ID, "expiresAt", t.ExpiresAt.Format(time.RFC3339))
	}
	return nil
}

// createBootstrapToken creates the Admin token, under another name when
// an active token already has the usual one.
func createBootstrapToken(ctx context.Context, tokens wavedr.APITokenStore, hash string, now time.Time) (*wavedr.APIToken, error) {
	t := &wavedr.APIToken{Name: BootstrapTokenName, Role: wavedr.RoleAdmin, CreatedBy: "bootstrap",
		ExpiresAt: now.Add(BootstrapTokenLifetime), Hash: hash}
	err := tokens.CreateAPIToken(ctx, t)
	if wavedr.ErrorCode(err) == wavedr.ECONFLICT {
		if _, findErr := tokens.FindAPITokenByHash(ctx, hash); findErr == nil {
			return nil, err // the secret itself is taken: the caller decides
		}
		t.Name = BootstrapTokenName + "-" + now.Format("20060102-150405")
		err = tokens.CreateAPIToken(ctx, t)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// writeSecretFile writes secret to path, readable by its owner only. It
// goes through a temporary file, so a reader never sees half a secret.
func writeSecretFile(path, secret string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".admin-token-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // a no-op after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
