package main

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"wavedr"
)

func init() {
	verbGroup{noun: "servers", def: "list", summary: "list the DRS source servers a wavedr server sees, with replication and groups", verbs: []clientVerb{
		{"list", "[--account ID] [--region R] [--limit N]", "list source servers: replication state, lag, protection groups", runServersList},
	}}.register()
	verbGroup{noun: "tokens", summary: "list, create and revoke the API tokens of a wavedr server", verbs: []clientVerb{
		{"list", "[--limit N]", "list API tokens, newest first", runTokensList},
		{"create", "NAME --role ROLE [--expires 30d]", "create an API token and print its secret (shown once)", runTokensCreate},
		{"revoke", "ID", "revoke an API token", runTokensRevoke},
	}}.register()
	verbGroup{noun: "audit", def: "list", summary: "read the audit log of a wavedr server", verbs: []clientVerb{
		{"list", "[--principal P] [--target T] [--since T] [--limit N]", "list audit entries, newest first", runAuditList},
	}}.register()
}

// sourceServer is an item of GET /v1/source-servers.
type sourceServer struct {
	wavedr.SourceServer
	AccountID        string `json:"accountId"`
	Region           string `json:"region"`
	ProtectionGroups []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"protectionGroups"`
}

func runServersList(ctx context.Context, e *env, name string, args []string) error {
	fs, cf := newClientFlagSet(e, name, "[--account ID] [--region R] [--limit N] [flags]",
		`Lists the source servers DRS replicates: by default those of the local
account (in its region and those of its groups) and of every connected
account in each of its regions. Accounts or regions DRS did not answer for
are named on standard error: their servers are missing from the list.`)
	account := fs.String("account", "", "only this account (12 digits)")
	region := fs.String("region", "", "only this region")
	query := func() (url.Values, error) {
		q := url.Values{}
		if *account != "" {
			q.Set("accountId", *account)
		}
		if *region != "" {
			q.Set("region", *region)
		}
		return q, nil
	}
	return runList(ctx, e, fs, cf, args, "servers", "/v1/source-servers", query,
		func(c *client, servers []sourceServer, l *clientList) error {
			tw := c.table()
			fmt.Fprintln(tw, "HOSTNAME\tSOURCE SERVER\tACCOUNT\tREGION\tREPLICATION\tLAG\tGROUPS")
			for _, s := range servers {
				groups := make([]string, len(s.ProtectionGroups))
				for i, g := range s.ProtectionGroups {
					groups[i] = g.Name
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", orDash(s.Hostname), s.ID, accountLabel(s.AccountID), s.Region,
					orDash(string(s.ReplicationState)), lagLabel(s.LagDuration), orDash(strings.Join(groups, ",")))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			var unreachable []struct {
				AccountID string `json:"accountId"`
				Region    string `json:"region"`
				Message   string `json:"message"`
			}
			if raw, ok := l.rest["unreachable"]; ok {
				if err := c.decode(raw, &unreachable); err != nil {
					return err
				}
			}
			for _, u := range unreachable {
				fmt.Fprintf(e.stderr, "warning: account %s in %s could not be listed, its servers are missing: %s\n",
					accountLabel(u.AccountID), u.Region, u.Message)
			}
			return nil
		})
}

var isoDuration = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// lagLabel writes DRS's ISO 8601 lag ("PT1M30S", "P0D") as the reports write
// durations ("1m30s"), or as DRS wrote it when it has another form.
func lagLabel(iso string) string {
	m := isoDuration.FindStringSubmatch(iso)
	if iso == "" || m == nil {
		return orDash(iso)
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if m[i+1] != "" {
			f, _ := strconv.ParseFloat(m[i+1], 64)
			d += time.Duration(f * float64(unit))
		}
	}
	return reportDuration(d)
}

func runTokensList(ctx context.Context, e *env, name string, args []string) error {
	fs, cf := newClientFlagSet(e, name, "[--limit N] [flags]", "Lists the API tokens, newest first; their secrets are never shown again.")
	return runList(ctx, e, fs, cf, args, "tokens", "/v1/tokens", nil,
		func(c *client, tokens []*wavedr.APIToken, _ *clientList) error {
			now := time.Now()
			tw := c.table()
			fmt.Fprintln(tw, "ID\tNAME\tROLE\tSTATE\tCREATED BY\tEXPIRES (UTC)\tLAST USED (UTC)")
			for _, t := range tokens {
				state := "active"
				switch {
				case !t.RevokedAt.IsZero():
					state = "revoked by " + t.RevokedBy
				case !t.Active(now):
					state = "expired"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, state, t.CreatedBy, clientTime(t.ExpiresAt), clientTime(t.LastUsedAt))
			}
			return tw.Flush()
		})
}

func runTokensCreate(ctx context.Context, e *env, name string, args []string) error {
	roles := make([]string, len(wavedr.Roles))
	for i, r := range wavedr.Roles {
		roles[i] = string(r)
	}
	fs, cf := newClientFlagSet(e, name, "NAME --role ROLE [--expires 30d] [flags]",
		`Creates an API token. Its secret alone is printed on standard output, so
that a script can keep it (WAVEDR_TOKEN=$(wavedr tokens create ...)); it is
shown this once. A token cannot hold permissions its creator lacks.`)
	role := fs.String("role", "", "the token's role: "+strings.Join(roles, ", "))
	expires := fs.String("expires", "90d", "lifetime (30d, 12h) or expiry time (2026-12-31, RFC 3339); at most 366d")
	pos, err := cf.parse(fs, args, 1, "the token's name")
	if err != nil {
		return err
	}
	var r wavedr.Role
	for _, known := range wavedr.Roles {
		if strings.EqualFold(*role, string(known)) {
			r = known
		}
	}
	if r == "" {
		return usagef("--role must be one of %s", strings.Join(roles, ", "))
	}
	at, err := parseExpiry(*expires, time.Now())
	if err != nil {
		return usagef("--expires: %v", err)
	}
	c, err := cf.client(e)
	if err != nil {
		return err
	}
	defer c.close()
	body := map[string]any{"name": pos[0], "role": r, "expiresAt": at.UTC().Format(time.RFC3339)}
	b, err := c.send(ctx, "POST", "/v1/tokens", nil, body)
	if err != nil {
		return err
	}
	if c.json {
		return c.printRaw(b)
	}
	var t struct {
		wavedr.APIToken
		Secret string `json:"secret"`
	}
	if err := c.decode(b, &t); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "API token %s (%s, %s) created, expires %s UTC; its secret, shown this once:\n",
		t.ID, t.Name, t.Role, clientTime(t.ExpiresAt))
	fmt.Fprintln(e.stdout, t.Secret)
	return nil
}

func runTokensRevoke(ctx context.Context, e *env, name string, args []string) error {
	fs, cf := newClientFlagSet(e, name, "ID [flags]", "Revokes an API token, named by its ID (tok-...): it stops authenticating at once.")
	pos, err := cf.parse(fs, args, 1, "one token ID")
	if err != nil {
		return err
	}
	c, err := cf.client(e)
	if err != nil {
		return err
	}
	defer c.close()
	var t wavedr.APIToken
	b, err := c.send(ctx, "DELETE", "/v1/tokens/"+url.PathEscape(pos[0]), nil, nil)
	if err != nil {
		return err
	}
	if c.json {
		return c.printRaw(b)
	}
	if err := c.decode(b, &t); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "API token %s (%s) revoked by %s at %s UTC\n", t.ID, t.Name, t.RevokedBy, clientTime(t.RevokedAt))
	return nil
}

func runAuditList(ctx context.Context, e *env, name string, args []string) error {
	fs, cf := newClientFlagSet(e, name, "[--principal P] [--target T] [--since T] [--limit N] [flags]",
		"Lists the audit log, newest first: every request that could change something, refusals included.")
	principal := fs.String("principal", "", "only the requests of this principal (as listed: token:NAME, oidc:NAME)")
	target := fs.String("target", "", "only the requests on this object (an ID)")
	since := fs.String("since", "", "only entries from this time (2026-04-01, RFC 3339) or age (24h, 7d)")
	query := func() (url.Values, error) {
		q := url.Values{}
		if *principal != "" {
			q.Set("principal", *principal)
		}
		if *target != "" {
			q.Set("target", *target)
		}
		return q, setSince(q, *since)
	}
	return runList(ctx, e, fs, cf, args, "entries", "/v1/audit", query,
		func(c *client, entries []*wavedr.AuditEntry, _ *clientList) error {
			tw := c.table()
			fmt.Fprintln(tw, "AT (UTC)\tPRINCIPAL\tACTION\tTARGET\tOUTCOME\tSTATUS\tMESSAGE")
			for _, a := range entries {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", clientTime(a.At), a.Principal, a.Action, orDash(a.Target), a.Outcome, a.Status, a.Message)
			}
			return tw.Flush()
		})
}
