package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"wavedr"
	"wavedr/store"
	"wavedr/store/storetest"
)

// newToken returns a token valid for 30 days from now, and its secret.
func newToken(name string, now time.Time) (*wavedr.APIToken, string) {
	secret, hash := wavedr.NewAPITokenSecret()
	return &wavedr.APIToken{Name: name, Role: wavedr.RoleOperator, CreatedBy: "alice@example.com",
		ExpiresAt: now.Add(30*24*time.Hour + 1234*time.Nanosecond), Hash: hash}, secret
}

func testAPITokens(t *testing.T, d storetest.Dialect) {
	ctx, db, clock := setup(t, d)

	ci, secret := newToken("CI", clock.Now())
	must(t, db.CreateAPIToken(ctx, ci))
	if !wavedr.ValidID(wavedr.PrefixAPIToken, ci.ID) {
		t.Fatalf("ID %q is not a token ID", ci.ID)
	}
	wantTime(t, "createdAt", ci.CreatedAt, clock.Now())
	got, err := db.FindAPITokenByHash(ctx, wavedr.HashAPITokenSecret(secret))
	must(t, err)
	sameJSON(t, "token found by hash", got, ci)
	if got.Hash != ci.Hash {
		t.Fatalf("hash = %q, want %q", got.Hash, ci.Hash)
	}

	_, otherHash := wavedr.NewAPITokenSecret()
	_, err = db.FindAPITokenByHash(ctx, otherHash)
	if e := wantCode(t, err, wavedr.ENOTFOUND); strings.Contains(e.Error(), otherHash) {
		t.Errorf("not-found error %q repeats the hash", e.Error())
	}

	// An active token's name, in any case and with spaces around it, is
	// taken; a revoked token's is free again.
	clock.Advance(time.Second)
	dup, _ := newToken(" ci ", clock.Now())
	e := wantCode(t, db.CreateAPIToken(ctx, dup), wavedr.ECONFLICT)
	if !strings.Contains(e.Message, `" ci "`) {
		t.Errorf("conflict %q should name the token", e.Message)
	}
	if dup.ID != "" || !dup.CreatedAt.IsZero() {
		t.Errorf("a refused create changed the token: %+v", dup)
	}

	clock.Advance(time.Second)
	revoked, err := db.RevokeAPIToken(ctx, ci.ID, "bob@example.com", clock.Now().Add(time.Nanosecond))
	must(t, err)
	wantTime(t, "revokedAt", revoked.RevokedAt, clock.Now())
	if revoked.RevokedBy != "bob@example.com" || revoked.Active(clock.Now()) {
		t.Fatalf("revoked token = %+v", revoked)
	}
	// Revoking again keeps the first revocation.
	again, err := db.RevokeAPIToken(ctx, ci.ID, "carol@example.com", clock.Now().Add(time.Hour))
	must(t, err)
	sameJSON(t, "token revoked twice", again, revoked)
	_, err = db.RevokeAPIToken(ctx, wavedr.NewID(wavedr.PrefixAPIToken, start), "bob@example.com", clock.Now())
	wantCode(t, err, wavedr.ENOTFOUND)

	must(t, db.CreateAPIToken(ctx, dup))
	clock.Advance(time.Second)
	deploy, _ := newToken("deploy", clock.Now())
	must(t, db.CreateAPIToken(ctx, deploy))
	clock.Advance(time.Second)
	// Two tokens made in the same transaction share a creation time; the
	// ID breaks the tie.
	var pair []*wavedr.APIToken
	must(t, db.InTx(ctx, func(tx *store.Tx) error {
		for _, name := range []string{"pair-1", "pair-2"} {
			tok, _ := newToken(name, tx.Now())
			if err := tx.CreateAPIToken(ctx, tok); err != nil {
				return err
			}
			pair = append(pair, tok)
		}
		return nil
	}))
	slices.SortFunc(pair, func(a, b *wavedr.APIToken) int { return strings.Compare(b.ID, a.ID) })

	list, err := db.ListAPITokens(ctx)
	must(t, err)
	want := []*wavedr.APIToken{pair[0], pair[1], deploy, dup, revoked}
	sameJSON(t, "tokens newest first", list, want)
}

