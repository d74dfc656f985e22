package secretsmanager_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/flotta-dev/flotta/internal/api/secretsmanager"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol/awsjson"
	"github.com/flotta-dev/flotta/internal/sealing"
	"github.com/flotta-dev/flotta/internal/state"
)

// clock is a settable time for the API and the test to share.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

type env struct {
	ctx    context.Context
	st     *state.State
	api    *secretsmanager.API
	clock  *clock
	client *sm.Client
	url    string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := state.Open(ctx, state.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.Scope = model.Scope{Partition: "aws", Region: "us-east-1", Account: "123456789012"}
	box, err := sealing.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	api := &secretsmanager.API{State: st, Box: box, Now: clk.Now}
	rt := &awsjson.Router{}
	rt.Handle(api.Service())
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	client := sm.New(sm.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
	return &env{ctx: ctx, st: st, api: api, clock: clk, client: client, url: srv.URL}
}

// wantErr checks that err is an AWS error with this code and, when msg is
// not empty, exactly this message.
func wantErr(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Errorf("%s: error %v, want %s", what, err, code)
		return
	}
	if apiErr.ErrorCode() != code || (msg != "" && apiErr.ErrorMessage() != msg) {
		t.Errorf("%s: %s %q, want %s %q", what, apiErr.ErrorCode(), apiErr.ErrorMessage(), code, msg)
	}
}

// result is a call's answer, to check in one line: try(call()).must(t, what).
type result[T any] struct {
	v   T
	err error
}

func try[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) must(t *testing.T, what string) T {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%s: %v", what, r.err)
	}
	return r.v
}

const (
	tokenA = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	tokenB = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
	tokenC = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
)

const markedMsg = "You can't perform this operation on the secret because it was marked for deletion."

var arnRE = regexp.MustCompile(`^arn:aws:secretsmanager:us-east-1:123456789012:secret:db/password-[A-Za-z0-9]{6}$`)

