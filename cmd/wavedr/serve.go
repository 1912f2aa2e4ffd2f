package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"wavedr/aws"
	"wavedr/engine"
	wdrhttp "wavedr/http"
	"wavedr/sim"
	"wavedr/store"
)

func init() {
	register(command{
		name:    "serve",
		summary: "serve the HTTP API and run the engine's workers",
		run:     runServe,
	})
}

// Defaults of serve.
const (
	serveAddrDefault     = "127.0.0.1:8080"
	serveSimSpeedDefault = 60
	// serveSimPoll is the poll interval with --sim: a simulated minute per
	// second needs finer polls than real DRS to show progress.
	serveSimPoll           = time.Second
	serveShutdownDefault   = 20 * time.Second
	serveReadHeaderTimeout = 10 * time.Second
	serveReadTimeout       = time.Minute // a body of at most a few MiB
	serveIdleTimeout       = 2 * time.Minute
)

// serveOIDCFlags are the OIDC settings, each also read from the
// environment when its flag is not given.
type serveOIDCFlags struct {
	issuer, audience, groupsClaim, roles string
}

func (o *serveOIDCFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.issuer, "oidc-issuer", "", "OIDC issuer URL; bearer tokens that are not API tokens are verified against it (default $WAVEDR_OIDC_ISSUER)")
	fs.StringVar(&o.audience, "oidc-audience", "", "the client ID OIDC tokens must be issued for (default $WAVEDR_OIDC_AUDIENCE)")
	fs.StringVar(&o.groupsClaim, "oidc-groups-claim", "", "the claim listing a subject's groups (default $WAVEDR_OIDC_GROUPS_CLAIM, else groups)")
	fs.StringVar(&o.roles, "oidc-roles", "", "groups to roles, like 'dr-admins=Admin,dr-operators=Operator' (default $WAVEDR_OIDC_ROLES)")
}

