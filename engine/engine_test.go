package engine_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"wavedr"
	"wavedr/aws"
	"wavedr/engine"
	"wavedr/manifest"
	"wavedr/sim"
	"wavedr/store"
	"wavedr/store/storetest"
)

// harness is the real engine on a store, driving the in-process simulator
// through the AWS adapter, at a simulated clock 600 times faster than the
// wall clock (a 5-minute DRS launch takes half a second).
type harness struct {
	t   *testing.T
	db  *store.DB
	sim *sim.Simulator
	rec *aws.Client // the adapter the engine uses, for acting on DRS outside wavedr
	eng *engine.Engine
}

func newHarness(t *testing.T, d storetest.Dialect, cfg sim.Config) *harness {
	t.Helper()
	return newHarnessWith(t, d, cfg, nil)
}

// newHarnessWith is newHarness with a last say on the engine's
// configuration (hooks, intervals) before the engine opens.
func newHarnessWith(t *testing.T, d storetest.Dialect, cfg sim.Config, configure func(*engine.Config)) *harness {
	t.Helper()
	ctx := context.Background()
	if cfg.Speed == 0 && cfg.Clock == nil {
		cfg.Speed = 600
	}
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	rec, err := aws.New(ctx, aws.Config{
		HTTPClient:  s.HTTPClient(),
		Endpoint:    s.Endpoint(),
		Credentials: &aws.Credentials{AccessKeyID: "AKIDENGINETEST", SecretAccessKey: "secret"},
		Region:      sim.LocalRegion,
		RateLimit:   -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	db := d.Open(t)
	ecfg := engine.Config{
		DB: db, Recovery: rec, Now: s.Now,
		PollInterval: 100 * time.Millisecond, FindInterval: time.Second, RescueAfter: 5 * time.Second,
		Logger: testLogger(),
	}
	if configure != nil {
		configure(&ecfg)
	}
	eng, err := engine.Open(ctx, ecfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.StartWorkers(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = eng.StopWorkers(stop)
	})
	h := &harness{t: t, db: db, sim: s, rec: rec, eng: eng}
	h.apply("../examples/three-tier.yaml")
	return h
}

func testLogger() *slog.Logger {
	if os.Getenv("WAVEDR_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (h *harness) apply(path string) {
	h.t.Helper()
	f, err := os.Open(path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer f.Close()
	h.applyFrom(path, f)
}

// applyYAML applies a manifest written in the test.
func (h *harness) applyYAML(name, text string) {
	h.t.Helper()
	h.applyFrom(name, strings.NewReader(text))
}

func (h *harness) applyFrom(name string, r io.Reader) {
	h.t.Helper()
	m, err := manifest.Load(name, r)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx := context.Background()
	if err := h.db.InTx(ctx, func(tx *store.Tx) error { _, err := manifest.Apply(ctx, tx, m); return err }); err != nil {
		h.t.Fatal(err)
	}
}

// waitFor polls the stored execution until cond holds. The bound only
// guards against a hang; it is not a performance limit.
func (h *harness) waitFor(id, what string, cond func(*wavedr.Execution) bool) *wavedr.Execution {
	h.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ex, err := h.eng.Get(context.Background(), id)
		if err != nil {
			h.t.Fatal(err)
		}
		if cond(ex) {
			return ex
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("gave up waiting for %s: execution %s, waves %s", what, ex.Status, waveStatuses(ex))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waveStatuses(ex *wavedr.Execution) string {
	s := ""
	for _, w := range ex.Waves {
		s += w.Name + "=" + string(w.Status) + " "
	}
	return s
}

func TestThreeWaveDrill(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			h := newHarness(t, d, sim.Config{Seed: 1})
			ctx := context.Background()
			ex, err := h.eng.Start(ctx, engine.StartInput{Plan: "three-tier", Mode: wavedr.ModeDrill, InitiatedBy: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			if len(ex.Waves) != 3 || ex.Counts().Total != 10 {
				t.Fatalf("waves %d, servers %d; want 3 and 10", len(ex.Waves), ex.Counts().Total)
			}
			// The app wave has a pause gate: the drill waits there.
			paused := h.waitFor(ex.ID, "the gate before app", func(e *wavedr.Execution) bool { return e.Status == wavedr.ExecutionPaused })
			if paused.Pause == nil || paused.Pause.BeforeWave != "app" || paused.Wave("database").Status != wavedr.WaveCompleted {
				t.Fatalf("paused %+v, database %s", paused.Pause, paused.Wave("database").Status)
			}
			if _, err := h.eng.Resume(ctx, ex.ID, "bob"); err != nil {
				t.Fatal(err)
			}
			done := h.waitFor(ex.ID, "the end", func(e *wavedr.Execution) bool { return e.Status.IsTerminal() })
			if done.Status != wavedr.ExecutionCompleted {
				t.Fatalf("status %s: %s (%s)", done.Status, done.Reason, waveStatuses(done))
			}
			for _, w := range done.Waves {
				if len(w.Jobs) != 1 {
					t.Errorf("wave %s has %d jobs, want 1", w.Name, len(w.Jobs))
				}
				for _, s := range w.Servers {
					if s.Status != wavedr.ServerLaunched || s.EC2InstanceID == "" || s.InstanceType == "" || s.PrivateIP == "" || s.LaunchTime.IsZero() {
						t.Errorf("wave %s server %s: %s ec2=%q type=%q ip=%q launch=%v", w.Name, s.Hostname, s.Status, s.EC2InstanceID, s.InstanceType, s.PrivateIP, s.LaunchTime)
					}
				}
			}
			if got := h.sim.Stats()["drs:StartRecovery"].OK; got != 3 {
				t.Errorf("StartRecovery succeeded %d times, want 3 (one job per wave)", got)
			}
			// Clean up the drill.
			if _, err := h.eng.Terminate(ctx, ex.ID, "alice"); err != nil {
				t.Fatal(err)
			}
			clean := h.waitFor(ex.ID, "cleanup", func(e *wavedr.Execution) bool {
				return e.Cleanup.Status == wavedr.CleanupCompleted || e.Cleanup.Status == wavedr.CleanupFailed
			})
			if clean.Cleanup.Status != wavedr.CleanupCompleted || clean.Counts().Terminated != 10 {
				t.Fatalf("cleanup %s (%s), terminated %d", clean.Cleanup.Status, clean.Cleanup.Reason, clean.Counts().Terminated)
			}
		})
	}
}

func TestLaunchSettingsApplied(t *testing.T) {
	h := newHarness(t, storetest.SQLite, sim.Config{Seed: 1})
	ctx := context.Background()
	ex, err := h.eng.Start(ctx, engine.StartInput{Plan: "three-tier", Mode: wavedr.ModeDrill, InitiatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	h.waitFor(ex.ID, "the gate before app", func(e *wavedr.Execution) bool { return e.Status == wavedr.ExecutionPaused })
	if _, err := h.eng.Resume(ctx, ex.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	done := h.waitFor(ex.ID, "app launched", func(e *wavedr.Execution) bool { return e.Wave("app").Status.IsTerminal() })
	// The app-tier group of the example sets copyPrivateIp, copyTags,
	// STARTED and BASIC right-sizing.
	for _, s := range done.Wave("app").Servers {
		if s.PrivateIP != s.SourceIP {
			t.Errorf("%s: recovered IP %s, source IP %s: copyPrivateIp not applied", s.Hostname, s.PrivateIP, s.SourceIP)
		}
	}
	if n := h.sim.Stats()["drs:UpdateLaunchConfiguration"].OK; n != 4 {
		t.Errorf("UpdateLaunchConfiguration %d times, want 4 (one per app server)", n)
	}
}
