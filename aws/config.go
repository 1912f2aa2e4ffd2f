package aws

import (
	"log/slog"
	"net/http"
	"time"
)

// Defaults of Config.
const (
	DefaultRateLimit   = 10               // calls per second per account and region
	DefaultBurst       = 20               // calls allowed at once after a quiet period
	DefaultMaxAttempts = 5                // attempts per call, the first one included
	DefaultMaxBackoff  = 20 * time.Second // longest wait between two attempts
	DefaultPageSize    = 1000             // maxResults of describe calls

	maxPageSize   = 1000 // the largest maxResults DRS and EC2 accept
	minEC2Page    = 5    // EC2 DescribeInstances refuses a smaller MaxResults
	roleSession   = "wavedr"
	maxRateBurst  = 10000
	maxAttemptCap = 20
)

// Config configures a Client. The zero value talks to AWS with the standard
// credential chain and endpoint resolution.
type Config struct {
	// HTTPClient sends every request. Nil uses the SDK's default client;
	// the simulator passes its in-process client.
	HTTPClient *http.Client

	// Endpoint is the base URL of DRS, EC2 and STS alike (the simulator's
	// URL, or a proxy). Empty leaves endpoint resolution to the SDK, which
	// honours AWS_ENDPOINT_URL and the per-service AWS_ENDPOINT_URL_DRS,
	// AWS_ENDPOINT_URL_EC2 and AWS_ENDPOINT_URL_STS settings (environment or
	// shared config file).
	Endpoint string

	// Credentials are static credentials of the local account. Nil uses
	// the SDK's standard chain (environment, shared files, SSO, web
	// identity, container and instance roles).
	Credentials *Credentials

	// Region is used for a Target without one. Empty uses the region of
	// the environment or shared config file.
	Region string

	// RateLimit is the steady rate of API calls per account and region,
	// in calls per second, counted per HTTP request (every page and every
	// retry attempt). Zero means DefaultRateLimit; a negative value turns the
	// client-side limit off.
	RateLimit float64

	// Burst is how many calls may go at once after a quiet period, at
	// least 1. Zero means DefaultBurst; values above 10000 are capped.
	Burst int

	// MaxAttempts is how many times the SDK's retryer tries one call, the
	// first attempt included (1 disables retries). Zero means
	// DefaultMaxAttempts; values above 20 are capped.
	MaxAttempts int

	// MaxBackoff caps the wait between two attempts, including a
	// Retry-After the service asked for; any positive duration. Zero means
	// DefaultMaxBackoff.
	MaxBackoff time.Duration

	// PageSize is the maxResults of describe calls, 5 to 1000. Zero means
	// DefaultPageSize. Smaller pages only cost more calls.
	PageSize int

	// Logger receives warnings: malformed times from DRS, enrichment
	// lookups that failed. Nil discards them.
	Logger *slog.Logger

	// OnCall, when set, is called after every HTTP request to AWS (each
	// page and each retry attempt), from the calling goroutine. It must be
	// safe for concurrent use and return quickly.
	OnCall func(Call)
}

// Credentials are static AWS credentials.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string // empty for long-term keys
}

// Call describes one HTTP request to AWS, for metrics.
type Call struct {
	Service   string        // "drs", "ec2" or "sts"
	Operation string        // e.g. "DescribeJobs"
	Target    string        // wavedr.Target.Key() of the account and region
	Attempt   int           // 1 for the first attempt of an operation call
	Outcome   string        // "ok", "throttled", "canceled", or the wavedr error code of the failure
	ErrorCode string        // the AWS error code, empty on success or for network errors
	Duration  time.Duration // time of this attempt, rate-limit wait excluded
}

// Outcomes of a Call besides the wavedr error codes.
const (
	OutcomeOK        = "ok"
	OutcomeThrottled = "throttled"
	OutcomeCanceled  = "canceled" // the caller's context ended
)

func (c Config) withDefaults() Config {
	if c.RateLimit == 0 {
		c.RateLimit = DefaultRateLimit
	}
	switch {
	case c.Burst <= 0:
		c.Burst = DefaultBurst
	case c.Burst > maxRateBurst:
		c.Burst = maxRateBurst
	}
	switch {
	case c.MaxAttempts <= 0:
		c.MaxAttempts = DefaultMaxAttempts
	case c.MaxAttempts > maxAttemptCap:
		c.MaxAttempts = maxAttemptCap
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	switch {
	case c.PageSize <= 0:
		c.PageSize = DefaultPageSize
	case c.PageSize < minEC2Page:
		c.PageSize = minEC2Page
	case c.PageSize > maxPageSize:
		c.PageSize = maxPageSize
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
