package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"

	"wavedr"
	"wavedr/manifest"
)

// applyAnswer is the answer of POST /v1/apply.
type applyAnswer struct {
	DryRun  bool              `json:"dryRun"`
	Summary string            `json:"summary"`
	Changes []manifest.Change `json:"changes"`
}

// printApplyJSON prints a local apply's result in the API's form.
func printApplyJSON(e *env, res *manifest.Result, dryRun bool) error {
	return writeIndented(e.stdout, applyAnswer{DryRun: dryRun, Summary: res.Summary(), Changes: res.Changes})
}

// applySource is one file of an apply through the API: its name and where
// it starts in the request body, to give the server's problems back their
// file and line.
type applySource struct {
	name  string
	line  int // the body's line where the file begins (1-based)
	lines int
}

// applyRemote sends the files to POST /v1/apply as one YAML body, so that
// they are applied in one transaction as a local apply does. Their form is
// checked here first, where the problems can name the files.
func applyRemote(ctx context.Context, e *env, cf *clientFlags, files []string, dryRun bool) error {
	if cf.timeout <= 0 {
		return usagef("--timeout must be positive")
	}
	var body bytes.Buffer
	var sources []applySource
	var objects []*manifest.Object
	var problems []wavedr.FieldError
	stdinRead := false
	for i, name := range files {
		r, display, closeFn, err := openInput(e, name, &stdinRead)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(io.LimitReader(r, manifest.MaxSize+1))
		closeFn()
		if err != nil {
			return fmt.Errorf("read %s: %w", display, err)
		}
		m, err := manifest.Load(display, bytes.NewReader(data))
		if m == nil {
			return err
		}
		problems = append(problems, problemDetails(err)...)
		objects = append(objects, m.Objects...)
		if i > 0 {
			body.WriteString("---\n")
		}
		src := applySource{name: display, line: bytes.Count(body.Bytes(), []byte("\n")) + 1}
		body.Write(data)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			body.WriteByte('\n')
		}
		src.lines = bytes.Count(body.Bytes(), []byte("\n")) + 1 - src.line
		sources = append(sources, src)
	}
	if len(problems) > 0 {
		return reportProblems(e, problems)
	}
	c, err := cf.client(e)
	if err != nil {
		return err
	}
	defer c.close()
	q := url.Values{}
	if dryRun {
		q.Set("dryRun", "true")
	}
	b, err := c.call(ctx, "POST", "/v1/apply", q, body.Bytes(), "application/yaml")
	var we *wavedr.Error
	if errors.As(err, &we) && we.Code == wavedr.EINVALID && len(we.Details) > 0 {
		details := make([]wavedr.FieldError, len(we.Details))
		for i, d := range we.Details {
			details[i] = wavedr.FieldError{Field: relocate(d.Field, sources, objects), Rule: d.Rule}
		}
		fmt.Fprintf(e.stderr, "%s refused the files: %s\n", c.base, we.Message)
		return reportProblems(e, details)
	}
	if err != nil {
		return err
	}
	if c.json {
		return c.printRaw(b)
	}
	var a applyAnswer
	if err := c.decode(b, &a); err != nil {
		return err
	}
	printResult(e, &manifest.Result{Changes: a.Changes}, a.DryRun)
	return nil
}

// requestLocation is the location the server gives a problem of the body:
// "request#DOC (Kind name) line N: field".
var requestLocation = regexp.MustCompile(`^request#\d+((?: \([^)]*\))?)(?: line (\d+))?`)

// relocate rewrites the server's location of a problem as the files'
// ("three-tier.yaml#4 (RecoveryPlan three-tier) line 9: ..."): the line
// tells the file, the kind and name the document.
func relocate(field string, sources []applySource, objects []*manifest.Object) string {
	m := requestLocation.FindStringSubmatchIndex(field)
	if m == nil {
		return field
	}
	object := field[m[2]:m[3]]
	file, doc, line := "", 0, 0
	if m[4] >= 0 {
		n, _ := strconv.Atoi(field[m[4]:m[5]])
		for _, s := range sources {
			if n >= s.line && n < s.line+s.lines {
				file, line = s.name, n-s.line+1
			}
		}
	}
	for _, o := range objects {
		if object == fmt.Sprintf(" (%s %s)", o.Kind, o.Name()) && (file == "" || file == o.File) {
			file, doc = o.File, o.Doc
			break
		}
	}
	if file == "" {
		return field
	}
	loc := file
	if doc > 0 {
		loc += "#" + strconv.Itoa(doc)
	}
	loc += object
	if line > 0 {
		loc += " line " + strconv.Itoa(line)
	}
	return loc + field[m[1]:]
}
