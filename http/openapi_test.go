package http

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"wavedr"
	"wavedr/sim"
	"wavedr/store/storetest"
)

func init() {
	// A YAML manifest and an event stream are strings to the document
	// (kin-openapi would read only a manifest's first YAML document); the
	// events are checked one by one against their schemas.
	for _, mt := range []string{"application/yaml", "text/yaml", "application/x-yaml", "text/x-yaml", "text/event-stream"} {
		openapi3filter.RegisterBodyDecoder(mt, openapi3filter.PlainBodyDecoder)
	}
}

// loadDocument reads and validates the API description of h's server.
func loadDocument(t *testing.T, api *Server) *openapi3.T {
	t.Helper()
	b, err := json.Marshal(api.openAPI())
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(b)
	if err != nil {
		t.Fatalf("the document does not load: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	return doc
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	h := newHarness(t, storetest.SQLite, harnessOptions{})
	doc := loadDocument(t, h.api)
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi %s, want 3.1", doc.OpenAPI)
	}
	// What GET /v1/openapi.json answers is that document.
	r := h.call(request{method: "GET", path: "/v1/openapi.json"}, http.StatusOK, nil)
	want, _ := json.Marshal(h.api.openAPI())
	if !bytes.Equal(bytes.TrimSpace(r.body), want) {
		t.Error("GET /v1/openapi.json is not the document")
	}
}

// TestOpenAPIRoutes checks the document against the route table: every
// route has exactly one operation, with its permission and audit action,
// a schema for the body of its success and its error answers, and the
// document has no other operation.
func TestOpenAPIRoutes(t *testing.T) {
	h := newHarness(t, storetest.SQLite, harnessOptions{})
	doc := loadDocument(t, h.api)
	described := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			described[method+" "+path] = true
		}
	}
	patterns := map[string]bool{}
	for _, rt := range h.api.table {
		p := rt.pattern()
		patterns[p] = true
		if _, ok := operations[p]; !ok {
			t.Errorf("%s: no entry in operations (openapi.go)", p)
		}
		item := doc.Paths.Find(rt.path)
		var op *openapi3.Operation
		if item != nil {
			op = item.GetOperation(rt.method)
		}
		if op == nil {
			t.Errorf("%s is not described", p)
			continue
		}
		if !described[p] {
			t.Errorf("%s is described under another path", p)
		}
		if got := op.Extensions["x-wavedr-permission"]; rt.public && got != nil || !rt.public && got != string(rt.perm) {
			t.Errorf("%s: x-wavedr-permission %v, want %q", p, got, rt.perm)
		}
		if got := op.Extensions["x-wavedr-audit-action"]; rt.action == "" && got != nil || rt.action != "" && got != rt.action {
			t.Errorf("%s: x-wavedr-audit-action %v, want %q", p, got, rt.action)
		}
		if rt.public != (op.Security != nil && len(*op.Security) == 0) {
			t.Errorf("%s: security %v, public %v", p, op.Security, rt.public)
		}
		ok := op.Responses.Status(rt.ok)
		if rt.ok == 0 {
			ok = op.Responses.Status(http.StatusOK)
		}
		if ok == nil {
			t.Errorf("%s: no response %s", p, successStatus(rt))
		} else if (len(ok.Value.Content) == 0) != (rt.ok == http.StatusNoContent) {
			t.Errorf("%s: success with content %v, status %s", p, ok.Value.Content, successStatus(rt))
		}
		if op.Responses.Default() != nil {
			t.Errorf("%s: a default response hides undescribed statuses", p)
		}
		for code, resp := range op.Responses.Map() {
			if code[0] != '4' && code[0] != '5' {
				continue
			}
			if c := resp.Value.Content.Get("application/json"); c == nil || c.Schema.Ref != schemaRef+"Error" {
				t.Errorf("%s: response %s is not the error shape", p, code)
			}
		}
		if !rt.public {
			for _, st := range []int{401, 403} {
				if op.Responses.Status(st) == nil {
					t.Errorf("%s: no response %d", p, st)
				}
			}
		}
	}
	for p := range described {
		if !patterns[p] {
			t.Errorf("the document describes %s, which is not a route", p)
		}
	}
	for p := range operations {
		if !patterns[p] {
			t.Errorf("operations describes %s, which is not a route", p)
		}
	}
	// Request bodies refuse unknown fields, at every depth.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil {
				continue
			}
			if c := op.RequestBody.Value.Content.Get("application/json"); c != nil {
				checkClosed(t, method+" "+path, c.Schema, map[*openapi3.Schema]bool{})
			}
		}
	}
}

// checkClosed fails the test for an object of a request body that does
// not refuse the fields it does not describe.
func checkClosed(t *testing.T, where string, ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	t.Helper()
	if ref == nil || ref.Value == nil || seen[ref.Value] {
		return
	}
	s := ref.Value
	seen[s] = true
	if s.Type.Is("object") && s.AdditionalProperties.Schema == nil && (s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has) {
		t.Errorf("%s: the request object %s does not refuse unknown fields", where, ref.Ref)
	}
	for _, p := range s.Properties {
		checkClosed(t, where, p, seen)
	}
	for _, sub := range s.AnyOf {
		checkClosed(t, where, sub, seen)
	}
	checkClosed(t, where, s.Items, seen)
	checkClosed(t, where, s.AdditionalProperties.Schema, seen)
}

