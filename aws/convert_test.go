package aws

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	drstypes "github.com/aws/aws-sdk-go-v2/service/drs/types"
)

func TestParseTime(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	want := time.Date(2025, 6, 2, 9, 30, 15, 0, time.UTC)
	for _, s := range []string{
		"2025-06-02T09:30:15Z",
		"2025-06-02T09:30:15.000000Z",
		"2025-06-02T09:30:15+00:00",
		"2025-06-02T11:30:15.000+02:00",
		"2025-06-02T09:30:15",
		"2025-06-02T09:30:15.000000",
		"2025-06-02 09:30:15+00:00",
	} {
		if got := parseTime(log, "f", sdkaws.String(s)); !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, want %v", s, got, want)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("valid times logged: %s", buf.String())
	}
	if got := parseTime(log, "job.creationDateTime", sdkaws.String("yesterday")); !got.IsZero() {
		t.Errorf("malformed time parsed as %v", got)
	}
	if !strings.Contains(buf.String(), "job.creationDateTime") {
		t.Errorf("malformed time not logged: %q", buf.String())
	}
	if got := parseTime(log, "f", nil); !got.IsZero() {
		t.Errorf("nil time parsed as %v", got)
	}
}

func TestToSourceServer(t *testing.T) {
	s := toSourceServer(&drstypes.SourceServer{
		SourceServerID: sdkaws.String("s-1"),
		SourceProperties: &drstypes.SourceProperties{
			IdentificationHints: &drstypes.IdentificationHints{Fqdn: sdkaws.String("db1.example.com"), AwsInstanceID: sdkaws.String("i-src")},
			NetworkInterfaces: []drstypes.NetworkInterface{
				{Ips: []string{"10.0.0.9"}},
				{Ips: []string{"10.0.0.5", "10.0.0.6"}, IsPrimary: sdkaws.Bool(true)},
			},
			Cpus: []drstypes.CPU{{Cores: 2}, {Cores: 2}},
		},
		DataReplicationInfo: &drstypes.DataReplicationInfo{DataReplicationState: "CONTINUOUS", LagDuration: sdkaws.String("PT5S")},
		StagingArea:         &drstypes.StagingArea{StagingAccountID: sdkaws.String("333333333333")},
	})
	if s.Hostname != "db1.example.com" || s.SourceInstanceID != "i-src" || s.IPs[0] != "10.0.0.5" || len(s.IPs) != 3 ||
		s.CPUs != 4 || s.ReplicationState != "CONTINUOUS" || s.LagDuration != "PT5S" || s.StagingAccountID != "333333333333" {
		t.Errorf("toSourceServer = %+v", s)
	}
}
