package sim

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DRS restJson1 shapes, member names as the service spells them.

type drsJob struct {
	Arn                  string            `json:"arn"`
	CreationDateTime     string            `json:"creationDateTime"`
	EndDateTime          string            `json:"endDateTime,omitempty"`
	InitiatedBy          string            `json:"initiatedBy"`
	JobID                string            `json:"jobID"`
	ParticipatingServers []drsParticipant  `json:"participatingServers"`
	Status               string            `json:"status"`
	Tags                 map[string]string `json:"tags"`
	Type                 string            `json:"type"`
}

type drsParticipant struct {
	LaunchStatus       string `json:"launchStatus"`
	RecoveryInstanceID string `json:"recoveryInstanceID,omitempty"`
	SourceServerID     string `json:"sourceServerID"`
}

type drsLogItem struct {
	Event       string        `json:"event"`
	EventData   *drsEventData `json:"eventData,omitempty"`
	LogDateTime string        `json:"logDateTime"`
}

type drsEventData struct {
	RawError         string `json:"rawError,omitempty"`
	SourceServerID   string `json:"sourceServerID,omitempty"`
	TargetInstanceID string `json:"targetInstanceID,omitempty"`
}

type drsCPU struct {
	Cores     int    `json:"cores"`
	ModelName string `json:"modelName"`
}

type drsHints struct {
	AwsInstanceID string `json:"awsInstanceID,omitempty"`
	Fqdn          string `json:"fqdn,omitempty"`
	Hostname      string `json:"hostname,omitempty"`
}

type drsNIC struct {
	Ips        []string `json:"ips"`
	IsPrimary  bool     `json:"isPrimary"`
	MacAddress string   `json:"macAddress"`
}

type drsOS struct {
	FullString string `json:"fullString"`
}

type drsRecoveryInstance struct {
	Arn                         string            `json:"arn"`
	EC2InstanceID               string            `json:"ec2InstanceID"`
	EC2InstanceState            string            `json:"ec2InstanceState"`
	IsDrill                     bool              `json:"isDrill"`
	JobID                       string            `json:"jobID"`
	OriginEnvironment           string            `json:"originEnvironment"`
	PointInTimeSnapshotDateTime string            `json:"pointInTimeSnapshotDateTime,omitempty"`
	RecoveryInstanceID          string            `json:"recoveryInstanceID"`
	RecoveryInstanceProperties  drsRIProperties   `json:"recoveryInstanceProperties"`
	SourceServerID              string            `json:"sourceServerID"`
	Tags                        map[string]string `json:"tags"`
}

type drsRIProperties struct {
	Cpus                []drsCPU  `json:"cpus"`
	Disks               []drsRIDk `json:"disks"`
	IdentificationHints drsHints  `json:"identificationHints"`
	LastUpdatedDateTime string    `json:"lastUpdatedDateTime"`
	NetworkInterfaces   []drsNIC  `json:"networkInterfaces"`
	Os                  drsOS     `json:"os"`
	RamBytes            int64     `json:"ramBytes"`
}

type drsRIDk struct {
	Bytes              int64  `json:"bytes"`
	EbsVolumeID        string `json:"ebsVolumeID"`
	InternalDeviceName string `json:"internalDeviceName"`
}

type drsSourceServer struct {
	AgentVersion         string            `json:"agentVersion"`
	Arn                  string            `json:"arn"`
	DataReplicationInfo  drsReplication    `json:"dataReplicationInfo"`
	LastLaunchResult     string            `json:"lastLaunchResult"`
	LifeCycle            drsLifeCycle      `json:"lifeCycle"`
	RecoveryInstanceID   string            `json:"recoveryInstanceId,omitempty"`
	ReplicationDirection string            `json:"replicationDirection"`
	SourceProperties     drsSourceProps    `json:"sourceProperties"`
	SourceServerID       string            `json:"sourceServerID"`
	StagingArea          map[string]string `json:"stagingArea"`
	Tags                 map[string]string `json:"tags"`
}

type drsReplication struct {
	DataReplicationError      *drsReplError      `json:"dataReplicationError,omitempty"`
	DataReplicationInitiation *drsReplInitiation `json:"dataReplicationInitiation,omitempty"`
	DataReplicationState      string             `json:"dataReplicationState"`
	EtaDateTime               string             `json:"etaDateTime,omitempty"`
	LagDuration               string             `json:"lagDuration,omitempty"`
	ReplicatedDisks           []drsReplDisk      `json:"replicatedDisks"`
	StagingAvailabilityZone   string             `json:"stagingAvailabilityZone"`
}

type drsReplError struct {
	Error    string `json:"error"`
	RawError string `json:"rawError"`
}

type drsReplInitiation struct {
	StartDateTime string              `json:"startDateTime"`
	Steps         []map[string]string `json:"steps"`
}

type drsReplDisk struct {
	BackloggedStorageBytes int64  `json:"backloggedStorageBytes"`
	DeviceName             string `json:"deviceName"`
	ReplicatedStorageBytes int64  `json:"replicatedStorageBytes"`
	RescannedStorageBytes  int64  `json:"rescannedStorageBytes"`
	TotalStorageBytes      int64  `json:"totalStorageBytes"`
}

