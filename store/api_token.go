package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"wavedr"
)

var (
	_ wavedr.APITokenStore = (*DB)(nil)
	_ wavedr.APITokenStore = (*Tx)(nil)
)

// touchInterval is how stale last_used_at may get: a token used on every
// request writes its row at most once per interval.
const touchInterval = time.Minute

const tokenColumns = `id, name, role, hash, created_by, created_at, expires_at, revoked_at, revoked_by, last_used_at`

func scanToken(row interface{ Scan(...any) error }) (*wavedr.APIToken, error) {
	var t wavedr.APIToken
	err := row.Scan(&t.ID, &t.Name, &t.Role, &t.Hash, &t.CreatedBy, timeCol(&t.CreatedAt), timeCol(&t.ExpiresAt),
		timeCol(&t.RevokedAt), &t.RevokedBy, timeCol(&t.LastUsedAt))
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// tokenNameKey is the name as compared for uniqueness: trimmed (Validate
// ignores surrounding spaces too) and lower-cased.
func tokenNameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// validTokenHash reports whether h is a hex SHA-256 as
// wavedr.HashAPITokenSecret writes it. Lower case only, since lookups
// compare the text exactly.
func validTokenHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// CreateAPIToken validates t at the transaction's time, gives it an ID
// (when it has none) and CreatedAt, and stores it neither revoked nor used.
// EINVALID with the broken rules (the hash must be 64 lower-case hex
// digits); ECONFLICT when an active token has the same name
// (case-insensitively), or the ID or hash is taken.
func (db *DB) CreateAPIToken(ctx context.Context, t *wavedr.APIToken) error {
	return inTx(ctx, db, t, func(tx *Tx, c *wavedr.APIToken) error { return tx.CreateAPIToken(ctx, c) })
}

// CreateAPIToken: see [DB.CreateAPIToken].
func (tx *Tx) CreateAPIToken(ctx context.Context, t *wavedr.APIToken) error {
	if err := validateToken(t, tx.now); err != nil {
		return err
	}
	c := *t
	if c.ID == "" {
		c.ID = wavedr.NewID(wavedr.PrefixAPIToken, tx.now)
	}
	c.CreatedAt, c.ExpiresAt = tx.now, normalTime(c.ExpiresAt)
	c.RevokedAt, c.RevokedBy, c.LastUsedAt = time.Time{}, "", time.Time{}
	key := tokenNameKey(c.Name)
	// DO NOTHING rather than a failed statement, which on PostgreSQL would
	// abort the transaction before the conflict could be explained below.
	res, err := tx.exec(ctx, `INSERT INTO api_tokens
		(id, name, name_key, role, hash, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`,
		c.ID, c.Name, key, string(c.Role), c.Hash, c.CreatedBy,
		tx.dialect.timeArg(c.CreatedAt), tx.dialect.timeArg(c.ExpiresAt))
	if err != nil {
		return dbError("create API token", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return dbError("create API token", err)
	}
	if n == 0 {
		return tx.tokenConflict(ctx, &c, key)
	}
	*t = c
	return nil
}

// validateToken checks t's own rules and its ID and hash, reporting them
// all at once.
func validateToken(t *wavedr.APIToken, now time.Time) error {
	var extra wavedr.Problems
	if t.ID != "" && !wavedr.ValidID(wavedr.PrefixAPIToken, t.ID) {
		extra.Add("id", "must be an API token ID (%s-...) or empty", wavedr.PrefixAPIToken)
	}
	if !validTokenHash(t.Hash) {
		extra.Add("hash", "must be the SHA-256 of the secret in 64 lower-case hex digits")
	}
	err := t.Validate(now)
	if len(extra) == 0 {
		return err
	}
	var e *wavedr.Error
	if errors.As(err, &e) {
		e.Details = append(e.Details, extra...)
		return e
	}
	if err != nil {
		return err
	}
	return extra.Err("API token " + quote(t.Name))
}

// tokenConflict explains an insert of t that touched no row: the name is
// what a user can act on, so it is checked first.
func (tx *Tx) tokenConflict(ctx context.Context, t *wavedr.APIToken, key string) error {
	checks := []struct {
		query string
		arg   string
		err   error
	}{
		{`SELECT id FROM api_tokens WHERE name_key = ? AND revoked_at IS NULL`, key,
			conflictf("an active API token named %s already exists (names are unique regardless of case); revoke it or choose another name", quote(t.Name))},
		{`SELECT id FROM api_tokens WHERE hash = ?`, t.Hash, conflictf("an API token with this secret already exists")},
		{`SELECT id FROM api_tokens WHERE id = ?`, t.ID, conflictf("API token %s already exists", t.ID)},
	}
	for _, c := range checks {
		var id string
		err := tx.queryRow(ctx, c.query, c.arg).Scan(&id)
		switch {
		case err == nil:
			return c.err
		case !isNoRows(err):
			return dbError("create API token", err)
		}
	}
	return conflictf("API token %s conflicts with another token", quote(t.Name))
}

// FindAPITokenByHash returns the token whose secret has the hash, whether
// active, expired or revoked (authentication decides); ENOTFOUND if none,
// without repeating the hash.
func (db *DB) FindAPITokenByHash(ctx context.Context, hash string) (*wavedr.APIToken, error) {
	return readTx(ctx, db, func(tx *Tx) (*wavedr.APIToken, error) { return tx.FindAPITokenByHash(ctx, hash) })
}

// FindAPITokenByHash: see [DB.FindAPITokenByHash].
func (tx *Tx) FindAPITokenByHash(ctx context.Context, hash string) (*wavedr.APIToken, error) {
	t, err := scanToken(tx.queryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = ?`, hash))
	switch {
	case isNoRows(err):
		return nil, notFound("API token")
	case err != nil:
		return nil, dbError("find API token", err)
	}
	return t, nil
}

// ListAPITokens returns every token, revoked and expired ones included,
// newest first.
func (db *DB) ListAPITokens(ctx context.Context) ([]*wavedr.APIToken, error) {
	return readTx(ctx, db, func(tx *Tx) ([]*wavedr.APIToken, error) { return tx.ListAPITokens(ctx) })
}

// ListAPITokens: see [DB.ListAPITokens].
func (tx *Tx) ListAPITokens(ctx context.Context) ([]*wavedr.APIToken, error) {
	rows, err := tx.query(ctx, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, dbError("list API tokens", err)
	}
	defer rows.Close()
	out := []*wavedr.APIToken{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, dbError("list API tokens", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("list API tokens", err)
	}
	return out, nil
}

// RevokeAPIToken records that by revoked the token at now (the
// transaction's time when now is zero) and returns it. A token already
// revoked keeps its first revocation and is returned as it is; ENOTFOUND
// for an unknown ID.
func (db *DB) RevokeAPIToken(ctx context.Context, id, by string, now time.Time) (*wavedr.APIToken, error) {
	return resultTx(ctx, db, func(tx *Tx) (*wavedr.APIToken, error) { return tx.RevokeAPIToken(ctx, id, by, now) })
}

// RevokeAPIToken: see [DB.RevokeAPIToken].
func (tx *Tx) RevokeAPIToken(ctx context.Context, id, by string, now time.Time) (*wavedr.APIToken, error) {
	if now.IsZero() {
		now = tx.now
	}
	if _, err := tx.exec(ctx, `UPDATE api_tokens SET revoked_at = ?, revoked_by = ?
		WHERE id = ? AND revoked_at IS NULL`, tx.dialect.timeArg(normalTime(now)), by, id); err != nil {
		return nil, dbError("revoke API token", err)
	}
	t, err := scanToken(tx.queryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = ?`, id))
	switch {
	case isNoRows(err):
		return nil, notFound("API token " + quote(id))
	case err != nil:
		return nil, dbError("revoke API token", err)
	}
	return t, nil
}

// TouchAPIToken records that the token was used at now (the transaction's
// time when now is zero), unless its last recorded use is less than a
// minute older. It says nothing of an unknown ID: it runs on every
// authenticated request, after the token was found.
func (db *DB) TouchAPIToken(ctx context.Context, id string, now time.Time) error {
	return db.InTx(ctx, func(tx *Tx) error { return tx.TouchAPIToken(ctx, id, now) })
}

// TouchAPIToken: see [DB.TouchAPIToken].
func (tx *Tx) TouchAPIToken(ctx context.Context, id string, now time.Time) error {
	if now.IsZero() {
		now = tx.now
	}
	now = normalTime(now)
	_, err := tx.exec(ctx, `UPDATE api_tokens SET last_used_at = ?
		WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
		tx.dialect.timeArg(now), id, tx.dialect.timeArg(now.Add(-touchInterval)))
	if err != nil {
		return dbError("touch API token", err)
	}
	return nil
}
