package manifest

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"wavedr"
)

// The fields each kind accepts, as written in YAML.
var (
	accountFields        = []string{"kind", "id", "name", "roleArn", "externalId", "regions"}
	groupFields          = []string{"kind", "name", "description", "accountId", "region", "servers", "selector", "launchSettings"}
	selectorFields       = []string{"tags"}
	launchSettingsFields = []string{"copyPrivateIp", "copyTags", "launchDisposition", "rightSizingMethod", "osByol"}
	planFields           = []string{"kind", "name", "description", "waves"}
	waveFields           = []string{"name", "groups", "pauseBefore", "dependsOn", "deadline", "onFailure"}
)

func (r *reader) account(v map[string]*yaml.Node) {
	a := r.obj.Account
	a.ID, _ = r.str(v["id"], "id")
	a.Name, _ = r.str(v["name"], "name")
	a.RoleARN, _ = r.str(v["roleArn"], "roleArn")
	a.ExternalID, _ = r.str(v["externalId"], "externalId")
	a.Regions = r.stringList(v["regions"], "regions")
}

func (r *reader) group(v map[string]*yaml.Node) {
	g := r.obj.Group
	g.Name, _ = r.str(v["name"], "name")
	g.Description, _ = r.str(v["description"], "description")
	g.AccountID, _ = r.str(v["accountId"], "accountId")
	g.Region, _ = r.str(v["region"], "region")
	g.ServerIDs = r.stringList(v["servers"], "servers")
	if n := v["selector"]; n != nil {
		if sv, ok := r.fields(n, "selector", selectorFields...); ok {
			g.Selector = &wavedr.TagSelector{Tags: r.stringMap(sv["tags"], "selector.tags")}
		}
	}
	if n := v["launchSettings"]; n != nil {
		if lv, ok := r.fields(n, "launchSettings", launchSettingsFields...); ok {
			ls := &wavedr.LaunchSettings{
				CopyPrivateIP: r.boolPtr(lv["copyPrivateIp"], "launchSettings.copyPrivateIp"),
				CopyTags:      r.boolPtr(lv["copyTags"], "launchSettings.copyTags"),
				OSByol:        r.boolPtr(lv["osByol"], "launchSettings.osByol"),
			}
			s, _ := r.str(lv["launchDisposition"], "launchSettings.launchDisposition")
			ls.LaunchDisposition = strings.ToUpper(s)
			s, _ = r.str(lv["rightSizingMethod"], "launchSettings.rightSizingMethod")
			ls.RightSizingMethod = strings.ToUpper(s)
			g.LaunchSettings = ls
		}
	}
}

func (r *reader) plan(v map[string]*yaml.Node) {
	p := r.obj.Plan
	p.Name, _ = r.str(v["name"], "name")
	p.Description, _ = r.str(v["description"], "description")
	items, _ := r.seq(v["waves"], "waves")
	p.Waves = make([]wavedr.Wave, 0, len(items))
	for i, item := range items {
		f := wavedr.Indexed("waves", i)
		r.mark(f, item)
		p.Waves = append(p.Waves, r.wave(item, f))
	}
}

func (r *reader) wave(n *yaml.Node, field string) wavedr.Wave {
	var w wavedr.Wave
	v, ok := r.fields(n, field, waveFields...)
	if !ok {
		return w
	}
	at := func(name string) string { return field + "." + name }
	w.Name, _ = r.str(v["name"], at("name"))
	w.Groups = r.stringList(v["groups"], at("groups"))
	if n := v["pauseBefore"]; n != nil {
		w.PauseBefore, _ = r.boolean(n, at("pauseBefore"))
	}
	w.DependsOn = r.stringList(v["dependsOn"], at("dependsOn"))
	if n := v["deadline"]; n != nil {
		w.Deadline = r.duration(n, at("deadline"))
	}
	if n := v["onFailure"]; n != nil {
		if s, ok := r.str(n, at("onFailure")); ok {
			policy, known := wavedr.ParseFailurePolicy(s)
			if !known || s == "" {
				r.fail(n, at("onFailure"), "must be stop or continue, not %q", s)
			}
			w.OnFailure = policy
		}
	}
	return w
}
