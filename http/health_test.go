package http

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"wavedr"
	"wavedr/store/storetest"
)

func TestHealthz(t *testing.T) {
	rec := httptest.NewRecorder()
	HealthHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != "ok\n" {
		t.Fatalf("GET /healthz = %d %q", rec.Code, rec.Body)
	}
}

func TestReadyz(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			quiet := slog.New(slog.DiscardHandler)

			// Ready once the job engine has created its tables.
			ready := ReadyHandler(Readiness(openWithJobQueue(t, d), quiet))
			if code, body := getReadyz(t, ready); code != http.StatusOK || !strings.Contains(body, `"ready"`) {
				t.Fatalf("ready store: %d %s", code, body)
			}

			// A store without River's tables: the job queue check fails.
			db := d.Open(t)
			wantUnready(t, ReadyHandler(Readiness(db, quiet)), "jobQueue")

			// A closed store: both fail.
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			wantUnready(t, ReadyHandler(Readiness(db, quiet)), "database", "jobQueue")
		})
	}
	// Without a check, always ready; another error is still a 503.
	if code, _ := getReadyz(t, ReadyHandler(nil)); code != http.StatusOK {
		t.Fatalf("no check: %d", code)
	}
	if code, _ := getReadyz(t, ReadyHandler(func(ctx context.Context) error { return io.EOF })); code != http.StatusServiceUnavailable {
		t.Fatalf("failing check: %d", code)
	}
}

func getReadyz(t *testing.T, h http.Handler) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	return rec.Code, rec.Body.String()
}

// wantUnready checks a 503 whose details name exactly the failed checks.
func wantUnready(t *testing.T, h http.Handler, checks ...string) {
	t.Helper()
	code, body := getReadyz(t, h)
	var b struct{ Error wavedr.Error }
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatalf("readyz body %s: %v", body, err)
	}
	var failed []string
	for _, d := range b.Error.Details {
		failed = append(failed, d.Field)
	}
	if code != http.StatusServiceUnavailable || b.Error.Code != wavedr.EUNAVAILABLE ||
		strings.Join(failed, ",") != strings.Join(checks, ",") {
		t.Fatalf("readyz = %d %s, want 503 naming %v", code, body, checks)
	}
}
