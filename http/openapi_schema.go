package http

import (
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"

	"wavedr"
	"wavedr/manifest"
)

// The schemas of the API description are derived by reflection from the
// Go types the handlers decode and encode, following encoding/json: a
// field is named by its JSON tag, embedded structs are flattened, and only
// the fields without omitempty or omitzero are always present, hence
// required in an answer. A field added to a type is described without
// anyone remembering to. What reflection cannot know is said in the tables
// below: the values of enumerated types, the names of components, the
// required fields of request bodies and notes on a few fields.

// obj is a JSON object of the document.
type obj = map[string]any

const schemaRef = "#/components/schemas/"

func refTo(name string) obj { return obj{"$ref": schemaRef + name} }

// enumValues are the values of the enumerated types, taken from their
// constants. TestOpenAPIEnumsAreTheConstants compares them with the
// constants declared in the source, so that a new one is not left out.
var enumValues = map[reflect.Type][]string{
	typeOf[wavedr.Mode]():            strs(wavedr.ModeDrill, wavedr.ModeRecovery),
	typeOf[wavedr.ExecutionStatus](): strs(wavedr.ExecutionPending, wavedr.ExecutionRunning, wavedr.ExecutionPaused, wavedr.ExecutionCancelling, wavedr.ExecutionCompleted, wavedr.ExecutionPartial, wavedr.ExecutionFailed, wavedr.ExecutionCancelled),
	typeOf[wavedr.WaveStatus]():      strs(wavedr.WavePending, wavedr.WaveLaunching, wavedr.WaveInProgress, wavedr.WaveCompleted, wavedr.WavePartial, wavedr.WaveFailed, wavedr.WaveCancelled, wavedr.WaveSkipped),
	typeOf[wavedr.ServerStatus]():    strs(wavedr.ServerPending, wavedr.ServerInProgress, wavedr.ServerLaunched, wavedr.ServerFailed, wavedr.ServerCancelled, wavedr.ServerTerminated),
	typeOf[wavedr.Phase]():           strs(wavedr.PhaseQueued, wavedr.PhaseSnapshot, wavedr.PhaseConversion, wavedr.PhaseLaunch),
	typeOf[wavedr.CleanupStatus]():   strs(wavedr.CleanupNone, wavedr.CleanupTerminating, wavedr.CleanupCompleted, wavedr.CleanupFailed),
	typeOf[wavedr.FailurePolicy]():   strs(wavedr.FailureStop, wavedr.FailureContinue),
	typeOf[wavedr.JobStatus]():       strs(wavedr.JobPending, wavedr.JobStarted, wavedr.JobCompleted),
	typeOf[wavedr.LaunchStatus]():    strs(wavedr.LaunchPending, wavedr.LaunchInProgress, wavedr.LaunchLaunched, wavedr.LaunchFailed, wavedr.LaunchTerminated),
	typeOf[wavedr.AuditOutcome]():    strs(wavedr.AuditSucceeded, wavedr.AuditRefused, wavedr.AuditDenied, wavedr.AuditFailed),
	typeOf[wavedr.PrincipalKind]():   strs(wavedr.PrincipalToken, wavedr.PrincipalOIDC),
	typeOf[wavedr.Role]():            strs(wavedr.Roles...),
	typeOf[wavedr.Permission]():      strs(wavedr.Permissions...),
	typeOf[manifest.Kind]():          strs(manifest.KindAccount, manifest.KindProtectionGroup, manifest.KindRecoveryPlan),
	typeOf[manifest.Action]():        strs(manifest.Created, manifest.Updated, manifest.Unchanged),
}

// errorCodes are the codes of the error shape, one per status of
// codeStatus (checked by the tests).
var errorCodes = []string{wavedr.EINVALID, wavedr.EUNAUTHORIZED, wavedr.EFORBIDDEN, wavedr.ENOTFOUND,
	wavedr.ECONFLICT, wavedr.EQUOTA, wavedr.EUNAVAILABLE, wavedr.EINTERNAL}

