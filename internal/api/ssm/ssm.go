// Package ssm serves SSM Parameter Store (AWS JSON 1.1, target prefix
// AmazonSSM): parameters of type String, StringList and SecureString with
// their versions, read by name, by path and in batches. Every value is
// stored sealed, and a task's secrets are read from here when it starts.
package ssm

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/iam"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol/awsjson"
	"github.com/flotta-dev/flotta/internal/sealing"
	"github.com/flotta-dev/flotta/internal/state"
)

// TargetPrefix is SSM's X-Amz-Target prefix.
const TargetPrefix = "AmazonSSM"

// Limits of Parameter Store's standard tier.
const (
	maxValueBytes = 4096
	maxVersions   = 100
	maxNameLength = 2048
	maxLevels     = 15
)

// API answers Parameter Store.
type API struct {
	State *state.State
	Box   *sealing.Box
	Now   func() time.Time
}

// Service is the API for the JSON router.
func (a *API) Service() *awsjson.Service {
	return &awsjson.Service{TargetPrefix: TargetPrefix, SigningName: "ssm", ActionPrefix: "ssm", InternalErrorCode: "InternalServerError",
		Resources: a.resources,
		Ops: map[string]awsjson.HandlerFunc{
			"PutParameter":        awsjson.Op(a.PutParameter),
			"GetParameter":        awsjson.Op(a.GetParameter),
			"GetParameters":       awsjson.Op(a.GetParameters),
			"GetParametersByPath": awsjson.Op(a.GetParametersByPath),
			"DeleteParameter":     awsjson.Op(a.DeleteParameter),
			"DeleteParameters":    awsjson.Op(a.DeleteParameters),
			"DescribeParameters":  awsjson.Op(a.DescribeParameters),
			"GetParameterHistory": awsjson.Op(a.GetParameterHistory),
		}}
}

func errorf(code string, format string, args ...any) *model.Error {
	return &model.Error{Code: code, Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

func notFound(name string) *model.Error {
	return errorf("ParameterNotFound", "Parameter %s not found.", model.Truncate(name, 2048))
}

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)

// key is a parameter's name as stored: without its leading slash's
// ambiguity (SSM treats "a" and "/a" as different names, and so does Flotta).
func checkName(name string) error {
	if name == "" || len(name) > maxNameLength || !namePattern.MatchString(name) {
		return errorf("ValidationException", "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.")
	}
	lower := strings.ToLower(strings.TrimPrefix(name, "/"))
	if strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "ssm") {
		return errorf("ValidationException", "No access to reserved parameter name: %s.", name)
	}
	if strings.Count(name, "/") > maxLevels {
		return errorf("HierarchyLevelLimitExceededException", "A hierarchy can have a maximum of 15 levels.")
	}
	return nil
}

// ARN is a parameter's ARN.
func (a *API) ARN(name string) string {
	sc := a.State.Scope
	return "arn:" + sc.Partition + ":ssm:" + sc.Region + ":" + sc.Account + ":parameter/" + strings.TrimPrefix(name, "/")
}

// resources authorizes each call on the parameter it names.
func (a *API) resources(_ context.Context, op string, body []byte) ([]string, map[string][]string) {
	var in struct {
		Name  string
		Names []string
		Path  string
	}
	if awsjson.Decode(body, &in) != nil {
		return []string{"*"}, nil
	}
	switch {
	case in.Name != "":
		name, _, _ := strings.Cut(in.Name, ":")
		return []string{a.ARN(name)}, nil
	case len(in.Names) > 0:
		var out []string
		for _, n := range in.Names {
			name, _, _ := strings.Cut(n, ":")
			out = append(out, a.ARN(name))
		}
		return out, nil
	case in.Path != "":
		return []string{a.ARN(in.Path)}, nil
	}
	return []string{"*"}, nil
}

// Parameter is SSM's Parameter shape.
type Parameter struct {
	Name             string      `json:"Name"`
	Type             string      `json:"Type"`
	Value            string      `json:"Value"`
	Version          int64       `json:"Version"`
	Selector         string      `json:"Selector,omitempty"`
	LastModifiedDate *model.Time `json:"LastModifiedDate"`
	ARN              string      `json:"ARN"`
	DataType         string      `json:"DataType"`
}

