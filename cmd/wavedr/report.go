package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"wavedr"
)

// printReport writes r for a terminal: a header, a table per wave with
// times as offsets from the execution's start (so that a wave's timeline
// reads without date arithmetic), and a summary line.
func printReport(w io.Writer, r wavedr.Report) {
	origin := r.StartedAt
	if origin.IsZero() {
		origin = r.CreatedAt
	}
	fmt.Fprintf(w, "Execution %s: %s of plan %s (version %d), initiated by %s\n",
		r.ExecutionID, r.Mode, r.PlanName, r.PlanVersion, r.InitiatedBy)
	fmt.Fprintf(w, "Started %s; the times below are offsets from then.\n", origin.UTC().Format("2006-01-02 15:04:05 MST"))
	for _, wv := range r.Waves {
		fmt.Fprintln(w)
		printWaveReport(w, wv, origin)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, reportSummary(r))
}

func printWaveReport(w io.Writer, wv wavedr.WaveReport, origin time.Time) {
	head := fmt.Sprintf("Wave %d %s: %s", wv.Number, wv.Name, wv.Status)
	if wv.RecoveryTime > 0 {
		head += ", recovery time " + reportDuration(wv.RecoveryTime.Duration())
	}
	if !wv.LaunchRequestedAt.IsZero() {
		head += ", launched at " + reportOffset(wv.LaunchRequestedAt, origin)
	}
	if wv.GatePassedBy != "" {
		head += ", gate passed by " + wv.GatePassedBy
	}
	switch len(wv.Jobs) {
	case 0:
	case 1:
		head += ", job " + wv.Jobs[0]
	default:
		head += ", jobs " + strings.Join(wv.Jobs, " ")
	}
	fmt.Fprintln(w, head)
	if wv.Reason != "" {
		fmt.Fprintf(w, "  %s\n", wv.Reason)
	}
	if len(wv.Servers) == 0 {
		fmt.Fprintln(w, "  (no servers)")
		return
	}
	// By hostname, which is how people look for a server.
	servers := slices.Clone(wv.Servers)
	slices.SortStableFunc(servers, func(a, b wavedr.ServerReport) int { return strings.Compare(a.Hostname, b.Hostname) })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  HOST\tSOURCE SERVER\tSTATUS\tEC2 INSTANCE\tTYPE\tPRIVATE IP\tREQUESTED\tJOB\tSNAPSHOT\tCONVERTED\tLAUNCHED\tRECOVERY")
	for _, s := range servers {
		recovery := "-"
		if s.RecoveryTime > 0 {
			recovery = reportDuration(s.RecoveryTime.Duration())
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			orDash(s.Hostname), s.SourceServerID, s.Status, orDash(s.EC2InstanceID), orDash(s.InstanceType), orDash(s.PrivateIP),
			reportOffset(s.LaunchRequestedAt, origin), reportOffset(s.JobStartedAt, origin), reportOffset(s.SnapshotAt, origin),
			reportOffset(s.ConversionAt, origin), reportOffset(s.LaunchedAt, origin), recovery)
	}
	tw.Flush()
	// One line per reason: a cancelled wave gives every server the same.
	var reasons []string
	hosts := map[string][]string{}
	for _, s := range servers {
		if s.Reason == "" {
			continue
		}
		if hosts[s.Reason] == nil {
			reasons = append(reasons, s.Reason)
		}
		hosts[s.Reason] = append(hosts[s.Reason], orDash(s.Hostname))
	}
	for _, r := range reasons {
		fmt.Fprintf(w, "  %s: %s\n", strings.Join(hosts[r], ", "), r)
	}
}

// reportSummary is one line: the outcome, the server counts, the measured
// recovery time and, for a drill, the cleanup.
func reportSummary(r wavedr.Report) string {
	c := r.Counts
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d of %d servers launched", r.Mode, r.Status, c.Launched+c.Terminated, c.Total)
	if c.Failed > 0 {
		fmt.Fprintf(&b, ", %d failed", c.Failed)
	}
	if c.Cancelled > 0 {
		fmt.Fprintf(&b, ", %d cancelled", c.Cancelled)
	}
	if n := c.Pending + c.InProgress; n > 0 {
		fmt.Fprintf(&b, ", %d not over", n)
	}
	fmt.Fprintf(&b, " in %d %s", len(r.Waves), plural(len(r.Waves), "wave"))
	if r.RecoveryTime > 0 {
		fmt.Fprintf(&b, "; recovery time %s", reportDuration(r.RecoveryTime.Duration()))
	}
	if r.Duration > 0 {
		fmt.Fprintf(&b, "; took %s", reportDuration(r.Duration.Duration()))
	}
	if r.Mode == wavedr.ModeDrill {
		switch r.Cleanup.Status {
		case wavedr.CleanupNone:
			b.WriteString("; instances not terminated")
		default:
			fmt.Fprintf(&b, "; cleanup %s, %d terminated", r.Cleanup.Status, c.Terminated)
		}
	}
	if r.Reason != "" {
		fmt.Fprintf(&b, "\n%s", r.Reason)
	}
	return b.String()
}

// reportOffset writes t as an offset from origin, "+1m05s", or "-" when t
// is unknown.
func reportOffset(t, origin time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := t.Sub(origin)
	if d < 0 {
		return "-" + reportDuration(-d)
	}
	return "+" + reportDuration(d)
}

// reportDuration writes d to the second: "45s", "1m05s", "2h03m04s".
func reportDuration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	var out string
	switch {
	case h > 0:
		out = fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	case m > 0:
		out = fmt.Sprintf("%dm%02ds", m, s)
	default:
		out = fmt.Sprintf("%ds", s)
	}
	if neg {
		return "-" + out
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
