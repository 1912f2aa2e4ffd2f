package sim_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/drs"
	drstypes "github.com/aws/aws-sdk-go-v2/service/drs/types"

	"wavedr/sim"
)

func TestThrottlingDecodes(t *testing.T) {
	e := newEnv(t, sim.Config{})
	if err := e.sim.AddFault(sim.Fault{Kind: sim.FaultThrottle, Op: "drs:DescribeJobs", RetryAfterSeconds: 7}); err != nil {
		t.Fatal(err)
	}
	_, err := e.drs.DescribeJobs(e.ctx, &drs.DescribeJobsInput{})
	var te *drstypes.ThrottlingException
	if !errors.As(err, &te) {
		t.Fatalf("got %v (%T), want ThrottlingException", err, err)
	}
	if aws.ToString(te.RetryAfterSeconds) != "7" || te.ErrorMessage() == "" {
		t.Errorf("RetryAfterSeconds %v message %q", te.RetryAfterSeconds, te.ErrorMessage())
	}
	// Other operations are not throttled.
	if _, err := e.drs.DescribeSourceServers(e.ctx, &drs.DescribeSourceServersInput{}); err != nil {
		t.Errorf("DescribeSourceServers: %v", err)
	}
	st := e.sim.Stats()
	if got := st["drs:DescribeJobs"]; got != (sim.OpStats{Calls: 1, Throttled: 1}) {
		t.Errorf("stats DescribeJobs %+v", got)
	}
	if got := st["drs:DescribeSourceServers"]; got != (sim.OpStats{Calls: 1, OK: 1}) {
		t.Errorf("stats DescribeSourceServers %+v", got)
	}
	e.sim.ClearFaults()
	if _, err := e.drs.DescribeJobs(e.ctx, &drs.DescribeJobsInput{}); err != nil {
		t.Errorf("after ClearFaults: %v", err)
	}
}

func TestInternalAndAccessDeniedDecode(t *testing.T) {
	e := newEnv(t, sim.Config{})
	e.sim.AddFault(sim.Fault{Kind: sim.FaultError, Op: "drs:DescribeJobs"})
	e.sim.AddFault(sim.Fault{Kind: sim.FaultDeny, Op: "drs:DescribeRecoveryInstances"})
	_, err := e.drs.DescribeJobs(e.ctx, &drs.DescribeJobsInput{})
	var ie *drstypes.InternalServerException
	if !errors.As(err, &ie) {
		t.Errorf("got %v, want InternalServerException", err)
	}
	_, err = e.drs.DescribeRecoveryInstances(e.ctx, &drs.DescribeRecoveryInstancesInput{})
	var ad *drstypes.AccessDeniedException
	if !errors.As(err, &ad) {
		t.Errorf("got %v, want AccessDeniedException", err)
	}
	if got := e.sim.Stats()["drs:DescribeJobs"]; got.Errors != 1 {
		t.Errorf("stats %+v", got)
	}
}

func TestConflictForServerInActiveJob(t *testing.T) {
	e := newEnv(t, sim.Config{})
	first := e.start(true, nil, "db-01", "db-02")
	_, err := e.drs.StartRecovery(e.ctx, &drs.StartRecoveryInput{SourceServers: e.ids("web-01", "db-02")})
	var ce *drstypes.ConflictException
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want ConflictException", err)
	}
	db02 := *e.servers()["db-02"].SourceServerID
	if aws.ToString(ce.ResourceId) != db02 || !strings.Contains(ce.ErrorMessage(), db02) || !strings.Contains(ce.ErrorMessage(), *first.JobID) {
		t.Errorf("conflict names %v: %q", ce.ResourceId, ce.ErrorMessage())
	}
	e.finish(*first.JobID)
	e.start(true, nil, "web-01", "db-02") // free again once the job completed
}

func TestQuotas(t *testing.T) {
	e := newEnv(t, sim.Config{Servers: 640})
	var all []drstypes.StartRecoveryRequestSourceServer
	for _, s := range e.servers() {
		all = append(all, drstypes.StartRecoveryRequestSourceServer{SourceServerID: s.SourceServerID})
	}
	var sq *drstypes.ServiceQuotaExceededException

	// 101 servers in one job: over the quota, under the API limit.
	_, err := e.drs.StartRecovery(e.ctx, &drs.StartRecoveryInput{SourceServers: all[:101]})
	if !errors.As(err, &sq) || aws.ToString(sq.QuotaCode) == "" || aws.ToString(sq.ServiceCode) != "drs" {
		t.Fatalf("101 servers: %v", err)
	}
	// 201 servers: over the API limit.
	_, err = e.drs.StartRecovery(e.ctx, &drs.StartRecoveryInput{SourceServers: all[:201]})
	if apiCode(t, err) != "ValidationException" {
		t.Errorf("201 servers: %v", err)
	}
	_, err = e.drs.StartRecovery(e.ctx, &drs.StartRecoveryInput{SourceServers: []drstypes.StartRecoveryRequestSourceServer{}})
	if apiCode(t, err) != "ValidationException" {
		t.Errorf("0 servers: %v", err)
	}
	_, err = e.drs.StartRecovery(e.ctx, &drs.StartRecoveryInput{SourceServers: []drstypes.StartRecoveryRequestSourceServer{{SourceServerID: aws.String("s-0123456789abcdef0")}}})
	if apiCode(t, err) != "ValidationException" {
		t.Errorf("unknown server: %v", err)
	}

	// 500 servers in five active jobs, then one more server is too many.
	next := 0
	for i := 0; i < 5; i++ {
		if _, err := e.drs.StartRecovery(e.ctx, &drs.StartRecoveryInput{SourceServers: all[next : next+100]}); err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
		next += 100
	}
	_, err = e.drs.StartRecovery(e.ctx, &drs.StartRecoveryInput{SourceServers: all[next : next+1]})
	if !errors.As(err, &sq) || !strings.Contains(sq.ErrorMessage(), "500") {
		t.Fatalf("501st server in active jobs: %v", err)
	}

	// Once those complete: 20 concurrent jobs, and the 21st is refused.
	e.clock.Advance(10 * time.Hour)
	for i := 0; i < 20; i++ {
		if _, err := e.drs.StartRecovery(e.ctx, &drs.StartRecoveryInput{SourceServers: all[next : next+1]}); err != nil {
			t.Fatalf("concurrent job %d: %v", i+1, err)
		}
		next++
	}
	_, err = e.drs.StartRecovery(e.ctx, &drs.StartRecoveryInput{SourceServers: all[next : next+1]})
	if !errors.As(err, &sq) || aws.ToString(sq.QuotaCode) != "MaxConcurrentJobs" {
		t.Fatalf("21st concurrent job: %v", err)
	}
}

