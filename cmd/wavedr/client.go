package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"wavedr"
	wdrhttp "wavedr/http"
)

// The client commands (groups, plans, servers, executions, watch, tokens,
// audit, and apply with a server) talk to `wavedr serve` over its HTTP API.
// Their grammar is `wavedr NOUN VERB [ARG] [flags]`; flags may follow the
// arguments.

// Defaults of the client.
const (
	clientServerDefault  = "http://" + serveAddrDefault
	clientTimeoutDefault = 30 * time.Second
	// clientMaxAnswer bounds an answer read into memory; the largest lists
	// are pages of at most wavedr.MaxPageSize items.
	clientMaxAnswer = 64 << 20
)

// clientFlags are the flags every client command takes.
type clientFlags struct {
	server    string
	tokenFile string
	dataDir   *string // shared with apply's --data-dir
	output    string
	timeout   time.Duration
	verbose   bool
}

// register adds the client flags to fs, --data-dir included.
func (cf *clientFlags) register(fs *flag.FlagSet) {
	cf.dataDir = new(string)
	fs.StringVar(cf.dataDir, "data-dir", "", "the data directory of a 'wavedr serve' on this machine, whose admin-token file is used when no token is given (default $WAVEDR_DATA_DIR, else $XDG_DATA_HOME/wavedr or ~/.local/share/wavedr)")
	cf.registerRemote(fs)
}

// registerRemote adds the client flags but --data-dir, for a command that
// has its own (apply); set cf.dataDir to it.
func (cf *clientFlags) registerRemote(fs *flag.FlagSet) {
	fs.StringVar(&cf.server, "server", "", "base URL of the wavedr API (default $WAVEDR_SERVER, else "+clientServerDefault+")")
	fs.StringVar(&cf.tokenFile, "token-file", "", "read the API token from this file (default $WAVEDR_TOKEN; tokens are never flags, which 'ps' would show)")
	fs.StringVar(&cf.output, "o", "text", "output format: text, or json (the API's answer as it is, indented)")
	fs.DurationVar(&cf.timeout, "timeout", clientTimeoutDefault, "give up on a request that takes longer than this")
	fs.BoolVar(&cf.verbose, "v", false, "say on standard error which server and token are used, and each request")
}

// clientHelp is the paragraph on the client flags shown in the help of
// each client command.
const clientHelp = `The API is at --server, else $WAVEDR_SERVER, else ` + clientServerDefault + `.
The token is read from --token-file, else $WAVEDR_TOKEN, else, when the
server is on this machine (loopback), from the admin-token file that
'wavedr serve' writes in its data directory. -v says which was used.
Exit status: 0 done, 1 failed or unreachable, 2 usage, 3 invalid,
4 conflict, 5 not found, 6 not authenticated or not allowed.`

// newClientFlagSet returns the flag set of a client verb with the client
// flags, and a help text of synopsis, about and clientHelp.
func newClientFlagSet(e *env, name, synopsis, about string) (*flag.FlagSet, *clientFlags) {
	fs := newFlagSet(e, name, synopsis)
	cf := &clientFlags{}
	cf.register(fs)
	setHelp(e, fs, name, synopsis, about+"\n\n"+clientHelp)
	return fs, cf
}

// setHelp makes fs's usage print the synopsis, the text, then the flags.
func setHelp(e *env, fs *flag.FlagSet, name, synopsis, text string) {
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: wavedr %s %s\n\n%s\n\nflags:\n", name, synopsis, strings.TrimSpace(text))
		fs.PrintDefaults()
	}
}

// parse parses the flags, wherever they are among the arguments, checks
// the client flags and that there are n positional arguments (named by
// what, for the message), and returns them.
func (cf *clientFlags) parse(fs *flag.FlagSet, args []string, n int, what string) ([]string, error) {
	pos, err := opParseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	switch {
	case cf.output != "text" && cf.output != "json":
		return nil, usagef("-o must be text or json")
	case cf.timeout <= 0:
		return nil, usagef("--timeout must be positive")
	case n == 0 && len(pos) > 0:
		return nil, usagef("unexpected arguments: %s", strings.Join(pos, " "))
	case n > 0 && len(pos) != n:
		return nil, usagef("give %s", what)
	}
	return pos, nil
}

