package sim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"wavedr"
)

// DRS, restJson1: POST /<Operation> with a JSON body, tags on /tags/{arn}.

var drsOperations = map[string]bool{
	"StartRecovery": true, "DescribeJobs": true, "DescribeJobLogItems": true,
	"DescribeRecoveryInstances": true, "DescribeSourceServers": true,
	"TerminateRecoveryInstances": true, "GetLaunchConfiguration": true,
	"UpdateLaunchConfiguration": true,
}

var (
	sourceServerIDRE     = regexp.MustCompile(`^s-[0-9a-zA-Z]{17}$`)
	jobIDRE              = regexp.MustCompile(`^drsjob-[0-9a-zA-Z]{17}$`)
	recoveryInstanceIDRE = regexp.MustCompile(`^i-[0-9a-fA-F]{8,}$`)
	drsARNRE             = regexp.MustCompile(`^arn:aws[a-z-]*:drs:[a-z0-9-]+:[0-9]{12}:[a-z-]+/[\w-]+$`)
)

func init() {
	services["drs"] = &service{operation: drsOperation, serve: (*Simulator).serveDRS, writeError: writeDRSError}
}

func drsOperation(req *request) string {
	r := req.http
	if strings.HasPrefix(r.URL.Path, "/tags/") {
		switch r.Method {
		case http.MethodGet:
			return "ListTagsForResource"
		case http.MethodPost:
			return "TagResource"
		case http.MethodDelete:
			return "UntagResource"
		}
		return "UnknownOperation"
	}
	op := strings.TrimPrefix(r.URL.Path, "/")
	if r.Method == http.MethodPost && drsOperations[op] {
		return op
	}
	return "UnknownOperation"
}

