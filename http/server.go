// Package http is wavedr's HTTP API: JSON over /v1, every route declared in
// one table with the permission it needs, authenticated by API tokens or
// OIDC bearer tokens, and every mutating request recorded in the audit log.
package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"wavedr"
	"wavedr/engine"
	"wavedr/store"
)

// Config configures a Server.
type Config struct {
	// DB is the store. Required.
	DB *store.DB
	// Engine runs executions. Required.
	Engine *engine.Engine
	// Recovery is the port to DRS and EC2, for the source server list,
	// group previews and job logs. Required.
	Recovery wavedr.Recovery
	// OIDC verifies bearer tokens that are not API tokens; nil accepts API
	// tokens only.
	OIDC *OIDC
	// LocalRegion is the region of the local account listed by default in
	// GET /v1/source-servers (besides the stored accounts); empty lists the
	// local account only in the regions of its protection groups.
	LocalRegion string
	// Logger receives the request log and errors; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock of token expiry; nil means time.Now.
	Now func() time.Time

	// Mount points of the operational endpoints (events.go, metrics.go,
	// health.go).
	//
	// Events serves GET /v1/events (server-sent events: a *Broker), behind
	// authentication with the view permission; nil answers 404.
	Events http.Handler
	// Metrics serves GET /metrics (Prometheus: a *Metrics), without
	// authentication, like the health endpoints; nil leaves it unmounted.
	// When it can also instrument handlers, every API route is counted
	// and timed under its pattern.
	Metrics http.Handler
	// Ready is the readiness check of GET /readyz (Readiness: the
	// database, the job queue); nil means always ready. GET /healthz only
	// says the process answers.
	Ready func(ctx context.Context) error
}

// Server is the API's http.Handler.
type Server struct {
	cfg   Config
	db    *store.DB
	eng   *engine.Engine
	rec   wavedr.Recovery
	auth  *Authenticator
	log   *slog.Logger
	now   func() time.Time
	mux   *http.ServeMux
	table []route
}