type drsLifeCycle struct {
	AddedToServiceDateTime     string         `json:"addedToServiceDateTime"`
	ElapsedReplicationDuration string         `json:"elapsedReplicationDuration,omitempty"`
	FirstByteDateTime          string         `json:"firstByteDateTime,omitempty"`
	LastLaunch                 *drsLastLaunch `json:"lastLaunch,omitempty"`
	LastSeenByServiceDateTime  string         `json:"lastSeenByServiceDateTime"`
}

type drsLastLaunch struct {
	Initiated drsLaunchInitiated `json:"initiated"`
	Status    string             `json:"status"`
}

type drsLaunchInitiated struct {
	ApiCallDateTime string `json:"apiCallDateTime"`
	JobID           string `json:"jobID"`
	Type            string `json:"type"`
}

type drsSourceProps struct {
	Cpus                    []drsCPU  `json:"cpus"`
	Disks                   []drsDisk `json:"disks"`
	IdentificationHints     drsHints  `json:"identificationHints"`
	LastUpdatedDateTime     string    `json:"lastUpdatedDateTime"`
	NetworkInterfaces       []drsNIC  `json:"networkInterfaces"`
	Os                      drsOS     `json:"os"`
	RamBytes                int64     `json:"ramBytes"`
	RecommendedInstanceType string    `json:"recommendedInstanceType"`
	SupportsNitroInstances  bool      `json:"supportsNitroInstances"`
}

type drsDisk struct {
	Bytes      int64  `json:"bytes"`
	DeviceName string `json:"deviceName"`
}

type drsLaunchConfiguration struct {
	CopyPrivateIp                       bool         `json:"copyPrivateIp"`
	CopyTags                            bool         `json:"copyTags"`
	Ec2LaunchTemplateID                 string       `json:"ec2LaunchTemplateID"`
	LaunchDisposition                   string       `json:"launchDisposition"`
	Licensing                           drsLicensing `json:"licensing"`
	Name                                string       `json:"name"`
	PostLaunchEnabled                   bool         `json:"postLaunchEnabled"`
	SourceServerID                      string       `json:"sourceServerID"`
	TargetInstanceTypeRightSizingMethod string       `json:"targetInstanceTypeRightSizingMethod"`
}

type drsLicensing struct {
	OsByol bool `json:"osByol"`
}

// drsTime formats a time as DRS does: ISO-8601 with microseconds and an
// explicit UTC offset.
func drsTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000+00:00")
}

// isoDuration formats d as an ISO-8601 duration (PT1H2M3S).
func isoDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d <= 0 {
		return "PT0S"
	}
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	var b strings.Builder
	b.WriteString("P")
	if days > 0 {
		fmt.Fprintf(&b, "%dD", days)
	}
	if d > 0 {
		b.WriteString("T")
		if h := d / time.Hour; h > 0 {
			fmt.Fprintf(&b, "%dH", h)
		}
		if m := (d % time.Hour) / time.Minute; m > 0 {
			fmt.Fprintf(&b, "%dM", m)
		}
		if s := (d % time.Minute) / time.Second; s > 0 {
			fmt.Fprintf(&b, "%dS", s)
		}
	}
	return b.String()
}

// Page sizes of the Describe operations when maxResults is absent, and the
// most one page returns whatever maxResults says.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// pageToken is an opaque nextToken: the operation it belongs to and the
// position (a sequence number or an index) to continue after.
func encodeToken(op string, pos int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(op + ":" + strconv.Itoa(pos)))
}

func decodeToken(op, token string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, false
	}
	name, pos, ok := strings.Cut(string(b), ":")
	n, err := strconv.Atoi(pos)
	if !ok || name != op || err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// pageSize applies the default and the cap to a maxResults member.
func pageSize(maxResults *int) (int, *apiError) {
	if maxResults == nil {
		return defaultPageSize, nil
	}
	if *maxResults < 1 {
		return 0, invalid("maxResults", "Member must have value greater than or equal to 1")
	}
	return min(*maxResults, maxPageSize), nil
}

// paginate returns one page of items, which are ordered by key (ascending,
// or descending when desc), continuing after the position in token.
func paginate[T any](op string, items []T, key func(T) int, desc bool, token string, maxResults *int) ([]T, string, *apiError) {
	size, perr := pageSize(maxResults)
	if perr != nil {
		return nil, "", perr
	}
	start := 0
	if token != "" {
		after, ok := decodeToken(op, token)
		if !ok {
			return nil, "", invalid("nextToken", "Invalid pagination token")
		}
		for start < len(items) {
			k := key(items[start])
			if (!desc && k > after) || (desc && k < after) {
				break
			}
			start++
		}
	}
	end := min(start+size, len(items))
	next := ""
	if end < len(items) {
		next = encodeToken(op, key(items[end-1]))
	}
	return items[start:end], next, nil
}