func testAPITokenRefusals(t *testing.T, d storetest.Dialect) {
	ctx, db, clock := setup(t, d)

	ok, _ := newToken("ci", clock.Now())
	for name, hash := range map[string]string{
		"empty":      "",
		"short":      ok.Hash[:63],
		"long":       ok.Hash + "0",
		"upper case": strings.ToUpper(ok.Hash),
		"not hex":    "g" + ok.Hash[1:],
		"the secret": wavedr.APITokenPrefix + strings.Repeat("a", 60),
	} {
		tok := *ok
		tok.Hash = hash
		if name == "empty" {
			tok.Name = "" // every broken rule is reported at once
		}
		err := db.CreateAPIToken(ctx, &tok)
		wantField(t, err, "hash")
		if name == "empty" {
			wantField(t, err, "name")
		}
	}
	bad := *ok
	bad.ID = wavedr.NewID(wavedr.PrefixAudit, clock.Now())
	bad.Role = "Root"
	bad.ExpiresAt = clock.Now()
	err := db.CreateAPIToken(ctx, &bad)
	wantField(t, err, "id")
	wantField(t, err, "role")
	wantField(t, err, "expiresAt")

	// The same secret, or the same ID, cannot be stored twice.
	must(t, db.CreateAPIToken(ctx, ok))
	same := *ok
	same.ID, same.Name = "", "other"
	e := wantCode(t, db.CreateAPIToken(ctx, &same), wavedr.ECONFLICT)
	if !strings.Contains(e.Message, "secret") {
		t.Errorf("conflict %q should say the secret is taken", e.Message)
	}
	sameID, _ := newToken("another", clock.Now())
	sameID.ID = ok.ID
	e = wantCode(t, db.CreateAPIToken(ctx, sameID), wavedr.ECONFLICT)
	if !strings.Contains(e.Message, ok.ID) {
		t.Errorf("conflict %q should name the ID", e.Message)
	}
	list, err := db.ListAPITokens(ctx)
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("refused tokens were stored: %d tokens", len(list))
	}

	// An expired token is still found: authentication decides, not the
	// store.
	clock.Advance(31 * 24 * time.Hour)
	got, err := db.FindAPITokenByHash(ctx, ok.Hash)
	must(t, err)
	if got.ID != ok.ID || got.Active(clock.Now()) {
		t.Fatalf("expired token = %+v", got)
	}
}

func testAPITokenTouch(t *testing.T, d storetest.Dialect) {
	ctx, db, clock := setup(t, d)
	tok, _ := newToken("ci", clock.Now())
	must(t, db.CreateAPIToken(ctx, tok))
	lastUsed := func() time.Time {
		t.Helper()
		got, err := db.FindAPITokenByHash(ctx, tok.Hash)
		must(t, err)
		return got.LastUsedAt
	}
	if !lastUsed().IsZero() {
		t.Fatal("a new token has been used")
	}

	first := clock.Advance(time.Second)
	must(t, db.TouchAPIToken(ctx, tok.ID, first.Add(999*time.Nanosecond)))
	wantTime(t, "first use", lastUsed(), first)
	// Uses within the minute are not written.
	must(t, db.TouchAPIToken(ctx, tok.ID, first.Add(59*time.Second)))
	wantTime(t, "use after 59s", lastUsed(), first)
	// An older reading (another replica's clock) does not move it back.
	must(t, db.TouchAPIToken(ctx, tok.ID, first.Add(-time.Hour)))
	wantTime(t, "use an hour earlier", lastUsed(), first)
	must(t, db.TouchAPIToken(ctx, tok.ID, first.Add(time.Minute)))
	wantTime(t, "use after a minute", lastUsed(), first.Add(time.Minute))
	// A zero time is the transaction's.
	now := clock.Advance(time.Hour)
	must(t, db.TouchAPIToken(ctx, tok.ID, time.Time{}))
	wantTime(t, "use at the store's time", lastUsed(), now)

	// A token nobody knows is not an error: nothing is written.
	must(t, db.TouchAPIToken(ctx, wavedr.NewID(wavedr.PrefixAPIToken, now), now))

	// Touching records nothing else.
	got, err := db.FindAPITokenByHash(ctx, tok.Hash)
	must(t, err)
	tok.LastUsedAt = now
	sameJSON(t, "token after touches", got, tok)
}