// serverURL returns the API's base URL: --server, else $WAVEDR_SERVER,
// else the address `wavedr serve` listens on by default.
func (cf *clientFlags) serverURL(e *env) (*url.URL, error) {
	raw := cf.server
	if raw == "" {
		raw = e.getenv("WAVEDR_SERVER")
	}
	if raw == "" {
		raw = clientServerDefault
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw // "host:port", as --addr of serve is written
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, usagef("the server must be a URL like http://127.0.0.1:8080 or https://wavedr.example.com, not %q", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// client is a connection to the API for one command.
type client struct {
	e       *env
	base    string // the server's URL, without a trailing slash
	token   string
	http    *http.Client // bounded by --timeout
	stream  *http.Client // unbounded, for the event stream
	timeout time.Duration
	json    bool
	verbose bool
}

// client resolves the server and the token and returns the client.
func (cf *clientFlags) client(e *env) (*client, error) {
	u, err := cf.serverURL(e)
	if err != nil {
		return nil, err
	}
	token, source, err := cf.resolveToken(e, u)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: min(cf.timeout, 10*time.Second), KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = cf.timeout
	c := &client{
		e: e, base: u.String(), token: token, timeout: cf.timeout,
		http: &http.Client{Transport: tr, Timeout: cf.timeout}, stream: &http.Client{Transport: tr},
		json: cf.output == "json", verbose: cf.verbose,
	}
	c.logf("server %s; token %s", c.base, source)
	return c, nil
}

// resolveToken returns the token and, for -v, where it came from.
func (cf *clientFlags) resolveToken(e *env, u *url.URL) (token, source string, err error) {
	if cf.tokenFile != "" {
		t, err := readTokenFile(cf.tokenFile)
		return t, "from --token-file " + cf.tokenFile, err
	}
	if t := strings.TrimSpace(e.getenv("WAVEDR_TOKEN")); t != "" {
		return t, "from $WAVEDR_TOKEN", nil
	}
	if !isLoopback(u.Hostname()) {
		return "", "none (no --token-file or $WAVEDR_TOKEN)", nil
	}
	sf := storeFlags{dataDir: *cf.dataDir}
	dir, err := sf.dataDirectory(e)
	if err != nil {
		return "", "none (no --token-file, $WAVEDR_TOKEN or data directory)", nil
	}
	path := filepath.Join(dir, wdrhttp.AdminTokenFile)
	t, err := readTokenFile(path)
	if err != nil {
		// Not an error: the server may not need this machine's file.
		return "", fmt.Sprintf("none (no --token-file or $WAVEDR_TOKEN; %v)", err), nil
	}
	return t, "from the bootstrap file " + path, nil
}

func readTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	t := strings.TrimSpace(string(b))
	if t == "" || strings.ContainsAny(t, " \t\r\n") {
		return "", fmt.Errorf("%s does not hold one token", path)
	}
	return t, nil
}

// isLoopback reports whether host is this machine: only then may the
// admin-token file of a local `wavedr serve` be the one to use.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *client) logf(format string, args ...any) {
	if c.verbose {
		fmt.Fprintf(c.e.stderr, "wavedr: "+format+"\n", args...)
	}
}

// close releases the client's idle connections.
func (c *client) close() { c.http.CloseIdleConnections() }

// newRequest returns a request of the API path (with its query).
func (c *client) newRequest(ctx context.Context, method, path string, q url.Values, body io.Reader) (*http.Request, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("User-Agent", "wavedr-cli")
	return req, nil
}

// call sends a request and returns the answer's body when its status is
// 2xx; any other answer is returned as the API's *wavedr.Error.
func (c *client) call(ctx context.Context, method, path string, q url.Values, body []byte, ctype string) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := c.newRequest(ctx, method, path, q, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, clientMaxAnswer))
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	c.logf("%s %s → %d (%s, request %s)", method, req.URL.RequestURI(), resp.StatusCode,
		time.Since(start).Round(time.Millisecond), resp.Header.Get(wdrhttp.RequestIDHeader))
	if resp.StatusCode/100 != 2 {
		return nil, c.answerError(resp, b)
	}
	return b, nil
}

// get GETs path and returns the body.
func (c *client) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	return c.call(ctx, http.MethodGet, path, q, nil, "")
}

// send sends v as JSON (nil: no body) and returns the answer's body.
func (c *client) send(ctx context.Context, method, path string, q url.Values, v any) ([]byte, error) {
	if v == nil {
		return c.call(ctx, method, path, q, nil, "")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return c.call(ctx, method, path, q, b, "application/json")
}

// getInto GETs path and decodes the answer into out.
func (c *client) getInto(ctx context.Context, path string, q url.Values, out any) ([]byte, error) {
	b, err := c.get(ctx, path, q)
	if err != nil {
		return nil, err
	}
	return b, c.decode(b, out)
}

// decode reads an answer; one that is not JSON is not from wavedr.
func (c *client) decode(b []byte, out any) error {
	if err := json.Unmarshal(b, out); err != nil {
		return wavedr.Errorf(wavedr.EUNAVAILABLE, "the answer of %s is not the wavedr API's (%v); is --server right?", c.base, err)
	}
	return nil
}

// unexpected is the error of an answer that decodes but lacks what
// every answer of the route holds.
func (c *client) unexpected(what string) error {
	return wavedr.Errorf(wavedr.EUNAVAILABLE, "the answer of %s holds no %s; is --server the wavedr API?", c.base, what)
}

// transportError says why no answer came: the server is down or the
// address wrong, it was too slow, or the user interrupted.
func (c *client) transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return wavedr.Errorf(wavedr.EUNAVAILABLE, "no answer from wavedr at %s within %s (--timeout)", c.base, c.timeout)
	}
	return wavedr.Errorf(wavedr.EUNAVAILABLE, "cannot reach wavedr at %s: %v; is 'wavedr serve' running?", c.base, err)
}

