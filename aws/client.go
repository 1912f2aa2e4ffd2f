package aws

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"wavedr"
)

var _ wavedr.Recovery = (*Client)(nil)

// Client implements wavedr.Recovery on aws-sdk-go-v2. It is safe for
// concurrent use; the SDK clients of each target are built on first use and
// kept.
type Client struct {
	cfg      Config
	base     sdkaws.Config // the local account's SDK configuration
	log      *slog.Logger
	limiters *limiters

	mu      sync.Mutex
	targets map[wavedr.Target]*targetClients
}

// New loads the SDK configuration (region, credentials, endpoints from the
// environment and shared files, overridden by cfg) and returns a Client.
// Credentials are resolved lazily, on the first call.
func New(ctx context.Context, cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if c := cfg.Credentials; c != nil {
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return nil, wavedr.Errorf(wavedr.EINVALID, "aws: static credentials need an access key ID and a secret access key")
		}
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)))
	}
	base, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, &Error{Domain: wavedr.Errorf(wavedr.EINVALID, "aws: loading the AWS configuration: %v", err), Cause: err}
	}
	if cfg.HTTPClient != nil {
		// Set after loading: the loader would try to put a CA bundle
		// (AWS_CA_BUNDLE) into the transport, which belongs to the caller.
		base.HTTPClient = httpClient(cfg.HTTPClient)
	} else if bc, ok := base.HTTPClient.(*awshttp.BuildableClient); ok {
		base.HTTPClient = plainBodies{inner: bc} // keeps the loader's CA bundle
	} else {
		base.HTTPClient = httpClient(nil)
	}
	return &Client{
		cfg:      cfg,
		base:     base,
		log:      cfg.Logger,
		limiters: newLimiters(cfg.RateLimit, cfg.Burst),
		targets:  map[wavedr.Target]*targetClients{},
	}, nil
}

// Region is the local account's region as the SDK resolved it (flag,
// environment or shared config file); empty if none is configured.
func (c *Client) Region() string { return c.base.Region }
