package manifest

import (
	"maps"
	"slices"

	"wavedr"
)

// The same… functions compare the fields a user sets, never IDs, versions
// or times. Lists that are sets (regions, server IDs) compare without
// regard to order; a wave's deadline and failure policy compare by their
// effective values, so an omitted default equals the default written out.

func sameAccount(a, b *wavedr.Account) bool {
	return a.Name == b.Name && a.RoleARN == b.RoleARN && a.ExternalID == b.ExternalID &&
		sameSet(a.Regions, b.Regions)
}

func sameGroup(a, b *wavedr.ProtectionGroup) bool {
	return a.Name == b.Name && a.Description == b.Description && a.AccountID == b.AccountID &&
		a.Region == b.Region && sameSet(a.ServerIDs, b.ServerIDs) &&
		sameSelector(a.Selector, b.Selector) && sameLaunchSettings(a.LaunchSettings, b.LaunchSettings)
}

func samePlan(a, b *wavedr.RecoveryPlan) bool {
	if a.Name != b.Name || a.Description != b.Description || len(a.Waves) != len(b.Waves) {
		return false
	}
	for i := range a.Waves {
		if !sameWave(&a.Waves[i], &b.Waves[i]) {
			return false
		}
	}
	return true
}

func sameWave(a, b *wavedr.Wave) bool {
	return a.Name == b.Name && slices.Equal(a.Groups, b.Groups) && a.PauseBefore == b.PauseBefore &&
		(a.DependsOn == nil) == (b.DependsOn == nil) && slices.Equal(a.DependsOn, b.DependsOn) &&
		a.EffectiveDeadline() == b.EffectiveDeadline() && a.EffectivePolicy() == b.EffectivePolicy()
}

func sameSelector(a, b *wavedr.TagSelector) bool {
	if a == nil || b == nil {
		return a == b
	}
	return maps.Equal(a.Tags, b.Tags)
}

// sameLaunchSettings treats settings that set nothing like no settings.
func sameLaunchSettings(a, b *wavedr.LaunchSettings) bool {
	var none wavedr.LaunchSettings
	if a == nil {
		a = &none
	}
	if b == nil {
		b = &none
	}
	return sameBool(a.CopyPrivateIP, b.CopyPrivateIP) && sameBool(a.CopyTags, b.CopyTags) &&
		sameBool(a.OSByol, b.OSByol) && a.LaunchDisposition == b.LaunchDisposition &&
		a.RightSizingMethod == b.RightSizingMethod
}

func sameBool(a, b *bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
