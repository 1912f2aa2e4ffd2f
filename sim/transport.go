package sim

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// HTTPClient returns a client whose requests are answered by the simulator
// in-process, without a network or a port. Give it to an SDK together with
// Endpoint. It is safe for concurrent use and honours request contexts.
func (s *Simulator) HTTPClient() *http.Client {
	return &http.Client{Transport: &inProcess{h: s}}
}

// inProcess is an http.RoundTripper that calls a handler directly.
type inProcess struct{ h http.Handler }

func (t *inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx := r.Context()
	if r.Body != nil {
		defer r.Body.Close()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	req := r.Clone(ctx)
	if req.Body == nil {
		req.Body = http.NoBody
	}
	if req.Host == "" {
		req.Host = r.URL.Host
	}
	req.RequestURI = r.URL.RequestURI()
	req.RemoteAddr = "127.0.0.1:0"
	if req.ContentLength > 0 || req.Header.Get("Content-Length") != "" {
		req.Header.Set("Content-Length", strconv.FormatInt(req.ContentLength, 10))
	}
	rec := &recorder{header: http.Header{}}
	t.h.ServeHTTP(rec, req)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return rec.response(r), nil
}

// recorder collects a handler's answer.
type recorder struct {
	header  http.Header
	sent    http.Header
	status  int
	body    bytes.Buffer
	written bool
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	if w.written {
		return
	}
	w.written, w.status, w.sent = true, code, w.header.Clone()
}

func (w *recorder) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

func (w *recorder) response(r *http.Request) *http.Response {
	w.WriteHeader(http.StatusOK)
	body := w.body.Bytes()
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.sent,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}
}
