package query

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/flotta-dev/flotta/internal/model"
)

// fakeIAM is a tiny IAM: users with paths and tags, kept in memory.
type fakeIAM struct {
	mu    sync.Mutex
	users map[string]user
	now   time.Time
}

type createUserIn struct {
	UserName string
	Path     *string
	Tags     []tag
}

type listUsersIn struct {
	Marker   string
	MaxItems *int
}

type listUsersOut struct {
	Users       []user `xml:"Users"`
	IsTruncated bool   `xml:"IsTruncated"`
	Marker      string `xml:"Marker,omitempty"`
}

func noSuchUser(name string) error {
	return &model.Error{Code: "NoSuchEntity", Status: http.StatusNotFound, Message: "The user with name " + name + " cannot be found."}
}

func (f *fakeIAM) service() *Service {
	return &Service{SigningName: "iam", Version: iamVersion, Namespace: ns, ActionPrefix: "iam", InternalErrorCode: "ServiceFailure",
		Ops: map[string]HandlerFunc{
			"CreateUser": Op(func(ctx context.Context, in *createUserIn) (*getUserOut, error) {
				f.mu.Lock()
				defer f.mu.Unlock()
				if _, ok := f.users[in.UserName]; ok {
					return nil, &model.Error{Code: "EntityAlreadyExists", Status: http.StatusConflict, Message: "User with name " + in.UserName + " already exists."}
				}
				u := user{UserName: in.UserName, Path: "/", CreateDate: f.now, Tags: in.Tags}
				if in.Path != nil {
					u.Path = *in.Path
				}
				f.users[in.UserName] = u
				return &getUserOut{User: u}, nil
			}),
			"GetUser": Op(func(ctx context.Context, in *getUserIn) (*getUserOut, error) {
				if in.UserName == "crash" {
					return nil, errors.New("the store is on fire")
				}
				f.mu.Lock()
				defer f.mu.Unlock()
				u, ok := f.users[in.UserName]
				if !ok {
					return nil, noSuchUser(in.UserName)
				}
				return &getUserOut{User: u}, nil
			}),
			"ListUsers": Op(func(ctx context.Context, in *listUsersIn) (*listUsersOut, error) {
				f.mu.Lock()
				defer f.mu.Unlock()
				names := make([]string, 0, len(f.users))
				for name := range f.users {
					if name > in.Marker || in.Marker == "" {
						names = append(names, name)
					}
				}
				slices.Sort(names)
				limit := 100
				if in.MaxItems != nil {
					limit = *in.MaxItems
				}
				out := &listUsersOut{Users: []user{}}
				for i, name := range names {
					if i == limit {
						out.IsTruncated, out.Marker = true, out.Users[i-1].UserName
						break
					}
					out.Users = append(out.Users, f.users[name])
				}
				return out, nil
			}),
			"DeleteUser": OpNoResult(func(ctx context.Context, in *getUserIn) error {
				f.mu.Lock()
				defer f.mu.Unlock()
				if _, ok := f.users[in.UserName]; !ok {
					return noSuchUser(in.UserName)
				}
				delete(f.users, in.UserName)
				return nil
			}),
		},
	}
}

type callerIdentity struct {
	Account string
	Arn     string
	UserID  string `xml:"UserId"`
}

func fakeSTS() *Service {
	return &Service{SigningName: "sts", Version: stsVersion, Namespace: stsNS, ActionPrefix: "sts",
		Ops: map[string]HandlerFunc{
			"GetCallerIdentity": Op(func(ctx context.Context, in *struct{}) (*callerIdentity, error) {
				return &callerIdentity{Account: "123456789012", Arn: "arn:aws:iam::123456789012:user/alice", UserID: "AIDAEXAMPLE"}, nil
			}),
		},
	}
}