// answerError turns an answer that is not a success into the API's error,
// so that the exit status follows its code. An answer not in the API's
// error shape (a proxy's page) keeps its status in the message.
func (c *client) answerError(resp *http.Response, b []byte) error {
	var body struct {
		Error *wavedr.Error `json:"error"`
	}
	if json.Unmarshal(b, &body) != nil || body.Error == nil || body.Error.Code == "" {
		code := wavedr.EUNAVAILABLE
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			code = wavedr.EUNAUTHORIZED
		case http.StatusForbidden:
			code = wavedr.EFORBIDDEN
		}
		snippet := strings.Join(strings.Fields(string(b)), " ")
		if len(snippet) > 200 {
			snippet = snippet[:200] + "…"
		}
		return &wavedr.Error{Code: code, Message: fmt.Sprintf("%s answered %s, not in the wavedr API's form (is --server right?): %s",
			c.base, resp.Status, snippet)}
	}
	e := body.Error
	if e.Code == wavedr.EUNAUTHORIZED && c.token == "" {
		e.Message += " (no token was sent: set $WAVEDR_TOKEN or --token-file)"
	} else if e.Code == wavedr.EUNAUTHORIZED && !c.verbose {
		e.Message += " (-v says which token was sent)"
	}
	return e
}

// printRaw prints an answer as it is, indented.
func (c *client) printRaw(b []byte) error {
	var out bytes.Buffer
	if json.Indent(&out, bytes.TrimSpace(b), "", "  ") != nil {
		return c.decode(b, new(any)) // says the answer is not JSON
	}
	out.WriteByte('\n')
	_, err := c.e.stdout.Write(out.Bytes())
	return err
}

// printJSON prints v as indented JSON (for the few outputs that are not
// one answer of the API).
func (c *client) printJSON(v any) error { return writeIndented(c.e.stdout, v) }

func writeIndented(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// clientList is the items of a list, read page after page.
type clientList struct {
	Items []json.RawMessage `json:"items"`
	// Next is the cursor of the rest when --limit stopped the reading.
	Next string `json:"next,omitempty"`
	// rest are the other fields of the last page (servers: unreachable).
	rest map[string]json.RawMessage
}

// listAll reads the list at path, following the next cursor, until its
// end or until limit items (0: no limit).
func (c *client) listAll(ctx context.Context, path string, q url.Values, limit int) (*clientList, error) {
	out := &clientList{Items: []json.RawMessage{}}
	if q == nil {
		q = url.Values{}
	}
	for {
		size := wavedr.MaxPageSize
		if limit > 0 {
			size = min(size, limit-len(out.Items))
		}
		q.Set("limit", strconv.Itoa(size))
		b, err := c.get(ctx, path, q)
		if err != nil {
			return nil, err
		}
		var page map[string]json.RawMessage
		if err := c.decode(b, &page); err != nil {
			return nil, err
		}
		var items []json.RawMessage
		var next string
		if err := c.decode(page["items"], &items); err != nil {
			return nil, err
		}
		if raw, ok := page["next"]; ok {
			if err := c.decode(raw, &next); err != nil {
				return nil, err
			}
		}
		delete(page, "items")
		delete(page, "next")
		out.Items, out.rest = append(out.Items, items...), page
		if next == "" {
			return out, nil
		}
		if limit > 0 && len(out.Items) >= limit {
			out.Next = next
			return out, nil
		}
		q.Set("cursor", next)
	}
}

// decodeItems decodes the items of l into out, a pointer to a slice.
func (c *client) decodeItems(l *clientList, out any) error {
	b, err := json.Marshal(l.Items)
	if err != nil {
		return err
	}
	return c.decode(b, out)
}

// printList prints l as JSON: the items of every page read, with the
// cursor of the rest and the other fields of the last page.
func (c *client) printList(l *clientList) error {
	doc := map[string]any{"items": l.Items}
	for k, v := range l.rest {
		doc[k] = v
	}
	if l.Next != "" {
		doc["next"] = l.Next
	}
	return c.printJSON(doc)
}

// more tells, after a table, that --limit left items unread.
func (c *client) more(l *clientList) {
	if l.Next != "" {
		fmt.Fprintf(c.e.stderr, "(%d shown; more with a higher --limit, or --limit 0 for all)\n", len(l.Items))
	}
}

// table returns a tab writer for aligned columns on stdout.
func (c *client) table() *tabwriter.Writer { return newTable(c.e.stdout) }

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// clientTime writes a time for a table: UTC to the second, "-" when unset.
func clientTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}

