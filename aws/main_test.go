package aws

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"wavedr"
	"wavedr/sim"
)

// TestMain keeps the developer's AWS settings out of the tests: no shared
// config or credentials files, no instance metadata, no endpoint overrides.
func TestMain(m *testing.M) {
	for _, k := range []string{
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DRS", "AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL_STS",
		"AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_CA_BUNDLE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
	} {
		os.Unsetenv(k)
	}
	os.Setenv("AWS_CONFIG_FILE", os.DevNull)
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Exit(m.Run())
}

var (
	local  = wavedr.Target{AccountID: sim.LocalAccountID, Region: sim.LocalRegion}
	remote = wavedr.Target{AccountID: sim.TargetAccountID, Region: sim.TargetRegion, RoleARN: sim.TargetRoleARN, ExternalID: sim.TargetExternalID}
)

// newSim returns a simulator on a manual clock, closed at the end of the test.
func newSim(t testing.TB, cfg sim.Config) (*sim.Simulator, *sim.ManualClock) {
	t.Helper()
	clock := sim.NewManualClock(time.Time{})
	cfg.Clock = clock
	if cfg.Seed == 0 {
		cfg.Seed = 7
	}
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, clock
}

// newClient returns a Client wired in-process to s, with no client-side
// rate limit and tiny backoffs so that retries cost no wall time.
func newClient(t testing.TB, s *sim.Simulator, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		HTTPClient:  s.HTTPClient(),
		Endpoint:    s.Endpoint(),
		Credentials: &Credentials{AccessKeyID: "AKIDWAVEDRTEST", SecretAccessKey: "secret"},
		RateLimit:   -1,
		MaxBackoff:  time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// calls returns the number of requests the simulator counted for op
// ("drs:DescribeJobs").
func calls(s *sim.Simulator, op string) int64 {
	return s.Stats()[op].Calls
}

// sourceIDs returns the IDs of every source server of t.
func sourceIDs(t testing.TB, c *Client, tgt wavedr.Target) []string {
	t.Helper()
	servers, err := c.DescribeSourceServers(context.Background(), tgt, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(servers))
	for i, s := range servers {
		ids[i] = s.ID
	}
	return ids
}

// healthyIDs returns the IDs of up to n source servers of t that can be
// launched.
func healthyIDs(t testing.TB, c *Client, tgt wavedr.Target, n int) []string {
	t.Helper()
	servers, err := c.DescribeSourceServers(context.Background(), tgt, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range servers {
		if s.ReplicationState.Healthy() && len(ids) < n {
			ids = append(ids, s.ID)
		}
	}
	if len(ids) < n {
		t.Fatalf("only %d healthy servers, want %d", len(ids), n)
	}
	return ids
}

// launchAll launches ids as drills in jobs of at most perJob servers,
// within the DRS quotas, advancing the clock until every job completed.
// It returns the job IDs.
func launchAll(ctx context.Context, c wavedr.Recovery, clock *sim.ManualClock, tgt wavedr.Target, ids []string, perJob int) ([]string, error) {
	var all, active []string
	activeServers := map[string]int{}
	inFlight := 0
	settle := func() error {
		clock.Advance(5 * time.Minute)
		jobs, err := c.DescribeJobs(ctx, tgt, wavedr.JobFilter{IDs: active})
		if err != nil {
			return err
		}
		active = active[:0]
		for _, j := range jobs {
			if j.Status == wavedr.JobCompleted {
				inFlight -= activeServers[j.ID]
				delete(activeServers, j.ID)
				continue
			}
			active = append(active, j.ID)
		}
		return nil
	}
	for i := 0; i < len(ids); {
		chunk := ids[i:min(i+perJob, len(ids))]
		if len(active) >= wavedr.MaxConcurrentJobs || inFlight+len(chunk) > wavedr.MaxServersInActiveJobs {
			if err := settle(); err != nil {
				return nil, err
			}
			continue
		}
		job, err := c.StartRecovery(ctx, tgt, wavedr.StartRecoveryInput{
			SourceServerIDs: chunk, IsDrill: true,
			Tags: map[string]string{wavedr.TagExecution: "bench", wavedr.TagWave: "all", wavedr.TagChunk: fmt.Sprint(len(all))},
		})
		if err != nil {
			return nil, err
		}
		all = append(all, job.ID)
		active = append(active, job.ID)
		activeServers[job.ID] = len(chunk)
		inFlight += len(chunk)
		i += len(chunk)
	}
	for range 1000 {
		if len(active) == 0 {
			return all, nil
		}
		if err := settle(); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("jobs %v still running after 1000 clock steps", active)
}
