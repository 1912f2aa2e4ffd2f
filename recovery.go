package wavedr

import (
	"context"
	"time"
)

// DRS quotas per account and region, as AWS publishes them. The engine
// checks them before every launch; the simulator enforces them.
const (
	MaxServersPerJob       = 100 // source servers in one LAUNCH job (the API field accepts 200)
	MaxConcurrentJobs      = 20  // jobs not yet COMPLETED
	MaxServersInActiveJobs = 500 // source servers across all jobs not yet COMPLETED
)

// API batch limits: the most IDs one call may carry.
const (
	MaxJobIDsPerCall              = 1000 // DescribeJobs filters.jobIDs
	MaxRecoveryInstanceIDsPerCall = 200  // DescribeRecoveryInstances filters.recoveryInstanceIDs, TerminateRecoveryInstances
	MaxSourceServerIDsPerCall     = 200  // DescribeSourceServers filters.sourceServerIDs
	MaxInstanceIDsPerCall         = 1000 // EC2 DescribeInstances instance-id filter values
	MaxServersPerStartRecovery    = 200  // StartRecovery sourceServers (API limit; the quota is MaxServersPerJob)
)

// Tags wavedr puts on every DRS job it starts, so that a retried launch can
// find and adopt the job of an earlier attempt instead of starting another.
const (
	TagExecution = "wavedr:execution" // execution ID
	TagWave      = "wavedr:wave"      // wave name
	TagChunk     = "wavedr:chunk"     // index of the job within the wave, "0" for the first 100 servers
)

// JobStatus is the status of a DRS job. DRS never reports a failed job: the
// outcome of each server is its LaunchStatus and the job log.
type JobStatus string

const (
	JobPending   JobStatus = "PENDING"
	JobStarted   JobStatus = "STARTED"
	JobCompleted JobStatus = "COMPLETED"
)

// JobType is the kind of a DRS job.
type JobType string

const (
	JobTypeLaunch    JobType = "LAUNCH"
	JobTypeTerminate JobType = "TERMINATE"
)

// LaunchStatus is the status of one source server within a DRS job.
type LaunchStatus string

const (
	LaunchPending    LaunchStatus = "PENDING"
	LaunchInProgress LaunchStatus = "IN_PROGRESS"
	LaunchLaunched   LaunchStatus = "LAUNCHED"
	LaunchFailed     LaunchStatus = "FAILED"
	LaunchTerminated LaunchStatus = "TERMINATED"
)

// IsTerminal reports whether the server's part in the job is over.
func (s LaunchStatus) IsTerminal() bool {
	return s == LaunchLaunched || s == LaunchFailed || s == LaunchTerminated
}

// Job log events that wavedr reads (DRS has more).
const (
	EventJobStart              = "JOB_START"
	EventServerSkipped         = "SERVER_SKIPPED"
	EventSnapshotStart         = "SNAPSHOT_START"
	EventSnapshotEnd           = "SNAPSHOT_END"
	EventSnapshotFail          = "SNAPSHOT_FAIL"
	EventUsingPreviousSnapshot = "USING_PREVIOUS_SNAPSHOT"
	EventConversionStart       = "CONVERSION_START"
	EventConversionEnd         = "CONVERSION_END"
	EventConversionFail        = "CONVERSION_FAIL"
	EventLaunchStart           = "LAUNCH_START"
	EventLaunchFailed          = "LAUNCH_FAILED"
	EventJobCancel             = "JOB_CANCEL"
	EventJobEnd                = "JOB_END"
)

// Job is a DRS job as DescribeJobs reports it.
type Job struct {
	ID          string                `json:"jobId"`
	ARN         string                `json:"arn,omitempty"`
	Type        JobType               `json:"type"`
	InitiatedBy string                `json:"initiatedBy,omitempty"` // START_DRILL, START_RECOVERY, TERMINATE_RECOVERY_INSTANCES ...
	Status      JobStatus             `json:"status"`
	CreatedAt   time.Time             `json:"createdAt"`
	EndedAt     time.Time             `json:"endedAt,omitzero"`
	Tags        map[string]string     `json:"tags,omitempty"`
	Servers     []ParticipatingServer `json:"servers"`
}

// ParticipatingServer is one source server's part in a job.
type ParticipatingServer struct {
	SourceServerID     string       `json:"sourceServerId"`
	RecoveryInstanceID string       `json:"recoveryInstanceId,omitempty"`
	LaunchStatus       LaunchStatus `json:"launchStatus"`
}

