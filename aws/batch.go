package aws

import "slices"

// unique returns ids without empty strings and repeats, in first-seen order,
// so that no ID is asked for twice and batches stay full.
func unique(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// batches splits ids into slices of at most n, the most one call may carry.
func batches(ids []string, n int) [][]string {
	return slices.Collect(slices.Chunk(ids, n))
}
