package http

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc/oidctest"

	"wavedr"
	"wavedr/aws"
	"wavedr/engine"
	"wavedr/sim"
	"wavedr/store"
	"wavedr/store/storetest"
)

// harness is the API over the real engine and store, the engine driving
// the in-process simulator through the AWS adapter (as in the engine's
// tests), with an API token for every role and a local OIDC issuer.
type harness struct {
	t      testing.TB
	db     *store.DB
	sim    *sim.Simulator
	eng    *engine.Engine
	api    *Server
	url    string            // the httptest server's URL
	tokens map[string]string // secrets by name: one per role (the role's name, lower-cased), and more
	issuer *testIssuer
}

type harnessOptions struct {
	workers bool // run the engine's workers (a drill progresses)
	// httpServer serves the API on a loopback httptest server; without it
	// requests go to the handler directly (faster, for fuzzing).
	httpServer bool
	// clockSkew moves the API's clock (token expiry) ahead of the store's.
	clockSkew time.Duration
}

// OIDC settings of the harness.
const (
	testAudience   = "wavedr-test"
	testAdminGroup = "dr-admins"
	testOperGroup  = "dr-operators"
)

func newHarness(t testing.TB, d storetest.Dialect, o harnessOptions) *harness {
	t.Helper()
	ctx := context.Background()
	s, err := sim.New(sim.Config{Seed: 1, Speed: 600})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	rec, err := aws.New(ctx, aws.Config{
		HTTPClient:  s.HTTPClient(),
		Endpoint:    s.Endpoint(),
		Credentials: &aws.Credentials{AccessKeyID: "AKIDHTTPTEST", SecretAccessKey: "secret"},
		Region:      sim.LocalRegion,
		RateLimit:   -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	db := d.Open(t)
	log := testLogger()
	eng, err := engine.Open(ctx, engine.Config{
		DB: db, Recovery: rec, Now: s.Now,
		PollInterval: 100 * time.Millisecond, FindInterval: time.Second, RescueAfter: 5 * time.Second,
		Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.workers {
		if err := eng.StartWorkers(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = eng.StopWorkers(stop)
		})
	}
	h := &harness{t: t, db: db, sim: s, eng: eng, tokens: map[string]string{}}
	h.issuer = newTestIssuer(t)
	auth, err := NewOIDC(ctx, OIDCConfig{Issuer: h.issuer.url, Audience: testAudience,
		Roles: map[string]wavedr.Role{testAdminGroup: wavedr.RoleAdmin, testOperGroup: wavedr.RoleOperator}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now
	if o.clockSkew != 0 {
		now = func() time.Time { return time.Now().Add(o.clockSkew) }
	}
	h.api, err = NewServer(Config{DB: db, Engine: eng, Recovery: rec, OIDC: auth, LocalRegion: sim.LocalRegion, Logger: log, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if o.httpServer {
		ts := httptest.NewServer(h.api)
		t.Cleanup(ts.Close)
		h.url = ts.URL
	}
	for _, r := range wavedr.Roles {
		h.tokens[strings.ToLower(string(r))] = h.newToken(strings.ToLower(string(r)), r, 24*time.Hour)
	}
	return h
}

func testLogger() *slog.Logger {
	if os.Getenv("WAVEDR_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// newToken stores an API token and returns its secret.
func (h *harness) newToken(name string, role wavedr.Role, life time.Duration) string {
	h.t.Helper()
	secret, hash := wavedr.NewAPITokenSecret()
	t := &wavedr.APIToken{Name: name, Role: role, CreatedBy: "test", ExpiresAt: time.Now().Add(life), Hash: hash}
	if err := h.db.CreateAPIToken(context.Background(), t); err != nil {
		h.t.Fatal(err)
	}
	return secret
}

// response is an answer of the API.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errorBody decodes the API's error shape, failing the test when the
// body is not in it.
func (r response) errorBody(t testing.TB) *wavedr.Error {
	t.Helper()
	var b struct {
		Error *wavedr.Error `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil || b.Error == nil || b.Error.Code == "" || b.Error.Message == "" {
		t.Fatalf("status %d: body is not the error shape: %s", r.status, r.body)
	}
	return b.Error
}

// request is one call of the API.
type request struct {
	method, path string
	token        string // a secret, or "" for none
	header       map[string]string
	body         string
}

func (h *harness) do(rq request) response {
	h.t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	var req *http.Request
	if h.url == "" {
		req = httptest.NewRequest(rq.method, rq.path, body)
	} else {
		var err error
		if req, err = http.NewRequest(rq.method, h.url+rq.path, body); err != nil {
			h.t.Fatal(err)
		}
	}
	if rq.token != "" {
		req.Header.Set("Authorization", "Bearer "+rq.token)
	}
	if rq.body != "" && !strings.HasPrefix(rq.path, "/v1/apply") {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	if h.url == "" {
		w := httptest.NewRecorder()
		h.api.ServeHTTP(w, req)
		return response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// call does rq, requires the status, and decodes the body into out (when
// not nil).
func (h *harness) call(rq request, status int, out any) response {
	h.t.Helper()
	r := h.do(rq)
	if r.status != status {
		h.t.Fatalf("%s %s: status %d, want %d: %s", rq.method, rq.path, r.status, status, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			h.t.Fatalf("%s %s: %v: %s", rq.method, rq.path, err, r.body)
		}
	}
	return r
}

// testIssuer is a local OIDC issuer: discovery and keys over HTTP, and
// tokens signed with its RSA key.
type testIssuer struct {
	url string
	key *rsa.PrivateKey
}

var (
	issuerKeyOnce sync.Once
	issuerKeys    [2]*rsa.PrivateKey
)

// issuerKey returns one of two RSA keys generated once per test binary
// (generation is slow).
func issuerKey(t testing.TB, i int) *rsa.PrivateKey {
	issuerKeyOnce.Do(func() {
		for k := range issuerKeys {
			key, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			issuerKeys[k] = key
		}
	})
	return issuerKeys[i]
}

func newTestIssuerWithKey(t testing.TB, key *rsa.PrivateKey) *testIssuer {
	t.Helper()
	s := &oidctest.Server{PublicKeys: []oidctest.PublicKey{{PublicKey: key.Public(), KeyID: "test-key", Algorithm: "RS256"}}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.SetIssuer(srv.URL)
	return &testIssuer{url: srv.URL, key: key}
}

func newTestIssuer(t testing.TB) *testIssuer { return newTestIssuerWithKey(t, issuerKey(t, 0)) }

// token signs claims, defaulting iss, aud, sub, iat and exp.
func (i *testIssuer) token(t testing.TB, claims map[string]any) string {
	t.Helper()
	c := map[string]any{
		"iss": i.url, "aud": testAudience, "sub": "user-1",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return oidctest.SignIDToken(i.key, "test-key", "RS256", string(b))
}
