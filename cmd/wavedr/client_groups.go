package main

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"wavedr"
	"wavedr/manifest"
)

func init() {
	verbGroup{noun: "groups", summary: "list, show and delete the protection groups of a wavedr server", verbs: []clientVerb{
		{"list", "[--limit N]", "list protection groups", runGroupsList},
		{"get", "NAME", "show a protection group (by name or ID)", runGroupsGet},
		{"delete", "NAME [--version N]", "delete a protection group no plan uses", runGroupsDelete},
	}}.register()
	verbGroup{noun: "plans", summary: "list, show, delete and check the recovery plans of a wavedr server", verbs: []clientVerb{
		{"list", "[--limit N]", "list recovery plans", runPlansList},
		{"get", "NAME", "show a recovery plan and its waves (by name or ID)", runPlansGet},
		{"delete", "NAME [--version N]", "delete a recovery plan", runPlansDelete},
		{"validate", "-f FILE [-f FILE ...]", "check the plans of YAML files against the groups stored on the server", runPlansValidate},
	}}.register()
}

func runGroupsList(ctx context.Context, e *env, name string, args []string) error {
	fs, cf := newClientFlagSet(e, name, "[--limit N] [flags]", "Lists the protection groups, every page unless --limit says otherwise.")
	return runList(ctx, e, fs, cf, args, "groups", "/v1/protection-groups", nil,
		func(c *client, groups []*wavedr.ProtectionGroup, _ *clientList) error {
			tw := c.table()
			fmt.Fprintln(tw, "NAME\tID\tACCOUNT\tREGION\tSERVERS\tVERSION")
			for _, g := range groups {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", g.Name, g.ID, accountLabel(g.AccountID), g.Region, groupMembers(g), g.Version)
			}
			return tw.Flush()
		})
}

// accountLabel names an account in a table; "" is wavedr's own.
func accountLabel(id string) string {
	if id == "" {
		return "local"
	}
	return id
}

// groupMembers says how a group picks its servers.
func groupMembers(g *wavedr.ProtectionGroup) string {
	if g.Selector != nil {
		return "tags " + tagList(g.Selector.Tags)
	}
	return strconv.Itoa(len(g.ServerIDs)) + " listed"
}

func tagList(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + tags[k]
	}
	return strings.Join(parts, ",")
}

func runGroupsGet(ctx context.Context, e *env, name string, args []string) error {
	fs, cf := newClientFlagSet(e, name, "NAME [flags]", "Shows a protection group, named by name or ID.")
	pos, err := cf.parse(fs, args, 1, "one group name or ID")
	if err != nil {
		return err
	}
	c, err := cf.client(e)
	if err != nil {
		return err
	}
	defer c.close()
	var g wavedr.ProtectionGroup
	b, err := c.getInto(ctx, "/v1/protection-groups/"+url.PathEscape(pos[0]), nil, &g)
	if err != nil {
		return err
	}
	if c.json {
		return c.printRaw(b)
	}
	w := e.stdout
	fmt.Fprintf(w, "protection group %s (%s), version %d, updated %s\n", g.Name, g.ID, g.Version, clientTime(g.UpdatedAt))
	if g.Description != "" {
		fmt.Fprintf(w, "  %s\n", g.Description)
	}
	fmt.Fprintf(w, "account %s, region %s\n", accountLabel(g.AccountID), g.Region)
	if g.Selector != nil {
		fmt.Fprintf(w, "servers: those tagged %s when a wave launches\n", tagList(g.Selector.Tags))
	} else {
		fmt.Fprintf(w, "servers: %s\n", strings.Join(g.ServerIDs, ", "))
	}
	if l := g.LaunchSettings; l != nil {
		var parts []string
		for _, s := range []struct {
			name string
			v    *bool
		}{{"copyPrivateIp", l.CopyPrivateIP}, {"copyTags", l.CopyTags}, {"osByol", l.OSByol}} {
			if s.v != nil {
				parts = append(parts, fmt.Sprintf("%s=%v", s.name, *s.v))
			}
		}
		if l.LaunchDisposition != "" {
			parts = append(parts, "launchDisposition="+l.LaunchDisposition)
		}
		if l.RightSizingMethod != "" {
			parts = append(parts, "rightSizingMethod="+l.RightSizingMethod)
		}
		fmt.Fprintf(w, "launch settings: %s\n", strings.Join(parts, ", "))
	}
	return nil
}

