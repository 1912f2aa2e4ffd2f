package sim

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultEndpoint is the base URL Endpoint returns unless Config.Endpoint
// says otherwise. The .invalid domain never resolves, so a request meant for
// the in-process simulator cannot reach anything else by mistake.
const DefaultEndpoint = "http://sim.wavedr.invalid"

const maxBodyBytes = 8 << 20

// Config configures a Simulator. The zero value is the default setup.
type Config struct {
	// Seed makes the fleet, the IDs, the job schedules and the fault
	// decisions repeatable: the same seed and the same calls give the same
	// answers.
	Seed int64
	// Servers is the size of the local fleet (default 12) when Accounts is
	// empty.
	Servers int
	// Accounts replaces the default setup (DefaultAccounts(Servers)).
	Accounts []AccountConfig
	// Speed runs simulated time this many times faster than the wall clock
	// (default 1). Ignored when Clock is set.
	Speed float64
	// Clock, when set, is the simulator's only source of time.
	Clock Clock
	// Faults are active from the start.
	Faults []Fault
	// Endpoint is the base URL Endpoint returns (default DefaultEndpoint).
	Endpoint string
	// Logger, when set, receives one debug line per request.
	Logger *slog.Logger
}

// Simulator is a stateful fake of the parts of AWS DRS, EC2 and STS that
// disaster recovery uses, speaking their wire protocols. It is an
// http.Handler and is safe for concurrent use.
type Simulator struct {
	seed     int64
	clock    Clock
	endpoint string
	log      *slog.Logger

	mu          sync.Mutex
	accounts    map[string]*AccountConfig
	accountList []*AccountConfig
	localID     string
	roles       map[string]*AccountConfig
	sessions    map[string]*session
	sessionRand *rand.Rand
	regions     map[string]*region
	faults      []*activeFault
	calls       map[string]int
	stats       map[string]*OpStats
	requests    uint64
	closed      bool
}

var (
	accountIDRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE    = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$`)
	roleARNRE   = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):role/[\w+=,.@/-]{1,512}$`)
)

// New returns a simulator configured by cfg.
func New(cfg Config) (*Simulator, error) {
	if cfg.Servers < 0 {
		return nil, errorf("servers must not be negative")
	}
	if cfg.Speed < 0 {
		return nil, errorf("speed must not be negative")
	}
	accounts := cfg.Accounts
	if len(accounts) == 0 {
		accounts = DefaultAccounts(cfg.Servers)
	}
	clock := cfg.Clock
	if clock == nil {
		speed := cfg.Speed
		if speed == 0 {
			speed = 1
		}
		clock = newScaledClock(speed)
	}
	endpoint := strings.TrimRight(cmp.Or(cfg.Endpoint, DefaultEndpoint), "/")
	if u, err := url.Parse(endpoint); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, errorf("endpoint %q is not an absolute URL", endpoint)
	}
	s := &Simulator{
		seed:        cfg.Seed,
		clock:       clock,
		endpoint:    endpoint,
		log:         cfg.Logger,
		accounts:    map[string]*AccountConfig{},
		roles:       map[string]*AccountConfig{},
		sessions:    map[string]*session{},
		sessionRand: stream(cfg.Seed, "sessions"),
		regions:     map[string]*region{},
		calls:       map[string]int{},
		stats:       map[string]*OpStats{},
	}
	now := clock.Now()
	fleetIndex := 0
	for i := range accounts {
		a := accounts[i]
		a.Fleets = slices.Clone(a.Fleets)
		if err := s.addAccount(&a); err != nil {
			return nil, fmt.Errorf("sim: accounts[%d]: %w", i, err)
		}
		for fi, f := range a.Fleets {
			if !regionRE.MatchString(f.Region) {
				return nil, fmt.Errorf("sim: accounts[%d].fleets[%d].region: %q is not a region name", i, fi, f.Region)
			}
			if f.Servers < 0 {
				return nil, fmt.Errorf("sim: accounts[%d].fleets[%d].servers must not be negative", i, fi)
			}
			for _, t := range f.Tiers {
				if _, ok := tierSpecs[t]; !ok {
					return nil, fmt.Errorf("sim: accounts[%d].fleets[%d].tiers: unknown tier %q (db, app, web, legacy)", i, fi, t)
				}
			}
			g := s.region(a.ID, f.Region)
			for _, srv := range generateFleet(cfg.Seed, a.ID, f, fleetIndex, now) {
				if g.serverByID[srv.id] != nil {
					return nil, fmt.Errorf("sim: accounts[%d].fleets[%d]: hostname %s appears twice in %s", i, fi, srv.hostname, f.Region)
				}
				g.addServer(srv)
			}
			fleetIndex++
		}
	}
	if s.localID == "" {
		return nil, errorf("no local account: at least one account must have no role ARN")
	}
	for i, f := range cfg.Faults {
		if err := s.AddFault(f); err != nil {
			return nil, fmt.Errorf("sim: faults[%d]: %w", i, err)
		}
	}
	return s, nil
}

func (s *Simulator) addAccount(a *AccountConfig) error {
	if !accountIDRE.MatchString(a.ID) {
		return errorf("id %q is not a 12-digit account ID", a.ID)
	}
	if s.accounts[a.ID] != nil {
		return errorf("account %s is listed twice", a.ID)
	}
	if a.RoleARN != "" {
		m := roleARNRE.FindStringSubmatch(a.RoleARN)
		if m == nil || m[1] != a.ID {
			return errorf("roleArn %q is not a role of account %s", a.RoleARN, a.ID)
		}
		s.roles[a.RoleARN] = a
	} else if s.localID == "" {
		s.localID = a.ID
	}
	s.accounts[a.ID] = a
	s.accountList = append(s.accountList, a)
	return nil
}

