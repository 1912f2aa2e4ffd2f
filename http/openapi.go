package http

import (
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"wavedr"
	"wavedr/manifest"
)

// The API description (GET /v1/openapi.json, OpenAPI 3.1) is built from
// the route table, so that no route escapes it: its path, method,
// permission (x-wavedr-permission) and audit action (x-wavedr-audit-action).
// What the table does not say of a route is in operations below: its
// parameters, its bodies and the errors it answers besides those every
// route of its kind answers. The schemas of the bodies are derived from
// the Go types (openapi_schema.go). openapi_test.go checks the document
// against the table and against the answers of a whole drill.

var pathParam = regexp.MustCompile(`\{([a-zA-Z]+)\}`)

// operation is what the route table does not say of a route.
type operation struct {
	query  []parameter
	header []parameter
	body   *requestBody // nil: the route reads no body
	// answer is the type of the body of success; nil with a route whose
	// success is 204. answerSchema replaces it for a body no type has.
	answer       reflect.Type
	answerSchema func(s *schemas) obj
	stream       bool  // the answer is a stream of server-sent events
	location     bool  // a creation answers the object's path in Location
	errors       []int // statuses besides those derived from the route
	notes        string
	// permissions the route needs besides its own, in some cases.
	conditional []conditionalPermission
}

// conditionalPermission is a permission a route needs in one case, as
// x-wavedr-conditional-permissions says.
type conditionalPermission struct {
	When       string            `json:"when"`
	Permission wavedr.Permission `json:"permission"`
}

// parameter is a query or header parameter.
type parameter struct {
	name     string
	schema   func(s *schemas) obj
	required bool
	desc     string
}

