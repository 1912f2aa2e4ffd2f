package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"wavedr"
)

// MaxSize is the largest file Load reads, in bytes. Plans are small; the
// limit keeps a mistaken or hostile input from using much memory.
const MaxSize = 4 << 20

// Load reads the YAML documents of the file name from r: each document is
// an Account, a ProtectionGroup or a RecoveryPlan, chosen by its kind
// field. Empty documents are ignored; a file without any document is
// invalid.
//
// Load checks the shape of each document (known kind, known fields, the
// type of each value). It reports every problem of every document in one
// EINVALID *wavedr.Error (see the package documentation for the form of
// its details); the rules of the objects themselves are checked by
// Validate. With an EINVALID error Load still returns the manifest of the
// objects it could read, and remembers the problems: Validate reports them
// again together with the others, in document order, so that a user sees
// every problem at once; Apply refuses such a manifest. An error reading r
// returns no manifest.
func Load(name string, r io.Reader) (*Manifest, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	m := &Manifest{}
	var ps problems
	if len(data) > MaxSize {
		ps.add(problem{file: name, rule: fmt.Sprintf("is larger than %d bytes", MaxSize)})
	} else {
		readDocuments(name, data, m, &ps)
	}
	if len(m.Objects) == 0 && len(ps) == 0 {
		ps.add(problem{file: name, rule: "has no document (a YAML file of Account, ProtectionGroup and RecoveryPlan documents)"})
	}
	m.loadProblems = ps
	return m, ps.err()
}

// readDocuments reads every document of data into m, stopping at the first
// YAML syntax error (the parser cannot go on after one).
func readDocuments(name string, data []byte, m *Manifest, ps *problems) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for doc := 1; ; doc++ {
		var n yaml.Node
		err := decode(dec, &n)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			line, msg := syntaxError(err)
			ps.add(problem{file: name, doc: doc, line: line, rule: "is not valid YAML: " + msg})
			return
		}
		if len(n.Content) == 0 || isNull(n.Content[0]) {
			continue // an empty document
		}
		if o := readDocument(name, doc, n.Content[0], ps); o != nil {
			m.Objects = append(m.Objects, o)
		}
	}
}

// decode decodes the next document, turning a panic of the parser into an
// error so that no input can crash the caller.
func decode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("yaml: %v", p)
		}
	}()
	return dec.Decode(n)
}

var syntaxLine = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

// syntaxError returns the line and the message of a YAML parser error.
func syntaxError(err error) (int, string) {
	msg := err.Error()
	if m := syntaxLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, m[2]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// readDocument reads the object of one document, or returns nil when its
// kind is missing or unknown.
func readDocument(file string, doc int, root *yaml.Node, ps *problems) *Object {
	at := problem{file: file, doc: doc, line: root.Line}
	if root.Kind != yaml.MappingNode || root.ShortTag() != "!!map" {
		at.rule = "must be a mapping with a kind (Account, ProtectionGroup or RecoveryPlan)"
		ps.add(at)
		return nil
	}
	kindNode := value(root, "kind")
	at.field = "kind"
	if kindNode == nil || isNull(kindNode) {
		at.rule = "is required (Account, ProtectionGroup or RecoveryPlan)"
		ps.add(at)
		return nil
	}
	at.line = kindNode.Line
	if kindNode.Kind != yaml.ScalarNode || kindNode.ShortTag() != "!!str" {
		at.rule = "must be Account, ProtectionGroup or RecoveryPlan"
		ps.add(at)
		return nil
	}
	o := &Object{Kind: Kind(kindNode.Value), File: file, Doc: doc, lines: map[string]int{"": root.Line}}
	fields := []string(nil)
	switch o.Kind {
	case KindAccount:
		o.Account, fields = &wavedr.Account{}, accountFields
	case KindProtectionGroup:
		o.Group, fields = &wavedr.ProtectionGroup{}, groupFields
	case KindRecoveryPlan:
		o.Plan, fields = &wavedr.RecoveryPlan{}, planFields
	default:
		at.rule = fmt.Sprintf("%s is not a known kind (kinds: Account, ProtectionGroup, RecoveryPlan)", displayName(kindNode.Value))
		for _, k := range kinds {
			if strings.EqualFold(kindNode.Value, string(k)) {
				at.rule = fmt.Sprintf("%s is not a known kind (did you mean %s?)", displayName(kindNode.Value), k)
			}
		}
		ps.add(at)
		return nil
	}
	r := &reader{obj: o, probs: ps}
	v, _ := r.fields(root, "", fields...)
	switch o.Kind {
	case KindAccount:
		r.account(v)
	case KindProtectionGroup:
		r.group(v)
	case KindRecoveryPlan:
		r.plan(v)
	}
	return o
}

// value returns the value of key in the mapping n, or nil.
func value(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
