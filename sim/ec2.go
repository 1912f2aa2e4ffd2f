package sim

import (
	"cmp"
	"encoding/xml"
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

// EC2, query protocol: form POST with Action and Version=2016-11-15, XML
// answers in the ec2 namespace.

const (
	ec2Version   = "2016-11-15"
	ec2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"
	// terminatedVisibleFor is how long EC2 keeps listing terminated instances.
	terminatedVisibleFor = time.Hour
)

var ec2InstanceIDRE = regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)

func init() {
	services["ec2"] = &service{operation: queryAction, serve: (*Simulator).serveEC2, writeError: writeEC2Error}
}

func queryAction(req *request) string {
	if a := req.form.Get("Action"); a != "" {
		return a
	}
	return "UnknownOperation"
}

func (s *Simulator) serveEC2(w http.ResponseWriter, req *request) {
	g := s.region(req.account, req.region)
	now := s.Now()
	var out any
	var err *apiError
	switch req.op {
	case "DescribeInstances":
		out, err = s.describeInstances(g, req, now)
	case "DescribeInstanceStatus":
		out, err = s.describeInstanceStatus(g, req, now)
	default:
		err = &apiError{kind: errUnknownOp, code: "InvalidAction", message: fmt.Sprintf("The action %s is not valid for this web service.", req.op)}
	}
	if err != nil {
		writeEC2Error(w, req, err)
		return
	}
	writeXML(w, http.StatusOK, out)
}

type ec2ErrorResponse struct {
	XMLName   xml.Name `xml:"Response"`
	Code      string   `xml:"Errors>Error>Code"`
	Message   string   `xml:"Errors>Error>Message"`
	RequestID string   `xml:"RequestID"`
}

func writeEC2Error(w http.ResponseWriter, req *request, e *apiError) {
	code, status := e.code, 400
	switch e.kind {
	case errThrottled:
		code, status, e.message = "RequestLimitExceeded", 503, "Request limit exceeded."
	case errInternal:
		code, status = "InternalError", 500
	case errUnavailable:
		code, status = "Unavailable", 503
	case errMalformed:
		code = cmp.Or(code, "MalformedQueryString")
	case errAccessDenied:
		code, status = cmp.Or(code, "UnauthorizedOperation"), 403
	case errUnknownOp:
		code = cmp.Or(code, "InvalidAction")
	}
	writeXML(w, status, ec2ErrorResponse{Code: cmp.Or(code, "InvalidParameterValue"), Message: e.message, RequestID: req.id})
}

func ec2Error(code, format string, args ...any) *apiError {
	return &apiError{kind: errValidation, code: code, message: fmt.Sprintf(format, args...)}
}

// visibleInstances returns the instances EC2 shows at now, oldest first.
func (s *Simulator) visibleInstances(g *region, now time.Time) []*instance {
	var out []*instance
	for _, in := range g.instances {
		if !in.existsAt(now) || s.hidden(g, in, now) ||
			(!in.terminatedAt.IsZero() && !now.Before(in.terminatedAt.Add(terminatedVisibleFor))) {
			continue
		}
		out = append(out, in)
	}
	return out
}