func TestValidationDecodes(t *testing.T) {
	e := newEnv(t, sim.Config{})
	ids := make([]string, 1001)
	for i := range ids {
		ids[i] = fmt.Sprintf("drsjob-%017d", i)
	}
	_, err := e.drs.DescribeJobs(e.ctx, &drs.DescribeJobsInput{Filters: &drstypes.DescribeJobsRequestFilters{JobIDs: ids}})
	var ve *drstypes.ValidationException
	if !errors.As(err, &ve) {
		t.Fatalf("1001 job IDs: %v", err)
	}
	if ve.Reason != drstypes.ValidationExceptionReasonFieldValidationFailed || len(ve.FieldList) != 1 || aws.ToString(ve.FieldList[0].Name) != "filters.jobIDs" {
		t.Errorf("ValidationException %+v", ve)
	}
	_, err = e.drs.DescribeJobs(e.ctx, &drs.DescribeJobsInput{Filters: &drstypes.DescribeJobsRequestFilters{FromDate: aws.String("yesterday")}})
	if !errors.As(err, &ve) {
		t.Errorf("bad fromDate: %v", err)
	}
	_, err = e.drs.DescribeSourceServers(e.ctx, &drs.DescribeSourceServersInput{NextToken: aws.String("not-a-token")})
	if !errors.As(err, &ve) {
		t.Errorf("bad nextToken: %v", err)
	}
	_, err = e.drs.DescribeJobLogItems(e.ctx, &drs.DescribeJobLogItemsInput{JobID: aws.String("job-1")})
	if !errors.As(err, &ve) {
		t.Errorf("bad job ID: %v", err)
	}
}

// Malformed requests are answered in the service's own error format.
func TestMalformedRequests(t *testing.T) {
	e := newEnv(t, sim.Config{})
	client := e.sim.HTTPClient()
	do := func(method, path, contentType, body string) (*http.Response, string) {
		req, _ := http.NewRequest(method, e.sim.Endpoint()+path, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20250602/us-east-1/drs/aws4_request, SignedHeaders=host, Signature=0")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := do("POST", "/StartRecovery", "application/json", `{"sourceServers": [`)
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Errortype") != "ValidationException" || !strings.Contains(body, `"reason":"cannotParse"`) {
		t.Errorf("bad JSON: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if resp.Header.Get("X-Amzn-Requestid") == "" {
		t.Error("no x-amzn-requestid")
	}
	resp, body = do("POST", "/StartRecovery", "application/json", `{"sourceServers": "db-01"}`)
	if resp.StatusCode != 400 || !strings.Contains(body, "sourceServers") {
		t.Errorf("wrong type: %d %s", resp.StatusCode, body)
	}
	resp, _ = do("POST", "/NoSuchOperation", "application/json", `{}`)
	if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-Errortype") != "UnknownOperationException" {
		t.Errorf("unknown operation: %d %v", resp.StatusCode, resp.Header)
	}
	// EC2 and STS errors are XML.
	req, _ := http.NewRequest("POST", e.sim.Endpoint()+"/", strings.NewReader("Action=RunInstances&Version=2016-11-15"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r2, _ := client.Do(req)
	b, _ := io.ReadAll(r2.Body)
	if r2.StatusCode != 400 || !strings.Contains(string(b), "<Code>InvalidAction</Code>") {
		t.Errorf("EC2 unknown action: %d %s", r2.StatusCode, b)
	}
	req, _ = http.NewRequest("POST", e.sim.Endpoint()+"/", strings.NewReader("Action=AssumeRole&Version=2011-06-15&RoleArn=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r3, _ := client.Do(req)
	b, _ = io.ReadAll(r3.Body)
	if r3.StatusCode != 400 || !strings.Contains(string(b), "<ErrorResponse") || !strings.Contains(string(b), "<Code>ValidationError</Code>") {
		t.Errorf("STS bad input: %d %s", r3.StatusCode, b)
	}
}