func strs[S ~string](vs ...S) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// componentNames names the components whose Go name is not the one to
// publish: types of this package, and names that would collide.
var componentNames = map[reflect.Type]string{
	typeOf[errorBody]():       "Error",
	typeOf[wavedr.Error]():    "ErrorInfo",
	typeOf[targetProblem]():   "UnreachableTarget",
	typeOf[manifest.Kind]():   "ManifestKind",
	typeOf[manifest.Action](): "ManifestAction",
	typeOf[manifest.Change](): "ManifestChange",
	typeOf[wavedr.Request]():  "OperatorRequest",
}

// typeNotes describe the components; the fields describe themselves.
var typeNotes = map[reflect.Type]string{
	typeOf[wavedr.Account]():          "An AWS account whose DRS source servers wavedr recovers. The local account (wavedr's own credentials) has no roleArn; a target account is reached by STS AssumeRole into roleArn with externalId.",
	typeOf[wavedr.ProtectionGroup]():  "DRS source servers recovered together, in one account and region: listed by ID (serverIds) or selected by tags when a wave launches (selector), never both.",
	typeOf[wavedr.TagSelector]():      "Selects the source servers that have every listed tag with exactly the listed value.",
	typeOf[wavedr.LaunchSettings]():   "DRS launch configuration fields applied to each server before it launches; an absent field leaves DRS's value as it is.",
	typeOf[wavedr.RecoveryPlan]():     "Protection groups ordered into waves; a wave launches when the waves it depends on are over.",
	typeOf[wavedr.Wave]():             "One step of a plan, named: executions, jobs and reports refer to waves by name.",
	typeOf[executionView]():           "An execution with its waves, servers and report, and the actions it allows now (canPause, canResume, canCancel, canTerminate): clients never infer them from statuses.",
	typeOf[wavedr.ExecutionSummary](): "An execution without its servers, as listed.",
	typeOf[wavedr.WaveRun]():          "One wave of an execution: a copy of the plan's wave with dependencies, deadline and failure policy made explicit, its DRS jobs and its servers.",
	typeOf[wavedr.ServerRun]():        "One source server's part in an execution, with what DRS and EC2 reported of it.",
	typeOf[wavedr.WaveJob]():          "One DRS job of a wave: a wave is split into jobs of at most 100 servers per account and region.",
	typeOf[wavedr.Report]():           "What an execution measured: its outcome, and when each wave and server reached each step of its recovery. A time not reached is absent, as is a duration not yet measurable.",
	typeOf[verbResult]():              "The answer of a verb: the execution afterwards, whether the verb changed anything, and what it did or why it did nothing.",
	typeOf[pollResult]():              "The execution after one observation of its in-flight waves.",
	typeOf[wavedr.APIToken]():         "An API token. Its secret is answered once, when it is created.",
	typeOf[createdToken]():            "A new API token with its secret, shown this once: store it now.",
	typeOf[wavedr.AuditEntry]():       "One mutating request: who asked for what, on what, and how it ended.",
	typeOf[errorBody]():               "The one error shape of the API.",
	typeOf[sourceServerPage]():        "A page of source servers. unreachable lists the accounts and regions DRS did not answer for: their servers are missing from every page.",
	typeOf[groupPreview]():            "The servers a group would hold if a wave launched it now, and the listed IDs DRS does not have.",
	typeOf[applyResult]():             "What a manifest changed (or, with dryRun, would change), object by object.",
	typeOf[jobLogItem]():              "One event of a wave's DRS job log, with the job it is of.",
	typeOf[me]():                      "The authenticated caller and the permissions its roles grant.",
	typeOf[SnapshotEvent]():           "Event snapshot: whole executions; a client replaces its state of those executions.",
	typeOf[ExecutionEvent]():          "Event execution: an execution's status, counts, allowed actions, pause, requests or cleanup changed.",
	typeOf[WaveEvent]():               "Event wave: a wave's status, reason, counts, jobs or times changed.",
	typeOf[ServerEvent]():             "Event server: a server's status, phase, instance or reason changed.",
	typeOf[ClosedEvent]():             "Event closed: the server ends the stream; reconnecting with Last-Event-ID resumes it.",
}

// fieldNote says what a field's Go type cannot.
type fieldNote struct {
	desc     string
	nullable bool     // null is a value with a meaning
	enum     []string // the values of a plain string field
	emptyToo bool     // "" is answered besides the values of its enumerated type
	constant string   // the one value of the field
	minimum  int
}

