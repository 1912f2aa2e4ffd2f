package sim_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/drs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"wavedr/sim"
)

func TestAssumeRoleIntoTargetAccount(t *testing.T) {
	e := newEnv(t, sim.Config{})
	id, err := e.sts.GetCallerIdentity(e.ctx, &sts.GetCallerIdentityInput{})
	if err != nil || *id.Account != sim.LocalAccountID || !strings.HasPrefix(*id.Arn, "arn:aws:iam::111111111111:") {
		t.Fatalf("local identity %+v %v", id, err)
	}

	// Wrong and missing external IDs are refused.
	for _, ext := range []*string{aws.String("guess-the-external-id"), nil} {
		_, err := e.sts.AssumeRole(e.ctx, &sts.AssumeRoleInput{RoleArn: aws.String(sim.TargetRoleARN), RoleSessionName: aws.String("wavedr"), ExternalId: ext})
		if apiCode(t, err) != "AccessDenied" {
			t.Errorf("external ID %v: %v", aws.ToString(ext), err)
		}
	}
	_, err = e.sts.AssumeRole(e.ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::333333333333:role/nope"), RoleSessionName: aws.String("wavedr"), ExternalId: aws.String(sim.TargetExternalID)})
	if apiCode(t, err) != "AccessDenied" {
		t.Errorf("unknown role: %v", err)
	}
	_, err = e.sts.AssumeRole(e.ctx, &sts.AssumeRoleInput{RoleArn: aws.String(sim.TargetRoleARN), RoleSessionName: aws.String("wavedr"), ExternalId: aws.String(sim.TargetExternalID), DurationSeconds: aws.Int32(7200)})
	if apiCode(t, err) != "ValidationError" {
		t.Errorf("too long a session: %v", err)
	}

	out, err := e.sts.AssumeRole(e.ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(sim.TargetRoleARN), RoleSessionName: aws.String("wavedr-drill"),
		ExternalId: aws.String(sim.TargetExternalID), DurationSeconds: aws.Int32(900),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	if !strings.HasPrefix(*c.AccessKeyId, "ASIA") || *c.SecretAccessKey == "" || *c.SessionToken == "" || c.Expiration == nil ||
		*out.AssumedRoleUser.Arn != "arn:aws:sts::222222222222:assumed-role/wavedr-recovery/wavedr-drill" {
		t.Errorf("AssumeRole %+v %+v", c, out.AssumedRoleUser)
	}
	assumed := credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)

	drsWest, _, stsWest := e.clients(sim.TargetRegion, assumed)
	id, err = stsWest.GetCallerIdentity(e.ctx, &sts.GetCallerIdentityInput{})
	if err != nil || *id.Account != sim.TargetAccountID || *id.Arn != *out.AssumedRoleUser.Arn {
		t.Fatalf("assumed identity %+v %v", id, err)
	}
	ss, err := drsWest.DescribeSourceServers(e.ctx, &drs.DescribeSourceServersInput{})
	if err != nil || len(ss.Items) != 6 {
		t.Fatalf("target fleet: %d servers, %v", len(ss.Items), err)
	}
	tiers := map[string]int{}
	for _, s := range ss.Items {
		h := *s.SourceProperties.IdentificationHints.Hostname
		if !strings.HasPrefix(h, "dr-") || !strings.Contains(*s.Arn, ":us-west-2:222222222222:") {
			t.Errorf("target server %s %s", h, *s.Arn)
		}
		tiers[s.Tags["Tier"]]++
	}
	if tiers["db"] != 2 || tiers["app"] != 2 || tiers["web"] != 2 {
		t.Errorf("target tiers %v", tiers)
	}

	// The same assumed credentials in us-east-1: the target account has no
	// fleet there. The local credentials in us-west-2: nothing either.
	drsEast, _, _ := e.clients(sim.LocalRegion, assumed)
	if ss, _ := drsEast.DescribeSourceServers(e.ctx, &drs.DescribeSourceServersInput{}); len(ss.Items) != 0 {
		t.Errorf("target account in us-east-1: %d servers", len(ss.Items))
	}
	drsLocalWest, _, _ := e.clients(sim.TargetRegion, credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""))
	if ss, _ := drsLocalWest.DescribeSourceServers(e.ctx, &drs.DescribeSourceServersInput{}); len(ss.Items) != 0 {
		t.Errorf("local account in us-west-2: %d servers", len(ss.Items))
	}

	creds, err := e.sim.CredentialsFor(sim.TargetAccountID)
	if err != nil || !strings.HasPrefix(creds.AccessKeyID, "ASIA") {
		t.Fatalf("CredentialsFor: %+v %v", creds, err)
	}
	_, _, stsHelper := e.clients(sim.TargetRegion, credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken))
	if id, err := stsHelper.GetCallerIdentity(e.ctx, &sts.GetCallerIdentityInput{}); err != nil || *id.Account != sim.TargetAccountID {
		t.Errorf("CredentialsFor identity %+v %v", id, err)
	}
	if _, err := e.sim.CredentialsFor("999999999999"); err == nil {
		t.Errorf("CredentialsFor an unknown account: %v", err)
	}
}
