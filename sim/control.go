package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The control endpoint, under /_sim/, drives the simulator from outside a
// Go test: faults, counters, the clock. It speaks plain JSON and is not
// counted in the statistics.
//
//	GET    /_sim/info           accounts, regions, fleet sizes, simulated now
//	GET    /_sim/stats          calls per operation and outcome
//	POST   /_sim/stats/reset    zero the counters
//	GET    /_sim/faults         active faults
//	POST   /_sim/faults         add one fault (an object) or several (an array)
//	DELETE /_sim/faults         clear every fault
//	POST   /_sim/clock/advance  {"by":"5m"}: move a manual clock forward

func (s *Simulator) serveControl(w http.ResponseWriter, r *http.Request) {
	route := r.Method + " " + strings.TrimSuffix(r.URL.Path, "/")
	switch route {
	case "GET /_sim", "GET /_sim/info":
		writeJSON(w, http.StatusOK, s.info())
	case "GET /_sim/stats":
		writeJSON(w, http.StatusOK, s.Stats())
	case "POST /_sim/stats/reset":
		s.ResetStats()
		writeJSON(w, http.StatusOK, s.Stats())
	case "GET /_sim/faults":
		writeJSON(w, http.StatusOK, s.Faults())
	case "POST /_sim/faults":
		faults, err := readFaults(r.Body)
		if err == nil {
			for i := range faults {
				if err = faults[i].validate(); err != nil {
					err = prefixField(err, len(faults) > 1, i)
					break
				}
			}
		}
		if err != nil {
			controlError(w, http.StatusBadRequest, err)
			return
		}
		for _, f := range faults {
			if err := s.AddFault(f); err != nil {
				controlError(w, http.StatusBadRequest, err)
				return
			}
		}
		writeJSON(w, http.StatusOK, s.Faults())
	case "DELETE /_sim/faults":
		s.ClearFaults()
		writeJSON(w, http.StatusOK, s.Faults())
	case "POST /_sim/clock/advance":
		mc, ok := s.clock.(*ManualClock)
		if !ok {
			controlError(w, http.StatusConflict, &FieldError{Field: "clock", Message: "only a manual clock can be advanced"})
			return
		}
		var in struct {
			By Duration `json:"by"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil || in.By <= 0 {
			controlError(w, http.StatusBadRequest, &FieldError{Field: "by", Message: "must be a positive duration like \"5m\""})
			return
		}
		mc.Advance(time.Duration(in.By))
		writeJSON(w, http.StatusOK, s.info())
	default:
		controlError(w, http.StatusNotFound, fmt.Errorf("no control operation %s", route))
	}
}

func controlError(w http.ResponseWriter, status int, err error) {
	body := map[string]string{"message": err.Error()}
	if fe, ok := err.(*FieldError); ok {
		body["field"], body["message"] = fe.Field, fe.Message
	}
	writeJSON(w, status, map[string]any{"error": body})
}

func prefixField(err error, indexed bool, i int) error {
	fe, ok := err.(*FieldError)
	if !ok || !indexed {
		return err
	}
	return &FieldError{Field: fmt.Sprintf("[%d].%s", i, fe.Field), Message: fe.Message}
}

// readFaults decodes one fault or an array of them, naming the field of any
// mistake, unknown fields included.
func readFaults(r io.Reader) ([]Fault, error) {
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	var raws []json.RawMessage
	indexed := len(b) > 0 && b[0] == '['
	if indexed {
		if err := json.Unmarshal(b, &raws); err != nil {
			return nil, &FieldError{Field: "", Message: "must be a fault object or an array of them: " + err.Error()}
		}
	} else {
		raws = []json.RawMessage{b}
	}
	out := make([]Fault, len(raws))
	for i, raw := range raws {
		if err := decodeFault(raw, &out[i]); err != nil {
			return nil, prefixField(err, indexed, i)
		}
	}
	return out, nil
}

func decodeFault(raw json.RawMessage, f *Fault) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return &FieldError{Field: "", Message: "must be a JSON object"}
	}
	targets := map[string]any{
		"kind": &f.Kind, "op": &f.Op, "rate": &f.Rate, "retryAfterSeconds": &f.RetryAfterSeconds,
		"latency": &f.Latency, "servers": &f.Servers, "factor": &f.Factor, "rawError": &f.RawError,
		"instances": &f.Instances, "for": &f.For, "account": &f.Account, "region": &f.Region,
	}
	for name, v := range fields {
		dst, ok := targets[name]
		if !ok {
			return &FieldError{Field: name, Message: "is not a fault field"}
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return &FieldError{Field: name, Message: "has the wrong type or format: " + err.Error()}
		}
	}
	return nil
}

type accountInfo struct {
	ID      string         `json:"id"`
	RoleARN string         `json:"roleArn,omitempty"`
	Local   bool           `json:"local,omitempty"`
	Regions map[string]int `json:"regions"` // source servers per region
}

func (s *Simulator) info() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var accounts []accountInfo
	for _, a := range s.accountList {
		ai := accountInfo{ID: a.ID, RoleARN: a.RoleARN, Local: a.ID == s.localID, Regions: map[string]int{}}
		for _, g := range s.regions {
			if g.account == a.ID {
				ai.Regions[g.name] = len(g.servers)
			}
		}
		accounts = append(accounts, ai)
	}
	_, manual := s.clock.(*ManualClock)
	return map[string]any{
		"now":         drsTime(s.clock.Now()),
		"manualClock": manual,
		"seed":        s.seed,
		"accounts":    accounts,
		"endpoint":    s.endpoint,
	}
}