type fieldKey struct {
	owner reflect.Type // the struct that declares the field, or one that embeds it
	name  string
}

// fieldNotes are looked up by the component's type first, then by the
// type that declares the field.
var fieldNotes = map[fieldKey]fieldNote{
	{typeOf[wavedr.Account](), "id"}:                       {desc: "12-digit AWS account ID"},
	{typeOf[wavedr.Account](), "regions"}:                  {desc: "the regions where DRS replicates servers of this account"},
	{typeOf[wavedr.ProtectionGroup](), "accountId"}:        {desc: "absent for the local account"},
	{typeOf[wavedr.ProtectionGroup](), "serverIds"}:        {desc: "DRS source server IDs (s- and 17 hex digits); exclusive with selector"},
	{typeOf[wavedr.ProtectionGroup](), "selector"}:         {desc: "exclusive with serverIds"},
	{typeOf[wavedr.LaunchSettings](), "launchDisposition"}: {enum: []string{"STARTED", "STOPPED"}},
	{typeOf[wavedr.LaunchSettings](), "rightSizingMethod"}: {enum: []string{"NONE", "BASIC", "IN_AWS"}},
	{typeOf[wavedr.Wave](), "groups"}:                      {desc: "protection group names"},
	{typeOf[wavedr.Wave](), "pauseBefore"}:                 {desc: "the execution pauses before this wave until an operator resumes it (an approval gate)"},
	{typeOf[wavedr.Wave](), "dependsOn"}:                   {nullable: true, desc: "the waves that must be over before this one launches; null or absent means the previous wave (none for the first), [] means none"},
	{typeOf[wavedr.Wave](), "deadline"}:                    {desc: "from launch to the end of the wave's DRS jobs, 1m to 72h; absent means 2h"},
	{typeOf[wavedr.Wave](), "onFailure"}:                   {desc: "STOP (the default) skips the waves not yet started when a server of this wave fails"},
	{typeOf[wavedr.WaveJob](), "serverIds"}:                {nullable: true, desc: "the servers of a wave's LAUNCH job; null in the TERMINATE jobs of a cleanup, which are per account and region"},
	{typeOf[wavedr.ServerDetail](), "launchStatus"}:        {emptyToo: true, desc: "the server's status in its DRS job; empty until it is in one"},
	{typeOf[wavedr.ServerDetail](), "missing"}:             {desc: "what could not be found of the server, and why"},
	{typeOf[wavedr.Execution](), "initiatedBy"}:            {desc: "the authenticated principal who started it"},
	{typeOf[wavedr.Execution](), "pause"}:                  {desc: "set while PAUSED"},
	{typeOf[wavedr.Execution](), "pauseRequest"}:           {desc: "an operator's pause not yet in effect"},
	{typeOf[wavedr.Execution](), "resumeRequest"}:          {desc: "a resume not yet in effect"},
	{typeOf[wavedr.Execution](), "cancelRequest"}:          {desc: "set once cancel was asked"},
	{typeOf[wavedr.APIToken](), "role"}:                    {desc: "the role the token authenticates with"},
	{typeOf[wavedr.AuditEntry](), "status"}:                {desc: "the HTTP status answered"},
	{typeOf[wavedr.AuditEntry](), "principal"}:             {desc: "the caller (kind:name), or anonymous"},
	{typeOf[wavedr.PhaseDuration](), "phase"}:              {desc: "request, snapshot, conversion or launch; phases whose end was not observed are joined to the next known one with +, as in snapshot+conversion"},
	{typeOf[wavedr.FieldError](), "field"}:                 {desc: "the path of the field, such as waves[1].dependsOn[0]; absent for the whole request"},
	{typeOf[wavedr.Error](), "code"}:                       {enum: errorCodes},
	{typeOf[createdToken](), "secret"}:                     {desc: "the token's secret (wdr_...), answered this once"},
	{typeOf[tokenRequest](), "expiresAt"}:                  {desc: "in the future, within 366 days"},
	{typeOf[startRequest](), "plan"}:                       {desc: "the ID or name of a recovery plan"},
	{typeOf[startRequest](), "mode"}:                       {desc: "RECOVERY (a real failover) needs the permission recovery:start too"},
	{typeOf[targetProblem](), "code"}:                      {enum: errorCodes},
	{typeOf[EventHeader](), "id"}:                          {desc: "increases by one with each event of a server process; the SSE id is PROCESS-ID"},
	{typeOf[EventHeader](), "version"}:                     {desc: "the version of the execution the event describes"},
	{typeOf[SnapshotEvent](), "type"}:                      {constant: EventSnapshot},
	{typeOf[ExecutionEvent](), "type"}:                     {constant: EventExecution},
	{typeOf[WaveEvent](), "type"}:                          {constant: EventWave},
	{typeOf[ServerEvent](), "type"}:                        {constant: EventServer},
	{typeOf[ClosedEvent](), "type"}:                        {constant: EventClosed},
	{typeOf[ClosedEvent](), "reason"}:                      {enum: []string{ClosedOverflow, ClosedShutdown}},
}

