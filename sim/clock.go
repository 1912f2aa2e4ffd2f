package sim

import (
	"sync"
	"time"
)

// Clock tells the simulator what time it is. Every state change of the
// simulator (job progress, instance states) is derived from it on read, so a
// test that owns the clock owns the whole timeline.
type Clock interface {
	Now() time.Time
}

// scaledClock runs Speed times faster than the wall clock from the moment it
// was made: a launch that takes ten simulated minutes takes ten wall seconds
// at speed 60.
type scaledClock struct {
	start time.Time
	speed float64
}

func newScaledClock(speed float64) *scaledClock {
	return &scaledClock{start: time.Now(), speed: speed}
}

func (c *scaledClock) Now() time.Time {
	elapsed := time.Since(c.start)
	return c.start.Add(time.Duration(float64(elapsed) * c.speed)).UTC()
}

// ManualClock is a Clock that moves only when told to. It is safe for
// concurrent use.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock set to t (or to a fixed date in 2025 when t
// is zero, so that runs are repeatable).
func NewManualClock(t time.Time) *ManualClock {
	if t.IsZero() {
		t = time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	}
	return &ManualClock{now: t.UTC()}
}

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t. Moving it backwards does not undo what already
// happened (instances launched stay launched).
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t.UTC()
	c.mu.Unlock()
}
