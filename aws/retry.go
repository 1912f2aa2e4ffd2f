package aws

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	drstypes "github.com/aws/aws-sdk-go-v2/service/drs/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// retryer is the SDK's standard retryer (exponential backoff with jitter,
// the retry quota, throttling and 5xx and connection errors retryable,
// EC2's RequestLimitExceeded counted as throttling) that also honours the
// Retry-After a throttled or failing service sends.
//
// The SDK's attempt loop only reads its own x-amz-retry-after header; DRS
// sends the standard Retry-After header (decoded into
// ThrottlingException.RetryAfterSeconds). Ignoring it would retry sooner than
// the service asked and burn attempts while the throttle still holds.
type retryer struct {
	sdkaws.RetryerV2
	maxBackoff time.Duration // a Retry-After above it is cut to it
}

// newRetryer returns the retryer of one SDK client. Each client gets its own,
// so the retry quota of one account and region never starves another's.
func newRetryer(maxAttempts int, maxBackoff time.Duration) *retryer {
	std := retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = maxBackoff
	})
	return &retryer{RetryerV2: std, maxBackoff: maxBackoff}
}

// RetryDelay returns the SDK's backoff, raised to the Retry-After the
// error carries (at most maxBackoff).
func (r *retryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	d, derr := r.RetryerV2.RetryDelay(attempt, err)
	if derr != nil {
		return d, derr
	}
	if ra, ok := retryAfter(err, time.Now()); ok {
		ra = min(ra, r.maxBackoff)
		d = max(d, ra)
	}
	return d, nil
}

// retryAfter returns the wait a failed response asked for: DRS's
// ThrottlingException / InternalServerException retryAfterSeconds, or the
// HTTP Retry-After header (delta-seconds or an HTTP date) of any service.
func retryAfter(err error, now time.Time) (time.Duration, bool) {
	var te *drstypes.ThrottlingException
	if errors.As(err, &te) && te.RetryAfterSeconds != nil {
		if d, ok := parseRetryAfter(*te.RetryAfterSeconds, now); ok {
			return d, true
		}
	}
	var ie *drstypes.InternalServerException
	if errors.As(err, &ie) && ie.RetryAfterSeconds > 0 {
		return time.Duration(ie.RetryAfterSeconds) * time.Second, true
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil && re.Response.Response != nil {
		if v := re.Response.Header.Get("Retry-After"); v != "" {
			return parseRetryAfter(v, now)
		}
	}
	return 0, false
}

// parseRetryAfter parses a Retry-After value: whole (or decimal) seconds,
// or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 || s > 24*3600 {
			return 0, false
		}
		return time.Duration(s * float64(time.Second)), true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// launchRetryer is the retryer of StartRecovery. StartRecovery is not
// idempotent: an attempt that timed out or lost its connection after the
// request was sent may have created a job, and a blind retry would then
// start a second job for the same servers (or fail with a conflict that
// hides the first). So it retries only failures that prove no job was
// created: a throttling refusal (HTTP 429, or a throttling code with a
// 4xx status) and a connection that was never established. Anything else
// goes back to the engine, which looks for the tagged job before launching
// again.
type launchRetryer struct {
	sdkaws.RetryerV2
}

func (r launchRetryer) IsErrorRetryable(err error) bool {
	return provesNotSent(err) && r.RetryerV2.IsErrorRetryable(err)
}

// provesNotSent reports whether err shows that the service did not act on
// the request.
func provesNotSent(err error) bool {
	var hs interface{ HTTPStatusCode() int }
	if errors.As(err, &hs) {
		status := hs.HTTPStatusCode()
		if status == http.StatusTooManyRequests {
			return true
		}
		return status >= 400 && status < 500 && isThrottle(err)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// throttles are the SDK's throttling checks (error codes such as
// ThrottlingException and EC2's RequestLimitExceeded, unmodeled 429s).
var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

func isThrottle(err error) bool {
	return throttles.IsErrorThrottle(err) == sdkaws.TrueTernary
}
