package agent

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/runtime/fake"
)

// TestCredentialsEndpointAnswersOnlyItsOwnTask: a token reads its own
// task's current credentials, in the JSON the SDKs read; no token, another
// token or another path are refused; new credentials from a poll replace
// the old at once.
func TestCredentialsEndpointAnswersOnlyItsOwnTask(t *testing.T) {
	a, err := New(Config{Server: "http://127.0.0.1:1", DataDir: t.TempDir(), Runtime: fake.New()})
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Date(2026, 1, 1, 13, 0, 0, 0, time.UTC)
	const web, batch = "arn:aws:ecs:local:1:task/default/web", "arn:aws:ecs:local:1:task/default/batch"
	a.setRole(web, &flottaapi.RoleCredentials{AccessKeyID: "ASIAWEB", SecretAccessKey: "s1", SessionToken: "t1", Expiration: model.At(exp), RoleArn: "arn:aws:iam::1:role/web"}, "")
	a.setRole(batch, &flottaapi.RoleCredentials{AccessKeyID: "ASIABATCH", SecretAccessKey: "s2", SessionToken: "t2", Expiration: model.At(exp), RoleArn: "arn:aws:iam::1:role/batch"}, "")
	webToken, batchToken := a.roles[web].token, a.roles[batch].token
	if len(webToken) != 64 || webToken == batchToken {
		t.Fatalf("tokens %q and %q", webToken, batchToken)
	}

	get := func(path, token string) (int, map[string]string) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		w := httptest.NewRecorder()
		a.serveCredentials(w, req)
		var body map[string]string
		json.Unmarshal(w.Body.Bytes(), &body)
		return w.Code, body
	}
	code, body := get(credentialsPath, webToken)
	want := map[string]string{"AccessKeyId": "ASIAWEB", "SecretAccessKey": "s1", "Token": "t1", "Expiration": "2026-01-01T13:00:00Z", "RoleArn": "arn:aws:iam::1:role/web"}
	if code != http.StatusOK || len(body) != len(want) {
		t.Fatalf("the web task's token: %d %v", code, body)
	}
	for k, v := range want {
		if body[k] != v {
			t.Fatalf("the web task's token: %s = %q, want %q", k, body[k], v)
		}
	}
	if code, body := get(credentialsPath, batchToken); code != http.StatusOK || body["AccessKeyId"] != "ASIABATCH" {
		t.Fatalf("the batch task's token read %d %v", code, body)
	}
	for _, c := range []struct {
		name, path, token string
		status            int
	}{
		{"no token", credentialsPath, "", http.StatusUnauthorized},
		{"a wrong token", credentialsPath, webToken[:63] + "x", http.StatusForbidden},
		{"another path", "/v2/credentials", webToken, http.StatusNotFound},
	} {
		if code, body := get(c.path, c.token); code != c.status || body["AccessKeyId"] != "" {
			t.Errorf("%s: %d %v, want %d", c.name, code, body, c.status)
		}
	}

	// The next poll brings renewed credentials; the token stays.
	a.setRole(web, &flottaapi.RoleCredentials{AccessKeyID: "ASIAWEB2", SecretAccessKey: "s3", SessionToken: "t3", Expiration: model.At(exp.Add(time.Hour)), RoleArn: "arn:aws:iam::1:role/web"}, "")
	if a.roles[web].token != webToken {
		t.Fatal("renewed credentials changed the task's token")
	}
	if code, body := get(credentialsPath, webToken); code != http.StatusOK || body["AccessKeyId"] != "ASIAWEB2" || body["Expiration"] != "2026-01-01T14:00:00Z" {
		t.Fatalf("after renewal: %d %v", code, body)
	}

	// A task that is gone: its token reads nothing.
	delete(a.roles, web)
	if code, _ := get(credentialsPath, webToken); code != http.StatusForbidden {
		t.Fatalf("a forgotten task's token: %d", code)
	}
}