// TestOpenAPIEnumsAreTheConstants checks every enumeration of the
// document against the constants of its type in the source, and that no
// type with constants reached by the document lacks its enumeration.
func TestOpenAPIEnumsAreTheConstants(t *testing.T) {
	consts := typedConstants(t, map[string]string{"..": "wavedr", "../manifest": "wavedr/manifest"})
	for typ, values := range enumValues {
		key := typ.PkgPath() + "." + typ.Name()
		want := consts[key]
		if len(want) == 0 {
			t.Errorf("%s: no constants found in the source", key)
		}
		got := slices.Clone(values)
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the document enumerates %q, the constants are %q", key, got, want)
		}
	}
	// Every string type of the described types that has constants is
	// enumerated.
	sch := newSchemas()
	h := newHarness(t, storetest.SQLite, harnessOptions{})
	for _, rt := range h.api.table {
		describe(rt, operations[rt.pattern()], sch)
	}
	seen := map[reflect.Type]bool{}
	var visit func(reflect.Type)
	visit = func(t2 reflect.Type) {
		for t2.Kind() == reflect.Pointer || t2.Kind() == reflect.Slice || t2.Kind() == reflect.Map || t2.Kind() == reflect.Array {
			t2 = t2.Elem()
		}
		if seen[t2] {
			return
		}
		seen[t2] = true
		switch {
		case t2.Kind() == reflect.String && t2.Name() != "string":
			if _, ok := enumValues[t2]; !ok && len(consts[t2.PkgPath()+"."+t2.Name()]) > 0 {
				t.Errorf("%s has constants but no enumeration in the document (enumValues)", t2)
			}
		case t2.Kind() == reflect.Struct:
			for i := 0; i < t2.NumField(); i++ {
				visit(t2.Field(i).Type)
			}
		}
	}
	for _, typ := range sch.types {
		visit(typ)
	}
	// The error codes are those the API maps to statuses.
	var codes []string
	for c := range codeStatus {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	got := slices.Clone(errorCodes)
	sort.Strings(got)
	if !slices.Equal(got, codes) {
		t.Errorf("error codes %q, codeStatus has %q", got, codes)
	}
	// The launch settings' values have no constants: the domain's
	// validation is their reference.
	for field, values := range map[string][]string{"launchDisposition": {"STARTED", "STOPPED"}, "rightSizingMethod": {"NONE", "BASIC", "IN_AWS"}} {
		n := fieldNotes[fieldKey{typeOf[wavedr.LaunchSettings](), field}]
		if !slices.Equal(n.enum, values) {
			t.Errorf("%s: enum %q, want %q", field, n.enum, values)
		}
		for _, v := range append(values, "OTHER") {
			ls := &wavedr.LaunchSettings{}
			reflect.ValueOf(ls).Elem().FieldByNameFunc(func(s string) bool { return strings.EqualFold(s, field) }).SetString(v)
			g := wavedr.ProtectionGroup{Name: "g", Region: "us-east-1", ServerIDs: []string{"s-00000000000000001"}, LaunchSettings: ls}
			if err := g.Validate(); (err == nil) != (v != "OTHER") {
				t.Errorf("%s %s: Validate says %v", field, v, err)
			}
		}
	}
}

// typedConstants returns the string constants declared with a type, by
// "package path.type name", from the non-test files of the directories.
func typedConstants(t *testing.T, dirs map[string]string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	fset := token.NewFileSet()
	for dir, pkg := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				gd, ok := d.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					typ, ok := vs.Type.(*ast.Ident)
					if !ok {
						continue
					}
					for _, v := range vs.Values {
						if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							s, _ := strconv.Unquote(lit.Value)
							out[pkg+"."+typ.Name] = append(out[pkg+"."+typ.Name], s)
						}
					}
				}
			}
		}
	}
	return out
}

// ---------------------------------------------------------------------
// The contract test: a whole drill through the API, every request and
// every answer checked against the document.
// ---------------------------------------------------------------------

func TestOpenAPIContract(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			testOpenAPIContract(t, d)
		})
	}
}

// contract is an API client that checks each request and each answer
// (status, headers, body) against the document, and counts the statuses
// seen of each operation.
type contract struct {
	t      *testing.T
	url    string
	doc    *openapi3.T
	router routers.Router

	mu   sync.Mutex
	seen map[string]map[int]int // operation ID → status → answers
}

func newContract(t *testing.T, api *Server, url string) *contract {
	t.Helper()
	doc := loadDocument(t, api)
	closeAnswers(doc)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &contract{t: t, url: url, doc: doc, router: router, seen: map[string]map[int]int{}}
}

// closeAnswers makes every object of the document refuse fields it does
// not describe. The published document leaves answers open, so that
// clients accept fields added later; here a field the server answers and
// the document does not describe is a mismatch.
func closeAnswers(doc *openapi3.T) {
	no := false
	for _, s := range doc.Components.Schemas {
		v := s.Value
		if len(v.Properties) > 0 && v.AdditionalProperties.Has == nil && v.AdditionalProperties.Schema == nil {
			v.AdditionalProperties.Has = &no
		}
	}
}

// exchange is one request and what it must get.
type exchange struct {
	method, path string
	token        string // a secret, or "" for none
	body         string
	contentType  string // default application/json when there is a body
	header       map[string]string
	want         []int // the statuses expected
	// refused says the document refuses the request too: the server and
	// the document agree on what a client may not send.
	refused bool
}