// requestBody is a JSON object described by schema, or a YAML manifest.
type requestBody struct {
	schema   func(s *schemas) obj
	yaml     bool
	optional bool
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

func strParam(name, desc string) parameter {
	return parameter{name: name, desc: desc, schema: func(*schemas) obj { return obj{"type": "string"} }}
}

func timeParam(name, desc string) parameter {
	return parameter{name: name, desc: desc, schema: func(*schemas) obj { return obj{"type": "string", "format": "date-time"} }}
}

// Parameters of the routes.
var (
	pageParams = []parameter{
		{name: "limit", desc: "the page size (default " + strconv.Itoa(wavedr.DefaultPageSize) + ")", schema: func(*schemas) obj {
			return obj{"type": "integer", "minimum": 1, "maximum": wavedr.MaxPageSize}
		}},
		strParam("cursor", "the next of the previous page; a cursor is valid only for the list and filters that answered it"),
	}
	versionParam = parameter{name: "version", required: true, desc: "the version read: the deletion is refused (409) if the object changed since",
		schema: func(*schemas) obj { return obj{"type": "integer", "format": "int64", "minimum": 1} }}
)

func accountFilter() []parameter {
	return []parameter{strParam("accountId", "only this account (12 digits)"), strParam("region", "only this region")}
}

// paged adds the paging parameters to a list's.
func paged(ps ...parameter) []parameter { return append(ps, pageParams...) }

// jsonBody is a JSON body described by a component made from type t: its
// fields but omit, closed, with the required ones.
func jsonBody(name string, t reflect.Type, omit, required []string) *requestBody {
	return &requestBody{schema: func(s *schemas) obj { return s.input(name, t, omit, required) }}
}

var (
	// serverSet are the fields a creation may not send.
	serverSet = []string{"id", "version", "createdAt", "updatedAt"}
	// noBody is the body of a verb: none, or {}.
	noBody = &requestBody{optional: true, schema: func(*schemas) obj {
		return obj{"type": "object", "additionalProperties": false, "description": "a verb takes no parameters: no body, or {}"}
	}}
	verbOp = operation{body: noBody, answer: typeOf[verbResult](), errors: []int{409}}
)

// operations describes each route of the table by its pattern.
var operations = map[string]operation{
	"GET /v1/openapi.json": {answerSchema: func(*schemas) obj {
		return obj{"type": "object", "description": "this document"}
	}},
	"GET /v1/me": {answer: typeOf[me]()},
	"GET /v1/events": {
		query: []parameter{{name: "execution", desc: "the executions to stream (ex-...), repeated or separated by commas, at most 100; all when absent",
			schema: func(*schemas) obj { return obj{"type": "array", "items": obj{"type": "string"}} }}},
		header: []parameter{strParam("Last-Event-ID", "the id of the last event received: the stream resumes after it when this server process still holds the events since, and starts with a snapshot otherwise")},
		stream: true, errors: []int{404},
		notes: "Server-sent events (text/event-stream). Each event has an id (except closed), an event type and JSON data; x-wavedr-events names the schema of each type's data. " +
			"The stream starts with a snapshot (or, on resumption, the events missed), then sends changes; an idle stream gets a comment every 15s. 404 when the server streams no events.",
	},

	"GET /v1/accounts":         {query: paged(), answer: typeOf[wavedr.Page[*wavedr.Account]]()},
	"POST /v1/accounts":        {body: jsonBody("AccountCreate", typeOf[wavedr.Account](), []string{"version", "createdAt", "updatedAt"}, []string{"id", "name", "regions"}), answer: typeOf[wavedr.Account](), location: true, errors: []int{409}},
	"GET /v1/accounts/{id}":    {answer: typeOf[wavedr.Account]()},
	"PUT /v1/accounts/{id}":    {body: jsonBody("AccountUpdate", typeOf[wavedr.Account](), nil, []string{"version", "name", "regions"}), answer: typeOf[wavedr.Account](), errors: []int{409}, notes: "The body is the account as read, changed: version is required; id, createdAt and updatedAt may be sent back and are ignored (an id must be the path's)."},
	"DELETE /v1/accounts/{id}": {query: []parameter{versionParam}, errors: []int{409}, notes: "409 while a protection group uses the account."},

	"GET /v1/source-servers": {query: paged(accountFilter()...), answer: typeOf[sourceServerPage](), errors: []int{404},
		notes: "By default the local account (in its region and the regions of its groups) and every stored account in each of its regions, ordered by account, region, hostname and ID. 404 for an accountId that is not connected."},

	"GET /v1/protection-groups":          {query: paged(accountFilter()...), answer: typeOf[wavedr.Page[*wavedr.ProtectionGroup]]()},
	"POST /v1/protection-groups":         {body: jsonBody("ProtectionGroupCreate", typeOf[wavedr.ProtectionGroup](), serverSet, []string{"name", "region"}), answer: typeOf[wavedr.ProtectionGroup](), location: true, errors: []int{409}},
	"POST /v1/protection-groups/preview": {body: jsonBody("ProtectionGroupPreview", typeOf[wavedr.ProtectionGroup](), nil, []string{"region"}), answer: typeOf[groupPreview](), errors: []int{429}, notes: "The group is not stored; its name may be left out."},
	"GET /v1/protection-groups/{id}":     {answer: typeOf[wavedr.ProtectionGroup]()},
	"PUT /v1/protection-groups/{id}":     {body: jsonBody("ProtectionGroupUpdate", typeOf[wavedr.ProtectionGroup](), nil, []string{"version", "name", "region"}), answer: typeOf[wavedr.ProtectionGroup](), errors: []int{409}, notes: "The body is the group as read, changed: version is required; id, createdAt and updatedAt may be sent back and are ignored (an id must be the group's)."},
	"DELETE /v1/protection-groups/{id}":  {query: []parameter{versionParam}, errors: []int{409}, notes: "409 while a plan uses the group."},

	"GET /v1/recovery-plans":           {query: paged(), answer: typeOf[wavedr.Page[*wavedr.RecoveryPlan]]()},
	"POST /v1/recovery-plans":          {body: jsonBody("RecoveryPlanCreate", typeOf[wavedr.RecoveryPlan](), serverSet, []string{"name", "waves"}), answer: typeOf[wavedr.RecoveryPlan](), location: true, errors: []int{409}},
	"POST /v1/recovery-plans/validate": {body: jsonBody("RecoveryPlanCheck", typeOf[wavedr.RecoveryPlan](), nil, []string{"name", "waves"}), answerSchema: planValid, notes: "The plan is not stored; 400 names every problem, against the stored groups too."},
	"GET /v1/recovery-plans/{id}":      {answer: typeOf[wavedr.RecoveryPlan]()},
	"PUT /v1/recovery-plans/{id}":      {body: jsonBody("RecoveryPlanUpdate", typeOf[wavedr.RecoveryPlan](), nil, []string{"version", "name", "waves"}), answer: typeOf[wavedr.RecoveryPlan](), errors: []int{409}, notes: "The body is the plan as read, changed: version is required; id, createdAt and updatedAt may be sent back and are ignored (an id must be the plan's)."},
	"DELETE /v1/recovery-plans/{id}":   {query: []parameter{versionParam}, errors: []int{409}, notes: "409 while an execution of the plan is active."},

	"POST /v1/apply": {
		query: []parameter{{name: "dryRun", desc: "answer what would change, and change nothing", schema: func(*schemas) obj { return obj{"type": "boolean"} }}},
		body:  &requestBody{yaml: true}, answer: typeOf[applyResult](), errors: []int{409},
		notes: "The files of wavedr apply (docs/plans.md), in one transaction.",
		conditional: []conditionalPermission{
			{When: "the manifest holds " + string(manifest.KindAccount) + " documents", Permission: wavedr.PermManageAccounts},
			{When: "the manifest holds " + string(manifest.KindProtectionGroup) + " documents", Permission: wavedr.PermManageGroups},
		},
	},

	"GET /v1/executions": {query: paged(
		strParam("plan", "a recovery plan's ID or name (the ID of a deleted plan still selects its executions)"),
		parameter{name: "status", desc: "any of these statuses: repeated, or separated by commas", schema: func(s *schemas) obj {
			return obj{"type": "array", "items": s.of(typeOf[wavedr.ExecutionStatus](), false)}
		}},
		timeParam("since", "created at or after"),
		timeParam("until", "created before"),
	), answer: typeOf[wavedr.Page[wavedr.ExecutionSummary]](), errors: []int{404}, notes: "Newest first. 404 for a plan name that names no plan."},
	"POST /v1/executions": {body: jsonBody("StartRequest", typeOf[startRequest](), nil, []string{"plan", "mode"}), answer: typeOf[executionView](), location: true, errors: []int{404, 409, 429},
		notes:       "409 when a server of the plan is in an active execution or DRS job, naming it.",
		conditional: []conditionalPermission{{When: "mode is " + string(wavedr.ModeRecovery), Permission: wavedr.PermStartRecovery}}},
	"GET /v1/executions/{id}":            {answer: typeOf[executionView]()},
	"POST /v1/executions/{id}/pause":     verbOp,
	"POST /v1/executions/{id}/resume":    verbOp,
	"POST /v1/executions/{id}/cancel":    verbOp,
	"POST /v1/executions/{id}/poll":      {body: noBody, answer: typeOf[pollResult](), errors: []int{409, 429}},
	"POST /v1/executions/{id}/finalize":  withNotes(verbOp, "409 while a wave is not over, naming it."),
	"POST /v1/executions/{id}/terminate": withNotes(verbOp, "409 for a recovery, an execution not over, or a drill whose instances are terminated or being terminated."),
	"GET /v1/executions/{id}/waves/{wave}/job-log": {query: paged(), answer: typeOf[wavedr.Page[jobLogItem]](), errors: []int{429},
		notes: "The DRS job log of each of the wave's jobs, job by job, oldest event first."},

	"GET /v1/tokens":         {query: paged(), answer: typeOf[wavedr.Page[*wavedr.APIToken]](), notes: "Newest first."},
	"POST /v1/tokens":        {body: jsonBody("TokenRequest", typeOf[tokenRequest](), nil, []string{"name", "role", "expiresAt"}), answer: typeOf[createdToken](), errors: []int{409}, notes: "A token may not grant a permission its creator lacks (403). 409 when an active token has the name."},
	"DELETE /v1/tokens/{id}": {answer: typeOf[wavedr.APIToken](), notes: "Answers the token, revoked; revoking it again changes nothing."},

	"GET /v1/audit": {query: paged(
		strParam("principal", "only this caller (kind:name, as in the entries)"),
		strParam("target", "only this object ID"),
		timeParam("since", "at or after"),
		timeParam("until", "before"),
	), answer: typeOf[wavedr.Page[*wavedr.AuditEntry]](), notes: "Newest first."},
}

func withNotes(op operation, notes string) operation { op.notes = notes; return op }

func planValid(*schemas) obj {
	return obj{"type": "object", "required": []string{"valid"}, "properties": obj{"valid": obj{"const": true}}}
}

// pathParamNotes describe the {id} of each kind of route, and {wave}.
var pathParamNotes = map[string]string{
	"/v1/accounts/":          "a 12-digit AWS account ID",
	"/v1/protection-groups/": "a protection group ID (pg-...) or name",
	"/v1/recovery-plans/":    "a recovery plan ID (plan-...) or name",
	"/v1/executions/":        "an execution ID (ex-...)",
	"/v1/tokens/":            "an API token ID (tok-...)",
	"wave":                   "a wave name",
}

// errorResponses are the error answers, by status. Every error has the
// error shape; code is the one the status stands for.
var errorResponses = []struct {
	status int
	name   string
	desc   string
}{
	{400, "BadRequest", "invalid: the request breaks a rule; details name each field (code invalid)"},
	{401, "Unauthorized", "no valid credential: missing, malformed, unknown, expired or revoked (code unauthorized)"},
	{403, "Forbidden", "the caller's roles lack the permission; details name it (code forbidden)"},
	{404, "NotFound", "the object does not exist (code not_found)"},
	{409, "Conflict", "a stale version (details name version), a taken name, an object in use, or an execution that does not allow the verb now (code conflict)"},
	{413, "PayloadTooLarge", "the body is larger than the route accepts (code invalid)"},
	{415, "UnsupportedMediaType", "the body is not of the type the route reads (code invalid)"},
	{429, "TooManyRequests", "a DRS or wavedr quota is reached; retry later (code quota)"},
	{500, "InternalError", "a bug; the message names the request ID, and the details are logged (code internal)"},
	{503, "Unavailable", "a dependency (AWS, the database, the event stream) cannot be reached now, or the request was cancelled (code unavailable)"},
}

// errorStatuses returns the error statuses of a route: those every
// authenticated route answers, those that follow from its parameters and
// body, and those of its operation.
func errorStatuses(rt route, op operation) []int {
	if rt.public {
		return nil
	}
	out := []int{401, 403, 500, 503}
	hasPath := strings.Contains(rt.path, "{")
	if hasPath || op.query != nil || op.body != nil {
		out = append(out, 400)
	}
	if hasPath {
		out = append(out, 404)
	}
	if op.body != nil {
		out = append(out, 413, 415)
	}
	for _, st := range op.errors {
		if !slices.Contains(out, st) {
			out = append(out, st)
		}
	}
	slices.Sort(out)
	return out
}

// operationID names a route's operation: get_executions_id_waves_wave_job_log.
func operationID(rt route) string {
	return strings.ToLower(rt.method) + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_", ".", "_").Replace(strings.TrimPrefix(rt.path, "/v1"))
}

// routeTag groups a route with the others of its first path segment.
func routeTag(rt route) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(rt.path, "/v1/"), "/")
	return strings.TrimSuffix(seg, ".json")
}

