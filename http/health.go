package http

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"wavedr"
	"wavedr/store"
)

// ReadyCheckTimeout bounds each readiness check, so that a database that
// hangs makes the process unready instead of stalling the probe.
const ReadyCheckTimeout = 2 * time.Second

// Readiness returns the readiness check of a process on the store: the
// database answers a query, and the job queue's tables (River's) can be
// read, each within ReadyCheckTimeout. Its error is EUNAVAILABLE with one
// detail per failed check, field "database" or "jobQueue", in words safe
// to show an unauthenticated prober; the causes go to logger (nil means
// slog.Default()).
func Readiness(db *store.DB, logger *slog.Logger) func(ctx context.Context) error {
	if logger == nil {
		logger = slog.Default()
	}
	checks := []struct {
		name, failure string
		check         func(context.Context) error
	}{
		{"database", "does not answer", db.Ping},
		{"jobQueue", "its tables cannot be read", db.CheckJobQueue},
	}
	return func(ctx context.Context) error {
		var p wavedr.Problems
		for _, c := range checks {
			cctx, cancel := context.WithTimeout(ctx, ReadyCheckTimeout)
			err := c.check(cctx)
			cancel()
			switch {
			case err == nil:
				continue
			case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
				p.Add(c.name, "%s within %s", c.failure, ReadyCheckTimeout)
			default:
				p.Add(c.name, "%s", c.failure)
			}
			logger.Warn("ready.check_failed", "check", c.name, "err", err)
		}
		if len(p) == 0 {
			return nil
		}
		return &wavedr.Error{Code: wavedr.EUNAVAILABLE, Message: "not ready", Details: p}
	}
}

// HealthHandler answers GET /healthz: 200 "ok" for as long as the process
// serves HTTP. It checks nothing else, so that a database outage makes
// replicas unready (/readyz) rather than restarted.
func HealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("ok\n"))
	})
}

// ReadyHandler answers GET /readyz with ready (nil: always ready): 200
// {"status":"ready"}, or 503 in the API's error shape with a detail per
// failed check.
func ReadyHandler(ready func(ctx context.Context) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if ready != nil {
			if err := ready(r.Context()); err != nil {
				if wavedr.ErrorCode(err) != wavedr.EUNAVAILABLE {
					err = &wavedr.Error{Code: wavedr.EUNAVAILABLE, Message: "not ready: " + wavedr.ErrorMessage(err)}
				}
				Error(w, r, err)
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}
