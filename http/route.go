package http

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"

	"wavedr"
)

// route is one API route: its method and path pattern (net/http ServeMux
// syntax), the permission it needs, the audit action of a mutating route,
// and its handler. Every route of the API is in the table built by
// Server.routes, so that none escapes authorization or the tests that
// iterate the table.
type route struct {
	method  string
	path    string
	perm    wavedr.Permission
	public  bool   // served without authentication (the API description only)
	action  string // audit action, required for every method but GET
	summary string // one line for the API description
	ok      int    // the status of success, when not 200 (for the API description)
	handle  func(w http.ResponseWriter, r *http.Request) error
}

func (rt route) pattern() string { return rt.method + " " + rt.path }

// audited reports whether requests of the route are recorded: every
// method that may change something.
func (rt route) audited() bool { return rt.method != http.MethodGet }

// check panics when the route is incomplete: a route without a permission
// would be served to anyone, and a mutating route without an action would
// leave no trace. Both are programming errors, found at startup.
func (rt route) check() {
	switch {
	case rt.handle == nil:
		panic("http: route " + rt.pattern() + " has no handler")
	case rt.public && (rt.perm != "" || rt.method != http.MethodGet):
		panic("http: public route " + rt.pattern() + " must be a GET without a permission")
	case !rt.public && !rt.perm.Valid():
		panic(fmt.Sprintf("http: route %s needs a known permission, not %q", rt.pattern(), rt.perm))
	case rt.audited() && rt.action == "":
		panic("http: route " + rt.pattern() + " changes state and needs an audit action")
	case !strings.HasPrefix(rt.path, "/v1/"):
		panic("http: route " + rt.pattern() + " is outside /v1/")
	}
}

// register checks rt and mounts it behind the middleware chain.
func (s *Server) register(rt route) {
	rt.check()
	for _, o := range s.table {
		if o.pattern() == rt.pattern() {
			panic("http: route " + rt.pattern() + " is registered twice")
		}
	}
	s.table = append(s.table, rt)
	h := s.chain(rt)
	if m, ok := s.cfg.Metrics.(instrumenter); ok {
		h = m.Instrument(rt.pattern(), h)
	}
	s.mux.Handle(rt.pattern(), h)
}

// chain is the middleware of a route, after the request ID: authenticate
// → authorize → audit → handler. The audit record is written last but
// sees every outcome, refusals by authentication and authorization too.
func (s *Server) chain(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, ok := w.(*responseRecorder)
		if !ok {
			rec = &responseRecorder{ResponseWriter: w}
		}
		st := stateOf(r)
		if rt.audited() {
			defer s.audit(r, rt, rec)
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				st.logger.Error("http.panic", "requestId", st.requestID, "method", r.Method, "path", r.URL.Path,
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				Error(rec, r, fmt.Errorf("panic: %v", p))
			}
		}()
		if !rt.public {
			p, err := s.auth.Authenticate(r)
			if err != nil {
				if wavedr.ErrorCode(err) == wavedr.EUNAUTHORIZED {
					rec.Header().Set("WWW-Authenticate", `Bearer realm="wavedr"`)
				}
				Error(rec, r, err)
				return
			}
			st.principal = p
			if err := permit(p, rt.perm); err != nil {
				Error(rec, r, err)
				return
			}
		}
		if err := rt.handle(rec, r); err != nil {
			Error(rec, r, err)
		}
	})
}

// permit returns nil when p holds perm, and the 403 naming it otherwise.
func permit(p *wavedr.Principal, perm wavedr.Permission) error {
	if p.Can(perm) {
		return nil
	}
	roles := "it holds no role"
	if len(p.Roles) > 0 {
		names := make([]string, len(p.Roles))
		for i, r := range p.Roles {
			names[i] = string(r)
		}
		roles = "its roles (" + strings.Join(names, ", ") + ") do not grant it"
	}
	return &wavedr.Error{
		Code:    wavedr.EFORBIDDEN,
		Message: fmt.Sprintf("%s lacks the permission %s: %s", p, perm, roles),
		Details: []wavedr.FieldError{{Field: "permission", Rule: string(perm) + " is required"}},
	}
}

// responseRecorder remembers the status answered, for the audit log and
// the request log. It passes Flush through, for server-sent events.
type responseRecorder struct {
	http.ResponseWriter
	status int
}

func (w *responseRecorder) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends buffered data to the client.
func (w *responseRecorder) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *responseRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusCode is the status answered; a handler that wrote nothing
// answered 200.
func (w *responseRecorder) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