// NewServer returns the API handler. It panics if a route of the table is
// incomplete (see route.check): that is a bug, not a configuration.
func NewServer(cfg Config) (*Server, error) {
	if cfg.DB == nil || cfg.Engine == nil || cfg.Recovery == nil {
		return nil, errors.New("http: Config.DB, Config.Engine and Config.Recovery are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{
		cfg: cfg, db: cfg.DB, eng: cfg.Engine, rec: cfg.Recovery, log: cfg.Logger, now: cfg.Now,
		auth: &Authenticator{Tokens: cfg.DB, OIDC: cfg.OIDC, Now: cfg.Now, Logger: cfg.Logger},
		mux:  http.NewServeMux(),
	}
	for _, rt := range s.routes() {
		s.register(rt)
	}
	s.mountOperational()
	s.mux.HandleFunc("GET /{$}", s.serveHome)
	return s, nil
}

// routes is the API: every route, its permission and its audit action.
func (s *Server) routes() []route {
	const (
		view     = wavedr.PermView
		accounts = wavedr.PermManageAccounts
		groups   = wavedr.PermManageGroups
		plans    = wavedr.PermManagePlans
		control  = wavedr.PermControlExecutions
	)
	groupObj, planObj := s.groupObject(), s.planObject()
	return []route{
		{method: "GET", path: "/v1/openapi.json", public: true, summary: "this API's description (OpenAPI 3.1)", handle: s.handleOpenAPI},
		{method: "GET", path: "/v1/me", perm: view, summary: "the caller and its permissions", handle: s.handleMe},
		{method: "GET", path: "/v1/events", perm: view, summary: "server-sent events of executions", handle: s.handleEvents},

		{method: "GET", path: "/v1/accounts", perm: view, summary: "list accounts", handle: s.handleListAccounts},
		{method: "POST", path: "/v1/accounts", perm: accounts, ok: 201, action: "account.create", summary: "connect an account", handle: s.handleCreateAccount},
		{method: "GET", path: "/v1/accounts/{id}", perm: view, summary: "get an account", handle: s.handleGetAccount},
		{method: "PUT", path: "/v1/accounts/{id}", perm: accounts, action: "account.update", summary: "change an account (needs version)", handle: s.handleUpdateAccount},
		{method: "DELETE", path: "/v1/accounts/{id}", ok: 204, perm: accounts, action: "account.delete", summary: "remove an account (?version=)", handle: s.handleDeleteAccount},

		{method: "GET", path: "/v1/source-servers", perm: view, summary: "list DRS source servers (?accountId=&region=)", handle: s.handleListSourceServers},

		{method: "GET", path: "/v1/protection-groups", perm: view, summary: "list protection groups", handle: s.handleListGroups},
		{method: "POST", path: "/v1/protection-groups", perm: groups, ok: 201, action: "protection_group.create", summary: "create a protection group", handle: s.handleCreateGroup},
		{method: "POST", path: "/v1/protection-groups/preview", perm: view, action: "protection_group.preview", summary: "the servers a group would hold now", handle: s.handlePreviewGroup},
		{method: "GET", path: "/v1/protection-groups/{id}", perm: view, summary: "get a protection group (by ID or name)", handle: groupObj.get},
		{method: "PUT", path: "/v1/protection-groups/{id}", perm: groups, action: "protection_group.update", summary: "change a protection group (needs version)", handle: groupObj.put},
		{method: "DELETE", path: "/v1/protection-groups/{id}", ok: 204, perm: groups, action: "protection_group.delete", summary: "delete a protection group (?version=)", handle: groupObj.remove},

		{method: "GET", path: "/v1/recovery-plans", perm: view, summary: "list recovery plans", handle: s.handleListPlans},
		{method: "POST", path: "/v1/recovery-plans", perm: plans, ok: 201, action: "recovery_plan.create", summary: "create a recovery plan", handle: s.handleCreatePlan},
		{method: "POST", path: "/v1/recovery-plans/validate", perm: view, action: "recovery_plan.validate", summary: "check a plan against the stored groups", handle: s.handleValidatePlan},
		{method: "GET", path: "/v1/recovery-plans/{id}", perm: view, summary: "get a recovery plan (by ID or name)", handle: planObj.get},
		{method: "PUT", path: "/v1/recovery-plans/{id}", perm: plans, action: "recovery_plan.update", summary: "change a recovery plan (needs version)", handle: planObj.put},
		{method: "DELETE", path: "/v1/recovery-plans/{id}", ok: 204, perm: plans, action: "recovery_plan.delete", summary: "delete a recovery plan (?version=)", handle: planObj.remove},

		{method: "POST", path: "/v1/apply", perm: plans, action: "manifest.apply", summary: "apply a YAML manifest (?dryRun=true for the diff)", handle: s.handleApply},

		{method: "GET", path: "/v1/executions", perm: view, summary: "list executions (?plan=&status=&since=&until=)", handle: s.handleListExecutions},
		{method: "POST", path: "/v1/executions", perm: wavedr.PermStartDrill, ok: 201, action: "execution.start", summary: "start a drill (or, with recovery:start, a recovery)", handle: s.handleStartExecution},
		{method: "GET", path: "/v1/executions/{id}", perm: view, summary: "get an execution with its waves, servers and report", handle: s.handleGetExecution},
		{method: "POST", path: "/v1/executions/{id}/pause", perm: control, action: "execution.pause", summary: "pause before the next wave", handle: s.handleVerb(verbPause)},
		{method: "POST", path: "/v1/executions/{id}/resume", perm: control, action: "execution.resume", summary: "resume, or pass a pause gate", handle: s.handleVerb(verbResume)},
		{method: "POST", path: "/v1/executions/{id}/cancel", perm: control, action: "execution.cancel", summary: "cancel", handle: s.handleVerb(verbCancel)},
		{method: "POST", path: "/v1/executions/{id}/poll", perm: control, action: "execution.poll", summary: "observe the in-flight waves once", handle: s.handlePoll},
		{method: "POST", path: "/v1/executions/{id}/finalize", perm: control, action: "execution.finalize", summary: "give an execution whose waves are over its outcome", handle: s.handleVerb(verbFinalize)},
		{method: "POST", path: "/v1/executions/{id}/terminate", perm: wavedr.PermTerminate, action: "execution.terminate", summary: "terminate a finished drill's recovery instances", handle: s.handleVerb(verbTerminate)},
		{method: "GET", path: "/v1/executions/{id}/waves/{wave}/job-log", perm: view, summary: "the DRS job log of a wave", handle: s.handleJobLog},

		{method: "GET", path: "/v1/tokens", perm: wavedr.PermManageTokens, summary: "list API tokens", handle: s.handleListTokens},
		{method: "POST", path: "/v1/tokens", ok: 201, perm: wavedr.PermManageTokens, action: "token.create", summary: "create an API token (its secret is shown once)", handle: s.handleCreateToken},
		{method: "DELETE", path: "/v1/tokens/{id}", perm: wavedr.PermManageTokens, action: "token.revoke", summary: "revoke an API token", handle: s.handleRevokeToken},

		{method: "GET", path: "/v1/audit", perm: wavedr.PermReadAudit, summary: "the audit log (?principal=&target=&since=&until=)", handle: s.handleListAudit},
	}
}

// ServeHTTP gives the request its ID, serves it, and logs it. A path the
// API does not know, or a method it does not accept there, is answered in
// the API's error shape rather than net/http's plain text.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	st := &requestState{requestID: requestID(r), logger: s.log}
	w.Header().Set(RequestIDHeader, st.requestID)
	r = r.WithContext(context.WithValue(r.Context(), stateKey, st))
	rec := &responseRecorder{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			Error(rec, r, fmt.Errorf("panic: %v", p))
		}
		level := slog.LevelDebug
		if r.Method != http.MethodGet || rec.statusCode() >= 400 {
			level = slog.LevelInfo
		}
		s.log.Log(r.Context(), level, "http.request", "requestId", st.requestID, "method", r.Method,
			"path", r.URL.Path, "status", rec.statusCode(), "principal", st.principal.String(),
			"durationMs", time.Since(start).Milliseconds())
	}()
	if h, pattern := s.mux.Handler(r); pattern == "" {
		s.noRoute(rec, r, h)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// noRoute answers a request no pattern matched: 405 when another method
// is served on the path (with Allow), 404 otherwise. The mux's own
// handler for the request is asked which, on a throwaway writer.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request, h http.Handler) {
	probe := &probeWriter{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		Error(w, r, methodNotAllowed(r.Method, r.URL.Path))
		return
	}
	Error(w, r, routeNotFound(r.URL.Path))
}

