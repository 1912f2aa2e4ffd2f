package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// FaultKind names what a fault does.
type FaultKind string

const (
	// FaultThrottle answers a fraction of the calls of Op with the service's
	// throttling error (DRS 429 ThrottlingException with Retry-After, EC2 503
	// RequestLimitExceeded, STS 400 Throttling).
	FaultThrottle FaultKind = "throttle"
	// FaultError answers a fraction of the calls of Op with a 500.
	FaultError FaultKind = "error"
	// FaultDeny answers a fraction of the calls of Op with the service's
	// access-denied error (DRS 403 AccessDeniedException, EC2 403
	// UnauthorizedOperation, STS 403 AccessDenied).
	FaultDeny FaultKind = "deny"
	// FaultLatency delays the calls of Op by Latency (wall time).
	FaultLatency FaultKind = "latency"
	// FaultFailLaunch makes launches of Servers fail (LAUNCH_FAILED with
	// RawError). It applies to jobs started after it is added.
	FaultFailLaunch FaultKind = "fail-launch"
	// FaultSlowLaunch multiplies the snapshot, conversion and launch times
	// of Servers by Factor, for jobs started after it is added.
	FaultSlowLaunch FaultKind = "slow-launch"
	// FaultHideInstance makes EC2 behave as if the Instances did not exist
	// (yet): for For after their launch, or until cleared when For is 0.
	FaultHideInstance FaultKind = "hide-instance"
)

// Fault is one misbehaviour on demand.
type Fault struct {
	Kind FaultKind `json:"kind"`
	// Op is "service:Operation" (drs:DescribeJobs), "service:*" or "*"
	// (the default) for throttle, error and latency.
	Op string `json:"op,omitempty"`
	// Rate is the fraction of matching calls affected, in [0,1]; 0 means
	// every call. Which calls are affected depends only on the seed and the
	// order of the calls.
	Rate float64 `json:"rate,omitempty"`
	// RetryAfterSeconds is what a throttled DRS call tells the client to
	// wait (default 1).
	RetryAfterSeconds int `json:"retryAfterSeconds,omitempty"`
	// Latency is the delay added by a latency fault.
	Latency Duration `json:"latency,omitempty"`
	// Servers are the source server IDs or hostnames of fail-launch and
	// slow-launch faults.
	Servers []string `json:"servers,omitempty"`
	// Factor multiplies launch durations (slow-launch; default 10).
	Factor float64 `json:"factor,omitempty"`
	// RawError is the error a failed launch reports.
	RawError string `json:"rawError,omitempty"`
	// Instances are EC2 instance IDs to hide, or source server IDs or
	// hostnames whose recovered instances to hide.
	Instances []string `json:"instances,omitempty"`
	// For limits hiding to this long (simulated time) after each launch.
	For Duration `json:"for,omitempty"`
	// Account and Region, when set, limit the fault to them.
	Account string `json:"account,omitempty"`
	Region  string `json:"region,omitempty"`
}

// Duration is a time.Duration that reads and writes JSON as "1.5s" (a bare
// number is seconds).
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration like 250ms or 2s", s)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("must be a duration like \"250ms\" or a number of seconds")
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// FieldError is a configuration mistake, naming the field.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// validate checks f and fills in defaults.
func (f *Fault) validate() error {
	bad := func(field, format string, args ...any) error {
		return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
	}
	if f.Rate < 0 || f.Rate > 1 || math.IsNaN(f.Rate) {
		return bad("rate", "must be between 0 and 1, not %v", f.Rate)
	}
	if f.Account != "" && !accountIDRE.MatchString(f.Account) {
		return bad("account", "%q is not a 12-digit account ID", f.Account)
	}
	if f.Region != "" && !regionRE.MatchString(f.Region) {
		return bad("region", "%q is not a region name", f.Region)
	}
	switch f.Kind {
	case FaultThrottle, FaultError, FaultDeny, FaultLatency:
		if f.Op == "" {
			f.Op = "*"
		}
		if f.Op != "*" {
			svc, op, ok := strings.Cut(f.Op, ":")
			if !ok || services[svc] == nil || op == "" {
				return bad("op", "%q is not service:Operation (drs:DescribeJobs), service:* or *", f.Op)
			}
		}
		if f.Kind == FaultLatency && f.Latency <= 0 {
			return bad("latency", "must be a positive duration")
		}
		if f.RetryAfterSeconds < 0 {
			return bad("retryAfterSeconds", "must not be negative")
		}
		if f.Kind == FaultThrottle && f.RetryAfterSeconds == 0 {
			f.RetryAfterSeconds = 1
		}
	case FaultFailLaunch, FaultSlowLaunch:
		if len(f.Servers) == 0 || slices.Contains(f.Servers, "") {
			return bad("servers", "must list source server IDs or hostnames")
		}
		if f.Kind == FaultSlowLaunch {
			if f.Factor < 0 || math.IsNaN(f.Factor) || math.IsInf(f.Factor, 0) {
				return bad("factor", "must be a positive number")
			}
			if f.Factor == 0 {
				f.Factor = 10
			}
		}
	case FaultHideInstance:
		if len(f.Instances) == 0 || slices.Contains(f.Instances, "") {
			return bad("instances", "must list EC2 instance IDs, source server IDs or hostnames")
		}
		if f.For < 0 {
			return bad("for", "must not be negative")
		}
	case "":
		return bad("kind", "is required (throttle, error, deny, latency, fail-launch, slow-launch, hide-instance)")
	default:
		return bad("kind", "%q is not one of throttle, error, deny, latency, fail-launch, slow-launch, hide-instance", f.Kind)
	}
	return nil
}