func TestCreateGetPutAndStages(t *testing.T) {
	e := newEnv(t)
	c := e.client
	created := try(c.CreateSecret(e.ctx, &sm.CreateSecretInput{
		Name: aws.String("db/password"), SecretString: aws.String("hunter2"), ClientRequestToken: aws.String(tokenA),
		Description: aws.String("the database"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}},
	})).must(t, "CreateSecret")
	if !arnRE.MatchString(aws.ToString(created.ARN)) || aws.ToString(created.Name) != "db/password" || aws.ToString(created.VersionId) != tokenA {
		t.Fatalf("CreateSecret: ARN %s name %s version %s", aws.ToString(created.ARN), aws.ToString(created.Name), aws.ToString(created.VersionId))
	}
	arn := aws.ToString(created.ARN)
	partial := strings.TrimSuffix(arn, arn[len(arn)-7:])

	for _, id := range []string{"db/password", arn, partial} {
		got, err := c.GetSecretValue(e.ctx, &sm.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			t.Fatalf("GetSecretValue %s: %v", id, err)
		}
		if aws.ToString(got.SecretString) != "hunter2" || aws.ToString(got.ARN) != arn || aws.ToString(got.VersionId) != tokenA ||
			!slices.Equal(got.VersionStages, []string{"AWSCURRENT"}) || !got.CreatedDate.Equal(e.clock.Now()) || got.SecretBinary != nil {
			t.Errorf("GetSecretValue %s: %+v", id, got)
		}
	}
	wrongSuffix := partial + "-XXXXXX"
	_, err := c.GetSecretValue(e.ctx, &sm.GetSecretValueInput{SecretId: aws.String(wrongSuffix)})
	wantErr(t, "GetSecretValue with another suffix", err, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	_, err = c.GetSecretValue(e.ctx, &sm.GetSecretValueInput{SecretId: aws.String(strings.Replace(arn, "123456789012", "999999999999", 1))})
	wantErr(t, "GetSecretValue of another account", err, "ResourceNotFoundException", "")

	// A retried create is the same secret; another create is refused.
	again := try(c.CreateSecret(e.ctx, &sm.CreateSecretInput{
		Name: aws.String("db/password"), SecretString: aws.String("hunter2"), ClientRequestToken: aws.String(tokenA)})).must(t, "CreateSecret retry")
	if aws.ToString(again.ARN) != arn || aws.ToString(again.VersionId) != tokenA {
		t.Errorf("CreateSecret retry: %s %s", aws.ToString(again.ARN), aws.ToString(again.VersionId))
	}
	_, err = c.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("db/password"), SecretString: aws.String("other")})
	wantErr(t, "CreateSecret of an existing name", err, "ResourceExistsException", "The operation failed because the secret db/password already exists.")

	// A new value becomes current; the old one previous.
	e.clock.Advance(time.Minute)
	put := try(c.PutSecretValue(e.ctx, &sm.PutSecretValueInput{
		SecretId: aws.String("db/password"), SecretString: aws.String("correct horse"), ClientRequestToken: aws.String(tokenB)})).must(t, "PutSecretValue")
	if aws.ToString(put.VersionId) != tokenB || !slices.Equal(put.VersionStages, []string{"AWSCURRENT"}) || aws.ToString(put.ARN) != arn {
		t.Errorf("PutSecretValue: %+v", put)
	}
	cases := []struct {
		in          sm.GetSecretValueInput
		want, wantV string
	}{
		{sm.GetSecretValueInput{}, "correct horse", tokenB},
		{sm.GetSecretValueInput{VersionStage: aws.String("AWSPREVIOUS")}, "hunter2", tokenA},
		{sm.GetSecretValueInput{VersionId: aws.String(tokenA)}, "hunter2", tokenA},
		{sm.GetSecretValueInput{VersionId: aws.String(tokenB), VersionStage: aws.String("AWSCURRENT")}, "correct horse", tokenB},
	}
	for _, cs := range cases {
		in := cs.in
		in.SecretId = aws.String(arn)
		got, err := c.GetSecretValue(e.ctx, &in)
		if err != nil {
			t.Errorf("GetSecretValue %s/%s: %v", aws.ToString(cs.in.VersionId), aws.ToString(cs.in.VersionStage), err)
			continue
		}
		if aws.ToString(got.SecretString) != cs.want || aws.ToString(got.VersionId) != cs.wantV {
			t.Errorf("GetSecretValue %s/%s: %s, want %s", aws.ToString(cs.in.VersionId), aws.ToString(cs.in.VersionStage), aws.ToString(got.VersionId), cs.wantV)
		}
	}
	_, err = c.GetSecretValue(e.ctx, &sm.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String("AWSPENDING")})
	wantErr(t, "GetSecretValue of a missing stage", err, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSPENDING")
	_, err = c.GetSecretValue(e.ctx, &sm.GetSecretValueInput{SecretId: aws.String(arn), VersionId: aws.String(tokenA), VersionStage: aws.String("AWSCURRENT")})
	wantErr(t, "GetSecretValue of a version without that stage", err, "ResourceNotFoundException", "")

	// Idempotent on the same token and value; refused with another value.
	retry := try(c.PutSecretValue(e.ctx, &sm.PutSecretValueInput{
		SecretId: aws.String("db/password"), SecretString: aws.String("correct horse"), ClientRequestToken: aws.String(tokenB)})).must(t, "PutSecretValue retry")
	if aws.ToString(retry.VersionId) != tokenB {
		t.Errorf("PutSecretValue retry: %s", aws.ToString(retry.VersionId))
	}
	_, err = c.PutSecretValue(e.ctx, &sm.PutSecretValueInput{
		SecretId: aws.String("db/password"), SecretString: aws.String("battery staple"), ClientRequestToken: aws.String(tokenB)})
	wantErr(t, "PutSecretValue reusing a token", err, "ResourceExistsException", "")
	desc := try(c.DescribeSecret(e.ctx, &sm.DescribeSecretInput{SecretId: aws.String(partial)})).must(t, "DescribeSecret")
	wantStages := map[string][]string{tokenA: {"AWSPREVIOUS"}, tokenB: {"AWSCURRENT"}}
	if len(desc.VersionIdsToStages) != 2 || !slices.Equal(desc.VersionIdsToStages[tokenA], wantStages[tokenA]) || !slices.Equal(desc.VersionIdsToStages[tokenB], wantStages[tokenB]) {
		t.Errorf("DescribeSecret stages after a retry: %v, want %v", desc.VersionIdsToStages, wantStages)
	}
	if aws.ToString(desc.Description) != "the database" || len(desc.Tags) != 1 || aws.ToString(desc.Tags[0].Key) != "team" ||
		!desc.CreatedDate.Equal(e.clock.Now().Add(-time.Minute)) || !desc.LastChangedDate.Equal(e.clock.Now()) || desc.DeletedDate != nil {
		t.Errorf("DescribeSecret: %+v", desc)
	}

	// UpdateSecret: the description alone makes no version; a value does.
	upd := try(c.UpdateSecret(e.ctx, &sm.UpdateSecretInput{SecretId: aws.String(arn), Description: aws.String("renamed")})).must(t, "UpdateSecret description")
	if upd.VersionId != nil {
		t.Errorf("UpdateSecret of the description made version %s", aws.ToString(upd.VersionId))
	}
	upd = try(c.UpdateSecret(e.ctx, &sm.UpdateSecretInput{SecretId: aws.String(arn), SecretString: aws.String("v3"), ClientRequestToken: aws.String(tokenC)})).must(t, "UpdateSecret value")
	if aws.ToString(upd.VersionId) != tokenC {
		t.Errorf("UpdateSecret value: version %s", aws.ToString(upd.VersionId))
	}
	desc = try(c.DescribeSecret(e.ctx, &sm.DescribeSecretInput{SecretId: aws.String(arn)})).must(t, "DescribeSecret")
	wantStages = map[string][]string{tokenB: {"AWSPREVIOUS"}, tokenC: {"AWSCURRENT"}}
	if aws.ToString(desc.Description) != "renamed" || len(desc.VersionIdsToStages) != 2 ||
		!slices.Equal(desc.VersionIdsToStages[tokenB], wantStages[tokenB]) || !slices.Equal(desc.VersionIdsToStages[tokenC], wantStages[tokenC]) {
		t.Errorf("DescribeSecret after UpdateSecret: %q %v, want %v", aws.ToString(desc.Description), desc.VersionIdsToStages, wantStages)
	}
	// The deprecated first version is still there by id.
	got := try(c.GetSecretValue(e.ctx, &sm.GetSecretValueInput{SecretId: aws.String(arn), VersionId: aws.String(tokenA)})).must(t, "GetSecretValue of a deprecated version")
	if aws.ToString(got.SecretString) != "hunter2" || len(got.VersionStages) != 0 {
		t.Errorf("deprecated version: stages %v", got.VersionStages)
	}
}

