package sim

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// STS, awsQuery protocol: form POST with Action and Version=2011-06-15,
// XML answers wrapped in <ActionResponse><ActionResult>.

const (
	stsVersion   = "2011-06-15"
	stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	maxRoleHours = 1 // MaxSessionDuration of the simulated roles
)

var (
	sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalIDRE  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

func init() {
	services["sts"] = &service{operation: queryAction, serve: (*Simulator).serveSTS, writeError: writeSTSError}
}

func (s *Simulator) serveSTS(w http.ResponseWriter, req *request) {
	switch req.op {
	case "GetCallerIdentity":
		arn, userID := s.callerIdentity(req)
		writeXML(w, http.StatusOK, stsGetCallerIdentityResponse{
			Xmlns: stsNamespace, Arn: arn, UserID: userID, Account: req.account, RequestID: req.id,
		})
	case "AssumeRole":
		out, err := s.assumeRole(req)
		if err != nil {
			writeSTSError(w, req, err)
			return
		}
		writeXML(w, http.StatusOK, out)
	default:
		writeSTSError(w, req, &apiError{kind: errUnknownOp, message: fmt.Sprintf("Could not find operation %s for version %s", req.op, req.form.Get("Version"))})
	}
}

func (s *Simulator) callerIdentity(req *request) (arn, userID string) {
	if ss := req.session; ss != nil {
		role := ss.roleARN[strings.LastIndexByte(ss.roleARN, '/')+1:]
		return fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", ss.account, role, ss.sessionName), ss.roleID + ":" + ss.sessionName
	}
	return fmt.Sprintf("arn:aws:iam::%s:user/wavedr-sim", req.account), "AIDA" + randString(stream(s.seed, "user", req.account), upperAlnum, 17)
}

type stsGetCallerIdentityResponse struct {
	XMLName   xml.Name `xml:"GetCallerIdentityResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Arn       string   `xml:"GetCallerIdentityResult>Arn"`
	UserID    string   `xml:"GetCallerIdentityResult>UserId"`
	Account   string   `xml:"GetCallerIdentityResult>Account"`
	RequestID string   `xml:"ResponseMetadata>RequestId"`
}

type stsAssumeRoleResponse struct {
	XMLName         xml.Name `xml:"AssumeRoleResponse"`
	Xmlns           string   `xml:"xmlns,attr"`
	AssumedRoleID   string   `xml:"AssumeRoleResult>AssumedRoleUser>AssumedRoleId"`
	AssumedRoleArn  string   `xml:"AssumeRoleResult>AssumedRoleUser>Arn"`
	AccessKeyID     string   `xml:"AssumeRoleResult>Credentials>AccessKeyId"`
	SecretAccessKey string   `xml:"AssumeRoleResult>Credentials>SecretAccessKey"`
	SessionToken    string   `xml:"AssumeRoleResult>Credentials>SessionToken"`
	Expiration      string   `xml:"AssumeRoleResult>Credentials>Expiration"`
	RequestID       string   `xml:"ResponseMetadata>RequestId"`
}

func stsInvalid(format string, args ...any) *apiError {
	return &apiError{kind: errValidation, message: fmt.Sprintf(format, args...)}
}

func (s *Simulator) assumeRole(req *request) (any, *apiError) {
	f := req.form
	roleARN, name, externalID := f.Get("RoleArn"), f.Get("RoleSessionName"), f.Get("ExternalId")
	switch {
	case roleARN == "":
		return nil, stsInvalid("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	case len(roleARN) < 20 || len(roleARN) > 2048:
		return nil, stsInvalid("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length between 20 and 2048", roleARN)
	case name == "":
		return nil, stsInvalid("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	case !sessionNameRE.MatchString(name):
		return nil, stsInvalid("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64", name)
	case externalID != "" && (len(externalID) < 2 || len(externalID) > 1224 || !externalIDRE.MatchString(externalID)):
		return nil, stsInvalid("1 validation error detected: Value at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]* and have length between 2 and 1224")
	}
	duration := time.Hour
	if v := f.Get("DurationSeconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 900 || n > 43200 {
			return nil, stsInvalid("1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200", v)
		}
		if n > maxRoleHours*3600 {
			return nil, stsInvalid("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
		}
		duration = time.Duration(n) * time.Second
	}
	a := s.roles[roleARN]
	if a == nil || a.ExternalID != externalID {
		// STS says the same whether the role is unknown or the external ID
		// is wrong, so that neither can be probed.
		caller, _ := s.callerIdentity(req)
		return nil, &apiError{kind: errAccessDenied, message: fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller, roleARN)}
	}
	ss := s.newSession(a, name, duration)
	return stsAssumeRoleResponse{
		Xmlns:           stsNamespace,
		AssumedRoleID:   ss.roleID + ":" + name,
		AssumedRoleArn:  fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", a.ID, roleARN[strings.LastIndexByte(roleARN, '/')+1:], name),
		AccessKeyID:     ss.accessKey,
		SecretAccessKey: ss.secretKey,
		SessionToken:    ss.token,
		Expiration:      ss.expires.Format(time.RFC3339),
		RequestID:       req.id,
	}, nil
}

type stsErrorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

func writeSTSError(w http.ResponseWriter, req *request, e *apiError) {
	typ, code, status := "Sender", "ValidationError", 400
	switch e.kind {
	case errMalformed:
		code = "MalformedInput"
	case errThrottled:
		code = "Throttling"
	case errInternal, errUnavailable:
		typ, code, status = "Receiver", "InternalFailure", statusOr(e.status, 500)
	case errAccessDenied:
		code, status = "AccessDenied", 403
	case errUnknownOp:
		code = "InvalidAction"
	}
	if e.code != "" {
		code = e.code
	}
	writeXML(w, status, stsErrorResponse{Xmlns: stsNamespace, Type: typ, Code: code, Message: e.message, RequestID: req.id})
}
