package wavedr

import (
	"encoding/json"
	"fmt"
	"time"
)

// Duration is a time.Duration written as text ("45m", "2h30m") in JSON and
// YAML, so plans stay readable.
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes d as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a Go duration string ("90s", "1h").
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration like 45m or 2h", string(b))
	}
	*d = Duration(v)
	return nil
}

// UnmarshalJSON accepts a duration string; a bare number is refused
// because its unit would be a guess.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("must be a duration string like \"45m\"")
	}
	return d.UnmarshalText([]byte(s))
}
