package aws

import (
	"context"
	"slices"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/drs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"wavedr"
)

// targetClients are the SDK clients of one target, all with the target's
// credentials, region, rate limiter and call report.
type targetClients struct {
	target wavedr.Target // with its region resolved
	drs    *drs.Client
	ec2    *ec2.Client
	sts    *sts.Client

	// launch is the option that gives StartRecovery its cautious retryer.
	launch func(*drs.Options)
}

// clients returns the cached clients of t, building them on first use.
func (c *Client) clients(t wavedr.Target) (*targetClients, error) {
	if t.Region == "" {
		t.Region = c.base.Region
	}
	if t.Region == "" {
		return nil, wavedr.Errorf(wavedr.EINVALID, "aws: no region for account %s: set the target's region, AWS_REGION or Config.Region", t.Key())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if tc, ok := c.targets[t]; ok {
		return tc, nil
	}
	tc := c.newTargetClients(t)
	c.targets[t] = tc
	return tc, nil
}

func (c *Client) newTargetClients(t wavedr.Target) *targetClients {
	stack := stackOptions(&rateLimit{limiter: c.limiters.get(t.Key())}, t.Key(), c.cfg.OnCall)

	cfg := c.base.Copy()
	cfg.Region = t.Region
	if t.RoleARN != "" {
		// AssumeRole is called with the local credentials; the cache
		// refreshes the role's credentials before they expire.
		assumer := sts.NewFromConfig(c.base, c.stsOptions(t.Region, stack))
		provider := stscreds.NewAssumeRoleProvider(assumer, t.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = roleSession
			if t.ExternalID != "" {
				o.ExternalID = sdkaws.String(t.ExternalID)
			}
		})
		cfg.Credentials = sdkaws.NewCredentialsCache(provider)
	}

	drsRetryer := newRetryer(c.cfg.MaxAttempts, c.cfg.MaxBackoff)
	tc := &targetClients{
		target: t,
		drs: drs.NewFromConfig(cfg, func(o *drs.Options) {
			o.Retryer, o.RetryMaxAttempts = drsRetryer, 0
			if c.cfg.Endpoint != "" {
				o.BaseEndpoint = sdkaws.String(c.cfg.Endpoint)
			}
			o.APIOptions = withStack(o.APIOptions, stack)
		}),
		ec2: ec2.NewFromConfig(cfg, func(o *ec2.Options) {
			o.Retryer, o.RetryMaxAttempts = newRetryer(c.cfg.MaxAttempts, c.cfg.MaxBackoff), 0
			if c.cfg.Endpoint != "" {
				o.BaseEndpoint = sdkaws.String(c.cfg.Endpoint)
			}
			o.APIOptions = withStack(o.APIOptions, stack)
		}),
		sts: sts.NewFromConfig(cfg, c.stsOptions(t.Region, stack)),
		launch: func(o *drs.Options) {
			o.Retryer = launchRetryer{RetryerV2: drsRetryer}
		},
	}
	return tc
}

func (c *Client) stsOptions(region string, stack []func(*middleware.Stack) error) func(*sts.Options) {
	return func(o *sts.Options) {
		o.Region = region
		o.Retryer, o.RetryMaxAttempts = newRetryer(c.cfg.MaxAttempts, c.cfg.MaxBackoff), 0
		if c.cfg.Endpoint != "" {
			o.BaseEndpoint = sdkaws.String(c.cfg.Endpoint)
		}
		o.APIOptions = withStack(o.APIOptions, stack)
	}
}

// withStack appends wavedr's middleware to a copy of the SDK's list, which
// may share its array with the base configuration.
func withStack(base, ours []func(*middleware.Stack) error) []func(*middleware.Stack) error {
	return append(slices.Clone(base), ours...)
}

// AccountID returns the account t's credentials act in, by STS
// GetCallerIdentity (after AssumeRole for a target with a role). A wrong
// external ID or a role that does not trust wavedr's principal is
// EFORBIDDEN.
func (c *Client) AccountID(ctx context.Context, t wavedr.Target) (string, error) {
	const op = "sts GetCallerIdentity"
	tc, err := c.clients(t)
	if err != nil {
		return "", err
	}
	out, err := tc.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", mapError(op, t, err)
	}
	return deref(out.Account), nil
}
