package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"wavedr/sim"
)

func init() {
	register(command{name: "sim", summary: "run the DRS/EC2/STS simulator as a server", run: runSim})
}

// simFaults collects repeatable fault flags into sim.Faults.
type simFaults struct {
	kind   sim.FaultKind
	faults *[]sim.Fault
}

func (f simFaults) String() string { return "" }

func (f simFaults) Set(v string) error {
	fault := sim.Fault{Kind: f.kind}
	switch f.kind {
	case sim.FaultThrottle, sim.FaultError, sim.FaultDeny:
		op, rate, ok := strings.Cut(v, "=")
		fault.Op = op
		if ok {
			r, err := strconv.ParseFloat(rate, 64)
			if err != nil {
				return fmt.Errorf("%q: the rate after = must be a number between 0 and 1", v)
			}
			fault.Rate = r
		}
	case sim.FaultLatency:
		op, d, ok := strings.Cut(v, "=")
		dur, err := time.ParseDuration(d)
		if !ok || err != nil {
			return fmt.Errorf("%q: want OP=DURATION, like drs:DescribeJobs=200ms", v)
		}
		fault.Op, fault.Latency = op, sim.Duration(dur)
	case sim.FaultFailLaunch:
		fault.Servers = []string{v}
	case sim.FaultSlowLaunch:
		server, factor, ok := strings.Cut(v, "=")
		fault.Servers = []string{server}
		if ok {
			x, err := strconv.ParseFloat(factor, 64)
			if err != nil {
				return fmt.Errorf("%q: the factor after = must be a number", v)
			}
			fault.Factor = x
		}
	case sim.FaultHideInstance:
		fault.Instances = []string{v}
	}
	*f.faults = append(*f.faults, fault)
	return nil
}

func runSim(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "sim", "[flags]")
	addr := fs.String("addr", "127.0.0.1:4566", "address to listen on")
	seed := fs.Int64("seed", 1, "seed of the fleet, the IDs and the fault decisions")
	servers := fs.Int("servers", sim.DefaultServers, "source servers of the local account in "+sim.LocalRegion)
	speed := fs.Float64("speed", 1, "simulated time runs this many times faster than the wall clock")
	verbose := fs.Bool("v", false, "log every request")
	var faults []sim.Fault
	fs.Var(simFaults{sim.FaultThrottle, &faults}, "throttle", "throttle calls: OP[=RATE], e.g. drs:DescribeJobs=0.3 or '*' (repeatable)")
	fs.Var(simFaults{sim.FaultError, &faults}, "errors", "answer calls with 500s: OP[=RATE] (repeatable)")
	fs.Var(simFaults{sim.FaultDeny, &faults}, "deny", "deny calls: OP[=RATE] (repeatable)")
	fs.Var(simFaults{sim.FaultLatency, &faults}, "latency", "delay calls: OP=DURATION, e.g. ec2:*=300ms (repeatable)")
	fs.Var(simFaults{sim.FaultFailLaunch, &faults}, "fail-server", "fail launches of a source server, by ID or hostname (repeatable)")
	fs.Var(simFaults{sim.FaultSlowLaunch, &faults}, "slow-server", "slow down launches of a server: ID|HOSTNAME[=FACTOR], default factor 10 (repeatable)")
	fs.Var(simFaults{sim.FaultHideInstance, &faults}, "hide-instance", "hide recovered EC2 instances from EC2: instance ID, server ID or hostname (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	endpoint := "http://" + ln.Addr().String()
	s, err := sim.New(sim.Config{Seed: *seed, Servers: *servers, Speed: *speed, Faults: faults, Endpoint: endpoint, Logger: log})
	if err != nil {
		ln.Close()
		return usagef("%v", err)
	}
	defer s.Close()
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}

	log.Info("sim.started", "endpoint", endpoint, "seed", *seed, "servers", *servers, "speed", *speed, "faults", len(faults))
	fmt.Fprintf(e.stdout, `wavedr simulator listening on %[1]s
  local account %[2]s (%[3]s), target account %[4]s (%[5]s) via AssumeRole of
  %[6]s with external ID %[7]s

  export AWS_ENDPOINT_URL=%[1]s AWS_ACCESS_KEY_ID=sim AWS_SECRET_ACCESS_KEY=sim AWS_REGION=%[3]s
  aws --endpoint-url %[1]s drs describe-source-servers --region %[3]s
  aws --endpoint-url %[1]s sts get-caller-identity
  curl %[1]s/_sim/stats
`, endpoint, sim.LocalAccountID, sim.LocalRegion, sim.TargetAccountID, sim.TargetRegion, sim.TargetRoleARN, sim.TargetExternalID)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if serveErr := <-errc; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	log.Info("sim.stopped")
	return err
}
