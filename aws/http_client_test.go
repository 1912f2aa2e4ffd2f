package aws

import (
	"context"
	"net/http/httptest"
	"testing"

	"wavedr/sim"
)

// Over a real HTTP connection, every call reaches the simulator exactly
// once: no answer is lost to a request body that net/http took for a
// failed send (see plainBodies), so nothing has to be retried.
func TestNoCallLostOverHTTP(t *testing.T) {
	s, _ := newSim(t, sim.Config{Servers: 150})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"the SDK's default client", Config{}},
		{"a caller's client", Config{HTTPClient: srv.Client()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Endpoint = srv.URL
			cfg.Credentials = &Credentials{AccessKeyID: "AKIDWAVEDRTEST", SecretAccessKey: "secret"}
			cfg.Region = sim.LocalRegion
			cfg.RateLimit = -1
			cfg.MaxAttempts = 1 // a lost answer fails the call instead of hiding in a retry
			c, err := New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			before := calls(s, "drs:DescribeSourceServers")
			const n = 100
			for i := range n {
				if _, err := c.DescribeSourceServers(context.Background(), local, nil); err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
			}
			if got := calls(s, "drs:DescribeSourceServers") - before; got != n {
				t.Errorf("the simulator answered %d calls for %d made", got, n)
			}
		})
	}
}
