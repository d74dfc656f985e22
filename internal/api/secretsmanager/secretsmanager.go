// Package secretsmanager implements the AWS Secrets Manager API (JSON 1.1)
// over Flotta's store, and the lookup that hands a task the secret its task
// definition names in valueFrom.
//
// It owns the meaning of secrets: names and ARNs (with their six random
// characters), versions and their staging labels (AWSCURRENT, AWSPREVIOUS),
// and the recovery window of a deleted secret. Values reach the store only
// sealed by package sealing, bound to the secret's name; no value is ever
// logged or put in an error message.
package secretsmanager

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol/awsjson"
	"github.com/flotta-dev/flotta/internal/sealing"
	"github.com/flotta-dev/flotta/internal/state"
)

// TargetPrefix is the X-Amz-Target prefix of Secrets Manager operations.
const TargetPrefix = "secretsmanager"

// The staging labels Secrets Manager moves by itself.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
)

// Secrets Manager's exception names.
const (
	codeNotFound         = "ResourceNotFoundException"
	codeExists           = "ResourceExistsException"
	codeInvalidRequest   = "InvalidRequestException"
	codeInvalidParameter = "InvalidParameterException"
	codeInvalidToken     = "InvalidNextTokenException"
	codeInternal         = "InternalServiceError"
)

// Limits of the API reference.
const (
	maxNameLen        = 512
	maxDescriptionLen = 2048
	maxValueBytes     = 65536
	maxVersions       = 100
	maxTags           = 50
	minWindowDays     = 7
	maxWindowDays     = 30
)

// API serves the Secrets Manager operations of one account.
type API struct {
	State *state.State
	// Box seals every value before it is stored.
	Box *sealing.Box
	// Now tells the time (dates of versions, the end of a recovery window);
	// nil means time.Now.
	Now func() time.Time
}

// Service returns the protocol binding of every operation this API answers.
func (a *API) Service() *awsjson.Service {
	return &awsjson.Service{
		TargetPrefix:      TargetPrefix,
		SigningName:       "secretsmanager",
		ActionPrefix:      "secretsmanager",
		InternalErrorCode: codeInternal,
		Resources:         a.resources,
		Ops: map[string]awsjson.HandlerFunc{
			"CreateSecret":   awsjson.Op(a.CreateSecret),
			"GetSecretValue": awsjson.Op(a.GetSecretValue),
			"PutSecretValue": awsjson.Op(a.PutSecretValue),
			"UpdateSecret":   awsjson.Op(a.UpdateSecret),
			"DescribeSecret": awsjson.Op(a.DescribeSecret),
			"ListSecrets":    awsjson.Op(a.ListSecrets),
			"DeleteSecret":   awsjson.Op(a.DeleteSecret),
			"RestoreSecret":  awsjson.Op(a.RestoreSecret),
		},
	}
}

// resources names what an operation is authorized on: the secret's ARN
// when SecretId finds one, and "*" otherwise. CreateSecret's secret has no
// ARN yet; it is named by its future ARN with the six random characters as
// "??????", so that policies on a name or a path prefix ("prod/*") apply.
func (a *API) resources(ctx context.Context, op string, body []byte) ([]string, map[string][]string) {
	var in struct {
		SecretID string `json:"SecretId"`
		Name     string `json:"Name"`
	}
	if json.Unmarshal(body, &in) != nil {
		return []string{"*"}, nil
	}
	if op == "CreateSecret" {
		if !validName(in.Name) {
			return []string{"*"}, nil
		}
		return []string{a.arnPrefix() + in.Name + "-??????"}, nil
	}
	if in.SecretID == "" {
		return []string{"*"}, nil
	}
	s, err := a.find(ctx, in.SecretID)
	if err != nil || s == nil {
		return []string{"*"}, nil
	}
	return []string{s.ARN}, nil
}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// arnPrefix is arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:.
func (a *API) arnPrefix() string {
	sc := a.State.Scope
	return model.ARN{Partition: sc.Partition, Service: "secretsmanager", Region: sc.Region, Account: sc.Account, Resource: "secret:"}.String()
}

