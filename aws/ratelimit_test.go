package aws

import (
	"context"
	"errors"
	"testing"
	"time"

	"wavedr/sim"
)

func TestRateLimitPerTarget(t *testing.T) {
	s, _ := newSim(t, sim.Config{})
	// One call per hour: only the burst goes through.
	c := newClient(t, s, func(c *Config) { c.RateLimit = 1.0 / 3600; c.Burst = 2 })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	for i := range 2 {
		if _, err := c.DescribeSourceServers(ctx, local, nil); err != nil {
			t.Fatalf("call %d within the burst: %v", i, err)
		}
	}
	_, err := c.DescribeSourceServers(ctx, local, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call past the burst: %v, want a deadline error", err)
	}
	if got := calls(s, "drs:DescribeSourceServers"); got != 2 {
		t.Errorf("the simulator saw %d calls, want 2", got)
	}

	// Another account and region has its own bucket (AssumeRole and the
	// describe both fit in it).
	if _, err := c.DescribeSourceServers(ctx, remote, nil); err != nil {
		t.Errorf("other target: %v", err)
	}
}

func TestRateLimitWaitsForCancellation(t *testing.T) {
	s, _ := newSim(t, sim.Config{})
	c := newClient(t, s, func(c *Config) { c.RateLimit = 1.0 / 3600; c.Burst = 1 })
	if _, err := c.DescribeSourceServers(context.Background(), local, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.DescribeSourceServers(ctx, local, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled while waiting: %v, want context.Canceled", err)
	}
}
