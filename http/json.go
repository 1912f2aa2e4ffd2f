package http

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"wavedr"
)

// MaxJSONBody is the largest JSON request body, in bytes.
const MaxJSONBody = 1 << 20

// maxBodyProblems bounds the details of one refused body: enough to fix
// it, not a second copy of a hostile one.
const maxBodyProblems = 20

// writeJSON answers v as JSON with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Every answered type marshals; this is a bug, answered as one.
		b = []byte(`{"error":{"code":"internal","message":"internal error: the answer could not be encoded"}}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// bodyRule says what a JSON body may hold beyond its type's fields.
type bodyRule int

const (
	bodyRequired bodyRule = iota // an empty body is refused
	bodyOptional                 // an empty body decodes as {}
)

// readBody reads at most limit bytes of the request body; a larger body
// is 413 naming the limit.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, &statusError{status: http.StatusRequestEntityTooLarge,
			err: &wavedr.Error{Code: wavedr.EINVALID, Message: "request body too large",
				Details: []wavedr.FieldError{{Rule: fmt.Sprintf("must be at most %d bytes", limit)}}}}
	case err != nil:
		return nil, invalidf("", "the request body could not be read: %v", err)
	}
	return b, nil
}

// decodeJSON reads the request body into v strictly: a JSON object of
// exactly v's field names (camelCase, case-sensitive), each of its type,
// nothing after it, at most MaxJSONBody bytes. It returns the names of the
// top-level fields present, so a handler can tell an absent field from a
// zero one. Every problem found is named with its field path.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, rule bodyRule) (map[string]bool, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, &statusError{status: http.StatusUnsupportedMediaType,
				err: &wavedr.Error{Code: wavedr.EINVALID, Message: "unsupported request body type",
					Details: []wavedr.FieldError{{Field: "Content-Type", Rule: fmt.Sprintf("must be application/json, not %q", ct)}}}}
		}
	}
	b, err := readBody(w, r, MaxJSONBody)
	if err != nil {
		return nil, err
	}
	return unmarshalStrict(b, v, rule)
}

// unmarshalStrict is decodeJSON on a body already read.
func unmarshalStrict(b []byte, v any, rule bodyRule) (map[string]bool, error) {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		if rule == bodyOptional {
			return map[string]bool{}, nil
		}
		return nil, invalidf("", "a JSON object is required in the request body")
	}
	if err := checkSyntax(trimmed); err != nil {
		return nil, err
	}
	if trimmed[0] != '{' {
		return nil, invalidf("", "the request body must be a JSON object")
	}
	c := checker{}
	keys := c.check(trimmed, reflect.TypeOf(v).Elem(), "")
	if len(c.problems) > 0 {
		return nil, c.problems.Err("request body")
	}
	if err := json.Unmarshal(trimmed, v); err != nil {
		// The checker accepts only what decodes; a failure here is a
		// shape it does not know, still the client's input.
		return nil, invalidf("", "the request body does not decode: %v", err)
	}
	return keys, nil
}

// checkSyntax refuses a body that is not exactly one JSON value.
func checkSyntax(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return invalidf("", "the request body is not valid JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
		case errors.Is(err, io.ErrUnexpectedEOF):
			return invalidf("", "the request body is not valid JSON: it ends in the middle of a value")
		}
		return invalidf("", "the request body is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalidf("", "the request body must hold one JSON value; more data follows it")
	}
	return nil
}

// checker walks a syntactically valid JSON value along the Go type it is
// to be decoded into and records every field that is unknown, repeated or
// of the wrong type, with its path ("waves[1].deadline"). encoding/json
// itself names neither the index of a list element nor the path of an
// unknown field, and it matches field names without regard to case.
type checker struct {
	problems wavedr.Problems
}

func (c *checker) add(field, rule string, args ...any) {
	if len(c.problems) < maxBodyProblems {
		c.problems.Add(field, rule, args...)
	}
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// check checks raw against t and, for an object, returns its keys.
func (c *checker) check(raw []byte, t reflect.Type, path string) map[string]bool {
	isNull := string(raw) == "null"
	if t.Kind() == reflect.Pointer {
		if isNull {
			return nil
		}
		t = t.Elem()
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(jsonUnmarshaler) || (pt.Implements(textUnmarshaler) && raw[0] == '"') {
		if isNull {
			c.add(path, "must not be null")
			return nil
		}
		if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
			c.add(path, "%s", unmarshalRule(err, t))
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		return c.object(raw, path, func(key string) (reflect.Type, bool) {
			f, ok := jsonField(t, key)
			return f, ok
		})
	case reflect.Map:
		if isNull {
			return nil
		}
		if t.Key().Kind() != reflect.String {
			c.add(path, "is not accepted")
			return nil
		}
		c.object(raw, path, func(string) (reflect.Type, bool) { return t.Elem(), true })
	case reflect.Slice, reflect.Array:
		if isNull {
			return nil
		}
		c.list(raw, t.Elem(), path)
	case reflect.String:
		var s string
		if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			c.add(path, "must be a string")
		} else if strings.ContainsRune(s, 0) {
			c.add(path, "must not contain NUL characters")
		}
	case reflect.Bool:
		if string(raw) != "true" && string(raw) != "false" {
			c.add(path, "must be true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if _, err := strconv.ParseInt(string(raw), 10, t.Bits()); err != nil {
			c.add(path, "must be an integer")
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if _, err := strconv.ParseUint(string(raw), 10, t.Bits()); err != nil {
			c.add(path, "must be a non-negative integer")
		}
	case reflect.Float32, reflect.Float64:
		if _, err := strconv.ParseFloat(string(raw), t.Bits()); err != nil || !isNumber(raw) {
			c.add(path, "must be a number")
		}
	case reflect.Interface:
	default:
		c.add(path, "is not accepted")
	}
	return nil
}

func isNumber(raw []byte) bool { return raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') }

// object checks the members of a JSON object; field says the type of a
// member, or false when the member is unknown.
func (c *checker) object(raw []byte, path string, field func(string) (reflect.Type, bool)) map[string]bool {
	if raw[0] != '{' {
		c.add(path, "must be an object")
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	_, _ = dec.Token() // {
	keys := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			c.add(path, "is not a valid object")
			return keys
		}
		key, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			c.add(path, "is not a valid object")
			return keys
		}
		shown := key
		if len(shown) > 64 {
			shown = strings.ToValidUTF8(shown[:64], "") + "…"
		}
		fp := wavedr.JoinField(path, shown)
		if strings.ContainsRune(key, 0) {
			c.add(fp, "must not contain NUL characters")
			continue
		}
		if keys[key] {
			c.add(fp, "is given twice")
			continue
		}
		keys[key] = true
		t, ok := field(key)
		if !ok {
			c.add(fp, "is not a known field")
			continue
		}
		c.check(value, t, fp)
	}
	return keys
}

func (c *checker) list(raw []byte, elem reflect.Type, path string) {
	if raw[0] != '[' {
		c.add(path, "must be a list")
		return
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	_, _ = dec.Token() // [
	for i := 0; dec.More(); i++ {
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			c.add(path, "is not a valid list")
			return
		}
		c.check(value, elem, wavedr.Indexed(path, i))
	}
}

// jsonField returns the type of the field of struct t whose JSON name is
// exactly key, looking into embedded structs as encoding/json does.
func jsonField(t reflect.Type, key string) (reflect.Type, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				if ft, ok := jsonField(et, key); ok {
					return ft, true
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f.Type, true
		}
	}
	return nil, false
}

// unmarshalRule turns the error of a type's own decoder into a rule.
func unmarshalRule(err error, t reflect.Type) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if t.PkgPath() == "time" && t.Name() == "Time" {
			return "must be a time in RFC 3339 form, like 2026-04-01T12:00:00Z"
		}
		return "must be a " + jsonTypeName(te.Type)
	}
	if t.PkgPath() == "time" && t.Name() == "Time" {
		return "must be a time in RFC 3339 form, like 2026-04-01T12:00:00Z"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return "number"
}
