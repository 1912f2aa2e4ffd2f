package aws

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"wavedr"
	"wavedr/sim"
)

// Over real HTTP, with the endpoint and the credentials coming from the
// standard environment variables through the SDK's default chain.
func TestStandardChainOverHTTP(t *testing.T) {
	s, clock := newSim(t, sim.Config{})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENVIRONMENT")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", sim.LocalRegion)

	c, err := New(context.Background(), Config{RateLimit: -1, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	exerciseOperations(t, s, clock, c)

	// A target with no region uses the environment's.
	id, err := c.AccountID(context.Background(), wavedr.Target{})
	if err != nil || id != sim.LocalAccountID {
		t.Errorf("AccountID = %q, %v", id, err)
	}
	id, err = c.AccountID(context.Background(), remote)
	if err != nil || id != sim.TargetAccountID {
		t.Errorf("AccountID after AssumeRole = %q, %v", id, err)
	}
}

// AWS_ENDPOINT_URL_DRS wins over AWS_ENDPOINT_URL for DRS only.
func TestServiceEndpointFromEnvironment(t *testing.T) {
	s, _ := newSim(t, sim.Config{})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1") // nothing listens there
	t.Setenv("AWS_ENDPOINT_URL_DRS", srv.URL)

	c, err := New(context.Background(), Config{
		Credentials: &Credentials{AccessKeyID: "AKIDWAVEDRTEST", SecretAccessKey: "secret"},
		RateLimit:   -1, MaxAttempts: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if ids := sourceIDs(t, c, local); len(ids) != sim.DefaultServers {
		t.Errorf("DRS through AWS_ENDPOINT_URL_DRS: %d servers", len(ids))
	}
	_, err = c.DescribeInstances(context.Background(), local, []string{"i-0123456789abcdef0"})
	if code := wavedr.ErrorCode(err); code != wavedr.EUNAVAILABLE {
		t.Errorf("EC2 through the dead AWS_ENDPOINT_URL: %v (code %q), want %s", err, code, wavedr.EUNAVAILABLE)
	}
}

// Config.Endpoint wins over the environment.
func TestConfigEndpointWins(t *testing.T) {
	s, _ := newSim(t, sim.Config{})
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_ENDPOINT_URL_DRS", "http://127.0.0.1:1")
	c := newClient(t, s, nil)
	if ids := sourceIDs(t, c, local); len(ids) != sim.DefaultServers {
		t.Errorf("%d servers", len(ids))
	}
}

func TestTargetWithoutRegion(t *testing.T) {
	s, _ := newSim(t, sim.Config{})
	c := newClient(t, s, nil)
	_, err := c.DescribeSourceServers(context.Background(), wavedr.Target{AccountID: sim.LocalAccountID}, nil)
	if code := wavedr.ErrorCode(err); code != wavedr.EINVALID {
		t.Errorf("no region anywhere: %v (code %q), want %s", err, code, wavedr.EINVALID)
	}
}