// selectInstances applies InstanceId.N (every ID must exist), filters and
// pagination, as DescribeInstances and DescribeInstanceStatus do.
func (s *Simulator) selectInstances(g *region, req *request, now time.Time, keep func(*instance) bool) ([]*instance, string, *apiError) {
	ids := listParam(req.form, "InstanceId")
	if len(ids) > wavedr.MaxInstanceIDsPerCall {
		return nil, "", ec2Error("InvalidParameterValue", "The maximum number of instance IDs in one request is %d", wavedr.MaxInstanceIDsPerCall)
	}
	for _, id := range ids {
		if !ec2InstanceIDRE.MatchString(id) {
			return nil, "", ec2Error("InvalidInstanceID.Malformed", "Invalid id: %q", id)
		}
	}
	var maxResults *int
	if v := req.form.Get("MaxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 1000 {
			return nil, "", ec2Error("InvalidParameterValue", "Value ( %s ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", v)
		}
		if len(ids) > 0 {
			return nil, "", ec2Error("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
		}
		maxResults = &n
	}
	fs := filters(req.form)
	values := 0
	for _, f := range fs {
		if !knownInstanceFilter(f.name) {
			return nil, "", ec2Error("InvalidParameterValue", "The filter '%s' is invalid", f.name)
		}
		values += len(f.values)
	}
	if values > 1000 {
		return nil, "", ec2Error("FilterLimitExceeded", "The maximum number of filter values specified on a single call is 1000")
	}

	visible := s.visibleInstances(g, now)
	if len(ids) > 0 {
		var missing []string
		for _, id := range ids {
			if !slices.ContainsFunc(visible, func(in *instance) bool { return in.id == id }) && !slices.Contains(missing, id) {
				missing = append(missing, id)
			}
		}
		switch len(missing) {
		case 0:
		case 1:
			return nil, "", ec2Error("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", missing[0])
		default:
			return nil, "", ec2Error("InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
		}
	}
	var match []*instance
	for _, in := range visible {
		if (len(ids) > 0 && !slices.Contains(ids, in.id)) || !keep(in) {
			continue
		}
		ok := true
		for _, f := range fs {
			if !instanceMatches(in, f, now) {
				ok = false
				break
			}
		}
		if ok {
			match = append(match, in)
		}
	}
	if maxResults == nil && req.form.Get("NextToken") == "" {
		return match, "", nil
	}
	if maxResults == nil {
		n := maxPageSize
		maxResults = &n
	}
	page, next, err := paginate(req.op, match, func(in *instance) int { return in.seq }, false, req.form.Get("NextToken"), maxResults)
	if err != nil {
		return nil, "", ec2Error("InvalidParameterValue", "The specified NextToken is not valid")
	}
	return page, next, nil
}

func knownInstanceFilter(name string) bool {
	switch name {
	case "instance-id", "instance-state-name", "instance-state-code", "tag-key", "tag-value",
		"private-ip-address", "private-dns-name", "instance-type", "availability-zone",
		"vpc-id", "subnet-id", "reservation-id", "image-id":
		return true
	}
	return strings.HasPrefix(name, "tag:") && len(name) > 4
}

func instanceMatches(in *instance, f filter, now time.Time) bool {
	state, code := in.stateAt(now)
	has := func(s string) bool {
		return slices.ContainsFunc(f.values, func(p string) bool { return globMatch(p, s) })
	}
	switch f.name {
	case "instance-id":
		return has(in.id)
	case "instance-state-name":
		return has(state)
	case "instance-state-code":
		return has(strconv.Itoa(code))
	case "private-ip-address":
		return has(in.privateIP)
	case "private-dns-name":
		return has(in.privateDNS)
	case "instance-type":
		return has(in.instanceType)
	case "availability-zone":
		return has(in.az)
	case "vpc-id":
		return has(in.vpcID)
	case "subnet-id":
		return has(in.subnetID)
	case "reservation-id":
		return has(in.reservationID)
	case "image-id":
		return has(in.imageID)
	case "tag-key":
		return slices.ContainsFunc(slices.Collect(maps.Keys(in.tags)), has)
	case "tag-value":
		return slices.ContainsFunc(slices.Collect(maps.Values(in.tags)), has)
	}
	v, ok := in.tags[strings.TrimPrefix(f.name, "tag:")]
	return ok && has(v)
}

type ec2DescribeInstancesResponse struct {
	XMLName      xml.Name         `xml:"DescribeInstancesResponse"`
	Xmlns        string           `xml:"xmlns,attr"`
	RequestID    string           `xml:"requestId"`
	Reservations []ec2Reservation `xml:"reservationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

type ec2Reservation struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	RequesterID   string        `xml:"requesterId"`
	Groups        []struct{}    `xml:"groupSet>item"`
	Instances     []ec2Instance `xml:"instancesSet>item"`
}

type ec2State struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type ec2Tag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type ec2StateReason struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

type ec2Instance struct {
	InstanceID         string          `xml:"instanceId"`
	ImageID            string          `xml:"imageId"`
	State              ec2State        `xml:"instanceState"`
	PrivateDNSName     string          `xml:"privateDnsName"`
	DNSName            string          `xml:"dnsName"`
	Reason             string          `xml:"reason"`
	AmiLaunchIndex     int             `xml:"amiLaunchIndex"`
	InstanceType       string          `xml:"instanceType"`
	LaunchTime         string          `xml:"launchTime"`
	AvailabilityZone   string          `xml:"placement>availabilityZone"`
	Tenancy            string          `xml:"placement>tenancy"`
	Platform           string          `xml:"platform,omitempty"`
	PlatformDetails    string          `xml:"platformDetails"`
	Monitoring         string          `xml:"monitoring>state"`
	SubnetID           string          `xml:"subnetId,omitempty"`
	VpcID              string          `xml:"vpcId,omitempty"`
	PrivateIPAddress   string          `xml:"privateIpAddress,omitempty"`
	StateReason        *ec2StateReason `xml:"stateReason,omitempty"`
	Architecture       string          `xml:"architecture"`
	RootDeviceType     string          `xml:"rootDeviceType"`
	RootDeviceName     string          `xml:"rootDeviceName"`
	VirtualizationType string          `xml:"virtualizationType"`
	Tags               []ec2Tag        `xml:"tagSet>item"`
	Hypervisor         string          `xml:"hypervisor"`
}

func ec2Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func instanceView(in *instance, now time.Time) ec2Instance {
	state, code := in.stateAt(now)
	v := ec2Instance{
		InstanceID: in.id, ImageID: in.imageID, State: ec2State{Code: code, Name: state},
		PrivateDNSName: in.privateDNS, InstanceType: in.instanceType, LaunchTime: ec2Time(in.launchTime),
		AvailabilityZone: in.az, Tenancy: "default", PlatformDetails: "Linux/UNIX", Monitoring: "disabled",
		SubnetID: in.subnetID, VpcID: in.vpcID, PrivateIPAddress: in.privateIP,
		Architecture: "x86_64", RootDeviceType: "ebs", RootDeviceName: "/dev/sda1", VirtualizationType: "hvm",
		Hypervisor: "xen",
	}
	if in.windows {
		v.Platform, v.PlatformDetails = "windows", "Windows"
	}
	if state == "shutting-down" || state == "terminated" {
		v.Reason = fmt.Sprintf("User initiated (%s GMT)", in.terminatingAt.UTC().Format("2006-01-02 15:04:05"))
		v.StateReason = &ec2StateReason{Code: "Client.UserInitiatedShutdown", Message: "Client.UserInitiatedShutdown: User initiated shutdown"}
	}
	if state == "terminated" {
		v.PrivateDNSName, v.PrivateIPAddress, v.SubnetID, v.VpcID = "", "", "", ""
	}
	for _, k := range slices.Sorted(maps.Keys(in.tags)) {
		v.Tags = append(v.Tags, ec2Tag{Key: k, Value: in.tags[k]})
	}
	return v
}

func (s *Simulator) describeInstances(g *region, req *request, now time.Time) (any, *apiError) {
	page, next, err := s.selectInstances(g, req, now, func(*instance) bool { return true })
	if err != nil {
		return nil, err
	}
	out := ec2DescribeInstancesResponse{Xmlns: ec2Namespace, RequestID: req.id, NextToken: next, Reservations: []ec2Reservation{}}
	for _, in := range page {
		out.Reservations = append(out.Reservations, ec2Reservation{
			ReservationID: in.reservationID, OwnerID: g.account, RequesterID: "drs.amazonaws.com",
			Instances: []ec2Instance{instanceView(in, now)},
		})
	}
	return out, nil
}

type ec2DescribeInstanceStatusResponse struct {
	XMLName   xml.Name            `xml:"DescribeInstanceStatusResponse"`
	Xmlns     string              `xml:"xmlns,attr"`
	RequestID string              `xml:"requestId"`
	Statuses  []ec2InstanceStatus `xml:"instanceStatusSet>item"`
	NextToken string              `xml:"nextToken,omitempty"`
}

type ec2InstanceStatus struct {
	InstanceID       string           `xml:"instanceId"`
	AvailabilityZone string           `xml:"availabilityZone"`
	State            ec2State         `xml:"instanceState"`
	SystemStatus     ec2StatusSummary `xml:"systemStatus"`
	InstanceStatus   ec2StatusSummary `xml:"instanceStatus"`
}

type ec2StatusSummary struct {
	Status  string            `xml:"status"`
	Details []ec2StatusDetail `xml:"details>item"`
}

type ec2StatusDetail struct {
	Name   string `xml:"name"`
	Status string `xml:"status"`
}

// statusChecksAfter is how long status checks stay "initializing" after an
// instance starts running.
const statusChecksAfter = 3 * time.Minute

func (s *Simulator) describeInstanceStatus(g *region, req *request, now time.Time) (any, *apiError) {
	all := strings.EqualFold(req.form.Get("IncludeAllInstances"), "true")
	page, next, err := s.selectInstances(g, req, now, func(in *instance) bool {
		state, _ := in.stateAt(now)
		return all || state == "running"
	})
	if err != nil {
		return nil, err
	}
	out := ec2DescribeInstanceStatusResponse{Xmlns: ec2Namespace, RequestID: req.id, NextToken: next, Statuses: []ec2InstanceStatus{}}
	for _, in := range page {
		state, code := in.stateAt(now)
		summary := ec2StatusSummary{Status: "not-applicable"}
		if state == "running" {
			summary = ec2StatusSummary{Status: "ok", Details: []ec2StatusDetail{{Name: "reachability", Status: "passed"}}}
			if now.Before(in.runningAt.Add(statusChecksAfter)) {
				summary = ec2StatusSummary{Status: "initializing", Details: []ec2StatusDetail{{Name: "reachability", Status: "initializing"}}}
			}
		}
		out.Statuses = append(out.Statuses, ec2InstanceStatus{
			InstanceID: in.id, AvailabilityZone: in.az, State: ec2State{Code: code, Name: state},
			SystemStatus: summary, InstanceStatus: summary,
		})
	}
	return out, nil
}
