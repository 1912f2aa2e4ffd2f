// Package sim is a stateful simulator of the parts of AWS Elastic Disaster
// Recovery (DRS), EC2 and STS that disaster recovery uses. It speaks their
// wire protocols — DRS restJson1, EC2 query with XML answers, STS awsQuery —
// so the real AWS SDKs and the AWS CLI, pointed at it with an endpoint URL,
// work unchanged. It is the embedded default of wavedr (demos, training,
// drills on a laptop) and the ground truth of its tests.
//
// # Use
//
// In-process, with no port:
//
//	s, _ := sim.New(sim.Config{Seed: 1, Clock: sim.NewManualClock(time.Time{})})
//	cfg := aws.Config{Region: "us-east-1", HTTPClient: s.HTTPClient(),
//		BaseEndpoint: aws.String(s.Endpoint()), Credentials: anyStaticCredentials}
//
// or as a server: s is an http.Handler (see `wavedr sim`).
//
// # Routing, accounts, regions
//
// One handler serves all three services, routed by the SigV4 credential
// scope of the Authorization header (…/REGION/SERVICE/aws4_request), or,
// for unsigned requests, by the path (DRS) or the Action and Version form
// fields (EC2, STS). Signatures are parsed, never verified. The region is
// the scope's (us-east-1 when unsigned). The account is the access key's:
// keys issued by AssumeRole (ASIA…) act in the role's account, every other
// key in the local account.
//
// # Default fleet
//
// Local account 111111111111, region us-east-1, Config.Servers servers
// (default 12), every one tagged Tier, Application=shop,
// Environment=production and Name=<hostname>:
//
//	hostname         tier    replication            launch              instance type
//	db-01..db-03     db      CONTINUOUS             launches            r6i.2xlarge
//	app-01..app-04   app     CONTINUOUS; app-02     launches            m6i.xlarge
//	                         BACKLOG (lag PT4M30S)
//	web-01..web-03   web     CONTINUOUS             launches            t3.medium
//	legacy-01        legacy  STALLED (lag PT3H12M)  previous snapshot,  m5.large (Windows)
//	                                                USING_PREVIOUS_SNAPSHOT, launches
//	legacy-02        legacy  INITIAL_SYNC           fails: SNAPSHOT_FAIL, m5.large (Windows)
//	                                                LAUNCH_FAILED with a rawError
//
// Other sizes keep the proportions 3 db : 4 app : 3 web : 2 legacy (largest
// remainder; every tier has a server when there are at least four); the
// second app server is BACKLOG, odd legacy servers are STALLED and even
// ones INITIAL_SYNC. FQDNs are <hostname>.shop.internal; private IPs are
// 10.0.<tier>.<10+n> (tier 1 db, 2 app, 3 web, 4 legacy).
//
// Target account 222222222222, region us-west-2: six servers dr-db-01,
// dr-db-02, dr-app-01, dr-app-02 (BACKLOG), dr-web-01, dr-web-02 (IPs
// 10.1.x.x), reachable only through AssumeRole of
// arn:aws:iam::222222222222:role/wavedr-recovery with the external ID
// wavedr-sim-external-id-0001. Config.Accounts replaces this setup
// (start from DefaultAccounts to extend it). Regions without a fleet exist
// and are empty.
//
// The same seed gives the same source server IDs (s- + 17 hex), MACs, job
// IDs (drsjob- + 17 alphanumerics), recovery instance and EC2 instance IDs
// (i- + 17 hex, never equal), schedules and fault decisions, provided the
// calls come in the same order.
//
// # Time
//
// Nothing runs in the background. When a job starts, each server's
// schedule is fixed (seeded by job and server: job PENDING 10–30 s,
// snapshot 1–3 min, conversion 2–5 min, launch 1–3 min; terminate 1–2 min),
// and every read derives state from the clock's now. Speed runs simulated
// time faster than the wall clock; Config.Clock (ManualClock in tests)
// replaces it. Credentials from AssumeRole expire on the wall clock, as
// SDKs expect, and are never refused for age.
//
// # Faults and counters
//
// Fault (throttle, error, deny, latency, fail-launch, slow-launch,
// hide-instance) can be set in Config, with AddFault, through `wavedr sim`
// flags, or on the control endpoint (/_sim/faults). Stats counts calls per
// operation and outcome. See docs/simulator.md.
package sim