func runGroupsDelete(ctx context.Context, e *env, name string, args []string) error {
	return deleteNamed(ctx, e, name, args, "protection group", "/v1/protection-groups/")
}

func runPlansDelete(ctx context.Context, e *env, name string, args []string) error {
	return deleteNamed(ctx, e, name, args, "recovery plan", "/v1/recovery-plans/")
}

// deleteNamed deletes the object named by the argument. A DELETE names the
// version it deletes; without --version that is the version read just
// before, which only guards against a change in between.
func deleteNamed(ctx context.Context, e *env, name string, args []string, kind, path string) error {
	fs, cf := newClientFlagSet(e, name, "NAME [--version N] [flags]",
		"Deletes the "+kind+" named by name or ID. With --version, only if it is still at that version (the one you read).")
	version := fs.Int64("version", 0, "delete only if the "+kind+" is at this version (default: the current one)")
	pos, err := cf.parse(fs, args, 1, "one name or ID")
	if err != nil {
		return err
	}
	if *version < 0 {
		return usagef("--version must be positive")
	}
	c, err := cf.client(e)
	if err != nil {
		return err
	}
	defer c.close()
	var cur struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Version int64  `json:"version"`
	}
	if _, err := c.getInto(ctx, path+url.PathEscape(pos[0]), nil, &cur); err != nil {
		return err
	}
	v := *version
	if v == 0 {
		v = cur.Version
	}
	if _, err := c.send(ctx, "DELETE", path+url.PathEscape(cur.ID), url.Values{"version": {strconv.FormatInt(v, 10)}}, nil); err != nil {
		return err
	}
	if c.json {
		// A DELETE answers no body: the document says what went.
		return c.printJSON(map[string]any{"id": cur.ID, "name": cur.Name, "version": v, "deleted": true})
	}
	fmt.Fprintf(e.stdout, "%s %s (%s) deleted\n", kind, cur.Name, cur.ID)
	return nil
}

