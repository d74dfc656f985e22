package state

import (
	"context"
	"errors"
	"time"

	"github.com/flotta-dev/flotta/internal/store"
)

// Route 53 health checks (package api/route53 owns their rules), under
// r53MetaPrefix:
//
//	r53-meta/healthcheck/<id>          R53HealthCheck
//	r53-meta/hcref/<caller reference>  the health check id it made
//
// and the checker's conclusion about each, where the DNS data plane reads
// it, beside the zones and record sets:
//
//	r53/health/<id>                    R53HealthStatus
//
// A caller reference is kept after its health check is deleted, as Route
// 53 remembers it.

// R53HealthCheck is a health check of an endpoint: HTTP, HTTPS or TCP.
type R53HealthCheck struct {
	ID              string `json:"id"`
	CallerReference string `json:"callerReference"`
	Type            string `json:"type"`
	// IPAddress or FullyQualifiedDomainName name the endpoint.
	IPAddress                string    `json:"ipAddress,omitempty"`
	FullyQualifiedDomainName string    `json:"fqdn,omitempty"`
	Port                     int32     `json:"port"`
	ResourcePath             string    `json:"resourcePath,omitempty"`
	RequestInterval          int32     `json:"requestInterval"`
	FailureThreshold         int32     `json:"failureThreshold"`
	MeasureLatency           bool      `json:"measureLatency,omitempty"`
	Inverted                 bool      `json:"inverted,omitempty"`
	Disabled                 bool      `json:"disabled,omitempty"`
	EnableSNI                bool      `json:"enableSni,omitempty"`
	Version                  int64     `json:"version"`
	CreatedAt                time.Time `json:"createdAt"`
	// Tags are the health check's tags, by key.
	Tags map[string]string `json:"tags,omitempty"`
}

// ErrR53HealthCheckNotFound is the answer for an id that names no health check.
var ErrR53HealthCheckNotFound = errors.New("no such health check")

func r53HealthCheckKey(id string) string     { return r53MetaPrefix + "healthcheck/" + id }
func r53HealthCheckRefKey(ref string) string { return r53MetaPrefix + "hcref/" + ref }

// CreateR53HealthCheck writes a new health check. When its caller
// reference made one before, nothing is written and the earlier one comes
// back (nil when it has since been deleted) with ErrR53CallerReferenceUsed.
func (s *State) CreateR53HealthCheck(ctx context.Context, hc *R53HealthCheck) (*R53HealthCheck, error) {
	var earlier *R53HealthCheck
	err := retry(ctx, func() error {
		ref, err := s.db.Get(ctx, r53HealthCheckRefKey(hc.CallerReference))
		if err != nil {
			return err
		}
		if ref.ModRev != 0 {
			_, earlier, err = read[R53HealthCheck](ctx, s.db, r53HealthCheckKey(string(ref.Value)))
			if err != nil {
				return err
			}
			return ErrR53CallerReferenceUsed
		}
		_, err = s.db.Commit(ctx, []store.Guard{{Key: r53HealthCheckRefKey(hc.CallerReference)}, {Key: r53HealthCheckKey(hc.ID)}},
			[]store.Op{store.Put(r53HealthCheckKey(hc.ID), mustJSON(hc)), store.Put(r53HealthCheckRefKey(hc.CallerReference), []byte(hc.ID))})
		return err
	})
	return earlier, err
}

// GetR53HealthCheck reads a health check; ErrR53HealthCheckNotFound when
// there is none.
func (s *State) GetR53HealthCheck(ctx context.Context, id string) (*R53HealthCheck, error) {
	_, hc, err := read[R53HealthCheck](ctx, s.db, r53HealthCheckKey(id))
	if err != nil {
		return nil, err
	}
	if hc == nil {
		return nil, ErrR53HealthCheckNotFound
	}
	return hc, nil
}

// ListR53HealthChecks reads every health check, by id.
func (s *State) ListR53HealthChecks(ctx context.Context) ([]R53HealthCheck, error) {
	page, err := s.db.List(ctx, r53MetaPrefix+"healthcheck/", store.ListOptions{})
	if err != nil {
		return nil, err
	}
	return decodeAll[R53HealthCheck](page.KVs)
}

