package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"time"
)

// stream returns a deterministic random stream named by the seed and the
// parts: the same names always give the same numbers, whatever else happened
// before, so a fleet, a job's schedule or a fault decision does not depend on
// the order of unrelated calls.
func stream(seed int64, parts ...string) *rand.Rand {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	sum := h.Sum(nil)
	return rand.New(rand.NewPCG(binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:16])))
}

// unit returns a deterministic number in [0,1) for the names.
func unit(seed int64, parts ...string) float64 { return stream(seed, parts...).Float64() }

const (
	hexDigits   = "0123456789abcdef"
	alnumDigits = "0123456789abcdefghijklmnopqrstuvwxyz"
	upperAlnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
)

func randString(r *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// between returns a duration in [lo, hi).
func between(r *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(r.Int64N(int64(hi-lo)))
}
