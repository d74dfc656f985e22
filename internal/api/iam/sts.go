package iam

import (
	"context"
	"time"

	"github.com/flotta-dev/flotta/internal/iam"
)

type assumeRoleIn struct {
	RoleArn         string
	RoleSessionName string
	DurationSeconds *int
	Policy          string
}

// Credentials is STS's Credentials shape.
type Credentials struct {
	AccessKeyID     string    `xml:"AccessKeyId"`
	SecretAccessKey string    `xml:"SecretAccessKey"`
	SessionToken    string    `xml:"SessionToken"`
	Expiration      time.Time `xml:"Expiration"`
}

// AssumedRoleUser is STS's AssumedRoleUser shape.
type AssumedRoleUser struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type assumeRoleOut struct {
	Credentials      Credentials     `xml:"Credentials"`
	AssumedRoleUser  AssumedRoleUser `xml:"AssumedRoleUser"`
	PackedPolicySize int             `xml:"PackedPolicySize,omitempty"`
}

// AssumeRole answers temporary credentials of a role the caller is trusted
// to assume.
func (a *API) AssumeRole(ctx context.Context, in *assumeRoleIn) (*assumeRoleOut, error) {
	s, err := a.IAM.AssumeRole(ctx, iam.AssumeRoleInput{RoleARN: in.RoleArn, SessionName: in.RoleSessionName,
		DurationSeconds: in.DurationSeconds, Policy: in.Policy})
	if err != nil {
		return nil, err
	}
	return &assumeRoleOut{
		Credentials: Credentials{AccessKeyID: s.Key.AccessKeyID, SecretAccessKey: s.Key.SecretAccessKey,
			SessionToken: s.Key.SessionToken, Expiration: s.Key.Expiration},
		AssumedRoleUser:  AssumedRoleUser{AssumedRoleID: s.AssumedRoleID, Arn: s.Key.PrincipalARN},
		PackedPolicySize: s.PackedPolicySize,
	}, nil
}
