package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flotta-dev/flotta/internal/store"

	"github.com/flotta-dev/flotta/internal/model"
)

// The records of SSM Parameter Store and Secrets Manager. Their values are
// stored sealed (package sealing): the store never holds one in the clear.

const (
	ssmParametersPrefix = Root + "ssm/parameters/"
	secretsPrefix       = Root + "secrets/"
)

// SSMParameter is a parameter and its history.
type SSMParameter struct {
	Name        string      `json:"name"`
	Type        string      `json:"type"`
	Description string      `json:"description,omitempty"`
	KeyID       string      `json:"keyId,omitempty"`
	DataType    string      `json:"dataType"`
	Tier        string      `json:"tier"`
	Tags        []model.Tag `json:"tags,omitempty"`
	// Versions are newest last; each value is sealed.
	Versions []SSMParameterVersion `json:"versions"`
}

// SSMParameterVersion is one value of a parameter.
type SSMParameterVersion struct {
	Version          int64     `json:"version"`
	SealedValue      string    `json:"sealedValue"`
	LastModifiedDate time.Time `json:"lastModifiedDate"`
	LastModifiedUser string    `json:"lastModifiedUser"`
	Labels           []string  `json:"labels,omitempty"`
}

// Current is the newest version.
func (p *SSMParameter) Current() *SSMParameterVersion { return &p.Versions[len(p.Versions)-1] }

// Secret is a Secrets Manager secret and its versions.
type Secret struct {
	Name            string      `json:"name"`
	ARN             string      `json:"arn"`
	Description     string      `json:"description,omitempty"`
	KmsKeyID        string      `json:"kmsKeyId,omitempty"`
	CreatedDate     time.Time   `json:"createdDate"`
	LastChangedDate time.Time   `json:"lastChangedDate"`
	DeletedDate     *time.Time  `json:"deletedDate,omitempty"`
	Tags            []model.Tag `json:"tags,omitempty"`
	// Versions are oldest first; each value is sealed.
	Versions []SecretVersion `json:"versions"`
}

// SecretVersion is one value of a secret and its staging labels.
type SecretVersion struct {
	VersionID   string    `json:"versionId"`
	Stages      []string  `json:"stages,omitempty"`
	SealedValue string    `json:"sealedValue"`
	Binary      bool      `json:"binary,omitempty"`
	CreatedDate time.Time `json:"createdDate"`
}

// GetSSMParameter reads a parameter; nil when there is none.
func (s *State) GetSSMParameter(ctx context.Context, name string) (*SSMParameter, error) {
	_, p, err := read[SSMParameter](ctx, s.db, ssmParametersPrefix+name)
	return p, err
}

// PutSSMParameter creates a parameter (when there is none) or changes it
// with fn, which sees nil for a new one and returns what to store.
func (s *State) PutSSMParameter(ctx context.Context, name string, fn func(*SSMParameter) (*SSMParameter, error)) (*SSMParameter, error) {
	return upsert(ctx, s, ssmParametersPrefix+name, fn)
}

// DeleteSSMParameter deletes a parameter; found is false when there was none.
func (s *State) DeleteSSMParameter(ctx context.Context, name string) (bool, error) {
	return s.deleteKey(ctx, ssmParametersPrefix+name)
}

// ListSSMParameters reads every parameter, by name.
func (s *State) ListSSMParameters(ctx context.Context) ([]SSMParameter, error) {
	return listAll[SSMParameter](ctx, s.db, ssmParametersPrefix)
}

// GetSecret reads a secret by name; nil when there is none.
func (s *State) GetSecret(ctx context.Context, name string) (*Secret, error) {
	_, v, err := read[Secret](ctx, s.db, secretsPrefix+name)
	return v, err
}

// PutSecret creates or changes a secret as PutSSMParameter does.
func (s *State) PutSecret(ctx context.Context, name string, fn func(*Secret) (*Secret, error)) (*Secret, error) {
	return upsert(ctx, s, secretsPrefix+name, fn)
}

// DeleteSecret removes a secret's record for good.
func (s *State) DeleteSecret(ctx context.Context, name string) (bool, error) {
	return s.deleteKey(ctx, secretsPrefix+name)
}

// ListSecrets reads every secret, by name.
func (s *State) ListSecrets(ctx context.Context) ([]Secret, error) {
	return listAll[Secret](ctx, s.db, secretsPrefix)
}

// upsert creates or replaces one record with what fn makes of the present
// one (nil when there is none), guarded against concurrent writes.
func upsert[T any](ctx context.Context, s *State, key string, fn func(*T) (*T, error)) (*T, error) {
	for {
		kv, cur, err := read[T](ctx, s.db, key)
		if err != nil {
			return nil, err
		}
		next, err := fn(cur)
		if err != nil {
			return nil, err
		}
		_, err = s.db.Commit(ctx, []store.Guard{{Key: key, ModRev: kv.ModRev}}, []store.Op{store.Put(key, mustJSON(next))})
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", key, err)
		}
		return next, nil
	}
}
