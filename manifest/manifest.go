// Package manifest reads recovery plans written as code: multi-document
// YAML files of accounts, protection groups and recovery plans. It checks
// them without a server or a database (Validate) and applies them to a
// store, creating or updating only what differs (Apply).
//
// Every problem is reported in one *wavedr.Error with code EINVALID. The
// Field of each detail is a location followed by the field path, in the
// form "FILE#DOC (Kind name) line N: waves[1].dependsOn[0]", where DOC is
// the 1-based position of the document in the file; the Rule says what is
// required. FieldError.String of a detail is therefore the line a user
// reads: "plan.yaml#2 (RecoveryPlan three-tier) line 9: waves[2].dependsOn[0]: no wave is named "ap"".
package manifest

import (
	"strings"

	"wavedr"
)

// Kind is the kind of object a document describes.
type Kind string

const (
	KindAccount         Kind = "Account"
	KindProtectionGroup Kind = "ProtectionGroup"
	KindRecoveryPlan    Kind = "RecoveryPlan"
)

// kinds lists the kinds in the order Apply writes them.
var kinds = []Kind{KindAccount, KindProtectionGroup, KindRecoveryPlan}

// Object is one document of a manifest: exactly one of Account, Group and
// Plan is set, according to Kind.
type Object struct {
	Kind    Kind
	Account *wavedr.Account
	Group   *wavedr.ProtectionGroup
	Plan    *wavedr.RecoveryPlan

	// File and Doc say where the object was read: the file name given to
	// Load and the 1-based position of the document in it.
	File string
	Doc  int

	lines  map[string]int // field path → YAML line
	unread []string       // the fields Load could not read
}

// Name returns the name that identifies the object within its kind: the
// account ID for an account, the name for a group or a plan.
func (o *Object) Name() string {
	switch o.Kind {
	case KindAccount:
		return o.Account.ID
	case KindProtectionGroup:
		return o.Group.Name
	case KindRecoveryPlan:
		return o.Plan.Name
	}
	return ""
}

// String names the object as the CLI prints it: "protectiongroup/db-tier".
func (o *Object) String() string { return strings.ToLower(string(o.Kind)) + "/" + o.Name() }

// Manifest is the objects of one or more files, in the order they were read.
type Manifest struct {
	Objects []*Object

	loadProblems problems // what Load reported, repeated by Validate and Apply
}

// Merge returns a manifest holding the objects of ms in order, so that
// several files are validated and applied as one: names are unique across
// them and plans may refer to groups of any of them.
func Merge(ms ...*Manifest) *Manifest {
	out := &Manifest{}
	for _, m := range ms {
		if m != nil {
			out.Objects = append(out.Objects, m.Objects...)
			out.loadProblems = append(out.loadProblems, m.loadProblems...)
		}
	}
	return out
}

// Of returns the objects of kind k, in order.
func (m *Manifest) Of(k Kind) []*Object {
	var out []*Object
	for _, o := range m.Objects {
		if o.Kind == k {
			out = append(out, o)
		}
	}
	return out
}

// group returns the manifest's group with the name (case-insensitive), or nil.
func (m *Manifest) group(name string) *wavedr.ProtectionGroup {
	for _, o := range m.Objects {
		if o.Kind == KindProtectionGroup && strings.EqualFold(o.Group.Name, name) {
			return o.Group
		}
	}
	return nil
}
