package wavedr

import (
	"slices"
	"strings"
)

// Permission is one thing a principal may be allowed to do. Every API route
// names the permission it needs; a route without one does not start.
type Permission string

const (
	PermView              Permission = "view"               // read accounts, servers, groups, plans, executions, reports
	PermManageGroups      Permission = "groups:manage"      // create, change and delete protection groups
	PermManagePlans       Permission = "plans:manage"       // create, change and delete recovery plans (and apply YAML)
	PermStartDrill        Permission = "drill:start"        // start a drill
	PermStartRecovery     Permission = "recovery:start"     // start a real recovery (failover): not implied by drill:start
	PermControlExecutions Permission = "executions:control" // pause, resume, cancel, poll, finalize
	PermTerminate         Permission = "instances:terminate"
	PermManageAccounts    Permission = "accounts:manage"
	PermManageTokens      Permission = "tokens:manage" // create, list and revoke API tokens
	PermReadAudit         Permission = "audit:read"
)

// Permissions lists every permission, in a stable order.
var Permissions = []Permission{
	PermView, PermManageGroups, PermManagePlans, PermStartDrill, PermStartRecovery,
	PermControlExecutions, PermTerminate, PermManageAccounts, PermManageTokens, PermReadAudit,
}

// Valid reports whether p is a known permission.
func (p Permission) Valid() bool { return slices.Contains(Permissions, p) }

// Role is a named set of permissions given to a principal.
type Role string

const (
	RoleAdmin           Role = "Admin"           // everything
	RoleRecoveryManager Role = "RecoveryManager" // runs drills and real recoveries, and everything they need
	RolePlanManager     Role = "PlanManager"     // designs groups and plans, and proves them with drills
	RoleOperator        Role = "Operator"        // runs and steers drills, cleans up after them
	RoleReadOnly        Role = "ReadOnly"        // watches
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleAdmin, RoleRecoveryManager, RolePlanManager, RoleOperator, RoleReadOnly}

// rolePermissions is the permission table: the one place that says who may
// do what.
var rolePermissions = map[Role][]Permission{
	RoleAdmin: Permissions,
	RoleRecoveryManager: {PermView, PermManageGroups, PermManagePlans, PermStartDrill, PermStartRecovery,
		PermControlExecutions, PermTerminate, PermReadAudit},
	RolePlanManager: {PermView, PermManageGroups, PermManagePlans, PermStartDrill, PermControlExecutions, PermTerminate},
	RoleOperator:    {PermView, PermStartDrill, PermControlExecutions, PermTerminate},
	RoleReadOnly:    {PermView},
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { _, ok := rolePermissions[r]; return ok }

// Allows reports whether the role grants p.
func (r Role) Allows(p Permission) bool { return slices.Contains(rolePermissions[r], p) }

// ParseRole returns the role named s, ignoring case, or EINVALID naming the
// roles there are.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if strings.EqualFold(string(r), strings.TrimSpace(s)) {
			return r, nil
		}
	}
	return "", Errorf(EINVALID, "unknown role %q: must be one of %s", s, roleList())
}

func roleList() string {
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// PrincipalKind says how a principal authenticated.
type PrincipalKind string

const (
	PrincipalToken PrincipalKind = "token" // an API token
	PrincipalOIDC  PrincipalKind = "oidc"  // a bearer token from the configured OIDC issuer
)

// Principal is an authenticated caller: who it is and what roles it holds.
// initiatedBy and audit entries always come from it, never from a request.
type Principal struct {
	Name    string        `json:"name"` // token name, or the OIDC subject's preferred name
	Kind    PrincipalKind `json:"kind"`
	Subject string        `json:"subject"` // token ID, or the OIDC issuer's subject
	Roles   []Role        `json:"roles"`
}

// Can reports whether any of the principal's roles grants p.
func (p *Principal) Can(perm Permission) bool {
	if p == nil {
		return false
	}
	for _, r := range p.Roles {
		if r.Allows(perm) {
			return true
		}
	}
	return false
}

// String names the principal for records: "token:ci-pipeline".
func (p *Principal) String() string {
	if p == nil {
		return "anonymous"
	}
	return string(p.Kind) + ":" + p.Name
}