// JobLogItem is one event of a job's log.
type JobLogItem struct {
	Event            string    `json:"event"`
	Time             time.Time `json:"time"`
	SourceServerID   string    `json:"sourceServerId,omitempty"`
	TargetInstanceID string    `json:"targetInstanceId,omitempty"`
	RawError         string    `json:"rawError,omitempty"`
}

// RecoveryInstance is a DRS recovery instance: the EC2 instance DRS launched
// for a source server, with DRS's view of it.
type RecoveryInstance struct {
	ID                  string    `json:"recoveryInstanceId"`
	EC2InstanceID       string    `json:"ec2InstanceId"`
	EC2InstanceState    string    `json:"ec2InstanceState"` // PENDING, RUNNING, ..., TERMINATED, NOT_FOUND
	JobID               string    `json:"jobId"`
	SourceServerID      string    `json:"sourceServerId"`
	IsDrill             bool      `json:"isDrill"`
	PointInTimeSnapshot time.Time `json:"pointInTimeSnapshot,omitzero"`
}

// ReplicationState is a source server's data replication state in DRS.
type ReplicationState string

// Healthy reports whether a server in this state can be recovered from a
// recent point in time.
func (s ReplicationState) Healthy() bool {
	return s == "CONTINUOUS" || s == "CREATING_SNAPSHOT"
}

// SourceServer is a server that DRS replicates.
type SourceServer struct {
	ID                      string            `json:"sourceServerId"`
	ARN                     string            `json:"arn,omitempty"`
	Hostname                string            `json:"hostname"`
	FQDN                    string            `json:"fqdn,omitempty"`
	SourceInstanceID        string            `json:"sourceInstanceId,omitempty"` // EC2 ID when the source is itself on AWS
	IPs                     []string          `json:"ips,omitempty"`
	OS                      string            `json:"os,omitempty"`
	CPUs                    int               `json:"cpus,omitempty"`
	RAMBytes                int64             `json:"ramBytes,omitempty"`
	RecommendedInstanceType string            `json:"recommendedInstanceType,omitempty"`
	Tags                    map[string]string `json:"tags,omitempty"`
	ReplicationState        ReplicationState  `json:"replicationState"`
	LagDuration             string            `json:"lagDuration,omitempty"` // ISO-8601 duration as DRS reports it
	LastLaunchResult        string            `json:"lastLaunchResult,omitempty"`
	RecoveryInstanceID      string            `json:"recoveryInstanceId,omitempty"`
	StagingAccountID        string            `json:"stagingAccountId,omitempty"`
}

// Instance is the EC2 view of a recovered instance.
type Instance struct {
	ID         string    `json:"instanceId"`
	Type       string    `json:"instanceType"`
	State      string    `json:"state"` // pending, running, shutting-down, terminated, stopping, stopped
	PrivateIP  string    `json:"privateIp,omitempty"`
	PrivateDNS string    `json:"privateDns,omitempty"`
	LaunchTime time.Time `json:"launchTime,omitzero"`
}

// LaunchConfiguration is the DRS launch configuration of one source server.
type LaunchConfiguration struct {
	SourceServerID      string `json:"sourceServerId"`
	Name                string `json:"name,omitempty"`
	EC2LaunchTemplateID string `json:"ec2LaunchTemplateId,omitempty"` // read-only
	CopyPrivateIP       bool   `json:"copyPrivateIp"`
	CopyTags            bool   `json:"copyTags"`
	LaunchDisposition   string `json:"launchDisposition,omitempty"` // STOPPED or STARTED
	OSByol              bool   `json:"osByol"`
	RightSizingMethod   string `json:"rightSizingMethod,omitempty"` // NONE, BASIC, IN_AWS
	PostLaunchEnabled   bool   `json:"postLaunchEnabled"`
}

// StartRecoveryInput starts one DRS LAUNCH job.
type StartRecoveryInput struct {
	SourceServerIDs []string // 1..MaxServersPerJob
	IsDrill         bool
	Tags            map[string]string // TagExecution, TagWave, TagChunk at least
}

// JobFilter selects jobs. Empty IDs means every job in the time range.
type JobFilter struct {
	IDs  []string
	From time.Time // zero: no lower bound
	To   time.Time // zero: no upper bound
}

// RecoveryInstanceFilter selects recovery instances; empty means all.
type RecoveryInstanceFilter struct {
	IDs             []string
	SourceServerIDs []string
}

