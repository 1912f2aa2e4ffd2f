package aws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	drstypes "github.com/aws/aws-sdk-go-v2/service/drs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"wavedr"
)

// Error is a *wavedr.Error together with the SDK error that caused it.
// errors.As finds both the *wavedr.Error (for its code) and the SDK's types
// (smithy.APIError, *smithy.OperationError ...) for callers that need them.
type Error struct {
	Domain *wavedr.Error // code, message naming the operation and target, details
	Cause  error         // the SDK's error
}

func (e *Error) Error() string   { return e.Domain.Error() }
func (e *Error) Unwrap() []error { return []error{e.Domain, e.Cause} }

// AWS error codes that map to a wavedr code of their own. Throttling codes
// come from the SDK's list (retry.go).
var errorCodes = map[string]string{
	// DRS
	"ConflictException":             wavedr.ECONFLICT,
	"ServiceQuotaExceededException": wavedr.EQUOTA,
	"ValidationException":           wavedr.EINVALID,
	"UninitializedAccountException": wavedr.EINVALID,
	"ResourceNotFoundException":     wavedr.ENOTFOUND,
	"AccessDeniedException":         wavedr.EFORBIDDEN,
	"InternalServerException":       wavedr.EUNAVAILABLE,
	// STS, and credentials AWS refuses in any service
	"AccessDenied":                wavedr.EFORBIDDEN,
	"RegionDisabledException":     wavedr.EFORBIDDEN,
	"ExpiredToken":                wavedr.EFORBIDDEN,
	"ExpiredTokenException":       wavedr.EFORBIDDEN,
	"InvalidClientTokenId":        wavedr.EFORBIDDEN,
	"UnrecognizedClientException": wavedr.EFORBIDDEN,
	"SignatureDoesNotMatch":       wavedr.EFORBIDDEN,
	"InvalidSignatureException":   wavedr.EFORBIDDEN,
	"MissingAuthenticationToken":  wavedr.EFORBIDDEN,
	"RequestExpired":              wavedr.EFORBIDDEN,
	// EC2
	"AuthFailure":                 wavedr.EFORBIDDEN,
	"UnauthorizedOperation":       wavedr.EFORBIDDEN,
	"OptInRequired":               wavedr.EFORBIDDEN,
	"InvalidInstanceID.NotFound":  wavedr.ENOTFOUND,
	"InvalidInstanceID.Malformed": wavedr.EINVALID,
	"InvalidParameterValue":       wavedr.EINVALID,
	"InvalidParameterCombination": wavedr.EINVALID,
	"MissingParameter":            wavedr.EINVALID,
	"Unavailable":                 wavedr.EUNAVAILABLE,
	"InternalError":               wavedr.EUNAVAILABLE,
}

// mapError turns an SDK error of operation op in target t into a wavedr
// error. Context cancellation and deadlines pass through unchanged, so
// callers can tell them from AWS failures with errors.Is.
func mapError(op string, t wavedr.Target, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	code, awsCode := classify(err)
	e := &wavedr.Error{Code: code, Message: fmt.Sprintf("%s in %s: %s", op, t.Key(), describe(code, awsCode, err))}
	var ve *drstypes.ValidationException
	if errors.As(err, &ve) {
		for _, f := range ve.FieldList {
			e.Details = append(e.Details, wavedr.FieldError{Field: deref(f.Name), Rule: deref(f.Message)})
		}
	}
	return &Error{Domain: e, Cause: err}
}

// classify returns the wavedr code of an SDK error and the AWS error code
// when the service sent one.
func classify(err error) (code, awsCode string) {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		awsCode = apiErr.ErrorCode()
		if c, ok := errorCodes[awsCode]; ok {
			return c, awsCode
		}
		if isThrottle(err) {
			return wavedr.EUNAVAILABLE, awsCode
		}
	}
	var hs interface{ HTTPStatusCode() int }
	if errors.As(err, &hs) {
		switch s := hs.HTTPStatusCode(); {
		case s == 429 || s >= 500:
			return wavedr.EUNAVAILABLE, awsCode
		case s == 401 || s == 403:
			return wavedr.EFORBIDDEN, awsCode
		case s == 404:
			return wavedr.ENOTFOUND, awsCode
		case s == 409:
			return wavedr.ECONFLICT, awsCode
		case s >= 400:
			return wavedr.EINVALID, awsCode
		}
	}
	if apiErr != nil && apiErr.ErrorFault() == smithy.FaultServer {
		return wavedr.EUNAVAILABLE, awsCode
	}
	var sendErr *smithyhttp.RequestSendError
	var netErr net.Error
	var quotaErr ratelimit.QuotaExceededError
	if errors.As(err, &sendErr) || errors.As(err, &netErr) || errors.As(err, &quotaErr) {
		return wavedr.EUNAVAILABLE, awsCode
	}
	return wavedr.EINTERNAL, awsCode
}

// describe says what went wrong in words for the error message.
func describe(code, awsCode string, err error) string {
	var apiErr smithy.APIError
	switch {
	case awsCode == "UninitializedAccountException":
		return "DRS is not initialized in this account and region; initialize it in the DRS console (or with InitializeService) first"
	case isThrottle(err):
		return "throttled by AWS (" + awsCode + "), still after retries; try again later"
	case errors.As(err, &apiErr):
		msg := apiErr.ErrorMessage()
		if msg == "" {
			return awsCode
		}
		return awsCode + ": " + msg
	case code == wavedr.EUNAVAILABLE:
		return "AWS cannot be reached: " + innermost(err)
	}
	return innermost(err)
}

// innermost returns the message of the deepest single-wrapped error, which
// names the actual failure without the SDK's operation prefixes.
func innermost(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return strings.TrimSpace(err.Error())
		}
		err = next
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
