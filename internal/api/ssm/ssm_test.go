package ssm_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "not an API error: " + err.Error()
	}
	return ""
}

// onDisk says whether any file under dir holds needle.
func onDisk(t *testing.T, dir string, needle []byte) string {
	t.Helper()
	found := ""
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found != "" {
			return nil
		}
		if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, needle) {
			found = path
		}
		return nil
	})
	return found
}

func TestParameterStore(t *testing.T) {
	e := flottatest.StartServer(t)
	ctx := context.Background()
	c := ssm.New(ssm.Options{Region: e.Server.Account().Region, BaseEndpoint: aws.String(e.Server.Endpoint()), HTTPClient: e.HTTP, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(e.Root.AccessKeyID, e.Root.SecretAccessKey, "")})
	const secret = "correct-horse-battery-staple"
	put := func(name, value string, typ types.ParameterType, overwrite bool) (*ssm.PutParameterOutput, error) {
		return c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: typ, Overwrite: aws.Bool(overwrite)})
	}
	if out, err := put("/app/db/password", secret, types.ParameterTypeSecureString, false); err != nil || out.Version != 1 {
		t.Fatalf("put: %+v %v", out, err)
	}
	if _, err := put("/app/db/password", "x", types.ParameterTypeSecureString, false); code(err) != "ParameterAlreadyExists" {
		t.Fatalf("put again without overwrite: %v", err)
	}
	if out, err := put("/app/db/password", secret+"-2", "", true); err != nil || out.Version != 2 {
		t.Fatalf("overwrite: %+v %v", out, err)
	}
	if _, err := put("/app/db/host", "db.internal", types.ParameterTypeString, false); err != nil {
		t.Fatal(err)
	}
	if _, err := put("/app/name", "web", types.ParameterTypeString, false); err != nil {
		t.Fatal(err)
	}
	if _, err := put("/aws/reserved", "x", types.ParameterTypeString, false); code(err) != "ValidationException" {
		t.Fatalf("a reserved name: %v", err)
	}

	got, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/password"), WithDecryption: aws.Bool(true)})
	if err != nil || aws.ToString(got.Parameter.Value) != secret+"-2" || got.Parameter.Version != 2 || got.Parameter.Type != types.ParameterTypeSecureString {
		t.Fatalf("get with decryption: %+v %v", got, err)
	}
	sealed, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/password")})
	if err != nil || bytes.Contains([]byte(aws.ToString(sealed.Parameter.Value)), []byte(secret)) {
		t.Fatalf("a SecureString without decryption shows its value: %+v %v", sealed, err)
	}
	v1, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/password:1"), WithDecryption: aws.Bool(true)})
	if err != nil || aws.ToString(v1.Parameter.Value) != secret || aws.ToString(v1.Parameter.Selector) != ":1" {
		t.Fatalf("version 1: %+v %v", v1, err)
	}
	many, err := c.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/app/db/host", "/app/nope"}})
	if err != nil || len(many.Parameters) != 1 || len(many.InvalidParameters) != 1 || many.InvalidParameters[0] != "/app/nope" {
		t.Fatalf("get parameters: %+v %v", many, err)
	}
	flat, err := c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app")})
	if err != nil || len(flat.Parameters) != 1 || aws.ToString(flat.Parameters[0].Name) != "/app/name" {
		t.Fatalf("by path, one level: %+v %v", flat, err)
	}
	deep, err := c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app"), Recursive: aws.Bool(true), MaxResults: aws.Int32(2)})
	if err != nil || len(deep.Parameters) != 2 || deep.NextToken == nil {
		t.Fatalf("by path, recursive, a page of 2: %+v %v", deep, err)
	}
	rest, err := c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app"), Recursive: aws.Bool(true), NextToken: deep.NextToken})
	if err != nil || len(rest.Parameters) != 1 {
		t.Fatalf("by path, the rest: %+v %v", rest, err)
	}
	hist, err := c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/app/db/password"), WithDecryption: aws.Bool(true)})
	if err != nil || len(hist.Parameters) != 2 || aws.ToString(hist.Parameters[0].Value) != secret {
		t.Fatalf("history: %+v %v", hist, err)
	}
	desc, err := c.DescribeParameters(ctx, &ssm.DescribeParametersInput{})
	if err != nil || len(desc.Parameters) != 3 {
		t.Fatalf("describe: %+v %v", desc, err)
	}

	// Nothing on disk holds the value in the clear: not etcd's WAL, not its database.
	if path := onDisk(t, e.DataDir, []byte(secret)); path != "" {
		t.Fatalf("%s holds the secret in the clear", path)
	}

	if _, err := c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/app/db/password")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/password")}); code(err) != "ParameterNotFound" {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err := c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/app/db/password")}); code(err) != "ParameterNotFound" {
		t.Fatalf("delete again: %v", err)
	}
}