// activeFault is a fault with its deterministic decision state.
type activeFault struct {
	Fault
	id    int
	calls map[string]int
}

// AddFault activates a fault.
func (s *Simulator) AddFault(f Fault) error {
	f.Servers, f.Instances = slices.Clone(f.Servers), slices.Clone(f.Instances)
	if err := f.validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := 1
	if n := len(s.faults); n > 0 {
		id = s.faults[n-1].id + 1
	}
	s.faults = append(s.faults, &activeFault{Fault: f, id: id, calls: map[string]int{}})
	return nil
}

// ClearFaults removes every fault.
func (s *Simulator) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// Faults returns the active faults.
func (s *Simulator) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, len(s.faults))
	for i, f := range s.faults {
		out[i] = f.Fault
		out[i].Servers, out[i].Instances = slices.Clone(f.Servers), slices.Clone(f.Instances)
	}
	return out
}

func (f *activeFault) scoped(account, region string) bool {
	return (f.Account == "" || f.Account == account) && (f.Region == "" || f.Region == region)
}

func (f *activeFault) matchesOp(name string) bool {
	if f.Op == "*" || f.Op == name {
		return true
	}
	svc, op, _ := strings.Cut(f.Op, ":")
	return op == "*" && strings.HasPrefix(name, svc+":")
}

// hits decides whether the next matching call is affected. The n-th call
// is hit when frac(offset + n·φ) < rate: a low-discrepancy sequence, so
// that even a short run sees close to the asked fraction, and the offset
// comes from the seed so that runs repeat.
func (f *activeFault) hits(seed int64, name string) bool {
	if f.Rate == 0 || f.Rate == 1 {
		return true
	}
	n := f.calls[name]
	f.calls[name] = n + 1
	offset := unit(seed, "fault", fmt.Sprint(f.id), name)
	_, frac := math.Modf(offset + float64(n)*0.6180339887498949)
	return frac < f.Rate
}

// decideFaults returns the latency to add and the injected failure, if any,
// for one call. Callers hold s.mu.
func (s *Simulator) decideFaults(name string, req *request) (time.Duration, *apiError) {
	var latency time.Duration
	var failure *apiError
	for _, f := range s.faults {
		if !f.matchesOp(name) || !f.scoped(req.account, req.region) {
			continue
		}
		switch f.Kind {
		case FaultLatency:
			if f.hits(s.seed, name) {
				latency += time.Duration(f.Latency)
			}
		case FaultThrottle:
			if failure == nil && f.hits(s.seed, name) {
				failure = &apiError{kind: errThrottled, retryAfter: f.RetryAfterSeconds, message: "Rate exceeded"}
			}
		case FaultError:
			if failure == nil && f.hits(s.seed, name) {
				failure = &apiError{kind: errInternal, status: 500, message: "Injected internal error"}
			}
		case FaultDeny:
			if failure == nil && f.hits(s.seed, name) {
				failure = &apiError{kind: errAccessDenied, message: "User is not authorized to perform " + name}
			}
		}
	}
	return latency, failure
}

// launchPlanFor returns what faults say about launching s. Callers hold s.mu.
func (s *Simulator) launchPlanFor(g *region, srv *sourceServer) launchPlan {
	var p launchPlan
	for _, f := range s.faults {
		if !f.scoped(g.account, g.name) || !slices.ContainsFunc(f.Servers, func(x string) bool { return x == srv.id || x == srv.hostname }) {
			continue
		}
		switch f.Kind {
		case FaultFailLaunch:
			p.fail, p.rawError = true, f.RawError
		case FaultSlowLaunch:
			p.factor = max(p.factor, 1) * f.Factor
		}
	}
	return p
}

// hidden reports whether EC2 must not show the instance at now. Callers
// hold s.mu.
func (s *Simulator) hidden(g *region, in *instance, now time.Time) bool {
	for _, f := range s.faults {
		if f.Kind != FaultHideInstance || !f.scoped(g.account, g.name) {
			continue
		}
		host := ""
		if srv := g.serverByID[in.sourceServerID]; srv != nil {
			host = srv.hostname
		}
		if !slices.ContainsFunc(f.Instances, func(x string) bool { return x == in.id || x == in.sourceServerID || x == host }) {
			continue
		}
		if f.For == 0 || now.Before(in.launchTime.Add(time.Duration(f.For))) {
			return true
		}
	}
	return false
}
