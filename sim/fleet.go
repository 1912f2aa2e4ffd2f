package sim

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Accounts, regions and credentials of the default setup. Other packages'
// tests rely on them; see the package documentation for the fleet.
const (
	LocalAccountID   = "111111111111"
	LocalRegion      = "us-east-1"
	TargetAccountID  = "222222222222"
	TargetRegion     = "us-west-2"
	TargetRoleARN    = "arn:aws:iam::222222222222:role/wavedr-recovery"
	TargetExternalID = "wavedr-sim-external-id-0001"
	DefaultServers   = 12
	targetServers    = 6
)

// Tiers of the generated fleets, in the order servers are generated.
const (
	TierDB     = "db"
	TierApp    = "app"
	TierWeb    = "web"
	TierLegacy = "legacy"
)

// AccountConfig is one simulated AWS account.
type AccountConfig struct {
	// ID is the 12-digit account ID.
	ID string `json:"id"`
	// RoleARN and ExternalID, when set, are the role STS AssumeRole must be
	// asked for (with that external ID) to act in this account. The first
	// account without a role is the local one: every access key that was not
	// issued by AssumeRole acts in it.
	RoleARN    string `json:"roleArn,omitempty"`
	ExternalID string `json:"externalId,omitempty"`
	// Fleets are the replicating source servers, per region. A region with
	// no fleet is empty but usable.
	Fleets []FleetConfig `json:"fleets,omitempty"`
}

// FleetConfig describes the source servers of one account in one region.
type FleetConfig struct {
	Region  string `json:"region"`
	Servers int    `json:"servers"`
	// Tiers to spread the servers over, in proportion 3 db : 4 app : 3 web :
	// 2 legacy (each listed tier gets at least one server when there are
	// enough). Empty means all four.
	Tiers []string `json:"tiers,omitempty"`
	// HostPrefix is put before every hostname ("dr-" gives dr-db-01).
	HostPrefix  string `json:"hostPrefix,omitempty"`
	Application string `json:"application,omitempty"` // Application tag; default "shop"
	Environment string `json:"environment,omitempty"` // Environment tag; default "production"
}

// DefaultAccounts returns the default setup: the local account 111111111111
// with servers servers in us-east-1, and the target account 222222222222
// (reached through TargetRoleARN and TargetExternalID) with six servers in
// us-west-2. Append to it to add accounts.
func DefaultAccounts(servers int) []AccountConfig {
	if servers <= 0 {
		servers = DefaultServers
	}
	return []AccountConfig{
		{ID: LocalAccountID, Fleets: []FleetConfig{{Region: LocalRegion, Servers: servers}}},
		{
			ID: TargetAccountID, RoleARN: TargetRoleARN, ExternalID: TargetExternalID,
			Fleets: []FleetConfig{{Region: TargetRegion, Servers: targetServers, Tiers: []string{TierDB, TierApp, TierWeb}, HostPrefix: "dr-"}},
		},
	}
}

// tierSpec is what the servers of one tier look like.
type tierSpec struct {
	weight       int
	subnet       int
	os           string
	windows      bool
	cores        int
	ramGiB       int64
	diskGiB      []int64
	instanceType string
}

var tierSpecs = map[string]tierSpec{
	TierDB:     {3, 1, "Linux version 5.15.0-1057-aws (Ubuntu 22.04.4 LTS)", false, 8, 32, []int64{100, 500}, "r6i.2xlarge"},
	TierApp:    {4, 2, "Linux version 5.14.0-362.8.1.el9_3.x86_64 (Red Hat Enterprise Linux 9.3)", false, 4, 16, []int64{80}, "m6i.xlarge"},
	TierWeb:    {3, 3, "Linux version 5.15.0-1057-aws (Ubuntu 22.04.4 LTS)", false, 2, 4, []int64{40}, "t3.medium"},
	TierLegacy: {2, 4, "Microsoft Windows Server 2012 R2 Standard 6.3.9600", true, 2, 8, []int64{120}, "m5.large"},
}

var tierOrder = []string{TierDB, TierApp, TierWeb, TierLegacy}

