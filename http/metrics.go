package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"wavedr/aws"
	"wavedr/store"
)

// MetricsScrapeTimeoutDefault bounds the store queries of one scrape.
const MetricsScrapeTimeoutDefault = 5 * time.Second

// MetricsConfig configures Metrics.
type MetricsConfig struct {
	// DB is the store whose executions, waves and jobs are counted at
	// each scrape. Required.
	DB *store.DB
	// Broker, when set, adds the event streams' gauges and counters.
	Broker *Broker
	// ScrapeTimeout bounds the store queries of one scrape; zero means
	// MetricsScrapeTimeoutDefault.
	ScrapeTimeout time.Duration
	// Logger receives scrape failures; nil means slog.Default().
	Logger *slog.Logger
}

// Metrics is wavedr's Prometheus registry and the /metrics handler. The
// state of executions and jobs is read from the store when scraped, so
// every replica reports the same numbers whichever process did the work;
// AWS calls, poll cycles and HTTP requests are counted by this process.
type Metrics struct {
	reg          *prometheus.Registry
	handler      http.Handler
	awsCalls     *prometheus.CounterVec
	awsDuration  *prometheus.HistogramVec
	pollCycle    prometheus.Histogram
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	httpInFlight *prometheus.GaugeVec
}

// NewMetrics returns the metrics of a process on the store.
func NewMetrics(cfg MetricsConfig) (*Metrics, error) {
	if cfg.DB == nil {
		return nil, errors.New("http: MetricsConfig.DB is required")
	}
	if cfg.ScrapeTimeout <= 0 {
		cfg.ScrapeTimeout = MetricsScrapeTimeoutDefault
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		awsCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wavedr_aws_calls_total",
			Help: "HTTP requests to AWS (each page and retry attempt) by service, operation and outcome (ok, throttled, canceled, or the error code).",
		}, []string{"service", "operation", "outcome"}),
		awsDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wavedr_aws_call_duration_seconds",
			Help:    "Duration of HTTP requests to AWS, rate-limit wait excluded, by service and operation.",
			Buckets: prometheus.DefBuckets,
		}, []string{"service", "operation"}),
		pollCycle: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wavedr_poll_cycle_duration_seconds",
			Help:    "Duration of one poll cycle of an execution: observe DRS and EC2, record, advance.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wavedr_http_requests_total",
			Help: "HTTP requests answered, by route and status code.",
		}, []string{"route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "wavedr_http_request_duration_seconds",
			Help:    "Duration of HTTP requests by route (for event streams, how long they stayed open).",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		httpInFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wavedr_http_requests_in_flight",
			Help: "HTTP requests being served, by route (for event streams, the open streams).",
		}, []string{"route"}),
	}
	for _, c := range []prometheus.Collector{
		m.awsCalls, m.awsDuration, m.pollCycle, m.httpRequests, m.httpDuration, m.httpInFlight,
		&storeCollector{db: cfg.DB, broker: cfg.Broker, timeout: cfg.ScrapeTimeout, log: cfg.Logger},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(cfg.DB.SQL(), "wavedr"),
	} {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("http: register metrics: %w", err)
		}
	}
	// A failed store query leaves its series out of the scrape rather
	// than failing the whole of it.
	m.handler = promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{cfg.Logger},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg,
	}))
	return m, nil
}

// Registry returns the registry, for collectors of other parts.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ServeHTTP answers a scrape.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.handler.ServeHTTP(w, r) }

// AWSCall counts one HTTP request to AWS; it is aws.Config.OnCall.
func (m *Metrics) AWSCall(c aws.Call) {
	m.awsCalls.WithLabelValues(c.Service, c.Operation, c.Outcome).Inc()
	m.awsDuration.WithLabelValues(c.Service, c.Operation).Observe(c.Duration.Seconds())
}

// ObservePollCycle records the duration of one poll cycle.
func (m *Metrics) ObservePollCycle(d time.Duration) { m.pollCycle.Observe(d.Seconds()) }

// Instrument counts and times the requests of one route. route is the
// route's pattern, never the request's path, so the series stay few. The
// response writer it passes on keeps Flush and Unwrap, for event streams.
func (m *Metrics) Instrument(route string, h http.Handler) http.Handler {
	l := prometheus.Labels{"route": route}
	return promhttp.InstrumentHandlerInFlight(m.httpInFlight.With(l),
		promhttp.InstrumentHandlerDuration(m.httpDuration.MustCurryWith(l),
			promhttp.InstrumentHandlerCounter(m.httpRequests.MustCurryWith(l), h)))
}

// storeCollector reads the store at each scrape: executions and waves by
// status, and River's jobs by kind and state; and the broker's counters.
type storeCollector struct {
	db      *store.DB
	broker  *Broker
	timeout time.Duration
	log     *slog.Logger
}

var (
	executionsDesc = prometheus.NewDesc("wavedr_executions",
		"Stored executions by status.", []string{"status"}, nil)
	wavesDesc = prometheus.NewDesc("wavedr_waves",
		"Waves of the stored executions by status.", []string{"status"}, nil)
	jobsDesc = prometheus.NewDesc("wavedr_jobs",
		"Jobs in the job queue by kind and state (River's states; completed jobs are kept for a day).", []string{"kind", "state"}, nil)
	eventStreamsDesc = prometheus.NewDesc("wavedr_event_streams",
		"Event streams (GET /v1/events) open in this process.", nil, nil)
	eventWatchedDesc = prometheus.NewDesc("wavedr_event_watched_executions",
		"Executions the event broker holds in memory to diff their changes.", nil, nil)
	eventsDesc = prometheus.NewDesc("wavedr_events_total",
		"Events published by this process's event broker.", nil, nil)
	eventOverflowDesc = prometheus.NewDesc("wavedr_event_streams_overflowed_total",
		"Event streams closed because their client fell behind.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- executionsDesc
	ch <- wavesDesc
	ch <- jobsDesc
	if c.broker != nil {
		ch <- eventStreamsDesc
		ch <- eventWatchedDesc
		ch <- eventsDesc
		ch <- eventOverflowDesc
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if counts, err := c.db.StatusCounts(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(executionsDesc, err)
	} else {
		for s, n := range counts.Executions {
			ch <- prometheus.MustNewConstMetric(executionsDesc, prometheus.GaugeValue, float64(n), string(s))
		}
		for s, n := range counts.Waves {
			ch <- prometheus.MustNewConstMetric(wavesDesc, prometheus.GaugeValue, float64(n), string(s))
		}
	}
	if jobs, err := c.db.JobCounts(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(jobsDesc, err)
	} else {
		for _, j := range jobs {
			ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(j.Count), j.Kind, j.State)
		}
	}
	if c.broker != nil {
		st := c.broker.Stats()
		ch <- prometheus.MustNewConstMetric(eventStreamsDesc, prometheus.GaugeValue, float64(st.Streams))
		ch <- prometheus.MustNewConstMetric(eventWatchedDesc, prometheus.GaugeValue, float64(st.Watched))
		ch <- prometheus.MustNewConstMetric(eventsDesc, prometheus.CounterValue, float64(st.Events))
		ch <- prometheus.MustNewConstMetric(eventOverflowDesc, prometheus.CounterValue, float64(st.Overflow))
	}
}

// promLogger hands promhttp's errors to slog.
type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) { l.log.Warn("metrics.collect_failed", "err", fmt.Sprint(v...)) }
