package sim

// OpStats counts the calls of one operation by outcome.
type OpStats struct {
	Calls     int64 `json:"calls"`
	OK        int64 `json:"ok"`
	Throttled int64 `json:"throttled"`
	Errors    int64 `json:"errors"`
}

type outcome int

const (
	outcomeOK outcome = iota
	outcomeThrottled
	outcomeError
)

func (s *Simulator) count(name string, o outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats[name]
	if st == nil {
		st = &OpStats{}
		s.stats[name] = st
	}
	st.Calls++
	switch o {
	case outcomeOK:
		st.OK++
	case outcomeThrottled:
		st.Throttled++
	default:
		st.Errors++
	}
}

// Stats returns the calls counted per operation ("drs:StartRecovery") since
// the start or the last ResetStats.
func (s *Simulator) Stats() map[string]OpStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]OpStats, len(s.stats))
	for k, v := range s.stats {
		out[k] = *v
	}
	return out
}

// ResetStats sets every counter back to zero.
func (s *Simulator) ResetStats() {
	s.mu.Lock()
	s.stats = map[string]*OpStats{}
	s.mu.Unlock()
}