func TestBinaryAndInvalidInput(t *testing.T) {
	e := newEnv(t)
	c := e.client
	raw := []byte{0, 1, 2, 0xff, 'x'}
	try(c.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("bin"), SecretBinary: raw})).must(t, "CreateSecret binary")
	got := try(c.GetSecretValue(e.ctx, &sm.GetSecretValueInput{SecretId: aws.String("bin")})).must(t, "GetSecretValue binary")
	if !bytes.Equal(got.SecretBinary, raw) || got.SecretString != nil {
		t.Errorf("binary secret: %v %v", got.SecretBinary, got.SecretString)
	}
	// A secret without a value has no AWSCURRENT until one is put.
	created := try(c.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("empty")})).must(t, "CreateSecret empty")
	if created.VersionId != nil {
		t.Errorf("CreateSecret without a value made version %s", aws.ToString(created.VersionId))
	}
	_, err := c.GetSecretValue(e.ctx, &sm.GetSecretValueInput{SecretId: aws.String("empty")})
	wantErr(t, "GetSecretValue of a secret without a value", err, "ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT")
	put := try(c.PutSecretValue(e.ctx, &sm.PutSecretValueInput{
		SecretId: aws.String("empty"), SecretString: aws.String("x"), VersionStages: []string{"BLUE"}})).must(t, "PutSecretValue first with a custom stage")
	if !slices.Contains(put.VersionStages, "AWSCURRENT") || !slices.Contains(put.VersionStages, "BLUE") {
		t.Errorf("first version's stages: %v", put.VersionStages)
	}

	for _, cs := range []struct {
		what string
		call func() error
		code string
	}{
		{"CreateSecret with both values", func() error {
			_, err := c.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("both"), SecretString: aws.String("a"), SecretBinary: []byte("b")})
			return err
		}, "InvalidParameterException"},
		{"CreateSecret with a bad name", func() error {
			_, err := c.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("no spaces"), SecretString: aws.String("a")})
			return err
		}, "InvalidParameterException"},
		{"CreateSecret with a long name", func() error {
			_, err := c.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String(strings.Repeat("n", 513)), SecretString: aws.String("a")})
			return err
		}, "InvalidParameterException"},
		{"CreateSecret with a large value", func() error {
			_, err := c.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("big"), SecretString: aws.String(strings.Repeat("v", 65537))})
			return err
		}, "InvalidParameterException"},
		{"PutSecretValue without a value", func() error {
			_, err := c.PutSecretValue(e.ctx, &sm.PutSecretValueInput{SecretId: aws.String("bin")})
			return err
		}, "InvalidParameterException"},
		{"PutSecretValue of a missing secret", func() error {
			_, err := c.PutSecretValue(e.ctx, &sm.PutSecretValueInput{SecretId: aws.String("nope"), SecretString: aws.String("a")})
			return err
		}, "ResourceNotFoundException"},
		{"DescribeSecret of a missing secret", func() error {
			_, err := c.DescribeSecret(e.ctx, &sm.DescribeSecretInput{SecretId: aws.String("nope")})
			return err
		}, "ResourceNotFoundException"},
		{"UpdateSecret of a missing secret", func() error {
			_, err := c.UpdateSecret(e.ctx, &sm.UpdateSecretInput{SecretId: aws.String("nope"), Description: aws.String("d")})
			return err
		}, "ResourceNotFoundException"},
		{"RestoreSecret of a missing secret", func() error {
			_, err := c.RestoreSecret(e.ctx, &sm.RestoreSecretInput{SecretId: aws.String("nope")})
			return err
		}, "ResourceNotFoundException"},
	} {
		wantErr(t, cs.what, cs.call(), cs.code, "")
	}
	// A 64 KiB value is the limit, not past it.
	try(c.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("big"), SecretString: aws.String(strings.Repeat("v", 65536))})).must(t, "CreateSecret of 64 KiB")
}