var requestIDHeader = obj{"$ref": "#/components/headers/RequestId"}

// openAPI is the API description of the server's routes.
func (s *Server) openAPI() obj {
	sch := newSchemas()
	paths := map[string]obj{}
	var tags []string
	for _, rt := range s.table {
		op := describe(rt, operations[rt.pattern()], sch)
		if paths[rt.path] == nil {
			paths[rt.path] = obj{}
		}
		paths[rt.path][strings.ToLower(rt.method)] = op
		if t := routeTag(rt); !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	// The data of each event type of GET /v1/events.
	for _, t := range []reflect.Type{typeOf[SnapshotEvent](), typeOf[ExecutionEvent](), typeOf[WaveEvent](), typeOf[ServerEvent](), typeOf[ClosedEvent]()} {
		sch.of(t, false)
	}
	sch.of(typeOf[errorBody](), false)

	responses := obj{}
	for _, e := range errorResponses {
		r := obj{"description": e.desc,
			"headers": obj{"X-Request-Id": requestIDHeader},
			"content": obj{"application/json": obj{"schema": refTo("Error")}}}
		if e.status == 401 {
			r["headers"].(obj)["WWW-Authenticate"] = obj{"required": true, "description": `Bearer realm="wavedr"`, "schema": obj{"type": "string"}}
		}
		responses[e.name] = r
	}
	tagList := make([]obj, len(tags))
	for i, t := range tags {
		tagList[i] = obj{"name": t}
	}
	roles := obj{}
	for _, r := range wavedr.Roles {
		var perms []wavedr.Permission
		for _, p := range wavedr.Permissions {
			if r.Allows(p) {
				perms = append(perms, p)
			}
		}
		roles[string(r)] = perms
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{"title": "wavedr API", "version": "v1",
			"description": "Disaster recovery orchestration on AWS Elastic Disaster Recovery (DRS). " +
				"Every route but this description needs Authorization: Bearer TOKEN, an API token (wdr_...) or an OIDC token, " +
				"and the permission named by its x-wavedr-permission; x-wavedr-roles says which roles grant which permissions. " +
				"Every request that may change something is recorded in the audit log under its x-wavedr-audit-action. " +
				"Request bodies are JSON objects of exactly the fields described (unknown fields are refused); answers may gain fields. " +
				"Lists take limit and cursor and answer {items, next}: next is the cursor of the following page, absent on the last. " +
				"Changes and deletions name the version they were made on; a stale one is refused with 409. " +
				"Errors are {error: {code, message, details}}. Every answer carries X-Request-Id."},
		"security": []obj{{"bearer": []string{}}},
		"tags":     tagList,
		"paths":    paths,
		"components": obj{
			"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer",
				"description": "An API token (its secret, wdr_...) or, when the server is configured for OIDC, an ID token or JWT access token of its issuer for its audience; the OIDC groups claim maps to roles."}},
			"schemas":   sch.defs,
			"responses": responses,
			"headers": obj{"RequestId": obj{"required": true, "schema": obj{"type": "string"},
				"description": "the request's ID, as logged and audited: the client's X-Request-Id when it sent a reasonable one"}},
			"parameters": obj{"RequestId": obj{"name": "X-Request-Id", "in": "header", "schema": obj{"type": "string", "maxLength": 128},
				"description": "an ID for the request, to join the server's logs with the client's (1-128 visible ASCII characters, no quotes or backslashes); the server makes one otherwise"}},
		},
		"x-wavedr-roles": roles,
	}
}

