package sim_test

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wavedr/sim"
)

// The real AWS CLI cannot tell the simulator from AWS.
func TestAWSCLI(t *testing.T) {
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not installed: install it (apt-get install awscli, or pip install awscli) to run this test")
	}
	clock := sim.NewManualClock(time.Time{})
	s, err := sim.New(sim.Config{Seed: 1, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	dir := t.TempDir()

	run := func(args ...string) map[string]any {
		t.Helper()
		args = append([]string{"--endpoint-url", srv.URL, "--region", "us-east-1", "--output", "json"}, args...)
		cmd := exec.CommandContext(t.Context(), aws, args...)
		cmd.Env = append(withoutAWS(os.Environ()),
			"AWS_ACCESS_KEY_ID=anything", "AWS_SECRET_ACCESS_KEY=anything", "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true",
			"AWS_CONFIG_FILE="+filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
			"AWS_RETRY_MODE=standard", "AWS_MAX_ATTEMPTS=1",
		)
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
		}
		return v
	}

	ident := run("sts", "get-caller-identity")
	if ident["Account"] != sim.LocalAccountID {
		t.Errorf("get-caller-identity: %v", ident)
	}
	servers := run("drs", "describe-source-servers")
	items, _ := servers["items"].([]any)
	if len(items) != 12 {
		t.Fatalf("describe-source-servers: %d items", len(items))
	}
	var db01 string
	for _, it := range items {
		m := it.(map[string]any)
		hints := m["sourceProperties"].(map[string]any)["identificationHints"].(map[string]any)
		if hints["hostname"] == "db-01" {
			db01 = m["sourceServerID"].(string)
		}
	}
	started := run("drs", "start-recovery", "--is-drill", "--source-servers", "sourceServerID="+db01, "--tags", "wavedr:execution=cli")
	job := started["job"].(map[string]any)
	jobID := job["jobID"].(string)
	if job["initiatedBy"] != "START_DRILL" || job["status"] != "PENDING" {
		t.Errorf("start-recovery: %v", job)
	}
	clock.Advance(time.Hour)
	jobs := run("drs", "describe-jobs", "--filters", "jobIDs="+jobID)
	got := jobs["items"].([]any)[0].(map[string]any)
	if got["status"] != "COMPLETED" || got["participatingServers"].([]any)[0].(map[string]any)["launchStatus"] != "LAUNCHED" {
		t.Errorf("describe-jobs: %v", got)
	}
	inst := run("ec2", "describe-instances", "--filters", "Name=tag:Name,Values=db-01")
	res, _ := inst["Reservations"].([]any)
	if len(res) != 1 {
		t.Fatalf("describe-instances: %v", inst)
	}
	in := res[0].(map[string]any)["Instances"].([]any)[0].(map[string]any)
	if in["InstanceType"] != "r6i.2xlarge" || in["State"].(map[string]any)["Name"] != "running" {
		t.Errorf("describe-instances: %v", in)
	}
	if st := s.Stats(); st["drs:StartRecovery"].OK != 1 || st["ec2:DescribeInstances"].OK != 1 || st["sts:GetCallerIdentity"].OK != 1 {
		t.Errorf("stats %+v", st)
	}
}

// withoutAWS drops the caller's AWS settings (profiles, keys, endpoints),
// so that the CLI sees only what the test gives it.
func withoutAWS(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	return out
}