func TestListSecrets(t *testing.T) {
	e := newEnv(t)
	c := e.client
	names := []string{"e/five", "a/one", "d/four", "b/two", "c/three"}
	for _, n := range names {
		try(c.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String(n), SecretString: aws.String("plain-" + n),
			Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod-" + n[:1])}}})).must(t, "CreateSecret "+n)
		e.clock.Advance(time.Second)
	}
	list := func(in sm.ListSecretsInput) (got []string, pages int) {
		t.Helper()
		p := sm.NewListSecretsPaginator(c, &in)
		for p.HasMorePages() {
			page := try(p.NextPage(e.ctx)).must(t, "ListSecrets")
			pages++
			for _, s := range page.SecretList {
				got = append(got, aws.ToString(s.Name))
				if len(s.SecretVersionsToStages) != 1 || s.CreatedDate == nil {
					t.Errorf("ListSecrets entry %s: %+v", aws.ToString(s.Name), s)
				}
			}
		}
		return got, pages
	}
	got, pages := list(sm.ListSecretsInput{MaxResults: aws.Int32(2)})
	if !slices.Equal(got, names) || pages != 3 {
		t.Errorf("ListSecrets by 2: %v in %d pages, want %v in 3 (creation order)", got, pages, names)
	}
	got, _ = list(sm.ListSecretsInput{MaxResults: aws.Int32(3), SortOrder: types.SortOrderTypeDesc})
	if want := slices.Clone(names); !slices.Equal(got, func() []string { slices.Reverse(want); return want }()) {
		t.Errorf("ListSecrets desc: %v", got)
	}
	got, _ = list(sm.ListSecretsInput{MaxResults: aws.Int32(2), SortBy: types.SortByTypeName})
	if want := slices.Sorted(slices.Values(names)); !slices.Equal(got, want) {
		t.Errorf("ListSecrets by name: %v, want %v", got, want)
	}
	got, _ = list(sm.ListSecretsInput{Filters: []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{"a/", "c/"}}}})
	if !slices.Equal(got, []string{"a/one", "c/three"}) {
		t.Errorf("ListSecrets name filter: %v", got)
	}
	got, _ = list(sm.ListSecretsInput{Filters: []types.Filter{{Key: types.FilterNameStringTypeTagValue, Values: []string{"prod-", "!prod-b"}}}})
	if !slices.Equal(got, []string{"e/five", "a/one", "d/four", "c/three"}) {
		t.Errorf("ListSecrets negated tag-value filter: %v", got)
	}

	try(c.DeleteSecret(e.ctx, &sm.DeleteSecretInput{SecretId: aws.String("d/four")})).must(t, "DeleteSecret")
	got, _ = list(sm.ListSecretsInput{})
	if slices.Contains(got, "d/four") || len(got) != 4 {
		t.Errorf("ListSecrets lists a secret marked for deletion: %v", got)
	}
	page := try(c.ListSecrets(e.ctx, &sm.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)})).must(t, "ListSecrets with planned deletions")
	var deleted *types.SecretListEntry
	for i := range page.SecretList {
		if aws.ToString(page.SecretList[i].Name) == "d/four" {
			deleted = &page.SecretList[i]
		}
	}
	if deleted == nil || deleted.DeletedDate == nil {
		t.Errorf("ListSecrets IncludePlannedDeletion: %+v", deleted)
	}

	for _, n := range []int32{0, 101} {
		_, err := c.ListSecrets(e.ctx, &sm.ListSecretsInput{MaxResults: aws.Int32(n)})
		wantErr(t, "ListSecrets MaxResults out of range", err, "InvalidParameterException", "")
	}
	_, err := c.ListSecrets(e.ctx, &sm.ListSecretsInput{NextToken: aws.String("not a token")})
	wantErr(t, "ListSecrets with a bad token", err, "InvalidNextTokenException", "The NextToken value is invalid.")

	// No answer that describes secrets carries a value.
	for _, op := range []struct{ target, body string }{
		{"ListSecrets", `{"IncludePlannedDeletion":true}`},
		{"DescribeSecret", `{"SecretId":"a/one"}`},
	} {
		body := rawCall(t, e.url, op.target, op.body)
		if !strings.Contains(body, "a/one") || strings.Contains(body, "plain-") || strings.Contains(body, "SecretString") {
			t.Errorf("%s answered a value or no secret: %s", op.target, body)
		}
	}
}