// versionNote is the note of every "version" field but an event's.
var versionNote = fieldNote{minimum: 1, desc: "increases with each write; a change or deletion of an account, group or plan names the version read, and a stale one is refused (409)"}

// inputRequired are the fields of the objects nested in request bodies
// that the server refuses to go without.
var inputRequired = map[reflect.Type][]string{
	typeOf[wavedr.Wave]():           {"name", "groups"},
	typeOf[wavedr.TagSelector]():    {"tags"},
	typeOf[wavedr.LaunchSettings](): nil,
}

var (
	timeType     = typeOf[time.Time]()
	secondsType  = typeOf[wavedr.Seconds]()
	durationType = typeOf[wavedr.Duration]()
)

// schemas builds components/schemas.
type schemas struct {
	defs  obj                     // components/schemas
	types map[string]reflect.Type // the type of each component, against collisions
}

func newSchemas() *schemas { return &schemas{defs: obj{}, types: map[string]reflect.Type{}} }

// of returns the schema of a value of type t: a reference to a component
// for structs and enumerated types, inline for the others. In a request
// (input) a struct is described closed (the API refuses unknown fields)
// with the fields the server requires.
func (s *schemas) of(t reflect.Type, input bool) obj {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case timeType:
		return obj{"type": "string", "format": "date-time"}
	case secondsType:
		return obj{"type": "number", "description": "seconds, to the millisecond"}
	case durationType:
		return obj{"type": "string", "description": "a duration such as 45m or 2h30m", "examples": []string{"45m"}}
	}
	if values, ok := enumValues[t]; ok {
		name := componentName(t)
		s.define(name, t, func() obj { return obj{"type": "string", "enum": values} })
		return refTo(name)
	}
	switch t.Kind() {
	case reflect.String:
		return obj{"type": "string"}
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32:
		return obj{"type": "integer"}
	case reflect.Int64:
		return obj{"type": "integer", "format": "int64"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return obj{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return obj{"type": "number"}
	case reflect.Slice, reflect.Array:
		return obj{"type": "array", "items": s.of(t.Elem(), input)}
	case reflect.Map:
		return obj{"type": "object", "additionalProperties": s.of(t.Elem(), input)}
	case reflect.Struct:
		if input {
			name := componentName(t) + "Input"
			s.define(name, t, func() obj { return s.object(t, true, nil, inputRequired[t]) })
			return refTo(name)
		}
		name := componentName(t)
		s.define(name, t, func() obj { return s.object(t, false, nil, nil) })
		return refTo(name)
	case reflect.Interface:
		return obj{}
	}
	panic("http: no schema for " + t.String())
}

// input defines the component name for a request body of type t: its
// fields but omit, closed, with the required ones.
func (s *schemas) input(name string, t reflect.Type, omit, required []string) obj {
	s.define(name, t, func() obj { return s.object(t, true, omit, required) })
	return refTo(name)
}

// define makes the component name with build, once.
func (s *schemas) define(name string, t reflect.Type, build func() obj) {
	if prev, ok := s.types[name]; ok {
		if prev != t {
			panic("http: the schema " + name + " would describe both " + prev.String() + " and " + t.String())
		}
		return
	}
	s.types[name] = t
	s.defs[name] = obj{} // taken, should t refer to itself
	s.defs[name] = build()
}

// object describes struct t. An answer requires the fields always
// written; a request requires those listed and refuses unknown ones.
func (s *schemas) object(t reflect.Type, input bool, omit, required []string) obj {
	props := obj{}
	var always []string
	for _, f := range jsonFields(t) {
		if input && slices.Contains(omit, f.name) {
			continue
		}
		props[f.name] = s.field(t, f, input)
		if !f.optional {
			always = append(always, f.name)
		}
	}
	o := obj{"type": "object", "properties": props}
	if note := typeNotes[t]; note != "" {
		o["description"] = note
	}
	if input {
		o["additionalProperties"] = false
		always = required
	}
	if len(always) > 0 {
		o["required"] = always
	}
	return o
}

// field is the schema of one field of struct t, with its note.
func (s *schemas) field(t reflect.Type, f encodedField, input bool) obj {
	n, ok := fieldNotes[fieldKey{t, f.name}]
	if !ok {
		n, ok = fieldNotes[fieldKey{f.owner, f.name}]
	}
	if !ok && f.name == "version" && f.owner != typeOf[EventHeader]() {
		n = versionNote
	}
	p := s.of(f.typ, input)
	switch {
	case n.constant != "":
		p = obj{"type": "string", "const": n.constant}
	case n.enum != nil:
		p = obj{"type": "string", "enum": n.enum}
	case n.emptyToo:
		p = obj{"anyOf": []obj{p, {"const": ""}}}
	}
	if n.nullable {
		if typ, ok := p["type"].(string); ok {
			p["type"] = []string{typ, "null"}
		} else {
			p = obj{"anyOf": []obj{p, {"type": "null"}}}
		}
	}
	if n.minimum != 0 {
		p["minimum"] = n.minimum
	}
	if n.desc != "" {
		p["description"] = n.desc
	}
	return p
}

// componentName is the published name of type t.
func componentName(t reflect.Type) string {
	if name, ok := componentNames[t]; ok {
		return name
	}
	name := t.Name()
	if strings.HasPrefix(name, "Page[") {
		// A page is named by what it lists: ProtectionGroupPage.
		items, _ := t.FieldByName("Items")
		elem := items.Type.Elem()
		for elem.Kind() == reflect.Pointer {
			elem = elem.Elem()
		}
		return componentName(elem) + "Page"
	}
	r := []rune(name)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// encodedField is a field as encoding/json writes it.
type encodedField struct {
	name     string
	typ      reflect.Type
	optional bool         // omitempty or omitzero: absent when empty
	owner    reflect.Type // the struct that declares it
	depth    int          // of embedding
	tagged   bool
}

// jsonFields lists the fields encoding/json writes for struct t, in its
// order: embedded structs flattened, a field hiding deeper ones of its
// name, and fields of one name at one depth dropped unless one is tagged.
func jsonFields(t reflect.Type) []encodedField {
	var all []encodedField
	var walk func(t reflect.Type, depth int)
	walk = func(t reflect.Type, depth int) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			ft := sf.Type
			if sf.Anonymous && name == "" {
				et := ft
				if et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if et.Kind() == reflect.Struct {
					walk(et, depth+1)
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			tagged := name != ""
			if !tagged {
				name = sf.Name
			}
			optional := false
			for _, o := range strings.Split(opts, ",") {
				optional = optional || o == "omitempty" || o == "omitzero"
			}
			all = append(all, encodedField{name: name, typ: ft, optional: optional, owner: t, depth: depth, tagged: tagged})
		}
	}
	walk(t, 0)
	var out []encodedField
	for _, f := range all {
		if dominant(all, f) {
			out = append(out, f)
		}
	}
	return out
}

// dominant reports whether f is the field of its name that encoding/json
// writes.
func dominant(all []encodedField, f encodedField) bool {
	for _, g := range all {
		if g.name != f.name || g == f {
			continue
		}
		if g.depth < f.depth || (g.depth == f.depth && (g.tagged || !f.tagged)) {
			return false
		}
	}
	return true
}