// DeleteR53HealthCheck deletes a health check and its status (its caller
// reference stays used).
func (s *State) DeleteR53HealthCheck(ctx context.Context, id string) error {
	return retry(ctx, func() error {
		kv, err := s.db.Get(ctx, r53HealthCheckKey(id))
		if err != nil {
			return err
		}
		if kv.ModRev == 0 {
			return ErrR53HealthCheckNotFound
		}
		_, err = s.db.Commit(ctx, []store.Guard{{Key: kv.Key, ModRev: kv.ModRev}}, []store.Op{store.Del(kv.Key), store.Del(r53HealthStatusKey(id))})
		return err
	})
}

// UpdateR53HealthCheck rewrites a health check with edit (its tags, say),
// under a guard on its revision.
func (s *State) UpdateR53HealthCheck(ctx context.Context, id string, edit func(hc *R53HealthCheck) error) (*R53HealthCheck, error) {
	var out *R53HealthCheck
	err := retry(ctx, func() error {
		kv, hc, err := read[R53HealthCheck](ctx, s.db, r53HealthCheckKey(id))
		if err != nil {
			return err
		}
		if hc == nil {
			return ErrR53HealthCheckNotFound
		}
		if err := edit(hc); err != nil {
			return err
		}
		if _, err := s.db.Commit(ctx, []store.Guard{{Key: kv.Key, ModRev: kv.ModRev}}, []store.Op{store.Put(kv.Key, mustJSON(hc))}); err != nil {
			return err
		}
		out = hc
		return nil
	})
	return out, err
}

// R53HealthStatus is what the health checker last concluded about a health
// check (r53/health/<id>). It is written when the status changes
// (and refreshed at most once a minute), never for each probe. A health
// check without one has not been checked yet and counts as healthy, as
// Route 53 counts a new health check.
type R53HealthStatus struct {
	ID      string `json:"id"`
	Healthy bool   `json:"healthy"`
	// LastChecked is when the probe that decided the status ran.
	LastChecked time.Time `json:"lastChecked"`
	// LastReason is that probe's result in Route 53's words ("Success:
	// HTTP Status Code 200, OK").
	LastReason string `json:"lastReason"`
}

// r53HealthStatusPrefix keeps the statuses with the zones and record sets
// (under r53Prefix, not r53MetaPrefix): the DNS data plane routes by them,
// and follows them in the same watch (WatchRoute53, Kind "health").
const r53HealthStatusPrefix = r53Prefix + "health/"

func r53HealthStatusKey(id string) string { return r53HealthStatusPrefix + id }

// PutR53HealthStatus writes a health check's status, unless its health
// check is gone (then nothing is written).
func (s *State) PutR53HealthStatus(ctx context.Context, st R53HealthStatus) error {
	return retry(ctx, func() error {
		kv, err := s.db.Get(ctx, r53HealthCheckKey(st.ID))
		if err != nil {
			return err
		}
		if kv.ModRev == 0 {
			return nil
		}
		_, err = s.db.Commit(ctx, []store.Guard{{Key: kv.Key, ModRev: kv.ModRev}}, []store.Op{store.Put(r53HealthStatusKey(st.ID), mustJSON(st))})
		return err
	})
}

// GetR53HealthStatus reads a health check's status: nil when it has not
// been checked yet.
func (s *State) GetR53HealthStatus(ctx context.Context, id string) (*R53HealthStatus, error) {
	_, st, err := read[R53HealthStatus](ctx, s.db, r53HealthStatusKey(id))
	return st, err
}

// ReadR53HealthStatuses reads every health check's status, by id, and the
// revision a WatchRoute53 may follow from.
func (s *State) ReadR53HealthStatuses(ctx context.Context) (map[string]R53HealthStatus, int64, error) {
	page, err := s.db.List(ctx, r53HealthStatusPrefix, store.ListOptions{})
	if err != nil {
		return nil, 0, err
	}
	list, err := decodeAll[R53HealthStatus](page.KVs)
	if err != nil {
		return nil, 0, err
	}
	out := make(map[string]R53HealthStatus, len(list))
	for _, st := range list {
		out[st.ID] = st
	}
	return out, page.Revision, nil
}
