package secretsmanager

import (
	"context"
	"fmt"
	"slices"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/state"
)

// Tag is a key and value on a secret, in Secrets Manager's member names.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// CreateSecretInput is CreateSecret's request.
type CreateSecretInput struct {
	Name               string  `json:"Name"`
	ClientRequestToken string  `json:"ClientRequestToken"`
	Description        *string `json:"Description"`
	KmsKeyID           string  `json:"KmsKeyId"`
	SecretString       *string `json:"SecretString"`
	// SecretBinary is base64 in JSON, which encoding/json decodes itself.
	SecretBinary []byte `json:"SecretBinary"`
	Tags         []Tag  `json:"Tags"`
}

// CreateSecretOutput is CreateSecret's answer.
type CreateSecretOutput struct {
	ARN       string `json:"ARN"`
	Name      string `json:"Name"`
	VersionID string `json:"VersionId,omitempty"`
}

// CreateSecret makes a secret, with a first version (AWSCURRENT) when a
// value is given. Retrying it with the same ClientRequestToken and value
// answers the secret already made.
func (a *API) CreateSecret(ctx context.Context, in *CreateSecretInput) (*CreateSecretOutput, error) {
	if !validName(in.Name) {
		return nil, invalidParameter("Invalid name. The name must have 1 to %d characters: letters, digits and any of /_+=.@-", maxNameLen)
	}
	if err := checkDescription(in.Description); err != nil {
		return nil, err
	}
	if err := checkToken(in.ClientRequestToken); err != nil {
		return nil, err
	}
	val, hasValue, err := valueOf(in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	tags := make([]model.Tag, len(in.Tags))
	for i, t := range in.Tags {
		tags[i] = model.Tag{Key: t.Key, Value: t.Value}
	}
	if err := model.ValidateTags(nil, tags); err != nil {
		return nil, err
	}
	token := in.ClientRequestToken
	if token == "" {
		token = newVersionID()
	}
	now := a.now()
	out := &CreateSecretOutput{Name: in.Name}
	_, err = a.State.PutSecret(ctx, in.Name, func(cur *state.Secret) (*state.Secret, error) {
		if cur != nil && !a.expired(cur) {
			if cur.DeletedDate != nil {
				return nil, model.Errorf(codeInvalidRequest, "You can't create this secret because a secret with this name is already scheduled for deletion.")
			}
			if hasValue && a.isRetry(cur, token, val) {
				out.ARN, out.VersionID = cur.ARN, token
				return cur, nil
			}
			return nil, model.Errorf(codeExists, "The operation failed because the secret %s already exists.", in.Name)
		}
		s := &state.Secret{
			Name:            in.Name,
			ARN:             a.arnPrefix() + in.Name + "-" + randomSuffix(),
			KmsKeyID:        in.KmsKeyID,
			CreatedDate:     now,
			LastChangedDate: now,
			Tags:            tags,
			Versions:        []state.SecretVersion{},
		}
		if in.Description != nil {
			s.Description = *in.Description
		}
		out.ARN, out.VersionID = s.ARN, ""
		if hasValue {
			if _, err := a.addVersion(s, token, val, nil, now); err != nil {
				return nil, err
			}
			out.VersionID = token
		}
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// isRetry says whether a version with this id holds this value.
func (a *API) isRetry(s *state.Secret, id string, val value) bool {
	for i := range s.Versions {
		if s.Versions[i].VersionID == id {
			old, err := a.open(s, &s.Versions[i])
			return err == nil && old == val
		}
	}
	return false
}

// GetSecretValueInput is GetSecretValue's request.
type GetSecretValueInput struct {
	SecretID     string `json:"SecretId"`
	VersionID    string `json:"VersionId"`
	VersionStage string `json:"VersionStage"`
}

// GetSecretValueOutput is GetSecretValue's answer.
type GetSecretValueOutput struct {
	ARN           string      `json:"ARN"`
	Name          string      `json:"Name"`
	VersionID     string      `json:"VersionId"`
	SecretString  *string     `json:"SecretString,omitempty"`
	SecretBinary  []byte      `json:"SecretBinary,omitempty"`
	VersionStages []string    `json:"VersionStages"`
	CreatedDate   *model.Time `json:"CreatedDate"`
}

// GetSecretValue answers one version's value: AWSCURRENT unless VersionId
// or VersionStage names another.
func (a *API) GetSecretValue(ctx context.Context, in *GetSecretValueInput) (*GetSecretValueOutput, error) {
	s, v, val, err := a.value(ctx, in.SecretID, in.VersionID, in.VersionStage)
	if err != nil {
		return nil, err
	}
	out := &GetSecretValueOutput{ARN: s.ARN, Name: s.Name, VersionID: v.VersionID,
		VersionStages: nonNil(v.Stages), CreatedDate: model.At(v.CreatedDate)}
	if val.binary {
		out.SecretBinary = []byte(val.data)
	} else {
		out.SecretString = &val.data
	}
	return out, nil
}

// value finds a secret's version and opens it.
func (a *API) value(ctx context.Context, id, versionID, stage string) (*state.Secret, *state.SecretVersion, value, error) {
	s, err := a.find(ctx, id)
	if err != nil {
		return nil, nil, value{}, err
	}
	if s == nil {
		return nil, nil, value{}, errNotFound()
	}
	if s.DeletedDate != nil {
		return nil, nil, value{}, errMarkedForDeletion()
	}
	v, err := pickVersion(s, versionID, stage)
	if err != nil {
		return nil, nil, value{}, err
	}
	val, err := a.open(s, v)
	if err != nil {
		return nil, nil, value{}, err
	}
	return s, v, val, nil
}

// PutSecretValueInput is PutSecretValue's request.
type PutSecretValueInput struct {
	SecretID           string   `json:"SecretId"`
	ClientRequestToken string   `json:"ClientRequestToken"`
	SecretString       *string  `json:"SecretString"`
	SecretBinary       []byte   `json:"SecretBinary"`
	VersionStages      []string `json:"VersionStages"`
}

// PutSecretValueOutput is PutSecretValue's answer.
type PutSecretValueOutput struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionID     string   `json:"VersionId"`
	VersionStages []string `json:"VersionStages"`
}

// PutSecretValue adds a version, AWSCURRENT unless VersionStages says
// otherwise; the version that was current becomes AWSPREVIOUS.
func (a *API) PutSecretValue(ctx context.Context, in *PutSecretValueInput) (*PutSecretValueOutput, error) {
	if err := checkToken(in.ClientRequestToken); err != nil {
		return nil, err
	}
	if err := checkStages(in.VersionStages); err != nil {
		return nil, err
	}
	val, ok, err := valueOf(in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, invalidParameter("You must provide either SecretString or SecretBinary.")
	}
	token := in.ClientRequestToken
	if token == "" {
		token = newVersionID()
	}
	now := a.now()
	s, err := a.change(ctx, in.SecretID, func(s *state.Secret) error {
		if s.DeletedDate != nil {
			return errMarkedForDeletion()
		}
		_, err := a.addVersion(s, token, val, in.VersionStages, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	v, err := pickVersion(s, token, "")
	if err != nil {
		return nil, fmt.Errorf("put secret value %s: the new version is gone: %w", s.Name, err)
	}
	return &PutSecretValueOutput{ARN: s.ARN, Name: s.Name, VersionID: token, VersionStages: nonNil(v.Stages)}, nil
}

func checkStages(stages []string) error {
	if len(stages) > 20 {
		return invalidParameter("VersionStages can have at most 20 staging labels.")
	}
	for _, st := range stages {
		if len(st) < 1 || len(st) > 256 {
			return invalidParameter("A staging label must be between 1 and 256 characters long.")
		}
	}
	return nil
}

// UpdateSecretInput is UpdateSecret's request.
type UpdateSecretInput struct {
	SecretID           string  `json:"SecretId"`
	ClientRequestToken string  `json:"ClientRequestToken"`
	Description        *string `json:"Description"`
	KmsKeyID           *string `json:"KmsKeyId"`
	SecretString       *string `json:"SecretString"`
	SecretBinary       []byte  `json:"SecretBinary"`
}

// UpdateSecretOutput is UpdateSecret's answer; VersionId is set when a new
// version was made.
type UpdateSecretOutput struct {
	ARN       string `json:"ARN"`
	Name      string `json:"Name"`
	VersionID string `json:"VersionId,omitempty"`
}

// UpdateSecret changes a secret's description or key, and with a value adds
// a version as PutSecretValue does.
func (a *API) UpdateSecret(ctx context.Context, in *UpdateSecretInput) (*UpdateSecretOutput, error) {
	if err := checkDescription(in.Description); err != nil {
		return nil, err
	}
	if err := checkToken(in.ClientRequestToken); err != nil {
		return nil, err
	}
	val, hasValue, err := valueOf(in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	token := in.ClientRequestToken
	if token == "" {
		token = newVersionID()
	}
	now := a.now()
	s, err := a.change(ctx, in.SecretID, func(s *state.Secret) error {
		if s.DeletedDate != nil {
			return errMarkedForDeletion()
		}
		if in.Description != nil {
			s.Description = *in.Description
			s.LastChangedDate = now
		}
		if in.KmsKeyID != nil {
			s.KmsKeyID = *in.KmsKeyID
			s.LastChangedDate = now
		}
		if hasValue {
			_, err := a.addVersion(s, token, val, nil, now)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &UpdateSecretOutput{ARN: s.ARN, Name: s.Name}
	if hasValue {
		out.VersionID = token
	}
	return out, nil
}

// DescribeSecretInput is DescribeSecret's request.
type DescribeSecretInput struct {
	SecretID string `json:"SecretId"`
}

// DescribeSecretOutput is what DescribeSecret tells of a secret: never its
// value.
type DescribeSecretOutput struct {
	ARN                string              `json:"ARN"`
	Name               string              `json:"Name"`
	Description        string              `json:"Description,omitempty"`
	KmsKeyID           string              `json:"KmsKeyId,omitempty"`
	CreatedDate        *model.Time         `json:"CreatedDate"`
	LastChangedDate    *model.Time         `json:"LastChangedDate"`
	DeletedDate        *model.Time         `json:"DeletedDate,omitempty"`
	Tags               []Tag               `json:"Tags,omitempty"`
	VersionIdsToStages map[string][]string `json:"VersionIdsToStages,omitempty"`
}

// DescribeSecret tells of a secret, also one marked for deletion.
func (a *API) DescribeSecret(ctx context.Context, in *DescribeSecretInput) (*DescribeSecretOutput, error) {
	s, err := a.find(ctx, in.SecretID)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, errNotFound()
	}
	return describe(s), nil
}

func describe(s *state.Secret) *DescribeSecretOutput {
	out := &DescribeSecretOutput{
		ARN: s.ARN, Name: s.Name, Description: s.Description, KmsKeyID: s.KmsKeyID,
		CreatedDate: model.At(s.CreatedDate), LastChangedDate: model.At(s.LastChangedDate),
		VersionIdsToStages: versionsToStages(s),
	}
	if s.DeletedDate != nil {
		out.DeletedDate = model.At(*s.DeletedDate)
	}
	for _, t := range s.Tags {
		out.Tags = append(out.Tags, Tag{Key: t.Key, Value: t.Value})
	}
	return out
}

// DeleteSecretInput is DeleteSecret's request.
type DeleteSecretInput struct {
	SecretID                   string `json:"SecretId"`
	RecoveryWindowInDays       *int64 `json:"RecoveryWindowInDays"`
	ForceDeleteWithoutRecovery *bool  `json:"ForceDeleteWithoutRecovery"`
}

// DeleteSecretOutput is DeleteSecret's answer: when the secret goes for good.
type DeleteSecretOutput struct {
	ARN          string      `json:"ARN,omitempty"`
	Name         string      `json:"Name,omitempty"`
	DeletionDate *model.Time `json:"DeletionDate"`
}

// DeleteSecret marks a secret for deletion at the end of a recovery window
// (30 days unless RecoveryWindowInDays says 7 to 30), during which
// RestoreSecret brings it back; ForceDeleteWithoutRecovery removes it now.
func (a *API) DeleteSecret(ctx context.Context, in *DeleteSecretInput) (*DeleteSecretOutput, error) {
	force := in.ForceDeleteWithoutRecovery != nil && *in.ForceDeleteWithoutRecovery
	if force && in.RecoveryWindowInDays != nil {
		return nil, invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	days := int64(maxWindowDays)
	if in.RecoveryWindowInDays != nil {
		days = *in.RecoveryWindowInDays
		if days < minWindowDays || days > maxWindowDays {
			return nil, invalidParameter("The RecoveryWindowInDays value must be between %d and %d days (inclusive).", minWindowDays, maxWindowDays)
		}
	}
	now := a.now()
	if force {
		s, err := a.find(ctx, in.SecretID)
		if err != nil {
			return nil, err
		}
		if s == nil {
			// A forced delete of a secret that is not there is no error.
			out := &DeleteSecretOutput{DeletionDate: model.At(now)}
			if model.IsARN(in.SecretID) {
				out.ARN = in.SecretID
			} else {
				out.Name = in.SecretID
			}
			return out, nil
		}
		if _, err := a.State.DeleteSecret(ctx, s.Name); err != nil {
			return nil, fmt.Errorf("delete secret %s: %w", s.Name, err)
		}
		return &DeleteSecretOutput{ARN: s.ARN, Name: s.Name, DeletionDate: model.At(now)}, nil
	}
	s, err := a.change(ctx, in.SecretID, func(s *state.Secret) error {
		if s.DeletedDate != nil {
			return errMarkedForDeletion()
		}
		end := now.AddDate(0, 0, int(days))
		s.DeletedDate = &end
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &DeleteSecretOutput{ARN: s.ARN, Name: s.Name, DeletionDate: model.At(*s.DeletedDate)}, nil
}

// RestoreSecretInput is RestoreSecret's request.
type RestoreSecretInput struct {
	SecretID string `json:"SecretId"`
}

// RestoreSecretOutput is RestoreSecret's answer.
type RestoreSecretOutput struct {
	ARN  string `json:"ARN"`
	Name string `json:"Name"`
}

// RestoreSecret cancels a secret's scheduled deletion (a secret not marked
// for deletion is left as it is).
func (a *API) RestoreSecret(ctx context.Context, in *RestoreSecretInput) (*RestoreSecretOutput, error) {
	now := a.now()
	s, err := a.change(ctx, in.SecretID, func(s *state.Secret) error {
		if s.DeletedDate != nil {
			s.DeletedDate = nil
			s.LastChangedDate = now
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &RestoreSecretOutput{ARN: s.ARN, Name: s.Name}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}
