package wavedr

import (
	"context"
	"regexp"
	"strings"
	"time"
)

var (
	accountIDPattern  = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern     = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$`)
	roleARNPattern    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):role/[\w+=,.@/-]{1,512}$`)
	externalIDPattern = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

// MinExternalIDLength is the shortest external ID wavedr accepts for a
// target account. STS allows 2 characters; a guessable external ID defeats
// its purpose (the confused-deputy check), so wavedr asks for more.
const MinExternalIDLength = 16

// Account is an AWS account whose DRS source servers wavedr recovers.
//
// The local account (the one whose credentials wavedr runs with) has no
// RoleARN. A target account is reached by STS AssumeRole into RoleARN with
// ExternalID; the role's account must be the account's ID.
type Account struct {
	ID         string    `json:"id"` // 12 digits
	Name       string    `json:"name"`
	RoleARN    string    `json:"roleArn,omitempty"`
	ExternalID string    `json:"externalId,omitempty"`
	Regions    []string  `json:"regions"` // regions where DRS replicates servers of this account
	Version    int64     `json:"version"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// Validate reports every broken rule of a.
func (a *Account) Validate() error {
	var p Problems
	if !accountIDPattern.MatchString(a.ID) {
		p.Add("id", "must be a 12-digit AWS account ID")
	}
	if strings.TrimSpace(a.Name) == "" {
		p.Add("name", "is required")
	} else if len(a.Name) > 128 {
		p.Add("name", "must be at most 128 characters")
	} else if !ValidText(a.Name) {
		p.Add("name", textRule)
	}
	if a.RoleARN != "" {
		m := roleARNPattern.FindStringSubmatch(a.RoleARN)
		switch {
		case m == nil:
			p.Add("roleArn", "must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
		case m[1] != a.ID:
			p.Add("roleArn", "must be a role in account %s, not %s", a.ID, m[1])
		}
		switch {
		case a.ExternalID == "":
			p.Add("externalId", "is required with a role ARN")
		case len(a.ExternalID) < MinExternalIDLength:
			p.Add("externalId", "must be at least %d characters", MinExternalIDLength)
		case len(a.ExternalID) > 1224 || !externalIDPattern.MatchString(a.ExternalID):
			p.Add("externalId", "may contain only letters, digits and +=,.@:/-_ (at most 1224)")
		}
	} else if a.ExternalID != "" {
		p.Add("externalId", "is only used with a role ARN")
	}
	if len(a.Regions) == 0 {
		p.Add("regions", "must list at least one region")
	}
	seen := map[string]bool{}
	for i, r := range a.Regions {
		f := Indexed("regions", i)
		if !ValidRegion(r) {
			p.Add(f, "%q is not an AWS region name (like us-east-1)", r)
		} else if seen[r] {
			p.Add(f, "%q is listed twice", r)
		}
		seen[r] = true
	}
	return p.Err("account")
}

// Target returns where calls for this account go in region.
func (a *Account) Target(region string) Target {
	return Target{AccountID: a.ID, Region: region, RoleARN: a.RoleARN, ExternalID: a.ExternalID}
}

// ValidRegion reports whether s looks like an AWS region name.
func ValidRegion(s string) bool { return regionPattern.MatchString(s) }

// ValidAccountID reports whether s is a 12-digit account ID.
func ValidAccountID(s string) bool { return accountIDPattern.MatchString(s) }

// Target is the account and region one AWS call is made in. An empty
// RoleARN means the local credentials; AccountID may then be empty too
// (whatever account those credentials belong to).
type Target struct {
	AccountID  string `json:"accountId,omitempty"`
	Region     string `json:"region"`
	RoleARN    string `json:"-"`
	ExternalID string `json:"-"`
}

// Key identifies the target for rate limits, quotas and logs: "ACCOUNT/REGION",
// with "local" for the local account when its ID is not known.
func (t Target) Key() string {
	id := t.AccountID
	if id == "" {
		id = "local"
	}
	return id + "/" + t.Region
}

// AccountService manages the accounts wavedr may act in.
type AccountService interface {
	// FindAccount returns the account with the ID; ENOTFOUND if none.
	FindAccount(ctx context.Context, id string) (*Account, error)
	// ListAccounts returns every account, ordered by ID.
	ListAccounts(ctx context.Context) ([]*Account, error)
	// CreateAccount validates and stores a; ECONFLICT if the ID exists.
	CreateAccount(ctx context.Context, a *Account) error
	// UpdateAccount stores a if a.Version is the stored version (ECONFLICT
	// otherwise) and increments a.Version.
	UpdateAccount(ctx context.Context, a *Account) error
	// DeleteAccount removes the account; ECONFLICT while a protection group uses it.
	DeleteAccount(ctx context.Context, id string, version int64) error
}
