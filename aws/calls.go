package aws

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// attemptCounter gives every operation call a counter of its attempts. It
// runs once per call (initialize step), before the retry loop; callReport
// increments the counter on each attempt.
type attemptCounter struct{}

type attemptsKey struct{}

func (attemptCounter) ID() string { return "wavedr.AttemptCounter" }

func (attemptCounter) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	ctx = middleware.WithStackValue(ctx, attemptsKey{}, new(atomic.Int32))
	return next.HandleInitialize(ctx, in)
}

// callReport reports every HTTP request to Config.OnCall: service,
// operation, target, attempt, outcome and duration.
type callReport struct {
	target string
	onCall func(Call)
}

func (*callReport) ID() string { return "wavedr.CallReport" }

func (m *callReport) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	attempt := 1
	if n, ok := middleware.GetStackValue(ctx, attemptsKey{}).(*atomic.Int32); ok {
		attempt = int(n.Add(1))
	}
	start := time.Now()
	out, md, err := next.HandleFinalize(ctx, in)
	c := Call{
		Service:   strings.ToLower(awsmiddleware.GetServiceID(ctx)),
		Operation: awsmiddleware.GetOperationName(ctx),
		Target:    m.target,
		Attempt:   attempt,
		Outcome:   OutcomeOK,
		Duration:  time.Since(start),
	}
	if err != nil {
		c.Outcome, c.ErrorCode = outcome(err)
	}
	m.onCall(c)
	return out, md, err
}

// outcome classifies a failed attempt for metrics.
func outcome(err error) (result, awsCode string) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return OutcomeCanceled, ""
	}
	code, awsCode := classify(err)
	if isThrottle(err) {
		return OutcomeThrottled, awsCode
	}
	return code, awsCode
}

// stackOptions returns the middleware wavedr adds to every SDK operation of
// one target: the attempt counter and call report (when OnCall is set) and
// the rate limit.
func stackOptions(rl *rateLimit, target string, onCall func(Call)) []func(*middleware.Stack) error {
	return []func(*middleware.Stack) error{func(s *middleware.Stack) error {
		if err := s.Finalize.Insert(rl, "Retry", middleware.After); err != nil {
			return err
		}
		if onCall == nil {
			return nil
		}
		if err := s.Initialize.Add(attemptCounter{}, middleware.Before); err != nil {
			return err
		}
		return s.Finalize.Insert(&callReport{target: target, onCall: onCall}, rateLimitID, middleware.After)
	}}
}