// config returns the OIDC configuration, or nil when no issuer is set.
func (o *serveOIDCFlags) config(e *env) (*wdrhttp.OIDCConfig, error) {
	get := func(flag, key string) string {
		if flag != "" {
			return flag
		}
		return e.getenv(key)
	}
	issuer := get(o.issuer, "WAVEDR_OIDC_ISSUER")
	audience := get(o.audience, "WAVEDR_OIDC_AUDIENCE")
	claim := get(o.groupsClaim, "WAVEDR_OIDC_GROUPS_CLAIM")
	roles := get(o.roles, "WAVEDR_OIDC_ROLES")
	if issuer == "" {
		if audience != "" || roles != "" || claim != "" {
			return nil, usagef("the OIDC settings need an issuer: --oidc-issuer or WAVEDR_OIDC_ISSUER")
		}
		return nil, nil
	}
	if audience == "" {
		return nil, usagef("--oidc-issuer needs --oidc-audience (or WAVEDR_OIDC_AUDIENCE): the client ID tokens are issued for")
	}
	m, err := wdrhttp.ParseOIDCRoles(roles)
	if err != nil {
		return nil, usagef("--oidc-roles: %v", err)
	}
	return &wdrhttp.OIDCConfig{Issuer: issuer, Audience: audience, GroupsClaim: claim, Roles: m}, nil
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve", "[--addr HOST:PORT] [--sim] [--db URL] [--data-dir DIR] [flags]")
	addr := fs.String("addr", serveAddrDefault, "address to listen on (port 0 picks a free port)")
	var sf storeFlags
	sf.register(fs)
	useSim := fs.Bool("sim", false, "run the built-in DRS/EC2/STS simulator in this process and use it instead of AWS")
	simSpeed := fs.Float64("sim-speed", serveSimSpeedDefault, "with --sim: simulated time runs this many times faster than the wall clock")
	simSeed := fs.Int64("sim-seed", 1, "with --sim: seed of the simulated fleet")
	poll := fs.Duration("poll-interval", 0, fmt.Sprintf("time between two observations of an execution (default %s, %s with --sim)", engine.PollIntervalDefault, serveSimPoll))
	workers := fs.Int("workers", engine.WorkersDefault, "engine jobs this process runs at once")
	rescueAfter := fs.Duration("rescue-after", engine.RescueAfterDefault, "how long an engine step may run before another replica takes it for crashed and runs it again (at least 1s; a step is also cancelled after half of it)")
	shutdown := fs.Duration("shutdown-timeout", serveShutdownDefault, "on SIGINT/SIGTERM, how long requests in flight may take to finish")
	logFormat := fs.String("log-format", "text", "log format on standard error: text or json")
	verbose := fs.Bool("v", false, "log every request and the engine's debug events")
	var of serveOIDCFlags
	of.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	case *workers < 1:
		return usagef("--workers must be at least 1")
	case *rescueAfter < time.Second:
		return usagef("--rescue-after must be at least 1s")
	case *simSpeed <= 0:
		return usagef("--sim-speed must be positive")
	case *poll != 0 && *poll < engine.PollIntervalMin:
		return usagef("--poll-interval must be at least %s", engine.PollIntervalMin)
	case *shutdown <= 0:
		return usagef("--shutdown-timeout must be positive")
	case *logFormat != "text" && *logFormat != "json":
		return usagef("--log-format must be text or json")
	}
	oidcCfg, err := of.config(e)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	var handler slog.Handler = slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level})
	if *logFormat == "json" {
		handler = slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level})
	}
	log := slog.New(handler)

	dataDir, err := sf.dataDirectory(e)
	if err != nil {
		return err
	}
	url, err := sf.databaseURL(e)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := wdrhttp.Bootstrap(ctx, db, dataDir, e.getenv("WAVEDR_ADMIN_TOKEN"), log); err != nil {
		return err
	}
	var oidc *wdrhttp.OIDC
	if oidcCfg != nil {
		if oidc, err = wdrhttp.NewOIDC(ctx, *oidcCfg); err != nil {
			return err
		}
	}

	// The broker and the metrics read the store, so every replica shows
	// the same executions whichever process runs their steps.
	broker := wdrhttp.NewBroker(db, wdrhttp.BrokerConfig{Logger: log})
	metrics, err := wdrhttp.NewMetrics(wdrhttp.MetricsConfig{DB: db, Broker: broker, Logger: log})
	if err != nil {
		return err
	}
	ecfg := engine.Config{DB: db, PollInterval: *poll, Workers: *workers, RescueAfter: *rescueAfter, Logger: log,
		Hooks: engine.Hooks{AfterPollCycle: func(_ string, d time.Duration) { metrics.ObservePollCycle(d) }}}
	var localRegion string
	if *useSim {
		s, err := sim.New(sim.Config{Seed: *simSeed, Speed: *simSpeed})
		if err != nil {
			return usagef("%v", err)
		}
		defer s.Close()
		// As the engine tests do: the real AWS adapter over the
		// simulator's in-process transport, the engine on its clock.
		ecfg.Recovery, err = aws.New(ctx, aws.Config{
			HTTPClient:  s.HTTPClient(),
			Endpoint:    s.Endpoint(),
			Credentials: &aws.Credentials{AccessKeyID: "AKIDWAVEDRSERVE", SecretAccessKey: "sim"},
			Region:      sim.LocalRegion,
			RateLimit:   -1,
			Logger:      log,
			OnCall:      metrics.AWSCall,
		})
		if err != nil {
			return err
		}
		ecfg.Now, localRegion = s.Now, sim.LocalRegion
		if ecfg.PollInterval == 0 {
			ecfg.PollInterval = serveSimPoll
		}
	} else {
		c, err := aws.New(ctx, aws.Config{Logger: log, OnCall: metrics.AWSCall})
		if err != nil {
			return err
		}
		// The SDK's region: flag, environment or shared config file.
		ecfg.Recovery, localRegion = c, c.Region()
	}
	eng, err := engine.Open(ctx, ecfg)
	if err != nil {
		return err
	}
	api, err := wdrhttp.NewServer(wdrhttp.Config{
		DB: db, Engine: eng, Recovery: ecfg.Recovery, OIDC: oidc, LocalRegion: localRegion, Logger: log,
		Events: broker, Metrics: metrics, Ready: wdrhttp.Readiness(db, log),
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// The workers get a context of their own: a signal stops them through
	// StopWorkers, which lets each running step finish.
	if err := eng.StartWorkers(context.WithoutCancel(ctx)); err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: serveReadHeaderTimeout,
		ReadTimeout:       serveReadTimeout,
		IdleTimeout:       serveIdleTimeout,
		ErrorLog:          slog.NewLogLogger(handler, slog.LevelWarn),
	}
	base := "http://" + ln.Addr().String()
	mode := "AWS"
	if *useSim {
		mode = fmt.Sprintf("the built-in simulator at %gx", *simSpeed)
	}
	log.Info("serve.started", "addr", base, "db", db.Dialect(), "recovery", mode, "oidc", oidcCfg != nil, "workers", *workers,
		"riverClientId", eng.ClientID())
	fmt.Fprintf(e.stdout, "wavedr API listening on %s (DRS: %s)\n", base, mode)

	// The broker stops first, closing the event streams (which would
	// otherwise hold the graceful shutdown until its bound).
	bctx, stopBroker := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBroker()
	brokerDone := make(chan struct{})
	go func() {
		defer close(brokerDone)
		if err := broker.Run(bctx); err != nil {
			log.Error("serve.events_failed", "err", err)
		}
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
		log.Info("serve.stopping", "timeout", shutdown.String())
	}
	stopBroker()
	<-brokerDone
	// In-flight requests finish, within the bound; then the workers let
	// their running steps finish (River hands the rest to other replicas).
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), *shutdown)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("serve.shutdown_timeout", "err", err)
		_ = srv.Close()
	}
	if serveErr == nil {
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			serveErr = err
		}
	}
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), *shutdown)
	defer wcancel()
	if err := eng.StopWorkers(wctx); err != nil {
		log.Warn("serve.stop_workers", "err", err)
	}
	log.Info("serve.stopped")
	if errors.Is(serveErr, http.ErrServerClosed) {
		return nil
	}
	return serveErr
}
