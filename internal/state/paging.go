package state

import (
	"context"
	"encoding/base64"
	"strings"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/store"
)

const tokenPrefix = "flotta1:"

// pageToken makes an opaque nextToken that resumes a listing after key.
func pageToken(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tokenPrefix + key))
}

// resumeKey reads a nextToken back. It must have been made for a listing of
// the same prefix; anything else is an InvalidParameterException.
func resumeKey(token, prefix string) (string, error) {
	if token == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	key, ok := strings.CutPrefix(string(raw), tokenPrefix)
	if err != nil || !ok || !strings.HasPrefix(key, prefix) {
		return "", model.InvalidParameter("Invalid nextToken: it was not returned by an earlier call of this listing with the same filters.")
	}
	return key, nil
}

// PageSize checks a maxResults against its bounds and returns the page size.
func PageSize(maxResults *int, def, max int) (int, error) {
	if maxResults == nil {
		return def, nil
	}
	if *maxResults < 1 || *maxResults > max {
		return 0, model.InvalidParameter("maxResults must be between 1 and %d; got %d.", max, *maxResults)
	}
	return *maxResults, nil
}

// scan walks the records under prefix, resuming after token, and returns the
// values that keep selects, up to limit of them, with a token for the next
// page when more records remain to be looked at.
func scan[T any](ctx context.Context, st *store.Store, prefix, token string, limit int, desc bool,
	keep func(kv store.KV) (T, bool, error)) ([]T, string, error) {
	after, err := resumeKey(token, prefix)
	if err != nil {
		return nil, "", err
	}
	var out []T
	for {
		page, err := st.List(ctx, prefix, store.ListOptions{After: after, Limit: limit - len(out) + 1, Descending: desc})
		if err != nil {
			return nil, "", err
		}
		for _, kv := range page.KVs {
			v, ok, err := keep(kv)
			if err != nil {
				return nil, "", err
			}
			if !ok {
				after = kv.Key
				continue
			}
			if len(out) == limit {
				// A further match exists: resume right after the last one returned.
				return out, pageToken(after), nil
			}
			out = append(out, v)
			after = kv.Key
		}
		if !page.More {
			return out, "", nil
		}
	}
}
