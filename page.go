package wavedr

// Page sizes of every list.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// Page is one page of a list. Next is an opaque cursor for the following
// page, empty on the last one.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// PageLimit returns the page size to use for a requested limit, or an
// EINVALID error for a negative or too large one.
func PageLimit(limit int) (int, error) {
	switch {
	case limit == 0:
		return DefaultPageSize, nil
	case limit < 0 || limit > MaxPageSize:
		return 0, &Error{Code: EINVALID, Message: "invalid page size", Details: []FieldError{{Field: "limit", Rule: "must be between 1 and 500"}}}
	}
	return limit, nil
}