func (x exchange) request(ctx context.Context, base string) *http.Request {
	var body io.Reader
	if x.body != "" {
		body = strings.NewReader(x.body)
	}
	req, err := http.NewRequestWithContext(ctx, x.method, base+x.path, body)
	if err != nil {
		panic(err)
	}
	if x.token != "" {
		req.Header.Set("Authorization", "Bearer "+x.token)
	}
	switch {
	case x.contentType != "":
		req.Header.Set("Content-Type", x.contentType)
	case x.body != "":
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range x.header {
		req.Header.Set(k, v)
	}
	return req
}

func (c *contract) options() *openapi3filter.Options {
	return &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			if !strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
				return fmt.Errorf("no bearer token")
			}
			return nil
		},
	}
}

// check validates the request of x against the document.
func (c *contract) check(x exchange) *openapi3filter.RequestValidationInput {
	c.t.Helper()
	req := x.request(context.Background(), c.url)
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Fatalf("%s %s: no operation of the document: %v", x.method, x.path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: c.options()}
	err = openapi3filter.ValidateRequest(context.Background(), in)
	switch {
	case x.refused && err == nil:
		c.t.Fatalf("%s %s: the document accepts a request the server refuses: %s", x.method, x.path, x.body)
	case !x.refused && err != nil:
		c.t.Fatalf("%s %s: the request does not match the document: %v", x.method, x.path, err)
	}
	return in
}

// do sends x, checks both sides against the document and the status, and
// decodes the answer into out (when not nil).
func (c *contract) do(x exchange, out any) response {
	c.t.Helper()
	in := c.check(x)
	resp, err := http.DefaultClient.Do(x.request(context.Background(), c.url))
	if err != nil {
		c.t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: body}
	if !slices.Contains(x.want, r.status) {
		c.t.Fatalf("%s %s: status %d, want %v: %s", x.method, x.path, r.status, x.want, body)
	}
	c.checkAnswer(in, r)
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", x.method, x.path, err, body)
		}
	}
	return r
}

// checkAnswer validates an answer to the request of in.
func (c *contract) checkAnswer(in *openapi3filter.RequestValidationInput, r response) {
	c.t.Helper()
	req := in.Request
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: r.status, Header: r.header, Options: c.options()}
	out.SetBodyBytes(r.body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.t.Fatalf("%s %s: the answer %d does not match the document: %v\n%s", req.Method, req.URL.RequestURI(), r.status, err, r.body)
	}
	if resp := in.Route.Operation.Responses.Status(r.status); resp != nil && len(resp.Value.Content) == 0 && len(r.body) > 0 {
		c.t.Fatalf("%s %s: the answer %d has a body the document does not describe: %s", req.Method, req.URL.RequestURI(), r.status, r.body)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id := in.Route.Operation.OperationID
	if c.seen[id] == nil {
		c.seen[id] = map[int]int{}
	}
	c.seen[id][r.status]++
}

// want is the one status expected.
func want(status int) []int { return []int{status} }

// sse is an open event stream.
type sse struct {
	in     *openapi3filter.RequestValidationInput
	status int
	header http.Header
	body   bytes.Buffer
	done   chan error
	cancel context.CancelFunc
}

// stream opens an event stream and reads it, until the server ends it,
// in the background.
func (c *contract) stream(x exchange) *sse {
	c.t.Helper()
	in := c.check(x)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	resp, err := http.DefaultClient.Do(x.request(ctx, c.url))
	if err != nil {
		cancel()
		c.t.Fatal(err)
	}
	s := &sse{in: in, status: resp.StatusCode, header: resp.Header, done: make(chan error, 1), cancel: cancel}
	c.t.Cleanup(cancel)
	go func() {
		defer resp.Body.Close()
		_, err := io.Copy(&s.body, resp.Body)
		s.done <- err
	}()
	return s
}

// streamEvent is one event of a stream.
type streamEvent struct {
	id, typ string
	data    map[string]any
}

// finish waits for the server to end the stream, checks the answer and
// each event's data against the document, and returns the events.
func (c *contract) finish(s *sse) []streamEvent {
	c.t.Helper()
	defer s.cancel()
	if err := <-s.done; err != nil {
		c.t.Fatalf("event stream: %v", err)
	}
	c.checkAnswer(s.in, response{status: s.status, header: s.header, body: s.body.Bytes()})
	media := s.in.Route.Operation.Responses.Status(http.StatusOK).Value.Content.Get("text/event-stream")
	schemas := map[string]*openapi3.Schema{}
	for typ, ref := range media.Extensions["x-wavedr-events"].(map[string]any) {
		name := strings.TrimPrefix(ref.(map[string]any)["$ref"].(string), schemaRef)
		schemas[typ] = c.doc.Components.Schemas[name].Value
	}
	var events []streamEvent
	sc := bufio.NewScanner(bytes.NewReader(s.body.Bytes()))
	sc.Buffer(nil, 16<<20)
	var ev streamEvent
	var data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.typ == "" {
				continue // the retry field, or a comment
			}
			schema := schemas[ev.typ]
			if schema == nil {
				c.t.Fatalf("event %s %q: its type is not in x-wavedr-events", ev.id, ev.typ)
			}
			if err := json.Unmarshal([]byte(data), &ev.data); err != nil {
				c.t.Fatalf("event %s: %v: %s", ev.id, err, data)
			}
			if err := c.doc.ValidateSchemaJSON(schema, ev.data, openapi3.MultiErrors()); err != nil {
				c.t.Fatalf("event %s %s does not match the document: %v\n%s", ev.id, ev.typ, err, data)
			}
			if ev.data["type"] != ev.typ {
				c.t.Fatalf("event %s: type %v in the data of a %s event", ev.id, ev.data["type"], ev.typ)
			}
			events = append(events, ev)
			ev, data = streamEvent{}, ""
		case strings.HasPrefix(line, "id: "):
			ev.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			ev.typ = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
	return events
}