// tierCounts spreads n servers over the tiers by their weights (largest
// remainder), giving every tier at least one server when n allows it.
func tierCounts(n int, tiers []string) []int {
	counts := make([]int, len(tiers))
	if n <= 0 || len(tiers) == 0 {
		return counts
	}
	if n < len(tiers) {
		for i := 0; i < n; i++ {
			counts[i] = 1
		}
		return counts
	}
	total := 0
	for _, t := range tiers {
		total += tierSpecs[t].weight
	}
	rem := make([]int, len(tiers))
	given := 0
	for i, t := range tiers {
		w := tierSpecs[t].weight * n
		counts[i] = w / total
		rem[i] = w % total
		given += counts[i]
	}
	for ; given < n; given++ {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		counts[best]++
		rem[best] = -1
	}
	// Every tier at least one: take from the largest.
	for i := range counts {
		for counts[i] == 0 {
			big := 0
			for j := range counts {
				if counts[j] > counts[big] {
					big = j
				}
			}
			counts[big]--
			counts[i]++
		}
	}
	return counts
}

// generateFleet makes the source servers of one fleet. fleetIndex picks the
// second octet of their IPs so that fleets do not share addresses.
func generateFleet(seed int64, accountID string, f FleetConfig, fleetIndex int, addedAt time.Time) []*sourceServer {
	tiers := f.Tiers
	if len(tiers) == 0 {
		tiers = tierOrder
	}
	app := cmp.Or(f.Application, "shop")
	envName := cmp.Or(f.Environment, "production")
	counts := tierCounts(f.Servers, tiers)
	var out []*sourceServer
	for ti, tier := range tiers {
		spec := tierSpecs[tier]
		for k := 1; k <= counts[ti]; k++ {
			host := fmt.Sprintf("%s%s-%02d", f.HostPrefix, tier, k)
			r := stream(seed, "server", accountID, f.Region, host)
			id := "s-" + randString(r, hexDigits, 17)
			s := &sourceServer{
				id:           id,
				arn:          fmt.Sprintf("arn:aws:drs:%s:%s:source-server/%s", f.Region, accountID, id),
				hostname:     host,
				fqdn:         host + "." + app + ".internal",
				tier:         tier,
				ip:           fmt.Sprintf("10.%d.%d.%d", fleetIndex%256, spec.subnet, 10+k),
				subnet:       spec.subnet,
				mac:          randMAC(r),
				os:           spec.os,
				windows:      spec.windows,
				cores:        spec.cores,
				ramBytes:     spec.ramGiB << 30,
				instanceType: spec.instanceType,
				addedAt:      addedAt.Add(-between(r, 20*24*time.Hour, 40*24*time.Hour)),
				replication:  "CONTINUOUS",
				lag:          "P0D",
				tags: map[string]string{
					"Name": host, "Tier": tier, "Application": app, "Environment": envName,
				},
				launch: launchConfig{
					name:        host,
					templateID:  "lt-" + randString(r, hexDigits, 17),
					copyTags:    true,
					disposition: "STARTED",
					rightSizing: "BASIC",
				},
			}
			for i, g := range spec.diskGiB {
				s.disks = append(s.disks, disk{name: diskName(spec.windows, i), bytes: g << 30})
			}
			switch {
			case tier == TierApp && k == 2:
				// Behind, but recoverable: DRS launches from the latest snapshot.
				s.replication, s.lag = "BACKLOG", "PT4M30S"
			case tier == TierLegacy && k%2 == 1:
				// Replication stopped hours ago; a launch uses the last snapshot.
				s.replication, s.lag = "STALLED", "PT3H12M"
			case tier == TierLegacy:
				// Never finished its first copy: nothing to launch from.
				s.replication, s.lag = "INITIAL_SYNC", ""
			}
			out = append(out, s)
		}
	}
	return out
}

func diskName(windows bool, i int) string {
	if windows {
		return fmt.Sprintf("Disk%d", i)
	}
	return fmt.Sprintf("/dev/nvme%dn1", i)
}

func randMAC(r *rand.Rand) string {
	b := make([]string, 6)
	b[0] = "02"
	for i := 1; i < 6; i++ {
		b[i] = fmt.Sprintf("%02x", r.IntN(256))
	}
	return strings.Join(b, ":")
}
