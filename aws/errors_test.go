package aws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	drstypes "github.com/aws/aws-sdk-go-v2/service/drs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"wavedr"
	"wavedr/sim"
)

// sdkError builds an error shaped like the SDK's: an operation error around
// an HTTP response error around the service's error.
func sdkError(status int, err error) error {
	return &smithy.OperationError{ServiceID: "drs", OperationName: "Op", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}},
			Err:      err,
		},
	}}
}

func TestMapError(t *testing.T) {
	tgt := wavedr.Target{AccountID: "111111111111", Region: "us-east-1"}
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	for _, tc := range []struct {
		name string
		err  error
		code string
	}{
		{"conflict", sdkError(409, &drstypes.ConflictException{Message: sdkaws.String("busy")}), wavedr.ECONFLICT},
		{"quota", sdkError(402, &drstypes.ServiceQuotaExceededException{}), wavedr.EQUOTA},
		{"validation", sdkError(400, &drstypes.ValidationException{}), wavedr.EINVALID},
		{"not found", sdkError(404, &drstypes.ResourceNotFoundException{}), wavedr.ENOTFOUND},
		{"access denied", sdkError(403, &drstypes.AccessDeniedException{}), wavedr.EFORBIDDEN},
		{"sts access denied", sdkError(403, &smithy.GenericAPIError{Code: "AccessDenied"}), wavedr.EFORBIDDEN},
		{"uninitialized", sdkError(400, &drstypes.UninitializedAccountException{}), wavedr.EINVALID},
		{"throttled", sdkError(429, &drstypes.ThrottlingException{}), wavedr.EUNAVAILABLE},
		{"ec2 throttled", sdkError(503, &smithy.GenericAPIError{Code: "RequestLimitExceeded"}), wavedr.EUNAVAILABLE},
		{"internal", sdkError(500, &drstypes.InternalServerException{}), wavedr.EUNAVAILABLE},
		{"unmodeled 502", sdkError(502, &smithy.GenericAPIError{Code: "BadGateway"}), wavedr.EUNAVAILABLE},
		{"ec2 not found", sdkError(400, &smithy.GenericAPIError{Code: "InvalidInstanceID.NotFound"}), wavedr.ENOTFOUND},
		{"network", &smithyhttp.RequestSendError{Err: dial}, wavedr.EUNAVAILABLE},
		{"unknown", errors.New("boom"), wavedr.EINTERNAL},
	} {
		err := mapError("drs Op", tgt, tc.err)
		if got := wavedr.ErrorCode(err); got != tc.code {
			t.Errorf("%s: code %q, want %q (%v)", tc.name, got, tc.code, err)
		}
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: the SDK error is not kept as the cause", tc.name)
		}
	}

	// ValidationException's fields become details; the message names the
	// operation and the target.
	ve := &drstypes.ValidationException{Message: sdkaws.String("bad"), FieldList: []drstypes.ValidationExceptionField{
		{Name: sdkaws.String("sourceServers"), Message: sdkaws.String("too many")},
	}}
	var we *wavedr.Error
	if err := mapError("drs StartRecovery", tgt, sdkError(400, ve)); !errors.As(err, &we) {
		t.Fatalf("no *wavedr.Error in %v", err)
	}
	if len(we.Details) != 1 || we.Details[0].Field != "sourceServers" || we.Details[0].Rule != "too many" {
		t.Errorf("details = %+v", we.Details)
	}
	if want := "drs StartRecovery in 111111111111/us-east-1: ValidationException: bad"; we.Message != want {
		t.Errorf("message = %q, want %q", we.Message, want)
	}

	// Cancellation passes through as is.
	for _, ctxErr := range []error{context.Canceled, context.DeadlineExceeded} {
		wrapped := &smithy.OperationError{Err: &sdkaws.RequestCanceledError{Err: fmt.Errorf("x: %w", ctxErr)}}
		if err := mapError("op", tgt, wrapped); err != wrapped {
			t.Errorf("%v was mapped to %v", ctxErr, err)
		}
	}
	if mapError("op", tgt, nil) != nil {
		t.Error("nil error mapped to non-nil")
	}
}

func TestErrorsFromSimulator(t *testing.T) {
	ctx := context.Background()
	s, _ := newSim(t, sim.Config{Servers: 40})
	c := newClient(t, s, nil)
	ids := healthyIDs(t, c, local, 22)

	// Too many servers: refused before any call.
	s.ResetStats()
	_, err := c.StartRecovery(ctx, local, wavedr.StartRecoveryInput{SourceServerIDs: fakeIDs("s-", wavedr.MaxServersPerJob+1)})
	if code := wavedr.ErrorCode(err); code != wavedr.EINVALID {
		t.Errorf("101 servers: %v (code %q), want %s", err, code, wavedr.EINVALID)
	}
	if got := calls(s, "drs:StartRecovery"); got != 0 {
		t.Errorf("101 servers reached DRS (%d calls)", got)
	}

	// A server already in an active job.
	if _, err := c.StartRecovery(ctx, local, wavedr.StartRecoveryInput{SourceServerIDs: ids[:1], IsDrill: true}); err != nil {
		t.Fatal(err)
	}
	_, err = c.StartRecovery(ctx, local, wavedr.StartRecoveryInput{SourceServerIDs: ids[:1], IsDrill: true})
	if code := wavedr.ErrorCode(err); code != wavedr.ECONFLICT {
		t.Errorf("server already in a job: %v (code %q), want %s", err, code, wavedr.ECONFLICT)
	}

	// The 21st concurrent job.
	for _, id := range ids[1:20] {
		if _, err := c.StartRecovery(ctx, local, wavedr.StartRecoveryInput{SourceServerIDs: []string{id}, IsDrill: true}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.StartRecovery(ctx, local, wavedr.StartRecoveryInput{SourceServerIDs: ids[20:21], IsDrill: true})
	if code := wavedr.ErrorCode(err); code != wavedr.EQUOTA {
		t.Errorf("21st concurrent job: %v (code %q), want %s", err, code, wavedr.EQUOTA)
	}

	// Unknown source server.
	_, err = c.GetLaunchConfiguration(ctx, local, "s-00000000000000000")
	if code := wavedr.ErrorCode(err); code != wavedr.ENOTFOUND {
		t.Errorf("unknown server: %v (code %q), want %s", err, code, wavedr.ENOTFOUND)
	}
}