// rawCall posts one JSON 1.1 request and returns the answer's body.
func rawCall(t *testing.T, url, op, body string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "secretsmanager."+op)
	req.Header.Set("Content-Type", awsjson.ContentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", op, resp.StatusCode, b)
	}
	return string(b)
}

func TestDeleteWindowAndRestore(t *testing.T) {
	e := newEnv(t)
	c := e.client
	created := try(c.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("api-key"), SecretString: aws.String("k1")})).must(t, "CreateSecret")
	arn := aws.ToString(created.ARN)

	_, err := c.DeleteSecret(e.ctx, &sm.DeleteSecretInput{SecretId: aws.String(arn), RecoveryWindowInDays: aws.Int64(7), ForceDeleteWithoutRecovery: aws.Bool(true)})
	wantErr(t, "DeleteSecret with both", err, "InvalidParameterException", "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	for _, days := range []int64{6, 31} {
		_, err := c.DeleteSecret(e.ctx, &sm.DeleteSecretInput{SecretId: aws.String(arn), RecoveryWindowInDays: aws.Int64(days)})
		wantErr(t, "DeleteSecret with a window out of range", err, "InvalidParameterException", "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
	}
	_, err = c.DeleteSecret(e.ctx, &sm.DeleteSecretInput{SecretId: aws.String("nope")})
	wantErr(t, "DeleteSecret of a missing secret", err, "ResourceNotFoundException", "")

	del := try(c.DeleteSecret(e.ctx, &sm.DeleteSecretInput{SecretId: aws.String("api-key")})).must(t, "DeleteSecret")
	if want := e.clock.Now().AddDate(0, 0, 30); !del.DeletionDate.Equal(want) || aws.ToString(del.ARN) != arn {
		t.Errorf("DeleteSecret: %v %s, want %v (30 days)", del.DeletionDate, aws.ToString(del.ARN), want)
	}
	desc := try(c.DescribeSecret(e.ctx, &sm.DescribeSecretInput{SecretId: aws.String(arn)})).must(t, "DescribeSecret of a deleted secret")
	if desc.DeletedDate == nil || !desc.DeletedDate.Equal(*del.DeletionDate) {
		t.Errorf("DescribeSecret DeletedDate %v, want %v", desc.DeletedDate, del.DeletionDate)
	}
	_, err = c.GetSecretValue(e.ctx, &sm.GetSecretValueInput{SecretId: aws.String(arn)})
	wantErr(t, "GetSecretValue of a deleted secret", err, "InvalidRequestException", markedMsg)
	_, err = c.PutSecretValue(e.ctx, &sm.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String("k2")})
	wantErr(t, "PutSecretValue of a deleted secret", err, "InvalidRequestException", markedMsg)
	_, err = c.UpdateSecret(e.ctx, &sm.UpdateSecretInput{SecretId: aws.String(arn), Description: aws.String("d")})
	wantErr(t, "UpdateSecret of a deleted secret", err, "InvalidRequestException", markedMsg)
	_, err = c.DeleteSecret(e.ctx, &sm.DeleteSecretInput{SecretId: aws.String(arn)})
	wantErr(t, "DeleteSecret of a deleted secret", err, "InvalidRequestException", markedMsg)
	_, err = c.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("api-key"), SecretString: aws.String("k9")})
	wantErr(t, "CreateSecret of a deleted name", err, "InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion.")

	res := try(c.RestoreSecret(e.ctx, &sm.RestoreSecretInput{SecretId: aws.String("api-key")})).must(t, "RestoreSecret")
	if aws.ToString(res.ARN) != arn {
		t.Errorf("RestoreSecret: %s", aws.ToString(res.ARN))
	}
	got := try(c.GetSecretValue(e.ctx, &sm.GetSecretValueInput{SecretId: aws.String(arn)})).must(t, "GetSecretValue after restore")
	if aws.ToString(got.SecretString) != "k1" {
		t.Errorf("restored value differs")
	}
	desc = try(c.DescribeSecret(e.ctx, &sm.DescribeSecretInput{SecretId: aws.String(arn)})).must(t, "DescribeSecret after restore")
	if desc.DeletedDate != nil {
		t.Errorf("DeletedDate after restore: %v", desc.DeletedDate)
	}

	// The window ends: the secret is gone, and its name free again.
	try(c.DeleteSecret(e.ctx, &sm.DeleteSecretInput{SecretId: aws.String(arn), RecoveryWindowInDays: aws.Int64(7)})).must(t, "DeleteSecret 7 days")
	e.clock.Advance(7*24*time.Hour - time.Second)
	try(c.DescribeSecret(e.ctx, &sm.DescribeSecretInput{SecretId: aws.String(arn)})).must(t, "DescribeSecret before the window ends")
	e.clock.Advance(time.Second)
	_, err = c.DescribeSecret(e.ctx, &sm.DescribeSecretInput{SecretId: aws.String(arn)})
	wantErr(t, "DescribeSecret after the window", err, "ResourceNotFoundException", "")
	if rec := try(e.st.GetSecret(e.ctx, "api-key")).must(t, "state GetSecret"); rec != nil {
		t.Errorf("the record outlived its window: %s", rec.ARN)
	}
	again := try(c.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("api-key"), SecretString: aws.String("k3")})).must(t, "CreateSecret again")
	if aws.ToString(again.ARN) == arn {
		t.Errorf("a new secret kept the old ARN %s", arn)
	}

	// PurgeExpired sweeps what no request met.
	try(c.DeleteSecret(e.ctx, &sm.DeleteSecretInput{SecretId: aws.String("api-key"), RecoveryWindowInDays: aws.Int64(7)})).must(t, "DeleteSecret")
	if n := try(e.api.PurgeExpired(e.ctx)).must(t, "PurgeExpired early"); n != 0 {
		t.Errorf("PurgeExpired inside the window removed %d", n)
	}
	e.clock.Advance(8 * 24 * time.Hour)
	if n := try(e.api.PurgeExpired(e.ctx)).must(t, "PurgeExpired"); n != 1 {
		t.Errorf("PurgeExpired removed %d, want 1", n)
	}

	// A forced delete removes the record at once; of nothing, it is no error.
	try(c.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("tmp"), SecretString: aws.String("t")})).must(t, "CreateSecret")
	fd := try(c.DeleteSecret(e.ctx, &sm.DeleteSecretInput{SecretId: aws.String("tmp"), ForceDeleteWithoutRecovery: aws.Bool(true)})).must(t, "DeleteSecret forced")
	if !fd.DeletionDate.Equal(e.clock.Now()) {
		t.Errorf("forced DeletionDate %v, want now", fd.DeletionDate)
	}
	if rec := try(e.st.GetSecret(e.ctx, "tmp")).must(t, "state GetSecret"); rec != nil {
		t.Errorf("a forced delete left the record")
	}
	try(c.DeleteSecret(e.ctx, &sm.DeleteSecretInput{SecretId: aws.String("tmp"), ForceDeleteWithoutRecovery: aws.Bool(true)})).must(t, "DeleteSecret forced of nothing")
}

