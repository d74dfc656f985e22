package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/store"
)

// IAM server certificates, which HTTPS listeners serve (Flotta has no ACM).
// Package api/iam checks and seals them; the load balancer reads them
// through ListenerCertificates.
//
//	iam/server-certificates/<name>  ServerCertificate

const serverCertsPrefix = Root + "iam/server-certificates/"

// ServerCertificate is an uploaded certificate with its private key, which
// is stored sealed (package sealing, with the certificate's ARN as the
// seal's context) and never returned by any API.
type ServerCertificate struct {
	Name             string      `json:"name"`
	ID               string      `json:"id"`
	Arn              string      `json:"arn"`
	Path             string      `json:"path"`
	CertificateBody  string      `json:"certificateBody"`
	CertificateChain string      `json:"certificateChain,omitempty"`
	SealedPrivateKey string      `json:"sealedPrivateKey"`
	UploadDate       time.Time   `json:"uploadDate"`
	Expiration       time.Time   `json:"expiration"`
	Tags             []model.Tag `json:"tags,omitempty"`
}

// ErrCertificateInUse is a delete of a certificate a listener serves.
var ErrCertificateInUse = errors.New("the certificate is in use by a listener")

// CreateServerCertificate stores a new certificate; ErrExists when the name
// is taken.
func (s *State) CreateServerCertificate(ctx context.Context, c ServerCertificate) error {
	return s.create(ctx, serverCertsPrefix+c.Name, c)
}

// GetServerCertificate reads a certificate by name; nil when there is none.
func (s *State) GetServerCertificate(ctx context.Context, name string) (*ServerCertificate, error) {
	_, c, err := read[ServerCertificate](ctx, s.db, serverCertsPrefix+name)
	return c, err
}

// ListServerCertificates reads every certificate, by name.
func (s *State) ListServerCertificates(ctx context.Context) ([]ServerCertificate, error) {
	return listAll[ServerCertificate](ctx, s.db, serverCertsPrefix)
}

// serverCertificateByARN finds a certificate by ARN: the record (ModRev 0
// and a nil certificate when there is none, under the key the ARN's name
// would have, for a guard that it stays absent).
func (s *State) serverCertificateByARN(ctx context.Context, arn string) (store.KV, *ServerCertificate, error) {
	all, err := s.db.List(ctx, serverCertsPrefix, store.ListOptions{})
	if err != nil {
		return store.KV{}, nil, err
	}
	for _, kv := range all.KVs {
		c, err := decode[ServerCertificate](kv)
		if err != nil {
			return store.KV{}, nil, err
		}
		if c.Arn == arn {
			return kv, c, nil
		}
	}
	return store.KV{Key: serverCertsPrefix + "\x00" + arn}, nil, nil
}

// DeleteServerCertificate deletes a certificate unless a listener serves
// it (ErrCertificateInUse), in one transaction guarded on both; found is
// false when there was none.
func (s *State) DeleteServerCertificate(ctx context.Context, name string) (found bool, err error) {
	err = retry(ctx, func() error {
		kv, c, err := read[ServerCertificate](ctx, s.db, serverCertsPrefix+name)
		if err != nil || c == nil {
			found = false
			return err
		}
		cfg, err := s.ReadELB(ctx)
		if err != nil {
			return err
		}
		for _, l := range cfg.Listeners {
			for _, lc := range l.Certificates {
				if lc.Arn == c.Arn {
					return ErrCertificateInUse
				}
			}
		}
		found = true
		_, err = s.db.Commit(ctx, []store.Guard{{Key: kv.Key, ModRev: kv.ModRev}, {Key: elbPrefix, ModRev: cfg.Revision, Prefix: true}},
			[]store.Op{store.Del(kv.Key)})
		return err
	})
	if err != nil && !errors.Is(err, ErrCertificateInUse) {
		return false, fmt.Errorf("delete server certificate %s: %w", name, err)
	}
	return found, err
}

// ListenerCertificates are the certificates an HTTPS listener serves, its
// default first, with their sealed keys: the data plane opens each key with
// the server's sealing box and the certificate's ARN as context.
func (s *State) ListenerCertificates(ctx context.Context, listenerArn string) ([]ServerCertificate, error) {
	cfg, err := s.ReadELB(ctx)
	if err != nil {
		return nil, err
	}
	l := cfg.Listeners[listenerArn]
	if l == nil {
		return nil, fmt.Errorf("listener %s: not found", listenerArn)
	}
	var out []ServerCertificate
	for _, lc := range l.Certificates {
		_, c, err := s.serverCertificateByARN(ctx, lc.Arn)
		if err != nil {
			return nil, err
		}
		if c == nil {
			continue
		}
		if lc.IsDefault {
			out = append([]ServerCertificate{*c}, out...)
		} else {
			out = append(out, *c)
		}
	}
	return out, nil
}