// region returns the state of the account in the region, creating an empty
// one on first use. Callers hold s.mu.
func (s *Simulator) region(account, name string) *region {
	key := account + "/" + name
	g := s.regions[key]
	if g == nil {
		g = newRegion(s.seed, account, name)
		s.regions[key] = g
	}
	return g
}

// Now returns the simulator's current time.
func (s *Simulator) Now() time.Time { return s.clock.Now().UTC() }

// Endpoint returns the base URL to give an SDK together with HTTPClient.
func (s *Simulator) Endpoint() string { return s.endpoint }

// LocalAccountID returns the account that keys not issued by AssumeRole act in.
func (s *Simulator) LocalAccountID() string { return s.localID }

// Close releases the simulator. Later requests fail with 503; it is safe to
// call twice.
func (s *Simulator) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

// request is one call to a simulated service.
type request struct {
	ctx     context.Context
	id      string
	service string // drs, ec2, sts
	op      string
	region  string
	account string
	session *session // nil unless the key was issued by AssumeRole
	http    *http.Request
	body    []byte
	form    url.Values // query protocols
}

// ServeHTTP routes a request to DRS, EC2, STS or the control endpoint.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_sim" || strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.serveControl(w, r)
		return
	}
	req := &request{ctx: r.Context(), http: r}
	s.mu.Lock()
	s.requests++
	req.id = requestID(s.seed, s.requests)
	closed := s.closed
	s.mu.Unlock()
	w.Header().Set("X-Amzn-Requestid", req.id)

	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	sc := parseScope(r)
	req.service = serviceOf(sc.service, r)
	if req.service != "drs" {
		req.form = url.Values{}
		if err == nil && len(body) <= maxBodyBytes {
			if f, perr := url.ParseQuery(string(body)); perr == nil {
				req.form = f
			} else {
				err = perr
			}
		}
		for k, v := range r.URL.Query() {
			req.form[k] = append(req.form[k], v...)
		}
		if req.service == "" {
			req.service = serviceOfAction(req.form)
		}
	}
	req.body = body
	req.region = cmp.Or(sc.region, LocalRegion)

	svc := services[req.service]
	if svc == nil {
		writeUnknownService(w, req)
		return
	}
	req.op = svc.operation(req)
	var failure *apiError
	switch {
	case closed:
		failure = &apiError{status: http.StatusServiceUnavailable, kind: errUnavailable, message: "the simulator is closed"}
	case err != nil:
		failure = &apiError{status: http.StatusBadRequest, kind: errMalformed, message: "cannot read the request: " + err.Error()}
	case len(body) > maxBodyBytes:
		failure = &apiError{status: http.StatusRequestEntityTooLarge, kind: errMalformed, message: "the request body is too large"}
	}

	name := req.service + ":" + req.op
	s.mu.Lock()
	if failure == nil {
		req.account, req.session = s.accountOf(sc.accessKey)
	}
	latency, injected := s.decideFaults(name, req)
	s.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-req.ctx.Done():
			t.Stop()
			s.count(name, outcomeError)
			return
		}
	}
	if failure == nil {
		failure = injected
	}

	rec := &statusWriter{ResponseWriter: w}
	if failure != nil {
		svc.writeError(rec, req, failure)
	} else {
		s.mu.Lock()
		svc.serve(s, rec, req)
		s.mu.Unlock()
	}
	outcome := outcomeOK
	switch {
	case injected != nil && injected.kind == errThrottled:
		outcome = outcomeThrottled
	case rec.status >= 400:
		outcome = outcomeError
	}
	s.count(name, outcome)
	if s.log != nil {
		s.log.Debug("sim.request", "op", name, "account", req.account, "region", req.region, "status", rec.status, "requestId", req.id)
	}
}

// accountOf maps an access key to its account. Callers hold s.mu.
func (s *Simulator) accountOf(accessKey string) (string, *session) {
	if ss := s.sessions[accessKey]; ss != nil {
		return ss.account, ss
	}
	return s.localID, nil
}

// service is one simulated AWS service.
type service struct {
	operation  func(*request) string
	serve      func(*Simulator, http.ResponseWriter, *request)
	writeError func(http.ResponseWriter, *request, *apiError)
}

var services = map[string]*service{}

func serviceOf(signed string, r *http.Request) string {
	switch signed {
	case "drs", "ec2", "sts":
		return signed
	}
	if strings.HasPrefix(r.URL.Path, "/tags/") || drsOperations[strings.TrimPrefix(r.URL.Path, "/")] {
		return "drs"
	}
	return ""
}

func serviceOfAction(form url.Values) string {
	switch {
	case form.Get("Version") == stsVersion, form.Get("Action") == "AssumeRole", form.Get("Action") == "GetCallerIdentity":
		return "sts"
	case form.Get("Action") != "":
		return "ec2"
	}
	return ""
}

func writeUnknownService(w http.ResponseWriter, req *request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", "UnknownOperationException")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprintf(w, `{"message":"no simulated service or operation at %s %s"}`, req.http.Method, jsonEscape(req.http.URL.Path))
}

func requestID(seed int64, n uint64) string {
	r := stream(seed, "request", fmt.Sprint(n))
	h := randString(r, hexDigits, 32)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

type simError string

func (e simError) Error() string { return string(e) }

func errorf(format string, args ...any) error {
	return simError("sim: " + fmt.Sprintf(format, args...))
}
