package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"wavedr/examples"
)

// TestServeSim boots `wavedr serve --sim` in this process, uses the API
// with the bootstrap token, and stops it as SIGINT would.
func TestServeSim(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var stderr strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- runInProcessTo(ctx, outW, &stderr, nil, "serve", "--sim", "--sim-speed", "600", "--addr", "127.0.0.1:0", "--data-dir", dir)
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("no address printed (%v); stderr:\n%s", err, stderr.String())
	}
	go io.Copy(io.Discard, outR) //nolint:errcheck // drain
	m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("output %q names no address", line)
	}
	base := m[1]
	secret, err := os.ReadFile(filepath.Join(dir, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path, ctype, body string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(secret)))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, body := do("GET", "/v1/me", "", ""); code != 200 || !strings.Contains(string(body), `"roles":["Admin"]`) {
		t.Fatalf("me: %d %s", code, body)
	}
	if code, body := do("POST", "/v1/apply", "application/yaml", string(examples.ThreeTier)); code != 200 {
		t.Fatalf("apply: %d %s", code, body)
	}
	code, body := do("POST", "/v1/executions", "application/json", `{"plan":"three-tier","mode":"DRILL"}`)
	if code != 201 {
		t.Fatalf("start: %d %s", code, body)
	}
	var ex struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(body, &ex); err != nil {
		t.Fatal(err)
	}
	// The workers run: the drill reaches its pause gate.
	deadline := time.Now().Add(time.Minute)
	for ex.Status != "PAUSED" {
		if time.Now().After(deadline) {
			t.Fatalf("the drill did not reach its gate: %s", ex.Status)
		}
		time.Sleep(50 * time.Millisecond)
		_, body := do("GET", "/v1/executions/"+ex.ID, "", "")
		if err := json.Unmarshal(body, &ex); err != nil {
			t.Fatal(err)
		}
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/"} {
		if code, body := do("GET", path, "", ""); code != 200 {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}

	// An open event stream is closed with a "shutdown" event, so that it
	// does not hold the graceful shutdown.
	req, _ := http.NewRequest("GET", base+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(secret)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("events: %v %v", resp, err)
	}
	defer resp.Body.Close()
	stream := bufio.NewReader(resp.Body)
	if _, err := stream.ReadString('\n'); err != nil { // the stream has begun
		t.Fatal(err)
	}

	cancel()
	rest, _ := io.ReadAll(stream)
	if !strings.Contains(string(rest), "event: closed") || !strings.Contains(string(rest), `"reason":"shutdown"`) {
		t.Errorf("the event stream ended without a shutdown event: %s", rest)
	}
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(stderr.String(), "serve.stopped") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

func TestServeFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		vars map[string]string
		want string
	}{
		{[]string{"--workers", "0"}, nil, "--workers"},
		{[]string{"--oidc-issuer", "https://id.example.com"}, nil, "--oidc-audience"},
		{nil, map[string]string{"WAVEDR_OIDC_AUDIENCE": "wavedr"}, "need an issuer"},
		{[]string{"--oidc-issuer", "https://id.example.com", "--oidc-audience", "x", "--oidc-roles", "ops=Root"}, nil, "--oidc-roles"},
		{[]string{"extra"}, nil, "unexpected arguments"},
	} {
		vars := map[string]string{"WAVEDR_DATA_DIR": t.TempDir()}
		for k, v := range c.vars {
			vars[k] = v
		}
		code, _, stderr := runInProcess(t, context.Background(), vars, append([]string{"serve"}, c.args...)...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v %v: exit %d, stderr %q; want %d mentioning %q", c.args, c.vars, code, stderr, exitUsage, c.want)
		}
	}
	// A short WAVEDR_ADMIN_TOKEN stops serve before it listens.
	code, _, stderr := runInProcess(t, context.Background(), map[string]string{"WAVEDR_DATA_DIR": t.TempDir(), "WAVEDR_ADMIN_TOKEN": "wdr_short"},
		"serve", "--sim", "--addr", "127.0.0.1:0")
	if code != exitInvalid || !strings.Contains(stderr, "at least 32 characters") {
		t.Errorf("short admin token: exit %d, %q", code, stderr)
	}
}
