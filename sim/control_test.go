package sim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/drs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"wavedr/sim"
)

// The SDK over a real socket, and the control endpoint.
func TestOverHTTPServerAndControl(t *testing.T) {
	s, err := sim.New(sim.Config{Seed: 1, Clock: sim.NewManualClock(time.Time{})})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	cfg := aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("anything", "secret", ""),
		BaseEndpoint: aws.String(srv.URL), Retryer: func() aws.Retryer { return aws.NopRetryer{} },
	}
	ctx := t.Context()
	ss, err := drs.NewFromConfig(cfg).DescribeSourceServers(ctx, &drs.DescribeSourceServersInput{})
	if err != nil || len(ss.Items) != 12 {
		t.Fatalf("over HTTP: %d servers, %v", len(ss.Items), err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || *id.Account != sim.LocalAccountID {
		t.Fatalf("GetCallerIdentity over HTTP: %v %v", id, err)
	}

	call := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := call("GET", "/_sim/stats", "")
	var stats map[string]sim.OpStats
	if err := json.Unmarshal([]byte(body), &stats); code != 200 || err != nil || stats["drs:DescribeSourceServers"].OK != 1 || stats["sts:GetCallerIdentity"].Calls != 1 {
		t.Errorf("stats: %d %s", code, body)
	}
	if code, body := call("POST", "/_sim/faults", `{"kind":"throttle","op":"drs:DescribeJobs","rate":0.5}`); code != 200 || !strings.Contains(body, `"rate":0.5`) {
		t.Errorf("add fault: %d %s", code, body)
	}
	if code, body := call("POST", "/_sim/faults", `[{"kind":"slow-launch","servers":["db-01"],"factor":3},{"kind":"latency","op":"*","latency":"5ms"}]`); code != 200 {
		t.Errorf("add faults: %d %s", code, body)
	}
	if len(s.Faults()) != 3 {
		t.Errorf("faults %+v", s.Faults())
	}
	for _, bad := range []struct{ body, field string }{
		{`{"kind":"throttle","rate":2}`, `"field":"rate"`},
		{`{"kind":"throttle","rte":0.5}`, `"field":"rte"`},
		{`{"kind":"latency","latency":"soon"}`, `"field":"latency"`},
		{`[{"kind":"throttle"},{"kind":"nope"}]`, `"field":"[1].kind"`},
		{`not json`, `"error"`},
	} {
		if code, body := call("POST", "/_sim/faults", bad.body); code != 400 || !strings.Contains(body, bad.field) {
			t.Errorf("POST %s: %d %s, want 400 naming %s", bad.body, code, body, bad.field)
		}
	}
	if code, body := call("GET", "/_sim/faults", ""); code != 200 || !strings.Contains(body, "slow-launch") {
		t.Errorf("get faults: %d %s", code, body)
	}
	if code, _ := call("DELETE", "/_sim/faults", ""); code != 200 || len(s.Faults()) != 0 {
		t.Errorf("clear faults: %d %v", code, s.Faults())
	}
	if code, _ := call("POST", "/_sim/stats/reset", ""); code != 200 || len(s.Stats()) != 0 {
		t.Errorf("reset: %d %v", code, s.Stats())
	}
	before := s.Now()
	if code, body := call("POST", "/_sim/clock/advance", `{"by":"5m"}`); code != 200 || s.Now().Sub(before) != 5*time.Minute {
		t.Errorf("advance: %d %s", code, body)
	}
	if code, body := call("GET", "/_sim/info", ""); code != 200 || !strings.Contains(body, `"222222222222"`) {
		t.Errorf("info: %d %s", code, body)
	}
	if code, _ := call("GET", "/_sim/nothing", ""); code != 404 {
		t.Errorf("unknown control path: %d", code)
	}
}
