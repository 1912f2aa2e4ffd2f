// Package examples holds the example plan files, embedded so that
// `wavedr demo` works from any working directory.
package examples

import _ "embed"

// ThreeTier is three-tier.yaml: a plan of three waves (database, app behind
// a pause gate, web) that fits the simulator's default fleet.
//
//go:embed three-tier.yaml
var ThreeTier []byte

// ThreeTierName is the file name of ThreeTier, for error messages.
const ThreeTierName = "examples/three-tier.yaml"
