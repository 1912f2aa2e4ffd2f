package aws

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	drstypes "github.com/aws/aws-sdk-go-v2/service/drs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"wavedr"
	"wavedr/sim"
)

// fixedBackoff is a retryer whose own backoff is always d, so that what
// RetryDelay adds is visible.
func fixedBackoff(d, maxBackoff time.Duration) *retryer {
	std := retry.NewStandard(func(o *retry.StandardOptions) {
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return d, nil })
	})
	return &retryer{RetryerV2: std, maxBackoff: maxBackoff}
}

func withHeader(status int, header http.Header, err error) error {
	return &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: header}},
		Err:      err,
	}
}

func TestRetryDelayHonoursRetryAfter(t *testing.T) {
	r := fixedBackoff(10*time.Millisecond, 20*time.Second)
	for _, tc := range []struct {
		name string
		err  error
		want time.Duration
	}{
		{"no retry-after", sdkError(500, &drstypes.InternalServerException{}), 10 * time.Millisecond},
		{"drs throttling", sdkError(429, &drstypes.ThrottlingException{RetryAfterSeconds: sdkaws.String("3")}), 3 * time.Second},
		{"drs internal", sdkError(500, &drstypes.InternalServerException{RetryAfterSeconds: 4}), 4 * time.Second},
		{"shorter than backoff", sdkError(429, &drstypes.ThrottlingException{RetryAfterSeconds: sdkaws.String("0")}), 10 * time.Millisecond},
		{"capped", sdkError(429, &drstypes.ThrottlingException{RetryAfterSeconds: sdkaws.String("600")}), 20 * time.Second},
		{"header", withHeader(503, http.Header{"Retry-After": {"2"}}, &smithy.GenericAPIError{Code: "SlowDown"}), 2 * time.Second},
		{"garbage", withHeader(503, http.Header{"Retry-After": {"soon"}}, &smithy.GenericAPIError{Code: "SlowDown"}), 10 * time.Millisecond},
	} {
		got, err := r.RetryDelay(1, tc.err)
		if err != nil || got != tc.want {
			t.Errorf("%s: delay %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}

	now := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
	if d, ok := parseRetryAfter(now.Add(5*time.Second).Format(http.TimeFormat), now); !ok || d != 5*time.Second {
		t.Errorf("HTTP-date Retry-After: %v, %v", d, ok)
	}
	if d, ok := parseRetryAfter(now.Add(-time.Minute).Format(http.TimeFormat), now); !ok || d != 0 {
		t.Errorf("past HTTP-date Retry-After: %v, %v", d, ok)
	}
}

// The Retry-After the simulator sends on the wire reaches the retryer
// through the SDK's decoding: the delay it computes for the real error is
// at least what the service asked for.
func TestRetryAfterFromTheWire(t *testing.T) {
	s, _ := newSim(t, sim.Config{})
	if err := s.AddFault(sim.Fault{Kind: sim.FaultThrottle, Op: "drs:DescribeJobs", RetryAfterSeconds: 7}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, s, func(c *Config) { c.MaxAttempts = 1 })
	_, err := c.DescribeJobs(context.Background(), local, wavedr.JobFilter{})
	if code := wavedr.ErrorCode(err); code != wavedr.EUNAVAILABLE {
		t.Fatalf("throttled call: %v (code %q), want %s", err, code, wavedr.EUNAVAILABLE)
	}
	d, err := fixedBackoff(time.Millisecond, time.Minute).RetryDelay(1, err)
	if err != nil || d != 7*time.Second {
		t.Errorf("delay for the simulator's throttle = %v, %v; want 7s", d, err)
	}
}

// callLog collects the OnCall reports.
type callLog struct {
	mu    sync.Mutex
	calls []Call
}

func (l *callLog) add(c Call) { l.mu.Lock(); l.calls = append(l.calls, c); l.mu.Unlock() }

func (l *callLog) count(op, outcome string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.calls {
		if c.Operation == op && c.Outcome == outcome {
			n++
		}
	}
	return n
}

func TestThrottledCallsAreRetried(t *testing.T) {
	ctx := context.Background()
	s, _ := newSim(t, sim.Config{})
	if err := s.AddFault(sim.Fault{Kind: sim.FaultThrottle, Op: "drs:DescribeJobs", Rate: 0.4}); err != nil {
		t.Fatal(err)
	}
	var log callLog
	c := newClient(t, s, func(c *Config) { c.MaxAttempts = 10; c.OnCall = log.add })
	for i := range 30 {
		if _, err := c.DescribeJobs(ctx, local, wavedr.JobFilter{}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	st := s.Stats()["drs:DescribeJobs"]
	if st.Throttled == 0 || st.OK != 30 {
		t.Errorf("simulator counted %+v; want throttled attempts and 30 successes", st)
	}
	if got := log.count("DescribeJobs", OutcomeThrottled); int64(got) != st.Throttled {
		t.Errorf("OnCall reported %d throttled attempts, the simulator %d", got, st.Throttled)
	}
	if got := log.count("DescribeJobs", OutcomeOK); got != 30 {
		t.Errorf("OnCall reported %d successful attempts, want 30", got)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	retried := false
	for _, c := range log.calls {
		if c.Service != "drs" || c.Target != local.Key() || c.Attempt < 1 {
			t.Fatalf("bad call report %+v", c)
		}
		retried = retried || c.Attempt > 1
	}
	if !retried {
		t.Error("no call report with Attempt > 1")
	}
}

func TestRetriesExhausted(t *testing.T) {
	ctx := context.Background()
	s, _ := newSim(t, sim.Config{})
	c := newClient(t, s, func(c *Config) { c.MaxAttempts = 3 })

	// DRS throttling, EC2 RequestLimitExceeded and DRS 500s are retried up to
	// MaxAttempts, then reported as unavailable.
	for _, tc := range []struct {
		fault sim.Fault
		op    string
		call  func() error
	}{
		{sim.Fault{Kind: sim.FaultThrottle, Op: "drs:DescribeJobs"}, "drs:DescribeJobs", func() error {
			_, err := c.DescribeJobs(ctx, local, wavedr.JobFilter{})
			return err
		}},
		{sim.Fault{Kind: sim.FaultThrottle, Op: "ec2:DescribeInstances"}, "ec2:DescribeInstances", func() error {
			_, err := c.DescribeInstances(ctx, local, []string{"i-0123456789abcdef0"})
			return err
		}},
		{sim.Fault{Kind: sim.FaultError, Op: "drs:DescribeSourceServers"}, "drs:DescribeSourceServers", func() error {
			_, err := c.DescribeSourceServers(ctx, local, nil)
			return err
		}},
	} {
		s.ClearFaults()
		s.ResetStats()
		if err := s.AddFault(tc.fault); err != nil {
			t.Fatal(err)
		}
		err := tc.call()
		if code := wavedr.ErrorCode(err); code != wavedr.EUNAVAILABLE {
			t.Errorf("%s: %v (code %q), want %s", tc.op, err, code, wavedr.EUNAVAILABLE)
		}
		if got := calls(s, tc.op); got != 3 {
			t.Errorf("%s: %d attempts, want 3", tc.op, got)
		}
	}
}

// StartRecovery retries a throttling refusal but never a 500, which may
// come after the job was created.
func TestStartRecoveryRetriesOnlyWhatProvesNoJob(t *testing.T) {
	ctx := context.Background()
	s, _ := newSim(t, sim.Config{})
	c := newClient(t, s, func(c *Config) { c.MaxAttempts = 3 })
	ids := healthyIDs(t, c, local, 1)
	in := wavedr.StartRecoveryInput{SourceServerIDs: ids, IsDrill: true}

	if err := s.AddFault(sim.Fault{Kind: sim.FaultError, Op: "drs:StartRecovery"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.StartRecovery(ctx, local, in)
	if code := wavedr.ErrorCode(err); code != wavedr.EUNAVAILABLE {
		t.Errorf("500: %v (code %q), want %s", err, code, wavedr.EUNAVAILABLE)
	}
	if got := calls(s, "drs:StartRecovery"); got != 1 {
		t.Errorf("a 500 on StartRecovery was attempted %d times, want 1", got)
	}

	s.ClearFaults()
	s.ResetStats()
	if err := s.AddFault(sim.Fault{Kind: sim.FaultThrottle, Op: "drs:StartRecovery"}); err != nil {
		t.Fatal(err)
	}
	_, err = c.StartRecovery(ctx, local, in)
	if code := wavedr.ErrorCode(err); code != wavedr.EUNAVAILABLE {
		t.Errorf("throttled: %v (code %q), want %s", err, code, wavedr.EUNAVAILABLE)
	}
	if got := calls(s, "drs:StartRecovery"); got != 3 {
		t.Errorf("a throttled StartRecovery was attempted %d times, want 3", got)
	}

	// Other operations of the same client still retry 500s.
	s.ClearFaults()
	s.ResetStats()
	if err := s.AddFault(sim.Fault{Kind: sim.FaultError, Op: "drs:DescribeJobs"}); err != nil {
		t.Fatal(err)
	}
	c.DescribeJobs(ctx, local, wavedr.JobFilter{})
	if got := calls(s, "drs:DescribeJobs"); got != 3 {
		t.Errorf("DescribeJobs after StartRecovery: %d attempts on a 500, want 3", got)
	}
}

func TestProvesNotSent(t *testing.T) {
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("i/o timeout")}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"429", sdkError(429, &drstypes.ThrottlingException{}), true},
		{"throttling code with 400", sdkError(400, &smithy.GenericAPIError{Code: "Throttling"}), true},
		{"500", sdkError(500, &drstypes.InternalServerException{}), false},
		{"503 RequestLimitExceeded", sdkError(503, &smithy.GenericAPIError{Code: "RequestLimitExceeded"}), false},
		{"conflict", sdkError(409, &drstypes.ConflictException{}), false},
		{"dial refused", &smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}, true},
		{"dns", &smithyhttp.RequestSendError{Err: &net.DNSError{Err: "no such host", Name: "drs.invalid", IsTemporary: true}}, true},
		{"read timeout", &smithyhttp.RequestSendError{Err: timeout}, false},
		{"reset", &smithyhttp.RequestSendError{Err: errors.New("connection reset by peer")}, false},
	} {
		if got := provesNotSent(tc.err); got != tc.want {
			t.Errorf("%s: provesNotSent = %v, want %v", tc.name, got, tc.want)
		}
		lr := launchRetryer{RetryerV2: newRetryer(5, time.Second)}
		if got := lr.IsErrorRetryable(tc.err); tc.want == false && got {
			t.Errorf("%s: StartRecovery would retry", tc.name)
		}
	}
}

func TestEC2RequestLimitExceededIsThrottling(t *testing.T) {
	err := sdkError(503, &smithy.GenericAPIError{Code: "RequestLimitExceeded"})
	if !newRetryer(5, time.Second).IsErrorRetryable(err) || !isThrottle(err) {
		t.Error("RequestLimitExceeded is not retried as throttling")
	}
}