// TestRealSDKClients stands the router up with a fake IAM and a fake STS and
// calls it with aws-sdk-go-v2's own IAM and STS clients: the SDKs must parse
// every answer and map every error to its typed exception.
func TestRealSDKClients(t *testing.T) {
	created := time.Date(2024, 2, 29, 12, 30, 45, 0, time.UTC)
	fake := &fakeIAM{users: map[string]user{}, now: created}
	rt := &Router{Logger: slog.New(slog.DiscardHandler)}
	rt.Handle(fake.service())
	rt.Handle(fakeSTS())
	var scopesMu sync.Mutex
	scopes := map[string]int{} // signing names seen, "" for unsigned
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scopesMu.Lock()
		scopes[SigningName(r)]++
		scopesMu.Unlock()
		rt.ServeHTTP(w, r)
	}))
	defer srv.Close()
	ctx := context.Background()

	// No Authenticator is wired; the IAM client does not sign, so the router
	// finds IAM by Version alone. The STS client signs, so it is found by its
	// credential scope too.
	iamc := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
	stsc := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""), RetryMaxAttempts: 1})

	out, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/eng/"),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("a&b <c>")}, {Key: aws.String("env"), Value: aws.String("")}}})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	u := out.User
	if aws.ToString(u.UserName) != "alice" || aws.ToString(u.Path) != "/eng/" || !aws.ToTime(u.CreateDate).Equal(created) ||
		len(u.Tags) != 2 || aws.ToString(u.Tags[0].Key) != "team" || aws.ToString(u.Tags[0].Value) != "a&b <c>" || aws.ToString(u.Tags[1].Key) != "env" {
		t.Errorf("CreateUser answered %+v (tags %+v)", u, u.Tags)
	}

	var exists *iamtypes.EntityAlreadyExistsException
	if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}); !errors.As(err, &exists) || exists.ErrorMessage() != "User with name alice already exists." {
		t.Errorf("CreateUser twice: %v, want EntityAlreadyExistsException", err)
	}

	for _, name := range []string{"bob", "carol", "dave", "erin"} {
		if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
			t.Fatalf("CreateUser %s: %v", name, err)
		}
	}
	got, err := iamc.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")})
	if err != nil || aws.ToString(got.User.UserName) != "bob" || aws.ToString(got.User.Path) != "/" || !aws.ToTime(got.User.CreateDate).Equal(created) {
		t.Fatalf("GetUser bob = %+v, %v", got, err)
	}

	var listed []string
	pages := 0
	for p := iam.NewListUsersPaginator(iamc, &iam.ListUsersInput{MaxItems: aws.Int32(2)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListUsers page %d: %v", pages+1, err)
		}
		pages++
		if len(page.Users) > 2 || page.IsTruncated != (page.Marker != nil) {
			t.Errorf("page %d: %d users, truncated %v, marker %v", pages, len(page.Users), page.IsTruncated, page.Marker)
		}
		for _, u := range page.Users {
			listed = append(listed, aws.ToString(u.UserName))
		}
	}
	if want := []string{"alice", "bob", "carol", "dave", "erin"}; !slices.Equal(listed, want) || pages != 3 {
		t.Errorf("ListUsers pages gave %q in %d pages, want %q in 3", listed, pages, want)
	}

	if _, err := iamc.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")}); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	var noSuch *iamtypes.NoSuchEntityException
	_, err = iamc.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")})
	if !errors.As(err, &noSuch) || noSuch.ErrorMessage() != "The user with name bob cannot be found." || noSuch.ErrorCode() != "NoSuchEntity" {
		t.Errorf("GetUser of a deleted user: %v, want NoSuchEntityException with IAM's message", err)
	}
	var resp *awshttp.ResponseError
	if !errors.As(err, &resp) || resp.HTTPStatusCode() != 404 || len(resp.ServiceRequestID()) != 36 {
		t.Errorf("the SDK saw %v, want status 404 and the request id", err)
	}
	if _, err := iamc.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")}); !errors.As(err, &noSuch) {
		t.Errorf("DeleteUser twice: %v, want NoSuchEntityException", err)
	}

	var failure *iamtypes.ServiceFailureException
	_, err = iamc.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("crash")})
	if !errors.As(err, &failure) || strings.Contains(failure.ErrorMessage(), "fire") || !errors.As(err, &resp) || resp.HTTPStatusCode() != 500 {
		t.Errorf("a server fault: %v, want ServiceFailureException (500) that hides its cause", err)
	}

	var apiErr smithy.APIError
	_, err = iamc.ListRoles(ctx, &iam.ListRolesInput{})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidAction" || apiErr.ErrorMessage() != "Could not find operation ListRoles for version 2010-05-08" ||
		!errors.As(err, &resp) || resp.HTTPStatusCode() != 400 {
		t.Errorf("an action the fake lacks: %v, want InvalidAction", err)
	}

	who, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Account) != "123456789012" || aws.ToString(who.Arn) != "arn:aws:iam::123456789012:user/alice" || aws.ToString(who.UserId) != "AIDAEXAMPLE" {
		t.Errorf("GetCallerIdentity = %+v, %v", who, err)
	}
	scopesMu.Lock()
	if len(scopes) != 2 || scopes[""] < 10 || scopes["sts"] != 1 {
		t.Errorf("signing names seen %v, want IAM's calls unsigned and one signed for sts", scopes)
	}
	scopesMu.Unlock()
	_, err = stsc.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidAction" || apiErr.ErrorMessage() != "Could not find operation GetSessionToken for version 2011-06-15" {
		t.Errorf("an STS action the fake lacks: %v, want InvalidAction", err)
	}
}