type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header { return p.header }
func (p *probeWriter) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
func (p *probeWriter) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}

// ---------------------------------------------------------------------
// Operational endpoints: outside /v1 and without authentication (health
// checks and scrapers carry no credentials; restrict them by network).
// Their handlers come from Config (events.go, metrics.go, health.go);
// this is where they are mounted. GET /v1/events is in the route table,
// since it shows executions and needs the view permission.
// ---------------------------------------------------------------------

func (s *Server) mountOperational() {
	s.mux.Handle("GET /healthz", HealthHandler())
	s.mux.Handle("GET /readyz", ReadyHandler(s.cfg.Ready))
	if s.cfg.Metrics != nil {
		s.mux.Handle("GET /metrics", s.cfg.Metrics)
	}
}

// instrumenter is a metrics handler that also counts and times each API
// route (Metrics does).
type instrumenter interface {
	Instrument(route string, h http.Handler) http.Handler
}

// handleEvents hands GET /v1/events, authenticated and authorized, to the
// events handler.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Events == nil {
		return wavedr.Errorf(wavedr.ENOTFOUND, "server-sent events are not enabled on this server")
	}
	s.cfg.Events.ServeHTTP(w, r)
	return nil
}

// serveHome is the placeholder of the web UI.
func (s *Server) serveHome(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = fmt.Fprint(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wavedr</title></head>
<body>
<h1>wavedr</h1>
<p>The web UI is not there yet. The HTTP API is: every route is described in
<a href="/v1/openapi.json">/v1/openapi.json</a>; send an API token as
<code>Authorization: Bearer wdr_…</code>.</p>
</body></html>
`)
}
