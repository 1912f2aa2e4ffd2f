package aws

import (
	"context"
	"fmt"
	"sync"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"
)

// limiters holds one token bucket per account and region (wavedr.Target.Key).
// AWS publishes no request rates for DRS; a client-side limit keeps a burst
// of polls from one execution from throttling every other user of the
// account.
type limiters struct {
	rate  rate.Limit
	burst int

	mu sync.Mutex
	m  map[string]*rate.Limiter
}

func newLimiters(callsPerSecond float64, burst int) *limiters {
	r := rate.Limit(callsPerSecond)
	if callsPerSecond < 0 {
		r = rate.Inf
	}
	return &limiters{rate: r, burst: burst, m: map[string]*rate.Limiter{}}
}

// get returns the limiter of key, creating it on first use.
func (l *limiters) get(key string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.m[key]
	if !ok {
		lim = rate.NewLimiter(l.rate, l.burst)
		l.m[key] = lim
	}
	return lim
}

// rateLimit waits for the target's limiter before every HTTP request. It
// sits in the finalize step right after the SDK's retry middleware, so each
// page and each retry attempt waits, and before signing, so a long wait
// never stales a signature.
type rateLimit struct {
	limiter *rate.Limiter
}

const rateLimitID = "wavedr.RateLimit"

func (*rateLimit) ID() string { return rateLimitID }

func (m *rateLimit) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	if err := m.limiter.Wait(ctx); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		} else {
			// The wait would outlast the context's deadline.
			err = fmt.Errorf("client-side rate limit: %w", context.DeadlineExceeded)
		}
		// A canceled request is never retried by the SDK.
		return middleware.FinalizeOutput{}, middleware.Metadata{}, &sdkaws.RequestCanceledError{Err: err}
	}
	return next.HandleFinalize(ctx, in)
}
