package elbv2

import (
	"encoding/base64"
	"strconv"
)

// ELB pages its Describe answers with PageSize (1-400) and an opaque
// Marker; Flotta's marker is the sort key of the last item answered.

func page[T any](items []T, key func(T) string, marker string, pageSize *int) ([]T, string, error) {
	limit := 400
	if pageSize != nil {
		if *pageSize < 1 {
			return nil, "", invalid("1 validation error detected: Value '%d' at 'pageSize' failed to satisfy constraint: Member must have value greater than or equal to 1", *pageSize)
		}
		if *pageSize > 400 {
			return nil, "", invalid("1 validation error detected: Value '%d' at 'pageSize' failed to satisfy constraint: Member must have value less than or equal to 400", *pageSize)
		}
		limit = *pageSize
	}
	start := 0
	if marker != "" {
		raw, err := base64.RawURLEncoding.DecodeString(marker)
		if err != nil {
			return nil, "", invalid("The marker '%s' is not valid", marker)
		}
		after := string(raw)
		for start < len(items) && key(items[start]) <= after {
			start++
		}
	}
	items = items[start:]
	if len(items) > limit {
		return items[:limit], base64.RawURLEncoding.EncodeToString([]byte(key(items[limit-1]))), nil
	}
	return items, "", nil
}

// sortKey orders by a name and then an id, so that a marker resumes a
// listing in one place.
func sortKey(parts ...string) string {
	out := ""
	for _, p := range parts {
		out += strconv.Quote(p)
	}
	return out
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