// describe is the operation object of a route.
func describe(rt route, op operation, sch *schemas) obj {
	success := obj{"description": "success", "headers": obj{"X-Request-Id": requestIDHeader}}
	switch {
	case op.stream:
		events := obj{}
		for typ, t := range map[string]reflect.Type{EventSnapshot: typeOf[SnapshotEvent](), EventExecution: typeOf[ExecutionEvent](),
			EventWave: typeOf[WaveEvent](), EventServer: typeOf[ServerEvent](), EventClosed: typeOf[ClosedEvent]()} {
			events[typ] = sch.of(t, false)
		}
		success["content"] = obj{"text/event-stream": obj{"schema": obj{"type": "string"}, "x-wavedr-events": events}}
	case op.answer != nil:
		success["content"] = obj{"application/json": obj{"schema": sch.of(op.answer, false)}}
	case op.answerSchema != nil:
		success["content"] = obj{"application/json": obj{"schema": op.answerSchema(sch)}}
	}
	if op.location {
		success["headers"].(obj)["Location"] = obj{"required": true, "description": "the path of the object created", "schema": obj{"type": "string"}}
	}
	responses := obj{successStatus(rt): success}
	for _, st := range errorStatuses(rt, op) {
		for _, e := range errorResponses {
			if e.status == st {
				responses[strconv.Itoa(st)] = obj{"$ref": "#/components/responses/" + e.name}
			}
		}
	}

	o := obj{
		"summary":     rt.summary,
		"operationId": operationID(rt),
		"tags":        []string{routeTag(rt)},
		"responses":   responses,
	}
	if op.notes != "" {
		o["description"] = op.notes
	}
	if rt.public {
		o["security"] = []obj{}
	} else {
		o["x-wavedr-permission"] = string(rt.perm)
	}
	if op.conditional != nil {
		o["x-wavedr-conditional-permissions"] = op.conditional
	}
	if rt.action != "" {
		o["x-wavedr-audit-action"] = rt.action
	}

	params := []obj{{"$ref": "#/components/parameters/RequestId"}}
	for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
		desc := pathParamNotes[m[1]]
		for prefix, d := range pathParamNotes {
			if m[1] == "id" && strings.HasPrefix(rt.path, prefix) {
				desc = d
			}
		}
		params = append(params, obj{"name": m[1], "in": "path", "required": true, "description": desc, "schema": obj{"type": "string"}})
	}
	for _, p := range op.query {
		params = append(params, paramObject(p, "query", sch))
	}
	for _, p := range op.header {
		params = append(params, paramObject(p, "header", sch))
	}
	o["parameters"] = params

	if b := op.body; b != nil {
		content := obj{}
		if b.yaml {
			manifestSchema := obj{"type": "string", "description": "a YAML stream of Account, ProtectionGroup and RecoveryPlan documents (docs/plans.md)"}
			for _, mt := range []string{"application/yaml", "text/yaml", "application/x-yaml", "text/x-yaml"} {
				content[mt] = obj{"schema": manifestSchema}
			}
		} else {
			content["application/json"] = obj{"schema": b.schema(sch)}
		}
		o["requestBody"] = obj{"required": !b.optional, "content": content}
	}
	return o
}

func paramObject(p parameter, in string, sch *schemas) obj {
	o := obj{"name": p.name, "in": in, "schema": p.schema(sch)}
	if p.required {
		o["required"] = true
	}
	if p.desc != "" {
		o["description"] = p.desc
	}
	return o
}

func successStatus(rt route) string {
	if rt.ok == 0 {
		return "200"
	}
	return strconv.Itoa(rt.ok)
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.openAPI())
	return nil
}