func TestResolve(t *testing.T) {
	e := newEnv(t)
	c := e.client
	created := try(c.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("db"),
		SecretString: aws.String(`{"username":"old-admin","port":5432}`), ClientRequestToken: aws.String(tokenA)})).must(t, "CreateSecret")
	arn := aws.ToString(created.ARN)
	partial := arn[:len(arn)-7]
	try(c.PutSecretValue(e.ctx, &sm.PutSecretValueInput{SecretId: aws.String("db"),
		SecretString: aws.String(`{"username":"admin","port":5432, "opts": {"ssl": true}}`), ClientRequestToken: aws.String(tokenB)})).must(t, "PutSecretValue")
	try(c.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("plain"), SecretString: aws.String("just text")})).must(t, "CreateSecret plain")
	try(c.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("bin"), SecretBinary: []byte{1, 2}})).must(t, "CreateSecret binary")
	current := `{"username":"admin","port":5432, "opts": {"ssl": true}}`
	for _, cs := range []struct{ valueFrom, want string }{
		{"db", current},
		{arn, current},
		{partial, current},
		{arn + ":username::", "admin"},
		{arn + ":username", "admin"},
		{arn + ":port::", "5432"},
		{arn + ":opts::", `{"ssl":true}`},
		{arn + "::AWSPREVIOUS:", `{"username":"old-admin","port":5432}`},
		{arn + ":username:AWSPREVIOUS:", "old-admin"},
		{arn + ":::" + tokenA, `{"username":"old-admin","port":5432}`},
		{arn + ":username::" + tokenA, "old-admin"},
		{arn + ":username:AWSCURRENT:" + tokenB, "admin"},
		{partial + ":username::", "admin"},
		{"db:username", "admin"},
		{"db:username:AWSPREVIOUS:", "old-admin"},
		{"plain", "just text"},
	} {
		got, err := e.api.Resolve(e.ctx, cs.valueFrom)
		if err != nil || got != cs.want {
			t.Errorf("Resolve(%s) = %q, %v; want %q", cs.valueFrom, got, err, cs.want)
		}
	}
	for _, cs := range []struct{ valueFrom, code string }{
		{arn + ":missing::", ""},
		{"plain:key::", ""},
		{"bin", ""},
		{"nope", "ResourceNotFoundException"},
		{arn + "::AWSPENDING:", "ResourceNotFoundException"},
		{arn + ":::" + tokenC, "ResourceNotFoundException"},
		{arn + ":a:b:c:d", ""},
		{"db:a:b:c:d", ""},
	} {
		_, err := e.api.Resolve(e.ctx, cs.valueFrom)
		if err == nil {
			t.Errorf("Resolve(%s) succeeded", cs.valueFrom)
			continue
		}
		if cs.code != "" && !model.IsCode(err, cs.code) {
			t.Errorf("Resolve(%s): %v, want %s", cs.valueFrom, err, cs.code)
		}
		if strings.Contains(err.Error(), "admin") || strings.Contains(err.Error(), "just text") {
			t.Errorf("Resolve(%s) error tells a value: %v", cs.valueFrom, err)
		}
	}
	try(c.DeleteSecret(e.ctx, &sm.DeleteSecretInput{SecretId: aws.String("db")})).must(t, "DeleteSecret")
	if _, err := e.api.Resolve(e.ctx, arn+":username::"); !model.IsCode(err, "InvalidRequestException") {
		t.Errorf("Resolve of a deleted secret: %v", err)
	}
}