var (
	nameRE   = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]+$`)
	suffixRE = regexp.MustCompile(`-[A-Za-z0-9]{6}$`)
)

func validName(name string) bool { return len(name) <= maxNameLen && nameRE.MatchString(name) }

// find reads the secret a SecretId names: its name, its full ARN, or its
// ARN without the six random characters. It returns nil when there is none,
// and forgets (for good) a secret whose recovery window is over.
func (a *API) find(ctx context.Context, id string) (*state.Secret, error) {
	if !model.IsARN(id) {
		if !validName(id) {
			return nil, nil
		}
		return a.get(ctx, id, "")
	}
	arn, err := model.ParseARN(id)
	rest, ok := strings.CutPrefix(arn.Resource, "secret:")
	if err != nil || arn.Service != "secretsmanager" || !ok || !a.State.Scope.Owns(arn) || !validName(rest) {
		return nil, nil
	}
	if suffixRE.MatchString(rest) {
		s, err := a.get(ctx, rest[:len(rest)-7], id)
		if s != nil || err != nil {
			return s, err
		}
	}
	// A partial ARN: the name alone.
	return a.get(ctx, rest, "")
}

// get reads a secret by name, and checks its ARN when wantARN is set.
func (a *API) get(ctx context.Context, name, wantARN string) (*state.Secret, error) {
	s, err := a.State.GetSecret(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("read secret %s: %w", name, err)
	}
	if s == nil || (wantARN != "" && s.ARN != wantARN) {
		return nil, nil
	}
	if a.expired(s) {
		if _, err := a.State.DeleteSecret(ctx, name); err != nil {
			return nil, fmt.Errorf("purge secret %s: %w", name, err)
		}
		return nil, nil
	}
	return s, nil
}

// expired says whether a deleted secret's recovery window is over.
func (a *API) expired(s *state.Secret) bool {
	return s.DeletedDate != nil && !a.now().Before(*s.DeletedDate)
}

// PurgeExpired removes for good every secret whose recovery window is over,
// and says how many. (Operations also forget such a secret when they meet
// it; this is for a server that sweeps now and then.)
func (a *API) PurgeExpired(ctx context.Context) (int, error) {
	all, err := a.State.ListSecrets(ctx)
	if err != nil {
		return 0, fmt.Errorf("list secrets: %w", err)
	}
	n := 0
	for i := range all {
		if !a.expired(&all[i]) {
			continue
		}
		found, err := a.State.DeleteSecret(ctx, all[i].Name)
		if err != nil {
			return n, fmt.Errorf("purge secret %s: %w", all[i].Name, err)
		}
		if found {
			n++
		}
	}
	return n, nil
}

// change applies fn to the secret a SecretId names, atomically, and
// refuses a secret that was replaced in between (deleted and made again).
func (a *API) change(ctx context.Context, id string, fn func(s *state.Secret) error) (*state.Secret, error) {
	found, err := a.find(ctx, id)
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, errNotFound()
	}
	return a.State.PutSecret(ctx, found.Name, func(cur *state.Secret) (*state.Secret, error) {
		if cur == nil || cur.ARN != found.ARN || a.expired(cur) {
			return nil, errNotFound()
		}
		if err := fn(cur); err != nil {
			return nil, err
		}
		return cur, nil
	})
}

func errNotFound() *model.Error {
	return model.Errorf(codeNotFound, "Secrets Manager can't find the specified secret.")
}

func errMarkedForDeletion() *model.Error {
	return model.Errorf(codeInvalidRequest, "You can't perform this operation on the secret because it was marked for deletion.")
}

func invalidParameter(format string, args ...any) *model.Error {
	return model.Errorf(codeInvalidParameter, format, args...)
}

// randomSuffix is the six random letters and digits that end a secret's ARN.
func randomSuffix() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, 0, 6)
	var b [16]byte
	for len(out) < 6 {
		rand.Read(b[:])
		for _, c := range b {
			// 248 is 4*62: bytes past it would favour the first letters.
			if c < 248 && len(out) < 6 {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// newVersionID is a random (version 4) UUID, as the SDKs make for
// ClientRequestToken.
func newVersionID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