func (s *Simulator) serveDRS(w http.ResponseWriter, req *request) {
	g := s.region(req.account, req.region)
	now := s.Now()
	var out any
	var err *apiError
	status := http.StatusOK
	switch req.op {
	case "StartRecovery":
		out, err = s.startRecovery(g, req, now)
		status = http.StatusAccepted
	case "DescribeJobs":
		out, err = describeJobs(g, req, now)
	case "DescribeJobLogItems":
		out, err = describeJobLogItems(g, req, now)
	case "DescribeRecoveryInstances":
		out, err = describeRecoveryInstances(g, req, now)
	case "DescribeSourceServers":
		out, err = describeSourceServers(g, req, now)
	case "TerminateRecoveryInstances":
		out, err = s.terminateRecoveryInstances(g, req, now)
	case "GetLaunchConfiguration":
		out, err = getLaunchConfiguration(g, req)
	case "UpdateLaunchConfiguration":
		out, err = updateLaunchConfiguration(g, req)
	case "ListTagsForResource", "TagResource", "UntagResource":
		out, err = tagging(g, req)
	default:
		err = &apiError{kind: errUnknownOp, message: fmt.Sprintf("Unknown operation %s %s", req.http.Method, req.http.URL.Path)}
	}
	if err != nil {
		writeDRSError(w, req, err)
		return
	}
	writeJSON(w, status, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// writeDRSError answers as DRS does: the status of the exception, its name
// in X-Amzn-Errortype, and a JSON body with its members.
func writeDRSError(w http.ResponseWriter, req *request, e *apiError) {
	body := map[string]any{"message": e.message}
	var code string
	var status int
	switch e.kind {
	case errValidation, errMalformed:
		code, status = "ValidationException", 400
		reason := e.reason
		if e.kind == errMalformed {
			reason = "cannotParse"
		}
		body["reason"] = cmp.Or(reason, "other")
		if len(e.fields) > 0 {
			body["fieldList"] = e.fields
		}
	case errThrottled:
		code, status = "ThrottlingException", 429
		retry := max(e.retryAfter, 1)
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		body["retryAfterSeconds"] = strconv.Itoa(retry)
		body["serviceCode"] = "drs"
	case errInternal, errUnavailable:
		code, status = "InternalServerException", statusOr(e.status, 500)
	case errConflict:
		code, status = "ConflictException", 409
		body["resourceId"], body["resourceType"] = e.resourceID, e.resourceType
	case errQuota:
		code, status = "ServiceQuotaExceededException", 402
		body["quotaCode"], body["serviceCode"] = e.quotaCode, "drs"
		body["resourceId"], body["resourceType"] = e.resourceID, e.resourceType
	case errNotFound:
		code, status = "ResourceNotFoundException", 404
		body["resourceId"], body["resourceType"] = e.resourceID, e.resourceType
	case errAccessDenied:
		code, status = "AccessDeniedException", 403
	default:
		code, status = "UnknownOperationException", 404
	}
	if e.code != "" {
		code = e.code
	}
	w.Header().Set("X-Amzn-Errortype", code)
	writeJSON(w, status, body)
}

// decode reads the JSON body into v; an empty body is an empty object.
func decode(req *request, v any) *apiError {
	if len(strings.TrimSpace(string(req.body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(req.body, v); err != nil {
		msg := "Could not parse the request body: " + err.Error()
		var te *json.UnmarshalTypeError
		if ok := asTypeError(err, &te); ok && te.Field != "" {
			return &apiError{kind: errMalformed, message: msg, fields: []fieldProblem{{Name: te.Field, Message: "must be a " + te.Type.String()}}}
		}
		return &apiError{kind: errMalformed, message: msg}
	}
	return nil
}

func asTypeError(err error, target **json.UnmarshalTypeError) bool {
	te, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*target = te
	}
	return ok
}

func (s *Simulator) startRecovery(g *region, req *request, now time.Time) (any, *apiError) {
	var in struct {
		IsDrill       bool `json:"isDrill"`
		SourceServers []struct {
			SourceServerID     string `json:"sourceServerID"`
			RecoverySnapshotID string `json:"recoverySnapshotID"`
		} `json:"sourceServers"`
		Tags map[string]string `json:"tags"`
	}
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	n := len(in.SourceServers)
	switch {
	case n == 0:
		return nil, invalid("sourceServers", "Member must have length greater than or equal to 1")
	case n > wavedr.MaxServersPerStartRecovery:
		return nil, invalid("sourceServers", fmt.Sprintf("Member must have length less than or equal to %d", wavedr.MaxServersPerStartRecovery))
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	servers := make([]*sourceServer, 0, n)
	seen := map[string]bool{}
	for i, ss := range in.SourceServers {
		field := fmt.Sprintf("sourceServers[%d].sourceServerID", i)
		switch {
		case !sourceServerIDRE.MatchString(ss.SourceServerID):
			return nil, invalid(field, fmt.Sprintf("Invalid source server ID %q", ss.SourceServerID))
		case seen[ss.SourceServerID]:
			return nil, invalid(field, fmt.Sprintf("Source server %s is listed more than once", ss.SourceServerID))
		case ss.RecoverySnapshotID != "":
			return nil, invalid(fmt.Sprintf("sourceServers[%d].recoverySnapshotID", i), "Recovery snapshot "+ss.RecoverySnapshotID+" not found")
		}
		seen[ss.SourceServerID] = true
		srv := g.serverByID[ss.SourceServerID]
		if srv == nil {
			return nil, invalid(field, fmt.Sprintf("Source server %s does not exist in account %s, region %s", ss.SourceServerID, g.account, g.name))
		}
		servers = append(servers, srv)
	}
	if n > wavedr.MaxServersPerJob {
		return nil, &apiError{kind: errQuota, quotaCode: "MaxSourceServersPerJob", resourceType: "SOURCE_SERVER",
			message: fmt.Sprintf("A job may launch at most %d source servers; the request has %d", wavedr.MaxServersPerJob, n)}
	}
	for _, srv := range servers {
		if j := g.activeJobOf(srv.id, now); j != nil {
			return nil, &apiError{kind: errConflict, resourceID: srv.id, resourceType: "SOURCE_SERVER",
				message: fmt.Sprintf("Source server %s (%s) is already part of active job %s", srv.id, srv.hostname, j.id)}
		}
	}
	if err := checkJobQuotas(g, n, now); err != nil {
		return nil, err
	}
	j := g.startLaunch(s.seed, servers, in.IsDrill, in.Tags, now, func(srv *sourceServer) launchPlan { return s.launchPlanFor(g, srv) })
	return map[string]any{"job": jobView(j, now)}, nil
}

// checkJobQuotas refuses a new job of n servers when the concurrent-job or
// servers-in-active-jobs quota would be exceeded.
func checkJobQuotas(g *region, n int, now time.Time) *apiError {
	active := g.activeJobs(now)
	if len(active) >= wavedr.MaxConcurrentJobs {
		return &apiError{kind: errQuota, quotaCode: "MaxConcurrentJobs", resourceType: "JOB",
			message: fmt.Sprintf("%d jobs are already in progress, the most allowed at once", len(active))}
	}
	busy := 0
	for _, j := range active {
		busy += len(j.servers)
	}
	if busy+n > wavedr.MaxServersInActiveJobs {
		return &apiError{kind: errQuota, quotaCode: "MaxSourceServersInActiveJobs", resourceType: "SOURCE_SERVER",
			message: fmt.Sprintf("%d source servers are in active jobs; %d more would exceed the quota of %d", busy, n, wavedr.MaxServersInActiveJobs)}
	}
	return nil
}

func validateTags(tags map[string]string) *apiError {
	if len(tags) > 50 {
		return invalid("tags", "Member must have at most 50 entries")
	}
	for k, v := range tags {
		switch {
		case k == "" || len(k) > 128:
			return invalid("tags", "Tag keys must be 1 to 128 characters long")
		case len(v) > 256:
			return invalid("tags", fmt.Sprintf("The value of tag %q must be at most 256 characters long", k))
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return invalid("tags", fmt.Sprintf("Tag key %q uses the reserved prefix aws:", k))
		}
	}
	return nil
}

func jobView(j *job, now time.Time) drsJob {
	v := drsJob{
		Arn: j.arn, CreationDateTime: drsTime(j.created), InitiatedBy: j.initiatedBy, JobID: j.id,
		Status: j.statusAt(now), Tags: maps.Clone(j.tags), Type: j.typ,
		ParticipatingServers: make([]drsParticipant, 0, len(j.servers)),
	}
	if v.Status == jobCompleted {
		v.EndDateTime = drsTime(j.ended)
	}
	for _, p := range j.servers {
		ps := drsParticipant{SourceServerID: p.sourceServerID, LaunchStatus: p.statusAt(now)}
		if j.typ == jobTypeTerminate || ps.LaunchStatus == launchLaunched {
			ps.RecoveryInstanceID = p.recoveryInstanceID
		}
		v.ParticipatingServers = append(v.ParticipatingServers, ps)
	}
	return v
}

func parseDRSTime(field, s string) (time.Time, *apiError) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalid(field, fmt.Sprintf("%q is not an ISO-8601 date-time like 2025-06-02T09:00:00Z", s))
	}
	return t, nil
}

func describeJobs(g *region, req *request, now time.Time) (any, *apiError) {
	var in struct {
		Filters struct {
			JobIDs   []string `json:"jobIDs"`
			FromDate string   `json:"fromDate"`
			ToDate   string   `json:"toDate"`
		} `json:"filters"`
		MaxResults *int   `json:"maxResults"`
		NextToken  string `json:"nextToken"`
	}
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	f := in.Filters
	if len(f.JobIDs) > wavedr.MaxJobIDsPerCall {
		return nil, invalid("filters.jobIDs", fmt.Sprintf("Member must have length less than or equal to %d", wavedr.MaxJobIDsPerCall))
	}
	ids := map[string]bool{}
	for i, id := range f.JobIDs {
		if !jobIDRE.MatchString(id) {
			return nil, invalid(fmt.Sprintf("filters.jobIDs[%d]", i), fmt.Sprintf("Invalid job ID %q", id))
		}
		ids[id] = true
	}
	var from, to time.Time
	var err *apiError
	if f.FromDate != "" {
		if from, err = parseDRSTime("filters.fromDate", f.FromDate); err != nil {
			return nil, err
		}
	}
	if f.ToDate != "" {
		if to, err = parseDRSTime("filters.toDate", f.ToDate); err != nil {
			return nil, err
		}
	}
	var match []*job
	for i := len(g.jobs) - 1; i >= 0; i-- { // newest first
		j := g.jobs[i]
		switch {
		case j.created.After(now),
			len(ids) > 0 && !ids[j.id],
			!from.IsZero() && j.created.Before(from),
			!to.IsZero() && j.created.After(to):
			continue
		}
		match = append(match, j)
	}
	page, next, err := paginate("DescribeJobs", match, func(j *job) int { return j.seq }, true, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	items := make([]drsJob, 0, len(page))
	for _, j := range page {
		items = append(items, jobView(j, now))
	}
	return pageOut(items, next), nil
}

func pageOut(items any, next string) map[string]any {
	out := map[string]any{"items": items}
	if next != "" {
		out["nextToken"] = next
	}
	return out
}

func describeJobLogItems(g *region, req *request, now time.Time) (any, *apiError) {
	var in struct {
		JobID      string `json:"jobID"`
		MaxResults *int   `json:"maxResults"`
		NextToken  string `json:"nextToken"`
	}
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	if !jobIDRE.MatchString(in.JobID) {
		return nil, invalid("jobID", fmt.Sprintf("Invalid job ID %q", in.JobID))
	}
	var events []logEvent
	if j := g.jobByID[in.JobID]; j != nil {
		events = j.logAt(now)
	}
	idx := make([]int, len(events))
	for i := range idx {
		idx[i] = i
	}
	page, next, err := paginate("DescribeJobLogItems/"+in.JobID, idx, func(i int) int { return i }, false, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	items := make([]drsLogItem, 0, len(page))
	for _, i := range page {
		e := events[i]
		it := drsLogItem{Event: e.event, LogDateTime: drsTime(e.at)}
		if e.sourceServerID != "" || e.targetInstanceID != "" || e.rawError != "" {
			it.EventData = &drsEventData{SourceServerID: e.sourceServerID, TargetInstanceID: e.targetInstanceID, RawError: e.rawError}
		}
		items = append(items, it)
	}
	return pageOut(items, next), nil
}

func describeRecoveryInstances(g *region, req *request, now time.Time) (any, *apiError) {
	var in struct {
		Filters struct {
			RecoveryInstanceIDs []string `json:"recoveryInstanceIDs"`
			SourceServerIDs     []string `json:"sourceServerIDs"`
		} `json:"filters"`
		MaxResults *int   `json:"maxResults"`
		NextToken  string `json:"nextToken"`
	}
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	if len(in.Filters.RecoveryInstanceIDs) > wavedr.MaxRecoveryInstanceIDsPerCall {
		return nil, invalid("filters.recoveryInstanceIDs", fmt.Sprintf("Member must have length less than or equal to %d", wavedr.MaxRecoveryInstanceIDsPerCall))
	}
	for i, id := range in.Filters.RecoveryInstanceIDs {
		if !recoveryInstanceIDRE.MatchString(id) || len(id) > 19 {
			return nil, invalid(fmt.Sprintf("filters.recoveryInstanceIDs[%d]", i), fmt.Sprintf("Invalid recovery instance ID %q", id))
		}
	}
	for i, id := range in.Filters.SourceServerIDs {
		if !sourceServerIDRE.MatchString(id) {
			return nil, invalid(fmt.Sprintf("filters.sourceServerIDs[%d]", i), fmt.Sprintf("Invalid source server ID %q", id))
		}
	}
	var match []*recoveryInstance
	for _, ri := range g.recovery {
		if !ri.existsAt(now) ||
			(len(in.Filters.RecoveryInstanceIDs) > 0 && !slices.Contains(in.Filters.RecoveryInstanceIDs, ri.id)) ||
			(len(in.Filters.SourceServerIDs) > 0 && !slices.Contains(in.Filters.SourceServerIDs, ri.sourceServerID)) {
			continue
		}
		match = append(match, ri)
	}
	page, next, err := paginate("DescribeRecoveryInstances", match, func(ri *recoveryInstance) int { return ri.seq }, false, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	items := make([]drsRecoveryInstance, 0, len(page))
	for _, ri := range page {
		items = append(items, recoveryInstanceView(g, ri, now))
	}
	return pageOut(items, next), nil
}

func recoveryInstanceView(g *region, ri *recoveryInstance, now time.Time) drsRecoveryInstance {
	v := drsRecoveryInstance{
		Arn: ri.arn, EC2InstanceID: ri.ec2ID, EC2InstanceState: "NOT_FOUND", IsDrill: ri.isDrill, JobID: ri.jobID,
		OriginEnvironment: "ON_PREMISES", PointInTimeSnapshotDateTime: drsTime(ri.pointInTime),
		RecoveryInstanceID: ri.id, SourceServerID: ri.sourceServerID, Tags: maps.Clone(ri.tags),
	}
	in := g.instanceByID[ri.ec2ID]
	if in != nil {
		state, _ := in.stateAt(now)
		v.EC2InstanceState = strings.ToUpper(state)
	}
	if srv := g.serverByID[ri.sourceServerID]; srv != nil && in != nil {
		p := drsRIProperties{
			Cpus:                []drsCPU{{Cores: srv.cores, ModelName: cpuModel}},
			IdentificationHints: drsHints{AwsInstanceID: in.id, Hostname: srv.hostname, Fqdn: srv.fqdn},
			LastUpdatedDateTime: drsTime(ri.createdAt),
			NetworkInterfaces:   []drsNIC{{Ips: []string{in.privateIP}, IsPrimary: true, MacAddress: srv.mac}},
			Os:                  drsOS{FullString: srv.os},
			RamBytes:            srv.ramBytes,
		}
		for _, d := range srv.disks {
			p.Disks = append(p.Disks, drsRIDk{Bytes: d.bytes, EbsVolumeID: "vol-" + in.id[2:], InternalDeviceName: d.name})
		}
		v.RecoveryInstanceProperties = p
	}
	return v
}

const cpuModel = "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz"

func describeSourceServers(g *region, req *request, now time.Time) (any, *apiError) {
	var in struct {
		Filters struct {
			SourceServerIDs   []string `json:"sourceServerIDs"`
			HardwareID        string   `json:"hardwareId"`
			StagingAccountIDs []string `json:"stagingAccountIDs"`
		} `json:"filters"`
		MaxResults *int   `json:"maxResults"`
		NextToken  string `json:"nextToken"`
	}
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	f := in.Filters
	if len(f.SourceServerIDs) > wavedr.MaxSourceServerIDsPerCall {
		return nil, invalid("filters.sourceServerIDs", fmt.Sprintf("Member must have length less than or equal to %d", wavedr.MaxSourceServerIDsPerCall))
	}
	for i, id := range f.SourceServerIDs {
		if !sourceServerIDRE.MatchString(id) {
			return nil, invalid(fmt.Sprintf("filters.sourceServerIDs[%d]", i), fmt.Sprintf("Invalid source server ID %q", id))
		}
	}
	var match []int
	for i, srv := range g.servers {
		// No simulated server has a hardware ID or a staging account.
		if f.HardwareID != "" || len(f.StagingAccountIDs) > 0 ||
			(len(f.SourceServerIDs) > 0 && !slices.Contains(f.SourceServerIDs, srv.id)) {
			continue
		}
		match = append(match, i)
	}
	page, next, err := paginate("DescribeSourceServers", match, func(i int) int { return i }, false, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	items := make([]drsSourceServer, 0, len(page))
	for _, i := range page {
		items = append(items, sourceServerView(g, g.servers[i], now))
	}
	return pageOut(items, next), nil
}

func sourceServerView(g *region, srv *sourceServer, now time.Time) drsSourceServer {
	v := drsSourceServer{
		AgentVersion: "4.6.0.1311", Arn: srv.arn, LastLaunchResult: "NOT_STARTED", ReplicationDirection: "FAILOVER",
		SourceServerID: srv.id, StagingArea: map[string]string{"status": "NOT_EXTENDED"}, Tags: maps.Clone(srv.tags),
		SourceProperties: drsSourceProps{
			Cpus:                    []drsCPU{{Cores: srv.cores, ModelName: cpuModel}},
			IdentificationHints:     drsHints{Hostname: srv.hostname, Fqdn: srv.fqdn},
			LastUpdatedDateTime:     drsTime(srv.addedAt),
			NetworkInterfaces:       []drsNIC{{Ips: []string{srv.ip}, IsPrimary: true, MacAddress: srv.mac}},
			Os:                      drsOS{FullString: srv.os},
			RamBytes:                srv.ramBytes,
			RecommendedInstanceType: srv.instanceType,
			SupportsNitroInstances:  true,
		},
		LifeCycle: drsLifeCycle{
			AddedToServiceDateTime:     drsTime(srv.addedAt),
			FirstByteDateTime:          drsTime(srv.addedAt.Add(4 * time.Minute)),
			ElapsedReplicationDuration: isoDuration(now.Sub(srv.addedAt)),
			LastSeenByServiceDateTime:  drsTime(now.Add(-5 * time.Second)),
		},
		DataReplicationInfo: drsReplication{
			DataReplicationState: srv.replication, LagDuration: srv.lag,
			StagingAvailabilityZone: g.name + "a", ReplicatedDisks: []drsReplDisk{},
		},
	}
	for _, d := range srv.disks {
		v.SourceProperties.Disks = append(v.SourceProperties.Disks, drsDisk{Bytes: d.bytes, DeviceName: d.name})
		rd := drsReplDisk{DeviceName: d.name, TotalStorageBytes: d.bytes, ReplicatedStorageBytes: d.bytes}
		switch srv.replication {
		case "BACKLOG":
			rd.BackloggedStorageBytes = 3 << 30
		case "INITIAL_SYNC":
			rd.ReplicatedStorageBytes = d.bytes * 37 / 100
		}
		v.DataReplicationInfo.ReplicatedDisks = append(v.DataReplicationInfo.ReplicatedDisks, rd)
	}
	switch srv.replication {
	case "STALLED":
		v.LifeCycle.LastSeenByServiceDateTime = drsTime(now.Add(-parseLag(srv.lag)))
		v.DataReplicationInfo.DataReplicationError = &drsReplError{Error: "AGENT_NOT_SEEN", RawError: "The replication agent has not been seen by the service for " + srv.lag}
	case "INITIAL_SYNC":
		v.LifeCycle.FirstByteDateTime, v.LifeCycle.ElapsedReplicationDuration = "", ""
		v.DataReplicationInfo.EtaDateTime = drsTime(now.Add(7 * time.Hour).Truncate(time.Minute))
		v.DataReplicationInfo.DataReplicationInitiation = &drsReplInitiation{
			StartDateTime: drsTime(srv.addedAt),
			Steps: []map[string]string{
				{"name": "CREATE_STAGING_DISKS", "status": "SUCCEEDED"},
				{"name": "START_DATA_TRANSFER", "status": "IN_PROGRESS"},
			},
		}
	case "BACKLOG":
		v.DataReplicationInfo.EtaDateTime = drsTime(now.Add(parseLag(srv.lag)).Truncate(time.Second))
	}
	if j, p := g.lastLaunch(srv.id, now); j != nil {
		typ := "RECOVERY"
		if j.isDrill {
			typ = "DRILL"
		}
		st := p.statusAt(now)
		switch st {
		case launchPending, launchInProgress:
			v.LastLaunchResult = "PENDING"
		case launchLaunched:
			v.LastLaunchResult = "SUCCEEDED"
			if ri := g.recoveryByID[p.recoveryInstanceID]; ri != nil && !ri.existsAt(now) {
				st = launchTerminated
			}
		case launchFailed:
			v.LastLaunchResult = "FAILED"
		}
		v.LifeCycle.LastLaunch = &drsLastLaunch{
			Initiated: drsLaunchInitiated{ApiCallDateTime: drsTime(j.created), JobID: j.id, Type: typ},
			Status:    st,
		}
	}
	if ri := g.recoveryInstanceOf(srv.id, now); ri != nil {
		v.RecoveryInstanceID = ri.id
	}
	return v
}

func (s *Simulator) terminateRecoveryInstances(g *region, req *request, now time.Time) (any, *apiError) {
	var in struct {
		RecoveryInstanceIDs []string `json:"recoveryInstanceIDs"`
	}
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	n := len(in.RecoveryInstanceIDs)
	switch {
	case n == 0:
		return nil, invalid("recoveryInstanceIDs", "Member must have length greater than or equal to 1")
	case n > wavedr.MaxRecoveryInstanceIDsPerCall:
		return nil, invalid("recoveryInstanceIDs", fmt.Sprintf("Member must have length less than or equal to %d", wavedr.MaxRecoveryInstanceIDsPerCall))
	}
	var ris []*recoveryInstance
	seen := map[string]bool{}
	for i, id := range in.RecoveryInstanceIDs {
		field := fmt.Sprintf("recoveryInstanceIDs[%d]", i)
		if !recoveryInstanceIDRE.MatchString(id) || len(id) > 19 {
			return nil, invalid(field, fmt.Sprintf("Invalid recovery instance ID %q", id))
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		ri := g.recoveryByID[id]
		if ri == nil || !ri.existsAt(now) {
			return nil, invalid(field, fmt.Sprintf("Recovery instance %s does not exist in account %s, region %s", id, g.account, g.name))
		}
		if j := g.activeJobOf(ri.sourceServerID, now); j != nil {
			return nil, &apiError{kind: errConflict, resourceID: ri.id, resourceType: "RECOVERY_INSTANCE",
				message: fmt.Sprintf("Recovery instance %s (source server %s) is already part of active job %s", ri.id, ri.sourceServerID, j.id)}
		}
		ris = append(ris, ri)
	}
	if err := checkJobQuotas(g, len(ris), now); err != nil {
		return nil, err
	}
	j := g.startTerminate(s.seed, ris, now)
	return map[string]any{"job": jobView(j, now)}, nil
}

func launchConfigurationView(srv *sourceServer) drsLaunchConfiguration {
	c := srv.launch
	return drsLaunchConfiguration{
		CopyPrivateIp: c.copyPrivateIP, CopyTags: c.copyTags, Ec2LaunchTemplateID: c.templateID,
		LaunchDisposition: c.disposition, Licensing: drsLicensing{OsByol: c.osByol}, Name: c.name,
		PostLaunchEnabled: c.postLaunch, SourceServerID: srv.id, TargetInstanceTypeRightSizingMethod: c.rightSizing,
	}
}

func lookupServer(g *region, id string) (*sourceServer, *apiError) {
	if !sourceServerIDRE.MatchString(id) {
		return nil, invalid("sourceServerID", fmt.Sprintf("Invalid source server ID %q", id))
	}
	srv := g.serverByID[id]
	if srv == nil {
		return nil, &apiError{kind: errNotFound, resourceID: id, resourceType: "SOURCE_SERVER",
			message: fmt.Sprintf("Source server %s not found in account %s, region %s", id, g.account, g.name)}
	}
	return srv, nil
}

func getLaunchConfiguration(g *region, req *request) (any, *apiError) {
	var in struct {
		SourceServerID string `json:"sourceServerID"`
	}
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	srv, err := lookupServer(g, in.SourceServerID)
	if err != nil {
		return nil, err
	}
	return launchConfigurationView(srv), nil
}

func updateLaunchConfiguration(g *region, req *request) (any, *apiError) {
	var in struct {
		SourceServerID    string  `json:"sourceServerID"`
		CopyPrivateIp     *bool   `json:"copyPrivateIp"`
		CopyTags          *bool   `json:"copyTags"`
		LaunchDisposition *string `json:"launchDisposition"`
		Licensing         *struct {
			OsByol *bool `json:"osByol"`
		} `json:"licensing"`
		Name                                *string `json:"name"`
		PostLaunchEnabled                   *bool   `json:"postLaunchEnabled"`
		TargetInstanceTypeRightSizingMethod *string `json:"targetInstanceTypeRightSizingMethod"`
	}
	if err := decode(req, &in); err != nil {
		return nil, err
	}
	srv, err := lookupServer(g, in.SourceServerID)
	if err != nil {
		return nil, err
	}
	c := srv.launch
	if in.LaunchDisposition != nil {
		if *in.LaunchDisposition != "STOPPED" && *in.LaunchDisposition != "STARTED" {
			return nil, invalid("launchDisposition", "Member must be one of STOPPED, STARTED")
		}
		c.disposition = *in.LaunchDisposition
	}
	if in.TargetInstanceTypeRightSizingMethod != nil {
		switch *in.TargetInstanceTypeRightSizingMethod {
		case "NONE", "BASIC", "IN_AWS":
			c.rightSizing = *in.TargetInstanceTypeRightSizingMethod
		default:
			return nil, invalid("targetInstanceTypeRightSizingMethod", "Member must be one of NONE, BASIC, IN_AWS")
		}
	}
	if in.Name != nil {
		if len(*in.Name) > 128 {
			return nil, invalid("name", "Member must have length less than or equal to 128")
		}
		c.name = *in.Name
	}
	setBool := func(dst *bool, src *bool) {
		if src != nil {
			*dst = *src
		}
	}
	setBool(&c.copyPrivateIP, in.CopyPrivateIp)
	setBool(&c.copyTags, in.CopyTags)
	setBool(&c.postLaunch, in.PostLaunchEnabled)
	if in.Licensing != nil {
		setBool(&c.osByol, in.Licensing.OsByol)
	}
	srv.launch = c
	return launchConfigurationView(srv), nil
}

func tagging(g *region, req *request) (any, *apiError) {
	arn := strings.TrimPrefix(req.http.URL.Path, "/tags/")
	if !drsARNRE.MatchString(arn) {
		return nil, invalid("resourceArn", fmt.Sprintf("Invalid resource ARN %q", arn))
	}
	tags, ok := g.resourceTags(arn)
	if !ok {
		return nil, &apiError{kind: errNotFound, resourceID: arn, message: fmt.Sprintf("Resource %s not found", arn)}
	}
	switch req.op {
	case "ListTagsForResource":
		return map[string]any{"tags": maps.Clone(tags)}, nil
	case "TagResource":
		var in struct {
			Tags map[string]string `json:"tags"`
		}
		if err := decode(req, &in); err != nil {
			return nil, err
		}
		if len(in.Tags) == 0 {
			return nil, invalid("tags", "Member must have at least 1 entry")
		}
		merged := maps.Clone(tags)
		maps.Copy(merged, in.Tags)
		if err := validateTags(merged); err != nil {
			return nil, err
		}
		maps.Copy(tags, in.Tags)
	default:
		keys := req.http.URL.Query()["tagKeys"]
		if len(keys) == 0 {
			return nil, invalid("tagKeys", "Member must have length greater than or equal to 1")
		}
		for _, k := range keys {
			delete(tags, k)
		}
	}
	return struct{}{}, nil
}