// parseSince reads a lower time bound: RFC 3339, a date, or an age like
// 24h or 7d before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, ok := parseDays(s); ok {
		return now.Add(-d), nil
	}
	return parseTime(s)
}

// parseExpiry reads when a token expires: a lifetime like 30d or 12h, or
// a time (RFC 3339 or a date).
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if d, ok := parseDays(s); ok {
		return now.Add(d), nil
	}
	return parseTime(s)
}

// parseDays reads a positive duration, in Go's form or as a number of
// days ("30d"), which Go's form lacks.
func parseDays(s string) (time.Duration, bool) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 {
			return 0, false
		}
		return time.Duration(days) * 24 * time.Hour, true
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d > 0
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (24h, 7d) nor a time (2026-04-01 or 2026-04-01T12:00:00Z)", s)
}

// verbGroup is a command made of verbs: `wavedr NOUN VERB ...`.
type verbGroup struct {
	noun    string
	summary string
	verbs   []clientVerb
	// def is the verb of `wavedr NOUN` with no verb, or "" for none.
	def string
}

// clientVerb is one verb of a noun.
type clientVerb struct {
	name     string
	synopsis string // arguments and verb flags, after "NOUN VERB"
	summary  string
	run      func(ctx context.Context, e *env, name string, args []string) error
}

// register adds the noun as a command.
func (g verbGroup) register() {
	register(command{name: g.noun, summary: g.summary, run: g.run})
}

func (g verbGroup) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: wavedr %s VERB [ARG] [flags]\n\n%s\n\nverbs:\n", g.noun, g.summary)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, v := range g.verbs {
		fmt.Fprintf(tw, "  %s %s\t%s\n", v.name, v.synopsis, v.summary)
	}
	tw.Flush()
	if g.def != "" {
		fmt.Fprintf(w, "\n'wavedr %s' alone is 'wavedr %s %s'.\n", g.noun, g.noun, g.def)
	}
	fmt.Fprintf(w, "\n%s\n\nRun 'wavedr %s VERB -h' for the flags of one verb.\n", clientHelp, g.noun)
}

func (g verbGroup) run(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		g.usage(e.stderr)
		return nil
	}
	name := g.def
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if name == "" {
		g.usage(e.stderr)
		return usagef("name a verb")
	}
	for _, v := range g.verbs {
		if v.name == name {
			return v.run(ctx, e, g.noun+" "+v.name, args)
		}
	}
	g.usage(e.stderr)
	return usagef("unknown verb %q", name)
}

// runList is what every list command does after declaring its own flags:
// a --limit flag, the arguments, the query (from query, after parsing; nil
// for none), every page of path (or up to --limit), and either the API's
// JSON or the decoded items handed to table.
func runList[T any](ctx context.Context, e *env, fs *flag.FlagSet, cf *clientFlags, args []string, noun, path string,
	query func() (url.Values, error), table func(c *client, items []T, l *clientList) error) error {
	limit := fs.Int("limit", 0, "stop after this many "+noun+" (0: all)")
	if _, err := cf.parse(fs, args, 0, ""); err != nil {
		return err
	}
	if *limit < 0 {
		return usagef("--limit must not be negative")
	}
	var q url.Values
	if query != nil {
		var err error
		if q, err = query(); err != nil {
			return err
		}
	}
	c, err := cf.client(e)
	if err != nil {
		return err
	}
	defer c.close()
	l, err := c.listAll(ctx, path, q, *limit)
	if err != nil {
		return err
	}
	if c.json {
		return c.printList(l)
	}
	var items []T
	if err := c.decodeItems(l, &items); err != nil {
		return err
	}
	if err := table(c, items, l); err != nil {
		return err
	}
	c.more(l)
	return nil
}

// setSince puts a --since value (a time or an age) into q.
func setSince(q url.Values, since string) error {
	if since == "" {
		return nil
	}
	t, err := parseSince(since, time.Now())
	if err != nil {
		return usagef("--since: %v", err)
	}
	q.Set("since", t.UTC().Format(time.RFC3339))
	return nil
}