// present is a parameter version as answered: a SecureString's value only
// opened when asked for.
func (a *API) present(p *state.SSMParameter, v *state.SSMParameterVersion, decrypt bool, selector string) (Parameter, error) {
	value := v.SealedValue
	if p.Type != "SecureString" || decrypt {
		var err error
		if value, err = a.Box.Open(v.SealedValue, p.Name); err != nil {
			return Parameter{}, err
		}
	}
	return Parameter{Name: p.Name, Type: p.Type, Value: value, Version: v.Version, Selector: selector,
		LastModifiedDate: model.At(v.LastModifiedDate), ARN: a.ARN(p.Name), DataType: p.DataType}, nil
}

type putIn struct {
	Name           string
	Value          *string
	Type           string
	Description    string
	KeyID          string `json:"KeyId"`
	Overwrite      bool
	Tier           string
	DataType       string
	Tags           []model.Tag
	AllowedPattern string
}

type putOut struct {
	Version int64  `json:"Version"`
	Tier    string `json:"Tier"`
}

// PutParameter creates a parameter or, with Overwrite, adds a version.
func (a *API) PutParameter(ctx context.Context, in *putIn) (*putOut, error) {
	if err := checkName(in.Name); err != nil {
		return nil, err
	}
	if in.Value == nil {
		return nil, errorf("ValidationException", "1 validation error detected: Value null at 'value' failed to satisfy constraint: Member must not be null")
	}
	if len(*in.Value) > maxValueBytes {
		return nil, errorf("ValidationException", "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.")
	}
	switch in.Type {
	case "", "String", "StringList", "SecureString":
	default:
		return nil, errorf("ValidationException", "1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]", model.Truncate(in.Type, 64))
	}
	if in.Tier != "" && in.Tier != "Standard" {
		return nil, errorf("ValidationException", "Flotta keeps Standard tier parameters only; got tier %s.", model.Truncate(in.Tier, 32))
	}
	if in.Overwrite && len(in.Tags) > 0 {
		return nil, errorf("ValidationException", "tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
	}
	p, _ := iam.PrincipalFrom(ctx)
	now := a.Now().UTC()
	saved, err := a.State.PutSSMParameter(ctx, in.Name, func(cur *state.SSMParameter) (*state.SSMParameter, error) {
		if cur != nil && !in.Overwrite {
			return nil, errorf("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
		}
		if cur == nil {
			if in.Type == "" {
				return nil, errorf("ValidationException", "A parameter type is required when you create a parameter.")
			}
			cur = &state.SSMParameter{Name: in.Name, Type: in.Type, DataType: "text", Tier: "Standard", Tags: in.Tags}
			if in.DataType != "" {
				cur.DataType = in.DataType
			}
		} else if in.Type != "" && in.Type != cur.Type {
			cur.Type = in.Type
		}
		if in.Description != "" {
			cur.Description = in.Description
		}
		if in.KeyID != "" {
			cur.KeyID = in.KeyID
		}
		next := int64(1)
		if len(cur.Versions) > 0 {
			next = cur.Current().Version + 1
		}
		if len(cur.Versions) >= maxVersions {
			cur.Versions = cur.Versions[1:] // the oldest version goes, as SSM does when it has no label
		}
		cur.Versions = append(cur.Versions, state.SSMParameterVersion{Version: next, SealedValue: a.Box.Seal(*in.Value, in.Name),
			LastModifiedDate: now, LastModifiedUser: p.ARN})
		return cur, nil
	})
	if err != nil {
		return nil, err
	}
	return &putOut{Version: saved.Current().Version, Tier: saved.Tier}, nil
}

type getIn struct {
	Name           string
	Names          []string
	WithDecryption bool
}

type getOut struct {
	Parameter Parameter `json:"Parameter"`
}

// lookup finds a parameter version by name, name:version or name:label.
func (a *API) lookup(ctx context.Context, ref string) (*state.SSMParameter, *state.SSMParameterVersion, string, error) {
	name, selector, _ := strings.Cut(ref, ":")
	p, err := a.State.GetSSMParameter(ctx, name)
	if err != nil {
		return nil, nil, "", err
	}
	if p == nil {
		return nil, nil, "", notFound(name)
	}
	if selector == "" {
		return p, p.Current(), "", nil
	}
	for i := range p.Versions {
		v := &p.Versions[i]
		if strconv.FormatInt(v.Version, 10) == selector || slices.Contains(v.Labels, selector) {
			return p, v, ":" + selector, nil
		}
	}
	return nil, nil, "", errorf("ParameterVersionNotFound", "Systems Manager could not find version %s of %s. Verify the version and try again.", model.Truncate(selector, 64), name)
}

// GetParameter reads one parameter.
func (a *API) GetParameter(ctx context.Context, in *getIn) (*getOut, error) {
	p, v, sel, err := a.lookup(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	out, err := a.present(p, v, in.WithDecryption, sel)
	if err != nil {
		return nil, err
	}
	return &getOut{Parameter: out}, nil
}

type getManyOut struct {
	Parameters        []Parameter `json:"Parameters"`
	InvalidParameters []string    `json:"InvalidParameters"`
}

// GetParameters reads up to ten parameters; those that do not exist are
// named in InvalidParameters.
func (a *API) GetParameters(ctx context.Context, in *getIn) (*getManyOut, error) {
	if len(in.Names) < 1 || len(in.Names) > 10 {
		return nil, errorf("ValidationException", "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10, Member must have length greater than or equal to 1")
	}
	out := &getManyOut{Parameters: []Parameter{}, InvalidParameters: []string{}}
	for _, ref := range in.Names {
		p, v, sel, err := a.lookup(ctx, ref)
		if model.IsCode(err, "ParameterNotFound") || model.IsCode(err, "ParameterVersionNotFound") {
			out.InvalidParameters = append(out.InvalidParameters, ref)
			continue
		}
		if err != nil {
			return nil, err
		}
		pv, err := a.present(p, v, in.WithDecryption, sel)
		if err != nil {
			return nil, err
		}
		out.Parameters = append(out.Parameters, pv)
	}
	return out, nil
}

type byPathIn struct {
	Path           string
	Recursive      bool
	WithDecryption bool
	MaxResults     int
	NextToken      string
}

type byPathOut struct {
	Parameters []Parameter `json:"Parameters"`
	NextToken  string      `json:"NextToken,omitempty"`
}

// GetParametersByPath reads the parameters under a path: one level, or all
// below with Recursive.
func (a *API) GetParametersByPath(ctx context.Context, in *byPathIn) (*byPathOut, error) {
	if !strings.HasPrefix(in.Path, "/") {
		return nil, errorf("ValidationException", "The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\".")
	}
	limit := in.MaxResults
	if limit == 0 {
		limit = 10
	}
	if limit < 1 || limit > 10 {
		return nil, errorf("ValidationException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10", in.MaxResults)
	}
	all, err := a.State.ListSSMParameters(ctx)
	if err != nil {
		return nil, err
	}
	prefix := strings.TrimSuffix(in.Path, "/") + "/"
	out := &byPathOut{Parameters: []Parameter{}}
	for i := range all {
		p := &all[i]
		rest, ok := strings.CutPrefix(p.Name, prefix)
		if !ok || !in.Recursive && strings.Contains(rest, "/") || p.Name <= in.NextToken {
			continue
		}
		if len(out.Parameters) == limit {
			out.NextToken = out.Parameters[limit-1].Name
			break
		}
		pv, err := a.present(p, p.Current(), in.WithDecryption, "")
		if err != nil {
			return nil, err
		}
		out.Parameters = append(out.Parameters, pv)
	}
	return out, nil
}

// DeleteParameter deletes a parameter and all its versions.
func (a *API) DeleteParameter(ctx context.Context, in *getIn) (*struct{}, error) {
	found, err := a.State.DeleteSSMParameter(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound(in.Name)
	}
	return &struct{}{}, nil
}

type deleteManyOut struct {
	DeletedParameters []string `json:"DeletedParameters"`
	InvalidParameters []string `json:"InvalidParameters"`
}

// DeleteParameters deletes up to ten parameters.
func (a *API) DeleteParameters(ctx context.Context, in *getIn) (*deleteManyOut, error) {
	if len(in.Names) < 1 || len(in.Names) > 10 {
		return nil, errorf("ValidationException", "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10, Member must have length greater than or equal to 1")
	}
	out := &deleteManyOut{DeletedParameters: []string{}, InvalidParameters: []string{}}
	for _, n := range in.Names {
		found, err := a.State.DeleteSSMParameter(ctx, n)
		if err != nil {
			return nil, err
		}
		if found {
			out.DeletedParameters = append(out.DeletedParameters, n)
		} else {
			out.InvalidParameters = append(out.InvalidParameters, n)
		}
	}
	return out, nil
}

// ParameterMetadata is SSM's ParameterMetadata shape (no value).
type ParameterMetadata struct {
	Name             string      `json:"Name"`
	ARN              string      `json:"ARN"`
	Type             string      `json:"Type"`
	Description      string      `json:"Description,omitempty"`
	KeyID            string      `json:"KeyId,omitempty"`
	Version          int64       `json:"Version"`
	LastModifiedDate *model.Time `json:"LastModifiedDate"`
	LastModifiedUser string      `json:"LastModifiedUser"`
	Tier             string      `json:"Tier"`
	DataType         string      `json:"DataType"`
}

type describeIn struct {
	MaxResults int
	NextToken  string
}

type describeOut struct {
	Parameters []ParameterMetadata `json:"Parameters"`
	NextToken  string              `json:"NextToken,omitempty"`
}

// DescribeParameters lists parameters without their values.
func (a *API) DescribeParameters(ctx context.Context, in *describeIn) (*describeOut, error) {
	limit := in.MaxResults
	if limit == 0 {
		limit = 50
	}
	if limit < 1 || limit > 50 {
		return nil, errorf("ValidationException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50", in.MaxResults)
	}
	all, err := a.State.ListSSMParameters(ctx)
	if err != nil {
		return nil, err
	}
	out := &describeOut{Parameters: []ParameterMetadata{}}
	for i := range all {
		p := &all[i]
		if p.Name <= in.NextToken {
			continue
		}
		if len(out.Parameters) == limit {
			out.NextToken = out.Parameters[limit-1].Name
			break
		}
		v := p.Current()
		out.Parameters = append(out.Parameters, ParameterMetadata{Name: p.Name, ARN: a.ARN(p.Name), Type: p.Type, Description: p.Description,
			KeyID: p.KeyID, Version: v.Version, LastModifiedDate: model.At(v.LastModifiedDate), LastModifiedUser: v.LastModifiedUser, Tier: p.Tier, DataType: p.DataType})
	}
	return out, nil
}

// ParameterHistory is one version of a parameter, as GetParameterHistory answers it.
type ParameterHistory struct {
	Name             string      `json:"Name"`
	Type             string      `json:"Type"`
	Value            string      `json:"Value"`
	Version          int64       `json:"Version"`
	LastModifiedDate *model.Time `json:"LastModifiedDate"`
	LastModifiedUser string      `json:"LastModifiedUser"`
	Labels           []string    `json:"Labels"`
	Tier             string      `json:"Tier"`
	DataType         string      `json:"DataType"`
}

type historyOut struct {
	Parameters []ParameterHistory `json:"Parameters"`
}

// GetParameterHistory lists a parameter's versions, oldest first.
func (a *API) GetParameterHistory(ctx context.Context, in *getIn) (*historyOut, error) {
	p, err := a.State.GetSSMParameter(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, notFound(in.Name)
	}
	out := &historyOut{Parameters: []ParameterHistory{}}
	for i := range p.Versions {
		v := &p.Versions[i]
		pv, err := a.present(p, v, in.WithDecryption, "")
		if err != nil {
			return nil, err
		}
		out.Parameters = append(out.Parameters, ParameterHistory{Name: p.Name, Type: p.Type, Value: pv.Value, Version: v.Version,
			LastModifiedDate: model.At(v.LastModifiedDate), LastModifiedUser: v.LastModifiedUser, Labels: append([]string{}, v.Labels...), Tier: p.Tier, DataType: p.DataType})
	}
	return out, nil
}

// Resolve reads a parameter's value for a task's secret: valueFrom is the
// parameter's name or ARN (ECS's forms).
func (a *API) Resolve(ctx context.Context, valueFrom string) (string, error) {
	name := valueFrom
	if strings.HasPrefix(valueFrom, "arn:") {
		_, rest, ok := strings.Cut(valueFrom, ":parameter")
		if !ok {
			return "", fmt.Errorf("%s is not a parameter ARN", valueFrom)
		}
		name = rest
		if p, err := a.State.GetSSMParameter(ctx, name); err == nil && p == nil {
			name = strings.TrimPrefix(rest, "/")
		}
	}
	p, v, _, err := a.lookup(ctx, name)
	if err != nil {
		return "", err
	}
	return a.Box.Open(v.SealedValue, p.Name)
}
