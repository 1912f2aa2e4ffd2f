package wavedr

// transitions is a transition table: for each status, the statuses it may
// move to. Every status write in wavedr is checked against one of these
// tables, so the rules live in data rather than in scattered conditions.
type transitions[S ~string] map[S][]S

// allows reports whether from may move to to. Staying in the same status is
// not a transition and is not allowed by this check.
func (t transitions[S]) allows(from, to S) bool {
	for _, s := range t[from] {
		if s == to {
			return true
		}
	}
	return false
}

// TransitionError returns the EINVALID error for a refused transition.
func TransitionError[S ~string](what string, from, to S) error {
	return Errorf(EINVALID, "%s cannot go from %s to %s", what, from, to)
}
