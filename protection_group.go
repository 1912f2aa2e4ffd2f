package wavedr

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"time"
)

var (
	namePattern           = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	sourceServerIDPattern = regexp.MustCompile(`^s-[0-9a-f]{17}$`)
)

// Name rules shared by protection groups, plans and waves.
const nameRule = "must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"

// ValidName reports whether s is a valid name for a group, plan or wave.
func ValidName(s string) bool { return namePattern.MatchString(s) }

// ValidSourceServerID reports whether s is a DRS source server ID (s- and 17 hex digits).
func ValidSourceServerID(s string) bool { return sourceServerIDPattern.MatchString(s) }

// ProtectionGroup is a set of DRS source servers recovered together, in one
// account and region: either listed by ID, or selected by tags when a wave
// launches (so servers added to DRS later are recovered too).
//
// Names are unique case-insensitively; plans refer to groups by name.
type ProtectionGroup struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// AccountID is the account of the servers; empty means the local account.
	AccountID string `json:"accountId,omitempty"`
	Region    string `json:"region"`
	// ServerIDs lists the source servers; exclusive with Selector.
	ServerIDs []string `json:"serverIds,omitempty"`
	// Selector picks the servers whose tags all match; exclusive with ServerIDs.
	Selector *TagSelector `json:"selector,omitempty"`
	// LaunchSettings are applied to each server's DRS launch configuration
	// before it is launched; nil leaves DRS's configuration as it is.
	LaunchSettings *LaunchSettings `json:"launchSettings,omitempty"`

	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// TagSelector selects source servers by tags: a server matches when it has
// every listed tag with exactly the listed value.
type TagSelector struct {
	Tags map[string]string `json:"tags"`
}

// Matches reports whether a server with tags is selected.
func (s *TagSelector) Matches(tags map[string]string) bool {
	if s == nil || len(s.Tags) == 0 {
		return false
	}
	for k, v := range s.Tags {
		if got, ok := tags[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// LaunchSettings are the DRS launch configuration fields a group may set.
// A nil field leaves DRS's value unchanged.
type LaunchSettings struct {
	CopyPrivateIP     *bool  `json:"copyPrivateIp,omitempty"`
	CopyTags          *bool  `json:"copyTags,omitempty"`
	LaunchDisposition string `json:"launchDisposition,omitempty"` // STARTED or STOPPED
	RightSizingMethod string `json:"rightSizingMethod,omitempty"` // NONE, BASIC or IN_AWS
	OSByol            *bool  `json:"osByol,omitempty"`
}

func (l *LaunchSettings) validate(p *Problems) {
	switch l.LaunchDisposition {
	case "", "STARTED", "STOPPED":
	default:
		p.Add("launchDisposition", "must be STARTED or STOPPED, not %q", l.LaunchDisposition)
	}
	switch l.RightSizingMethod {
	case "", "NONE", "BASIC", "IN_AWS":
	default:
		p.Add("rightSizingMethod", "must be NONE, BASIC or IN_AWS, not %q", l.RightSizingMethod)
	}
}

// Validate reports every broken rule of g.
func (g *ProtectionGroup) Validate() error {
	var p Problems
	if g.ID != "" && !ValidID(PrefixProtectionGroup, g.ID) {
		p.Add("id", "must be a protection group ID (pg-...)")
	}
	if !ValidName(g.Name) {
		p.Add("name", nameRule)
	}
	if len(g.Description) > 1024 {
		p.Add("description", "must be at most 1024 characters")
	} else if !ValidText(g.Description) {
		p.Add("description", textRule)
	}
	if g.AccountID != "" && !ValidAccountID(g.AccountID) {
		p.Add("accountId", "must be a 12-digit AWS account ID")
	}
	if !ValidRegion(g.Region) {
		p.Add("region", "must be an AWS region name (like us-east-1)")
	}
	switch {
	case len(g.ServerIDs) > 0 && g.Selector != nil:
		p.Add("", "a group lists either servers or a selector, not both")
	case len(g.ServerIDs) == 0 && g.Selector == nil:
		p.Add("", "a group needs servers (source server IDs) or a selector (tags)")
	}
	seen := map[string]bool{}
	for i, id := range g.ServerIDs {
		f := Indexed("serverIds", i)
		switch {
		case !ValidSourceServerID(id):
			p.Add(f, "%q is not a DRS source server ID (s- and 17 hex digits)", id)
		case seen[id]:
			p.Add(f, "%s is listed twice", id)
		}
		seen[id] = true
	}
	if g.Selector != nil {
		if len(g.Selector.Tags) == 0 {
			p.Add("selector.tags", "must have at least one tag")
		}
		for _, k := range sortedKeys(g.Selector.Tags) {
			f := "selector.tags." + k
			if k == "" || len(k) > 128 {
				p.Add(f, "a tag key must be 1-128 characters")
			} else if strings.HasPrefix(strings.ToLower(k), "aws:") {
				p.Add(f, "tag keys starting with aws: are reserved")
			} else if !ValidText(k) {
				p.Add(f, "a tag key "+textRule)
			}
			if v := g.Selector.Tags[k]; len(v) > 256 {
				p.Add(f, "a tag value must be at most 256 characters")
			} else if !ValidText(v) {
				p.Add(f, "a tag value "+textRule)
			}
		}
	}
	if g.LaunchSettings != nil {
		var lp Problems
		g.LaunchSettings.validate(&lp)
		p.Merge("launchSettings", lp)
	}
	return p.Err("protection group " + quoteName(g.Name))
}

// Target returns where the group's servers are.
func (g *ProtectionGroup) Target(accounts map[string]*Account) Target {
	if a, ok := accounts[g.AccountID]; ok {
		return a.Target(g.Region)
	}
	return Target{AccountID: g.AccountID, Region: g.Region}
}

// ProtectionGroupFilter selects protection groups in a list.
type ProtectionGroupFilter struct {
	AccountID string
	Region    string
	Cursor    string // opaque; from the previous page's Next
	Limit     int    // 0 means DefaultPageSize; at most MaxPageSize
}

// ProtectionGroupService manages protection groups.
type ProtectionGroupService interface {
	// FindProtectionGroup returns the group with the ID or (case-insensitive)
	// name; ENOTFOUND if none.
	FindProtectionGroup(ctx context.Context, idOrName string) (*ProtectionGroup, error)
	// ListProtectionGroups returns a page of groups ordered by name.
	ListProtectionGroups(ctx context.Context, f ProtectionGroupFilter) (*Page[*ProtectionGroup], error)
	// CreateProtectionGroup validates g, gives it an ID and version 1, and
	// stores it; ECONFLICT if the name is taken.
	CreateProtectionGroup(ctx context.Context, g *ProtectionGroup) error
	// UpdateProtectionGroup stores g if g.Version is the stored version and
	// increments it; ECONFLICT on a stale version or a taken name.
	UpdateProtectionGroup(ctx context.Context, g *ProtectionGroup) error
	// DeleteProtectionGroup removes the group at version; ECONFLICT while a
	// plan uses it or on a stale version.
	DeleteProtectionGroup(ctx context.Context, id string, version int64) error
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func quoteName(s string) string {
	if s == "" {
		return "(unnamed)"
	}
	return strings.ToValidUTF8(`"`+s+`"`, "?")
}