func runPlansList(ctx context.Context, e *env, name string, args []string) error {
	fs, cf := newClientFlagSet(e, name, "[--limit N] [flags]", "Lists the recovery plans, every page unless --limit says otherwise.")
	return runList(ctx, e, fs, cf, args, "plans", "/v1/recovery-plans", nil,
		func(c *client, plans []*wavedr.RecoveryPlan, _ *clientList) error {
			tw := c.table()
			fmt.Fprintln(tw, "NAME\tID\tWAVES\tVERSION\tUPDATED (UTC)")
			for _, p := range plans {
				names := make([]string, len(p.Waves))
				for i, w := range p.Waves {
					names[i] = w.Name
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", p.Name, p.ID, strings.Join(names, " → "), p.Version, clientTime(p.UpdatedAt))
			}
			return tw.Flush()
		})
}

func runPlansGet(ctx context.Context, e *env, name string, args []string) error {
	fs, cf := newClientFlagSet(e, name, "NAME [flags]", "Shows a recovery plan and its waves, named by name or ID.")
	pos, err := cf.parse(fs, args, 1, "one plan name or ID")
	if err != nil {
		return err
	}
	c, err := cf.client(e)
	if err != nil {
		return err
	}
	defer c.close()
	var p wavedr.RecoveryPlan
	b, err := c.getInto(ctx, "/v1/recovery-plans/"+url.PathEscape(pos[0]), nil, &p)
	if err != nil {
		return err
	}
	if c.json {
		return c.printRaw(b)
	}
	w := e.stdout
	fmt.Fprintf(w, "recovery plan %s (%s), version %d, updated %s\n", p.Name, p.ID, p.Version, clientTime(p.UpdatedAt))
	if p.Description != "" {
		fmt.Fprintf(w, "  %s\n", p.Description)
	}
	for i, wv := range p.Waves {
		parts := []string{"groups " + strings.Join(wv.Groups, ", ")}
		if wv.PauseBefore {
			parts = append(parts, "pauses before (approval gate)")
		}
		if deps := p.Dependencies(i); len(deps) > 0 {
			parts = append(parts, "after "+strings.Join(deps, ", "))
		}
		parts = append(parts, "deadline "+reportDuration(time.Duration(wv.EffectiveDeadline())),
			"on failure "+strings.ToLower(string(wv.EffectivePolicy())))
		fmt.Fprintf(w, "wave %d %s: %s\n", i+1, wv.Name, strings.Join(parts, "; "))
	}
	return nil
}

// runPlansValidate checks each plan of the files with the server, which
// knows the stored groups: a plan naming a group that is only in the
// files is reported (apply --dry-run checks files and store together).
func runPlansValidate(ctx context.Context, e *env, name string, args []string) error {
	fs, cf := newClientFlagSet(e, name, "-f FILE [-f FILE ...] [flags]",
		`Checks each RecoveryPlan of the files against the protection groups
stored on the server, storing nothing. Groups defined in the files are not
looked at: 'wavedr validate' checks files alone, 'wavedr apply --dry-run'
checks files and server together.`)
	var files fileList
	fs.Var(&files, "f", "a YAML file of plans; - reads standard input (repeatable)")
	if _, err := cf.parse(fs, args, 0, ""); err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("give the files with -f FILE")
	}
	m, err := loadPlanFiles(e, files)
	if err != nil {
		return err
	}
	plans := m.Of(manifest.KindRecoveryPlan)
	if len(plans) == 0 {
		return wavedr.Errorf(wavedr.EINVALID, "the files hold no RecoveryPlan")
	}
	c, err := cf.client(e)
	if err != nil {
		return err
	}
	defer c.close()
	type outcome struct {
		Plan     string              `json:"plan"`
		Location string              `json:"location"`
		Valid    bool                `json:"valid"`
		Problems []wavedr.FieldError `json:"problems,omitempty"`
	}
	var out []outcome
	var problems []wavedr.FieldError
	for _, o := range plans {
		res := outcome{Plan: o.Name(), Location: fmt.Sprintf("%s#%d (RecoveryPlan %s)", o.File, o.Doc, o.Name()), Valid: true}
		_, err := c.send(ctx, "POST", "/v1/recovery-plans/validate", nil, o.Plan)
		if wavedr.ErrorCode(err) == wavedr.EINVALID {
			res.Valid = false
			// Located as the manifest locates problems: "FILE#DOC (Kind name): field".
			for _, d := range problemDetails(err) {
				field := res.Location
				if d.Field != "" {
					field += ": " + d.Field
				}
				res.Problems = append(res.Problems, wavedr.FieldError{Field: field, Rule: d.Rule})
			}
			problems = append(problems, res.Problems...)
		} else if err != nil {
			return err
		}
		out = append(out, res)
	}
	if c.json {
		if err := c.printJSON(map[string]any{"plans": out}); err != nil {
			return err
		}
		if len(problems) > 0 {
			return silentError{exitInvalid}
		}
		return nil
	}
	if len(problems) > 0 {
		return reportProblems(e, problems)
	}
	names := make([]string, len(out))
	for i, o := range out {
		names[i] = o.Plan
	}
	fmt.Fprintf(e.stdout, "%d %s valid against the server's groups: %s\n", len(out), plural(len(out), "plan"), strings.Join(names, ", "))
	return nil
}

// loadPlanFiles reads the files as `wavedr validate` does, but checks only
// their form: the problems of form are printed and exit exitInvalid.
func loadPlanFiles(e *env, files []string) (*manifest.Manifest, error) {
	var ms []*manifest.Manifest
	var problems []wavedr.FieldError
	stdinRead := false
	for _, name := range files {
		r, display, closeFn, err := openInput(e, name, &stdinRead)
		if err != nil {
			return nil, err
		}
		m, err := manifest.Load(display, r)
		closeFn()
		if m == nil {
			return nil, err
		}
		problems = append(problems, problemDetails(err)...)
		ms = append(ms, m)
	}
	if len(problems) > 0 {
		return nil, reportProblems(e, problems)
	}
	return manifest.Merge(ms...), nil
}