// ServerDetail is everything known of one server of a launch job: the DRS
// source server, its part in the job, its recovery instance and the EC2
// instance. A part that could not be found leaves its fields empty and says
// why in Missing; it never fails the other servers.
type ServerDetail struct {
	SourceServerID   string            `json:"sourceServerId"`
	JobID            string            `json:"jobId"`
	Hostname         string            `json:"hostname,omitempty"`
	SourceIP         string            `json:"sourceIp,omitempty"`
	SourceInstanceID string            `json:"sourceInstanceId,omitempty"`
	Tags             map[string]string `json:"tags,omitempty"`
	ReplicationState ReplicationState  `json:"replicationState,omitempty"`

	LaunchStatus       LaunchStatus `json:"launchStatus"`
	RecoveryInstanceID string       `json:"recoveryInstanceId,omitempty"`

	EC2InstanceID       string    `json:"ec2InstanceId,omitempty"`
	EC2InstanceState    string    `json:"ec2InstanceState,omitempty"`
	IsDrill             bool      `json:"isDrill"`
	PointInTimeSnapshot time.Time `json:"pointInTimeSnapshot,omitzero"`

	InstanceType  string    `json:"instanceType,omitempty"`
	PrivateIP     string    `json:"privateIp,omitempty"`
	PrivateDNS    string    `json:"privateDns,omitempty"`
	LaunchTime    time.Time `json:"launchTime,omitzero"`
	InstanceState string    `json:"instanceState,omitempty"`

	Missing []string `json:"missing,omitempty"` // e.g. "EC2 instance i-0abc not found (yet)"
}

// EnrichOptions narrow an Enrich.
type EnrichOptions struct {
	// SkipSourceServers leaves out the source servers' own details
	// (hostname, source IP, tags, replication state): a caller that knows
	// them already saves a DescribeSourceServers per call.
	SkipSourceServers bool
}

// Enrichment is the result of observing a set of launch jobs.
type Enrichment struct {
	Jobs    []*Job          // every requested job DRS knows, in request order
	Servers []*ServerDetail // one per participating server of those jobs
	Missing []string        // job IDs DRS did not return
}

// Recovery is the port through which wavedr acts on DRS and EC2 in one
// account and region. The AWS adapter implements it (against AWS or the
// built-in simulator). Every method paginates to the end and batches at the
// API limits; callers pass any number of IDs.
//
// Errors carry wavedr codes: ECONFLICT (a server is already in an active DRS
// job), EQUOTA (a DRS quota is reached), EINVALID (DRS refused the input),
// ENOTFOUND, EFORBIDDEN (access denied, wrong external ID), EUNAVAILABLE
// (throttled or failing after the SDK's retries).
type Recovery interface {
	// StartRecovery starts one LAUNCH job. It is not idempotent: callers
	// record the launch first and look for a tagged job before retrying.
	StartRecovery(ctx context.Context, t Target, in StartRecoveryInput) (*Job, error)

	// DescribeJobs returns the jobs matching f, newest first.
	DescribeJobs(ctx context.Context, t Target, f JobFilter) ([]*Job, error)

	// DescribeJobLog returns the job's log, oldest first.
	DescribeJobLog(ctx context.Context, t Target, jobID string) ([]JobLogItem, error)

	// DescribeRecoveryInstances returns the recovery instances matching f.
	DescribeRecoveryInstances(ctx context.Context, t Target, f RecoveryInstanceFilter) ([]*RecoveryInstance, error)

	// DescribeSourceServers returns the source servers with the IDs, or all
	// of them when ids is empty.
	DescribeSourceServers(ctx context.Context, t Target, ids []string) ([]*SourceServer, error)

	// DescribeInstances returns the EC2 instances that exist among ids; a
	// missing ID is absent from the result, not an error.
	DescribeInstances(ctx context.Context, t Target, ids []string) ([]*Instance, error)

	// TerminateRecoveryInstances starts TERMINATE jobs for the recovery
	// instances (one job per MaxRecoveryInstanceIDsPerCall IDs).
	TerminateRecoveryInstances(ctx context.Context, t Target, recoveryInstanceIDs []string) ([]*Job, error)

	// GetLaunchConfiguration returns a source server's launch configuration.
	GetLaunchConfiguration(ctx context.Context, t Target, sourceServerID string) (*LaunchConfiguration, error)

	// UpdateLaunchConfiguration changes a source server's launch configuration.
	UpdateLaunchConfiguration(ctx context.Context, t Target, c *LaunchConfiguration) (*LaunchConfiguration, error)

	// Enrich observes the launch jobs and returns every participating server
	// merged with its source server, recovery instance and EC2 instance, in
	// as few calls as the batch limits allow.
	Enrich(ctx context.Context, t Target, jobIDs []string, opts EnrichOptions) (*Enrichment, error)

	// AccountID returns the account the target's credentials act in
	// (STS GetCallerIdentity, after AssumeRole for a target account).
	AccountID(ctx context.Context, t Target) (string, error)
}
