package wavedr

import (
	"crypto/rand"
	"encoding/binary"
	"regexp"
	"time"
)

// ID prefixes name what an ID identifies, so a wrong ID in the wrong place
// is refused with a clear message instead of "not found".
const (
	PrefixProtectionGroup = "pg"
	PrefixRecoveryPlan    = "plan"
	PrefixExecution       = "ex"
	PrefixAPIToken        = "tok"
	PrefixAudit           = "aud"
)

// crockford is the Crockford base32 alphabet, in lower case: no i, l, o, u.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

var idPattern = regexp.MustCompile(`^(pg|plan|ex|tok|aud)-[0-9a-hjkmnp-tv-z]{26}$`)

// NewID returns a new ID "PREFIX-" followed by 26 characters: 48 bits of
// milliseconds since the Unix epoch and 80 random bits, so IDs made later
// sort later (lists ordered by ID are ordered by creation).
func NewID(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic("wavedr: no randomness: " + err.Error()) // crypto/rand never fails on supported platforms
	}
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	// 128 bits as 26 base32 digits, the first one holding the top 3 bits.
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return prefix + "-" + string(out[:])
}

// ValidID reports whether id is a wavedr ID with the given prefix.
func ValidID(prefix, id string) bool {
	return idPattern.MatchString(id) && len(id) > len(prefix) && id[:len(prefix)+1] == prefix+"-"
}