func testOpenAPIContract(t *testing.T, d storetest.Dialect) {
	h := newHarness(t, d, harnessOptions{workers: true})
	broker := NewBroker(h.db, BrokerConfig{Interval: 20 * time.Millisecond, Logger: testLogger()})
	brokerCtx, stopBroker := context.WithCancel(context.Background())
	brokerDone := make(chan struct{})
	go func() {
		defer close(brokerDone)
		_ = broker.Run(brokerCtx)
	}()
	cfg := h.api.cfg
	cfg.Events = broker
	api, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api)
	t.Cleanup(ts.Close)
	// Cleanups run last first: the broker stops, ending the streams, before
	// the server closes.
	t.Cleanup(func() { stopBroker(); <-brokerDone })
	c := newContract(t, api, ts.URL)

	admin, manager, planner, operator, ro := h.tokens["admin"], h.tokens["recoverymanager"], h.tokens["planmanager"], h.tokens["operator"], h.tokens["readonly"]
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	// The description itself, and who is calling.
	c.do(exchange{method: "GET", path: "/v1/openapi.json", want: want(200)}, nil)
	var who me
	r := c.do(exchange{method: "GET", path: "/v1/me", token: ro, header: map[string]string{RequestIDHeader: "contract-1"}, want: want(200)}, &who)
	if r.header.Get(RequestIDHeader) != "contract-1" {
		t.Errorf("X-Request-Id %q, want the client's", r.header.Get(RequestIDHeader))
	}
	if who.Principal.Name != "readonly" || !slices.Equal(who.Permissions, []wavedr.Permission{wavedr.PermView}) {
		t.Errorf("me: %+v", who)
	}
	oidc := h.issuer.token(t, map[string]any{"groups": []string{testOperGroup}, "preferred_username": "alice"})
	c.do(exchange{method: "GET", path: "/v1/me", token: oidc, want: want(200)}, &who)
	if who.Principal.Kind != wavedr.PrincipalOIDC || who.Principal.Roles[0] != wavedr.RoleOperator {
		t.Errorf("me over OIDC: %+v", who.Principal)
	}
	r = c.do(exchange{method: "GET", path: "/v1/me", want: want(401), refused: true}, nil)
	if r.header.Get("WWW-Authenticate") == "" || r.header.Get(RequestIDHeader) == "" {
		t.Errorf("401 headers: %v", r.header)
	}
	c.do(exchange{method: "GET", path: "/v1/me", token: "wdr_not-a-token", want: want(401)}, nil)

	// Accounts: create, a duplicate, list, get, change, a stale change.
	var acct wavedr.Account
	acctBody := js(obj{"id": sim.TargetAccountID, "name": "dr", "roleArn": sim.TargetRoleARN, "externalId": sim.TargetExternalID, "regions": []string{sim.TargetRegion}})
	r = c.do(exchange{method: "POST", path: "/v1/accounts", token: admin, body: acctBody, want: want(201)}, &acct)
	if r.header.Get("Location") != "/v1/accounts/"+acct.ID {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	c.do(exchange{method: "POST", path: "/v1/accounts", token: admin, body: acctBody, want: want(409)}, nil)
	c.do(exchange{method: "POST", path: "/v1/accounts", token: planner, body: acctBody, want: want(403)}, nil)
	c.do(exchange{method: "GET", path: "/v1/accounts", token: ro, want: want(200)}, nil)
	c.do(exchange{method: "GET", path: "/v1/accounts/" + acct.ID, token: ro, want: want(200)}, &acct)
	c.do(exchange{method: "GET", path: "/v1/accounts/999999999999", token: ro, want: want(404)}, nil)
	c.do(exchange{method: "GET", path: "/v1/accounts/12", token: ro, want: want(400)}, nil)
	stale := acct
	acct.Name = "dr-site"
	c.do(exchange{method: "PUT", path: "/v1/accounts/" + acct.ID, token: admin, body: js(acct), want: want(200)}, &acct)
	c.do(exchange{method: "PUT", path: "/v1/accounts/" + acct.ID, token: admin, body: js(stale), want: want(409)}, nil)

	// Apply the example: the diff, then the change; YAML only.
	manifest, err := os.ReadFile("../examples/three-tier.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var applied applyResult
	c.do(exchange{method: "POST", path: "/v1/apply?dryRun=true", token: planner, body: string(manifest), contentType: "application/yaml", want: want(200)}, &applied)
	if !applied.DryRun || len(applied.Changes) != 4 {
		t.Errorf("dry run: %+v", applied)
	}
	c.do(exchange{method: "POST", path: "/v1/apply", token: planner, body: string(manifest), contentType: "text/yaml", want: want(200)}, &applied)
	c.do(exchange{method: "POST", path: "/v1/apply", token: planner, body: string(manifest), want: want(415), refused: true}, nil)
	c.do(exchange{method: "POST", path: "/v1/apply", token: ro, body: string(manifest), contentType: "application/yaml", want: want(403)}, nil)

	// Protection groups.
	var groups wavedr.Page[*wavedr.ProtectionGroup]
	c.do(exchange{method: "GET", path: "/v1/protection-groups?limit=2", token: ro, want: want(200)}, &groups)
	if groups.Next == "" {
		t.Fatalf("groups: no next page after 2 of 3")
	}
	c.do(exchange{method: "GET", path: "/v1/protection-groups?limit=2&cursor=" + groups.Next, token: ro, want: want(200)}, &groups)
	c.do(exchange{method: "GET", path: "/v1/protection-groups?limit=0", token: ro, want: want(400), refused: true}, nil)
	var g wavedr.ProtectionGroup
	groupBody := `{"name":"legacy-tier","description":"Servers not replicating healthily.","region":"us-east-1",` +
		`"selector":{"tags":{"Tier":"legacy"}},"launchSettings":{"copyTags":true,"launchDisposition":"STOPPED","rightSizingMethod":"NONE"}}`
	r = c.do(exchange{method: "POST", path: "/v1/protection-groups", token: planner, body: groupBody, want: want(201)}, &g)
	if r.header.Get("Location") != "/v1/protection-groups/"+g.ID {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	c.do(exchange{method: "POST", path: "/v1/protection-groups", token: planner, body: groupBody, want: want(409)}, nil)
	c.do(exchange{method: "POST", path: "/v1/protection-groups", token: ro, body: groupBody, want: want(403)}, nil)
	// Refused by both: an unknown field, a server-set field, a wrong type.
	for _, body := range []string{
		`{"name":"x","region":"us-east-1","servers":["s-00000000000000001"]}`,
		`{"id":"pg-x","name":"x","region":"us-east-1","serverIds":["s-00000000000000001"]}`,
		`{"name":"x","region":"us-east-1","selector":{"tags":{"Tier":1}}}`,
		`{"name":"x","region":"us-east-1","selector":{"tags":{"Tier":"db"},"match":"any"}}`,
	} {
		c.do(exchange{method: "POST", path: "/v1/protection-groups", token: planner, body: body, want: want(400), refused: true}, nil)
	}
	// Refused by the server's rules only.
	c.do(exchange{method: "POST", path: "/v1/protection-groups", token: planner,
		body: `{"name":"bad name","region":"nowhere","serverIds":["s-1"]}`, want: want(400)}, nil)
	c.do(exchange{method: "POST", path: "/v1/protection-groups", token: planner, body: groupBody, contentType: "text/plain", want: want(415), refused: true}, nil)
	big := `{"name":"big","region":"us-east-1","description":"` + strings.Repeat("x", MaxJSONBody) + `"}`
	c.do(exchange{method: "POST", path: "/v1/protection-groups", token: planner, body: big, want: want(413)}, nil)
	c.do(exchange{method: "POST", path: "/v1/protection-groups/preview", token: ro,
		body: `{"region":"us-east-1","selector":{"tags":{"Tier":"db"}}}`, want: want(200)}, nil)
	c.do(exchange{method: "POST", path: "/v1/protection-groups/preview", token: ro,
		body: `{"region":"us-east-1","serverIds":["s-00000000000000000"]}`, want: want(200)}, nil)
	c.do(exchange{method: "GET", path: "/v1/protection-groups/legacy-tier", token: ro, want: want(200)}, &g)
	c.do(exchange{method: "GET", path: "/v1/protection-groups/no-such-group", token: ro, want: want(404)}, nil)
	staleGroup := g
	g.Description = "Legacy servers."
	c.do(exchange{method: "PUT", path: "/v1/protection-groups/" + g.ID, token: planner, body: js(g), want: want(200)}, &g)
	c.do(exchange{method: "PUT", path: "/v1/protection-groups/" + g.ID, token: planner, body: js(staleGroup), want: want(409)}, nil)
	c.do(exchange{method: "PUT", path: "/v1/protection-groups/legacy-tier", token: planner,
		body: `{"name":"legacy-tier","region":"us-east-1","selector":{"tags":{"Tier":"legacy"}}}`, want: want(400), refused: true}, nil)

	// Recovery plans.
	c.do(exchange{method: "POST", path: "/v1/recovery-plans/validate", token: ro,
		body: `{"name":"legacy","waves":[{"name":"only","groups":["legacy-tier"]}]}`, want: want(200)}, nil)
	c.do(exchange{method: "POST", path: "/v1/recovery-plans/validate", token: ro,
		body: `{"name":"legacy","waves":[{"name":"only","groups":["no-such-group"]}]}`, want: want(400)}, nil)
	var p wavedr.RecoveryPlan
	planBody := `{"name":"legacy","description":"The legacy servers.","waves":[` +
		`{"name":"first","groups":["legacy-tier"],"deadline":"30m","onFailure":"CONTINUE","dependsOn":[]},` +
		`{"name":"second","groups":["web-tier"],"pauseBefore":true,"dependsOn":null}]}`
	r = c.do(exchange{method: "POST", path: "/v1/recovery-plans", token: planner, body: planBody, want: want(201)}, &p)
	if r.header.Get("Location") != "/v1/recovery-plans/"+p.ID {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	c.do(exchange{method: "POST", path: "/v1/recovery-plans", token: planner, body: planBody, want: want(409)}, nil)
	c.do(exchange{method: "POST", path: "/v1/recovery-plans", token: planner,
		body: `{"name":"x","waves":[{"name":"w","groups":["web-tier"],"deadline":90}]}`, want: want(400), refused: true}, nil)
	var plans wavedr.Page[*wavedr.RecoveryPlan]
	c.do(exchange{method: "GET", path: "/v1/recovery-plans?limit=1", token: ro, want: want(200)}, &plans)
	c.do(exchange{method: "GET", path: "/v1/recovery-plans/three-tier", token: ro, want: want(200)}, nil)
	c.do(exchange{method: "GET", path: "/v1/recovery-plans/" + p.ID, token: ro, want: want(200)}, &p)
	c.do(exchange{method: "GET", path: "/v1/recovery-plans/" + g.ID, token: ro, want: want(400)}, nil)
	stalePlan := p
	p.Description = "Legacy, then web."
	c.do(exchange{method: "PUT", path: "/v1/recovery-plans/legacy", token: planner, body: js(p), want: want(200)}, &p)
	c.do(exchange{method: "PUT", path: "/v1/recovery-plans/legacy", token: planner, body: js(stalePlan), want: want(409)}, nil)

	// Deletions: stale, in use, done.
	c.do(exchange{method: "DELETE", path: "/v1/recovery-plans/legacy?version=1", token: planner, want: want(409)}, nil)
	c.do(exchange{method: "DELETE", path: "/v1/protection-groups/legacy-tier?version=" + strconv.FormatInt(g.Version, 10), token: planner, want: want(409)}, nil)
	c.do(exchange{method: "DELETE", path: "/v1/recovery-plans/legacy", token: planner, want: want(400), refused: true}, nil)
	c.do(exchange{method: "DELETE", path: "/v1/recovery-plans/legacy?version=" + strconv.FormatInt(p.Version, 10), token: planner, want: want(204)}, nil)
	c.do(exchange{method: "GET", path: "/v1/recovery-plans/legacy", token: ro, want: want(404)}, nil)
	c.do(exchange{method: "DELETE", path: "/v1/protection-groups/legacy-tier?version=" + strconv.FormatInt(g.Version, 10), token: planner, want: want(204)}, nil)

	// A drill: refused starts, then the start, watched on the event stream.
	c.do(exchange{method: "POST", path: "/v1/executions", token: operator, body: `{"plan":"three-tier","mode":"RECOVERY"}`, want: want(403)}, nil)
	c.do(exchange{method: "POST", path: "/v1/executions", token: operator, body: `{"plan":"three-tier","mode":"FAILOVER"}`, want: want(400), refused: true}, nil)
	c.do(exchange{method: "POST", path: "/v1/executions", token: operator, body: `{"plan":"three-tier"}`, want: want(400), refused: true}, nil)
	c.do(exchange{method: "POST", path: "/v1/executions", token: operator, body: `{"plan":"no-such-plan","mode":"DRILL"}`, want: want(404)}, nil)
	var ex executionView
	r = c.do(exchange{method: "POST", path: "/v1/executions", token: operator, body: `{"plan":"three-tier","mode":"DRILL"}`, want: want(201)}, &ex)
	if r.header.Get("Location") != "/v1/executions/"+ex.ID {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	events := c.stream(exchange{method: "GET", path: "/v1/events?execution=" + ex.ID, token: ro, want: want(200)})
	c.do(exchange{method: "GET", path: "/v1/events?execution=not-an-id", token: ro, want: want(400)}, nil)
	c.do(exchange{method: "POST", path: "/v1/executions", token: operator, body: `{"plan":"three-tier","mode":"DRILL"}`, want: want(409)}, nil)
	c.do(exchange{method: "GET", path: "/v1/executions?plan=three-tier&status=PENDING&status=RUNNING&status=PAUSED&limit=10", token: ro, want: want(200)}, nil)
	c.do(exchange{method: "GET", path: "/v1/executions?plan=no-such-plan", token: ro, want: want(404)}, nil)
	c.do(exchange{method: "GET", path: "/v1/executions?since=yesterday", token: ro, want: want(400), refused: true}, nil)

	exPath := "/v1/executions/" + ex.ID
	wait := func(what string, cond func(*executionView) bool) *executionView {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			var v executionView
			c.do(exchange{method: "GET", path: exPath, token: ro, want: want(200)}, &v)
			if cond(&v) {
				return &v
			}
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for %s: %s", what, v.Status)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	wait("the pause gate", func(v *executionView) bool { return v.Status == wavedr.ExecutionPaused })
	var res verbResult
	c.do(exchange{method: "POST", path: exPath + "/pause", token: operator, want: want(409)}, nil)
	c.do(exchange{method: "POST", path: exPath + "/finalize", token: operator, want: want(409)}, nil)
	c.do(exchange{method: "POST", path: exPath + "/pause", token: ro, want: want(403)}, nil)
	c.do(exchange{method: "POST", path: exPath + "/pause", token: operator, body: `{"force":true}`, want: want(400), refused: true}, nil)
	var poll pollResult
	c.do(exchange{method: "POST", path: exPath + "/poll", token: operator, want: want(200)}, &poll)
	if poll.AllWavesComplete {
		t.Error("poll at the gate: every wave complete")
	}
	c.do(exchange{method: "POST", path: exPath + "/resume", token: manager, body: "{}", want: want(200)}, &res)
	if !res.Changed {
		t.Errorf("resume: %+v", res)
	}
	c.do(exchange{method: "GET", path: exPath + "/waves/database/job-log?limit=2", token: ro, want: want(200)}, nil)
	c.do(exchange{method: "GET", path: exPath + "/waves/no-such-wave/job-log", token: ro, want: want(404)}, nil)
	c.do(exchange{method: "GET", path: "/v1/executions/" + wavedr.NewID(wavedr.PrefixExecution, time.Now()), token: ro, want: want(404)}, nil)
	done := wait("the end", func(v *executionView) bool { return v.Status.IsTerminal() })
	if done.Status != wavedr.ExecutionCompleted || !done.CanTerminate {
		t.Fatalf("end: %s (%s)", done.Status, done.Reason)
	}
	c.do(exchange{method: "POST", path: exPath + "/resume", token: operator, want: want(200)}, &res)
	if res.Changed {
		t.Errorf("resume of a completed drill: %+v", res)
	}
	c.do(exchange{method: "POST", path: exPath + "/poll", token: operator, body: "{}", want: want(200)}, &poll)
	if !poll.AllWavesComplete {
		t.Error("poll at the end: a wave not complete")
	}
	c.do(exchange{method: "POST", path: exPath + "/finalize", token: operator, want: want(200)}, nil)
	c.do(exchange{method: "POST", path: exPath + "/cancel", token: operator, want: want(409)}, nil)
	var log wavedr.Page[jobLogItem]
	c.do(exchange{method: "GET", path: exPath + "/waves/web/job-log?limit=3", token: ro, want: want(200)}, &log)
	if log.Next != "" {
		c.do(exchange{method: "GET", path: exPath + "/waves/web/job-log?limit=3&cursor=" + log.Next, token: ro, want: want(200)}, nil)
	}
	c.do(exchange{method: "POST", path: exPath + "/terminate", token: operator, want: want(200)}, &res)
	c.do(exchange{method: "POST", path: exPath + "/terminate", token: operator, want: want(409)}, nil)
	wait("cleanup", func(v *executionView) bool {
		return v.Cleanup.Status == wavedr.CleanupCompleted || v.Cleanup.Status == wavedr.CleanupFailed
	})

	// A second drill, paused (if still possible) and cancelled.
	var ex2 executionView
	c.do(exchange{method: "POST", path: "/v1/executions", token: operator, body: `{"plan":"three-tier","mode":"DRILL"}`, want: want(201)}, &ex2)
	c.do(exchange{method: "POST", path: "/v1/executions/" + ex2.ID + "/pause", token: operator, want: []int{200, 409}}, nil)
	c.do(exchange{method: "POST", path: "/v1/executions/" + ex2.ID + "/cancel", token: operator, want: want(200)}, &res)
	c.do(exchange{method: "POST", path: "/v1/executions/" + ex2.ID + "/cancel", token: operator, want: []int{200, 409}}, nil)
	exPath = "/v1/executions/" + ex2.ID
	wait("the cancelled drill's end", func(v *executionView) bool { return v.Status.IsTerminal() })
	c.do(exchange{method: "GET", path: "/v1/executions?status=COMPLETED&status=CANCELLED&status=PARTIAL&status=FAILED", token: ro, want: want(200)}, nil)

	// Tokens.
	var tok createdToken
	tokenBody := js(obj{"name": "ci", "role": wavedr.RoleOperator, "expiresAt": time.Now().Add(24 * time.Hour).UTC()})
	c.do(exchange{method: "POST", path: "/v1/tokens", token: admin, body: tokenBody, want: want(201)}, &tok)
	if !strings.HasPrefix(tok.Secret, wavedr.APITokenPrefix) {
		t.Errorf("created token: %+v", tok)
	}
	c.do(exchange{method: "POST", path: "/v1/tokens", token: admin, body: tokenBody, want: want(409)}, nil)
	c.do(exchange{method: "POST", path: "/v1/tokens", token: manager, body: tokenBody, want: want(403)}, nil)
	c.do(exchange{method: "POST", path: "/v1/tokens", token: admin, body: `{"name":"root","role":"Root","expiresAt":"2099-01-01T00:00:00Z"}`, want: want(400), refused: true}, nil)
	c.do(exchange{method: "POST", path: "/v1/tokens", token: admin, body: `{"name":"old","role":"ReadOnly","expiresAt":"2001-01-01T00:00:00Z"}`, want: want(400)}, nil)
	c.do(exchange{method: "GET", path: "/v1/me", token: tok.Secret, want: want(200)}, nil)
	c.do(exchange{method: "GET", path: "/v1/tokens?limit=2", token: admin, want: want(200)}, nil)
	var revoked wavedr.APIToken
	c.do(exchange{method: "DELETE", path: "/v1/tokens/" + tok.ID, token: admin, want: want(200)}, &revoked)
	if revoked.RevokedAt.IsZero() || revoked.RevokedBy != "token:admin" {
		t.Errorf("revoked: %+v", revoked)
	}
	c.do(exchange{method: "DELETE", path: "/v1/tokens/" + tok.ID, token: admin, want: want(200)}, nil)
	c.do(exchange{method: "DELETE", path: "/v1/tokens/" + wavedr.NewID(wavedr.PrefixAPIToken, time.Now()), token: admin, want: want(404)}, nil)
	c.do(exchange{method: "GET", path: "/v1/me", token: tok.Secret, want: want(401)}, nil)

	// Source servers, of every account and of one.
	var servers sourceServerPage
	c.do(exchange{method: "GET", path: "/v1/source-servers?limit=5", token: ro, want: want(200)}, &servers)
	c.do(exchange{method: "GET", path: "/v1/source-servers?limit=5&cursor=" + servers.Next, token: ro, want: want(200)}, nil)
	c.do(exchange{method: "GET", path: "/v1/source-servers?accountId=" + sim.TargetAccountID, token: ro, want: want(200)}, nil)
	c.do(exchange{method: "GET", path: "/v1/source-servers?accountId=333333333333", token: ro, want: want(404)}, nil)

	// The account goes: a stale version first.
	c.do(exchange{method: "DELETE", path: "/v1/accounts/" + acct.ID + "?version=1", token: admin, want: want(409)}, nil)
	c.do(exchange{method: "DELETE", path: "/v1/accounts/" + acct.ID + "?version=" + strconv.FormatInt(acct.Version, 10), token: admin, want: want(204)}, nil)

	// The audit log, paged and filtered.
	var audit wavedr.Page[*wavedr.AuditEntry]
	c.do(exchange{method: "GET", path: "/v1/audit?limit=5", token: manager, want: want(200)}, &audit)
	c.do(exchange{method: "GET", path: "/v1/audit?limit=5&cursor=" + audit.Next, token: manager, want: want(200)}, nil)
	c.do(exchange{method: "GET", path: "/v1/audit?target=" + ex.ID + "&principal=token:operator&since=2000-01-01T00:00:00Z", token: admin, want: want(200)}, &audit)
	if len(audit.Items) == 0 {
		t.Error("no audit entry of the drill")
	}
	c.do(exchange{method: "GET", path: "/v1/audit", token: operator, want: want(403)}, nil)

	// The event stream ends when the server stops streaming; its events
	// were checked one by one.
	stopBroker()
	<-brokerDone
	evs := c.finish(events)
	types := map[string]int{}
	for _, e := range evs {
		types[e.typ]++
	}
	if len(evs) == 0 || evs[0].typ != EventSnapshot || evs[len(evs)-1].typ != EventClosed || types[EventWave] == 0 || types[EventServer] == 0 || types[EventExecution] == 0 {
		t.Errorf("events: %v", types)
	}
	c.do(exchange{method: "GET", path: "/v1/events", token: ro, want: want(503)}, nil)

	c.report(t)
}

// report fails the test for an operation never answered, and logs the
// statuses seen of each.
func (c *contract) report(t *testing.T) {
	t.Helper()
	var ids []string
	for _, item := range c.doc.Paths.Map() {
		for _, op := range item.Operations() {
			ids = append(ids, op.OperationID)
		}
	}
	sort.Strings(ids)
	all := map[int]bool{}
	var b strings.Builder
	for _, id := range ids {
		seen := c.seen[id]
		if len(seen) == 0 {
			t.Errorf("%s: no answer checked", id)
		}
		var codes []int
		for st := range seen {
			codes = append(codes, st)
			all[st] = true
		}
		sort.Ints(codes)
		fmt.Fprintf(&b, "\n  %-40s %v", id, codes)
	}
	t.Logf("statuses checked per operation:%s", b.String())
	for _, st := range []int{200, 201, 204, 400, 401, 403, 404, 409, 413, 415, 503} {
		if !all[st] {
			t.Errorf("no answer %d was checked", st)
		}
	}
}

// ---------------------------------------------------------------------
// docs/api.md: its tables are generated from the route and permission
// tables; WAVEDR_UPDATE_API_DOC=1 rewrites them.
// ---------------------------------------------------------------------

const apiDoc = "../docs/api.md"

func TestAPIDoc(t *testing.T) {
	h := newHarness(t, storetest.SQLite, harnessOptions{})
	b, err := os.ReadFile(apiDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	sections := map[string]string{"routes": routesTable(h.api.table), "roles": rolesTable()}
	names := []string{"roles", "routes"}
	for _, name := range names {
		begin, end := "<!-- generated:"+name+" -->\n", "<!-- end:"+name+" -->"
		i, j := strings.Index(doc, begin), strings.Index(doc, end)
		if i < 0 || j < i {
			t.Fatalf("%s: no section %s", apiDoc, name)
		}
		if got := doc[i+len(begin) : j]; got != sections[name] {
			if os.Getenv("WAVEDR_UPDATE_API_DOC") != "" {
				doc = doc[:i+len(begin)] + sections[name] + doc[j:]
				continue
			}
			t.Errorf("%s: the %s table is not the code's; run with WAVEDR_UPDATE_API_DOC=1. Want:\n%s", apiDoc, name, sections[name])
		}
	}
	if os.Getenv("WAVEDR_UPDATE_API_DOC") != "" && doc != string(b) {
		if err := os.WriteFile(apiDoc, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Every metric and event type is named.
	src, err := os.ReadFile("metrics.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`"(wavedr_[a-z_]+)"`).FindAllStringSubmatch(string(src), -1) {
		if !strings.Contains(doc, "`"+m[1]+"`") {
			t.Errorf("%s does not name the metric %s", apiDoc, m[1])
		}
	}
	for _, e := range []string{EventSnapshot, EventExecution, EventWave, EventServer, EventClosed, ClosedOverflow, ClosedShutdown} {
		if !strings.Contains(doc, "`"+e+"`") {
			t.Errorf("%s does not name the event %s", apiDoc, e)
		}
	}
}

func routesTable(table []route) string {
	var b strings.Builder
	b.WriteString("| Method | Path | Permission | Audit action | What |\n| --- | --- | --- | --- | --- |\n")
	for _, rt := range table {
		perm, action := "`"+string(rt.perm)+"`", "`"+rt.action+"`"
		if rt.public {
			perm = "none (public)"
		}
		if rt.action == "" {
			action = ""
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s |\n", rt.method, rt.path, perm, action, strings.ReplaceAll(rt.summary, "|", "\\|"))
	}
	return b.String()
}

func rolesTable() string {
	var b strings.Builder
	b.WriteString("| Permission |")
	for _, r := range wavedr.Roles {
		b.WriteString(" " + string(r) + " |")
	}
	b.WriteString("\n| --- |" + strings.Repeat(" :---: |", len(wavedr.Roles)) + "\n")
	for _, p := range wavedr.Permissions {
		b.WriteString("| `" + string(p) + "` |")
		for _, r := range wavedr.Roles {
			if r.Allows(p) {
				b.WriteString(" ✓ |")
			} else {
				b.WriteString("   |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
