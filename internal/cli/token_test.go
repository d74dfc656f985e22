package cli_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/testutil/flottatest"
)

// TestTokenListAndRevoke: tokens are listed without their secrets, a revoked
// token no longer joins, and a revoked or unknown id says so.
func TestTokenListAndRevoke(t *testing.T) {
	e := flottatest.StartServer(t)
	mustRun := func(args ...string) string {
		t.Helper()
		out, errOut, err := runAll(t, e.DataDir, args...)
		if err != nil {
			t.Fatalf("flotta %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
		}
		return out
	}
	keep := strings.TrimSpace(mustRun("token", "create", "--uses", "3"))
	gone := strings.TrimSpace(mustRun("token", "create"))
	idOf := func(tok string) string { return strings.Split(tok, ".")[1] }

	list := mustRun("token", "ls")
	for _, tok := range []string{keep, gone} {
		if !strings.Contains(list, idOf(tok)) || strings.Contains(list, strings.Split(tok, ".")[2]) {
			t.Fatalf("token ls should show the id of %s and never its secret:\n%s", tok, list)
		}
	}
	if !regexp.MustCompile(idOf(keep) + `\s+usable\s+3\s`).MatchString(list) {
		t.Fatalf("token ls does not say the first token has 3 uses left:\n%s", list)
	}

	// Revoked by the whole token: it no longer joins.
	if out := mustRun("token", "revoke", gone); strings.TrimSpace(out) != "revoked" {
		t.Fatalf("revoke: %q", out)
	}
	if list := mustRun("token", "ls"); strings.Contains(list, idOf(gone)) || !strings.Contains(list, idOf(keep)) {
		t.Fatalf("after the revoke:\n%s", list)
	}
	anon := &flottaapi.Client{Endpoint: e.Server.Endpoint()}
	err := anon.Call(context.Background(), flottaapi.FlottaTarget+".Join", flottaapi.JoinInput{Token: gone}, &flottaapi.JoinOutput{})
	if !model.IsCode(err, model.CodeAccessDenied) {
		t.Fatalf("a revoked token joined: %v", err)
	}
	if _, _, err := runAll(t, e.DataDir, "token", "revoke", idOf(gone)); err == nil || !strings.Contains(err.Error(), "There is no join token "+idOf(gone)) {
		t.Fatalf("revoking it again: %v", err)
	}
	if err := anon.Call(context.Background(), flottaapi.FlottaTarget+".Join", flottaapi.JoinInput{Token: keep}, &flottaapi.JoinOutput{}); err != nil {
		t.Fatalf("the token kept does not join: %v", err)
	}
}

// TestFailedJoinsAreThrottled: an address that keeps presenting bad tokens
// is turned away after ten, even with a good one, so tokens cannot be guessed.
func TestFailedJoinsAreThrottled(t *testing.T) {
	e := flottatest.StartServer(t)
	good, _, err := e.Server.IAM().CreateJoinToken(context.Background(), time.Hour, 1, "test")
	if err != nil {
		t.Fatal(err)
	}
	anon := &flottaapi.Client{Endpoint: e.Server.Endpoint()}
	join := func(tok string) error {
		return anon.Call(context.Background(), flottaapi.FlottaTarget+".Join", flottaapi.JoinInput{Token: tok}, &flottaapi.JoinOutput{})
	}
	for i := 0; i < 10; i++ {
		if err := join("flt1.000000000000.guess"); !model.IsCode(err, model.CodeAccessDenied) {
			t.Fatalf("bad join %d: %v", i+1, err)
		}
	}
	err = join("flt1.000000000000.guess")
	if !model.IsCode(err, "ThrottlingException") || !strings.Contains(err.Error(), "Too many failed joins from 127.0.0.1") {
		t.Fatalf("the eleventh bad join: %v", err)
	}
	if err := join(good); !model.IsCode(err, "ThrottlingException") {
		t.Fatalf("a good token from a throttled address: %v", err)
	}
}

func TestWhoami(t *testing.T) {
	e := flottatest.StartServer(t)
	out, _, err := runAll(t, e.DataDir, "whoami")
	acct := e.Server.Account().ID
	if err != nil || !strings.HasPrefix(out, "arn:aws:iam::"+acct+":root\naccount "+acct) {
		t.Fatalf("whoami: %v\n%s", err, out)
	}
}
