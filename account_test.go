package wavedr

import (
	"strings"
	"testing"
)

func TestAccountValidate(t *testing.T) {
	const id = "123456789012"
	role := "arn:aws:iam::" + id + ":role/wavedr-recovery"
	ext := "a-long-external-id-0123"
	valid := func() *Account {
		return &Account{ID: id, Name: "prod", RoleARN: role, ExternalID: ext, Regions: []string{"us-east-1", "eu-west-1"}}
	}
	for _, tc := range []struct {
		name string
		edit func(a *Account)
		want []string
	}{
		{"valid target account", func(*Account) {}, nil},
		{"valid local account", func(a *Account) { a.RoleARN, a.ExternalID = "", "" }, nil},
		{"GovCloud and other partitions", func(a *Account) {
			a.RoleARN = "arn:aws-us-gov:iam::" + id + ":role/path/r"
			a.Regions = []string{"us-gov-west-1", "ap-southeast-2"}
		}, nil},
		{"ID too short", func(a *Account) { a.ID = "12345678901"; a.RoleARN = ""; a.ExternalID = "" }, []string{"id"}},
		{"ID not digits", func(a *Account) { a.ID = "12345678901x" }, []string{"id", "roleArn"}},
		{"name missing", func(a *Account) { a.Name = "  " }, []string{"name"}},
		{"name too long", func(a *Account) { a.Name = strings.Repeat("n", 129) }, []string{"name"}},
		{"name at the limit", func(a *Account) { a.Name = strings.Repeat("n", 128) }, nil},
		{"role ARN malformed", func(a *Account) { a.RoleARN = "arn:aws:iam::" + id + ":user/bob" }, []string{"roleArn"}},
		{"role in another account", func(a *Account) { a.RoleARN = "arn:aws:iam::210987654321:role/r" }, []string{"roleArn"}},
		{"role without external ID", func(a *Account) { a.ExternalID = "" }, []string{"externalId"}},
		{"external ID too short", func(a *Account) { a.ExternalID = strings.Repeat("x", MinExternalIDLength-1) }, []string{"externalId"}},
		{"external ID at the minimum", func(a *Account) { a.ExternalID = strings.Repeat("x", MinExternalIDLength) }, nil},
		{"external ID with a space", func(a *Account) { a.ExternalID = "a long external id!" }, []string{"externalId"}},
		{"external ID too long", func(a *Account) { a.ExternalID = strings.Repeat("x", 1225) }, []string{"externalId"}},
		{"external ID without role", func(a *Account) { a.RoleARN = "" }, []string{"externalId"}},
		{"no regions", func(a *Account) { a.Regions = nil }, []string{"regions"}},
		{"bad and repeated regions", func(a *Account) { a.Regions = []string{"us-east-1", "US-EAST-1", "us-east-1", "useast1"} },
			[]string{"regions[1]", "regions[2]", "regions[3]"}},
		{"every rule", func(a *Account) { *a = Account{ExternalID: "x"} }, []string{"id", "name", "externalId", "regions"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := valid()
			tc.edit(a)
			assertProblems(t, a.Validate(), tc.want...)
		})
	}
}

func TestAccountTarget(t *testing.T) {
	a := &Account{ID: "123456789012", RoleARN: "arn:aws:iam::123456789012:role/r", ExternalID: "x"}
	tg := a.Target("eu-west-1")
	if tg.AccountID != a.ID || tg.Region != "eu-west-1" || tg.RoleARN != a.RoleARN || tg.ExternalID != "x" {
		t.Errorf("Target = %+v", tg)
	}
	if tg.Key() != "123456789012/eu-west-1" || (Target{Region: "us-east-1"}).Key() != "local/us-east-1" {
		t.Errorf("Key() = %q", tg.Key())
	}
}
