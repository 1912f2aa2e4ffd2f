package http

import (
	"bufio"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"wavedr"
	"wavedr/aws"
	"wavedr/engine"
	"wavedr/store"
	"wavedr/store/storetest"
)

// metricsJob is a job kind of the tests only; no worker runs it.
type metricsJob struct{}

func (metricsJob) Kind() string { return "metrics_test" }

// openWithJobQueue opens a store on which the job engine has created
// River's tables (engine.Open migrates them; no worker is started).
func openWithJobQueue(t *testing.T, d storetest.Dialect) *store.DB {
	t.Helper()
	db := d.Open(t)
	_, err := engine.Open(context.Background(), engine.Config{DB: db, Recovery: struct{ wavedr.Recovery }{},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// insertJobs enqueues jobs of metricsJob through an insert-only River
// client: n available, and scheduled ones for an hour from now.
func insertJobs(t *testing.T, db *store.DB, available, scheduled int) {
	t.Helper()
	var driver riverdriver.Driver[*sql.Tx] = riversqlite.New(db.SQL())
	if db.Dialect() == store.Postgres {
		driver = riverdatabasesql.New(db.SQL())
	}
	rc, err := river.NewClient(driver, &river.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range available {
		if _, err := rc.Insert(ctx, metricsJob{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for range scheduled {
		if _, err := rc.Insert(ctx, metricsJob{}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
}

// scrape fetches url and returns every sample by its series, as the
// text format writes it: name{label="value",...} with labels sorted.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape: %d %s", resp.StatusCode, b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("scrape: %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func TestMetrics(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			testMetrics(t, d)
		})
	}
}

func testMetrics(t *testing.T, d storetest.Dialect) {
	db := openWithJobQueue(t, d)
	ctx := context.Background()

	// Two running executions and a cancelled one, of a two-wave plan.
	f := &eventsFixture{ctx: ctx, db: db}
	f.plan = eventsPlan(t, ctx, db)
	for i := range 3 {
		e := f.create(t)
		f.update(t, e.ID, func(e *wavedr.Execution) {
			if i == 2 {
				for _, w := range e.Waves {
					eventsMust(t, w.SetStatus(wavedr.WaveCancelled, time.Now()))
				}
				eventsMust(t, e.SetStatus(wavedr.ExecutionCancelled, time.Now()))
				return
			}
			eventsMust(t, e.SetStatus(wavedr.ExecutionRunning, time.Now()))
			eventsMust(t, e.Waves[0].SetStatus(wavedr.WaveLaunching, time.Now()))
		})
	}
	insertJobs(t, db, 2, 1)

	broker := NewBroker(db, BrokerConfig{Interval: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	m, err := NewMetrics(MetricsConfig{DB: db, Broker: broker})
	if err != nil {
		t.Fatal(err)
	}

	// What the wiring reports: AWS calls, poll cycles, HTTP requests.
	for _, c := range []aws.Call{
		{Service: "drs", Operation: "StartRecovery", Outcome: aws.OutcomeOK, Duration: 20 * time.Millisecond},
		{Service: "drs", Operation: "StartRecovery", Outcome: aws.OutcomeOK, Duration: 30 * time.Millisecond},
		{Service: "drs", Operation: "DescribeJobs", Outcome: aws.OutcomeThrottled, Duration: time.Millisecond},
		{Service: "ec2", Operation: "DescribeInstances", Outcome: wavedr.EUNAVAILABLE, Duration: time.Second},
	} {
		m.AWSCall(c)
	}
	m.ObservePollCycle(150 * time.Millisecond)
	m.ObservePollCycle(2 * time.Second)

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m)
	mux.Handle("GET /v1/things/{id}", m.Instrument("GET /v1/things/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "gone" {
			http.NotFound(w, r)
		}
	})))
	// An event stream through the instrumentation still flushes each event.
	mux.Handle("GET /v1/events", m.Instrument("GET /v1/events", broker))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	// Stopped before the server closes, so that the stream ends.
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = broker.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })
	for _, p := range []string{"/v1/things/a", "/v1/things/b", "/v1/things/gone"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	waitWatched(t, broker, 3)
	f.url = srv.URL
	s := f.open(t, "", "")
	s.expect(t, "snapshot:3")

	got := scrape(t, srv.URL+"/metrics")
	for series, want := range map[string]float64{
		`wavedr_executions{status="RUNNING"}`:                                                       2,
		`wavedr_executions{status="CANCELLED"}`:                                                     1,
		`wavedr_executions{status="COMPLETED"}`:                                                     0,
		`wavedr_waves{status="LAUNCHING"}`:                                                          2,
		`wavedr_waves{status="PENDING"}`:                                                            2,
		`wavedr_waves{status="CANCELLED"}`:                                                          2,
		`wavedr_jobs{kind="metrics_test",state="available"}`:                                        2,
		`wavedr_jobs{kind="metrics_test",state="scheduled"}`:                                        1,
		`wavedr_aws_calls_total{operation="StartRecovery",outcome="ok",service="drs"}`:              2,
		`wavedr_aws_calls_total{operation="DescribeJobs",outcome="throttled",service="drs"}`:        1,
		`wavedr_aws_calls_total{operation="DescribeInstances",outcome="unavailable",service="ec2"}`: 1,
		`wavedr_aws_call_duration_seconds_count{operation="StartRecovery",service="drs"}`:           2,
		`wavedr_aws_call_duration_seconds_sum{operation="StartRecovery",service="drs"}`:             0.05,
		`wavedr_poll_cycle_duration_seconds_count`:                                                  2,
		`wavedr_poll_cycle_duration_seconds_sum`:                                                    2.15,
		`wavedr_poll_cycle_duration_seconds_bucket{le="0.25"}`:                                      1,
		`wavedr_http_requests_total{code="200",route="GET /v1/things/{id}"}`:                        2,
		`wavedr_http_requests_total{code="404",route="GET /v1/things/{id}"}`:                        1,
		`wavedr_http_request_duration_seconds_count{route="GET /v1/things/{id}"}`:                   3,
		`wavedr_http_requests_in_flight{route="GET /v1/events"}`:                                    1,
		`wavedr_event_streams`:                                                                      1,
		`wavedr_event_watched_executions`:                                                           3,
		`wavedr_events_total`:                                                                       3,
		`wavedr_event_streams_overflowed_total`:                                                     0,
		`go_sql_max_open_connections{db_name="wavedr"}`:                                             float64(db.SQL().Stats().MaxOpenConnections),
	} {
		v, ok := got[series]
		switch {
		case !ok:
			t.Errorf("%s is missing", series)
		case v < want-1e-9 || v > want+1e-9:
			t.Errorf("%s = %g, want %g", series, v, want)
		}
	}
	for _, series := range []string{"go_goroutines", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if _, ok := got[series]; !ok {
			t.Errorf("%s is missing", series)
		}
	}
}

// TestMetricsWithoutJobQueue: a failed store query leaves its series out
// and the rest is served.
func TestMetricsWithoutJobQueue(t *testing.T) {
	db := storetest.MustOpen(t)
	m, err := NewMetrics(MetricsConfig{DB: db, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m)
	defer srv.Close()
	got := scrape(t, srv.URL)
	if _, ok := got[`wavedr_executions{status="RUNNING"}`]; !ok {
		t.Error("wavedr_executions is missing")
	}
	for series := range got {
		if strings.HasPrefix(series, "wavedr_jobs") {
			t.Errorf("%s is served without River's tables", series)
		}
	}
	if _, err := NewMetrics(MetricsConfig{}); err == nil {
		t.Error("NewMetrics without a store succeeded")
	}
}
