package wavedr

import (
	"strings"
	"unicode/utf8"
)

// textRule is what free text (descriptions, names, tags) must be: valid
// UTF-8 without NUL, which PostgreSQL cannot store in a text column.
const textRule = "must be UTF-8 text without NUL characters"

// ValidText reports whether s may be stored as text.
func ValidText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