func TestValuesAreStoredSealed(t *testing.T) {
	e := newEnv(t)
	c := e.client
	plain := []string{"s3cr3t-first-value", "s3cr3t-second-value", "s3cr3t-third-value"}
	binary := []byte("s3cr3t-binary-value")
	try(c.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("sealed"), SecretString: aws.String(plain[0])})).must(t, "CreateSecret")
	for _, p := range plain[1:] {
		try(c.PutSecretValue(e.ctx, &sm.PutSecretValueInput{SecretId: aws.String("sealed"), SecretString: aws.String(p)})).must(t, "PutSecretValue")
	}
	try(c.PutSecretValue(e.ctx, &sm.PutSecretValueInput{SecretId: aws.String("sealed"), SecretBinary: binary})).must(t, "PutSecretValue binary")
	all := try(e.st.ListSecrets(e.ctx)).must(t, "state ListSecrets")
	one := try(e.st.GetSecret(e.ctx, "sealed")).must(t, "state GetSecret")
	if len(all) != 1 || one == nil || len(one.Versions) != 4 {
		t.Fatalf("store holds %d secrets, %v", len(all), one)
	}
	for _, rec := range []any{all, one} {
		js := string(try(json.Marshal(rec)).must(t, "marshal"))
		for _, p := range append(plain, string(binary), base64.StdEncoding.EncodeToString(binary)) {
			if strings.Contains(js, p) {
				t.Errorf("the store holds %q in the clear", p)
			}
		}
		if strings.Count(js, "flotta-sealed-v1:") != 4 {
			t.Errorf("the store's versions are not all sealed: %d sealed values", strings.Count(js, "flotta-sealed-v1:"))
		}
	}
	// And what is sealed is what is answered.
	got := try(c.GetSecretValue(e.ctx, &sm.GetSecretValueInput{SecretId: aws.String("sealed"), VersionStage: aws.String("AWSPREVIOUS")})).must(t, "GetSecretValue previous")
	if aws.ToString(got.SecretString) != plain[2] {
		t.Errorf("AWSPREVIOUS is not the third value")
	}
}

func TestResources(t *testing.T) {
	e := newEnv(t)
	created := try(e.client.CreateSecret(e.ctx, &sm.CreateSecretInput{Name: aws.String("app/key"), SecretString: aws.String("v")})).must(t, "CreateSecret")
	res := e.api.Service().Resources
	for _, cs := range []struct{ op, body, want string }{
		{"GetSecretValue", `{"SecretId":"app/key"}`, aws.ToString(created.ARN)},
		{"DeleteSecret", `{"SecretId":"` + aws.ToString(created.ARN) + `"}`, aws.ToString(created.ARN)},
		{"GetSecretValue", `{"SecretId":"other"}`, "*"},
		{"ListSecrets", `{}`, "*"},
		{"CreateSecret", `{"Name":"app/new"}`, "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/new-??????"},
	} {
		got, _ := res(e.ctx, cs.op, []byte(cs.body))
		if !slices.Equal(got, []string{cs.want}) {
			t.Errorf("Resources(%s %s) = %v, want %s", cs.op, cs.body, got, cs.want)
		}
	}
}
