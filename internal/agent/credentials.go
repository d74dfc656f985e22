package agent

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/flotta-dev/flotta/internal/flottaapi"
	"github.com/flotta-dev/flotta/internal/model"
)

// DefaultCredentialsAddress is where the agent serves task role
// credentials: the address and port at which ECS's agent serves them, one
// of the few that the AWS SDKs accept over plain http in
// AWS_CONTAINER_CREDENTIALS_FULL_URI (with loopback, 169.254.170.23 and
// fd00:ec2::23). A bridge container reaches it through its gateway once
// the address is on the host's loopback interface.
const DefaultCredentialsAddress = "169.254.170.2:80"

// credentialsPath is the endpoint's one path; the per-task token, not the
// path, says which task asks.
const credentialsPath = "/v1/credentials"

// Environment variables of a container whose task has a role.
const (
	envCredentialsURI   = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
	envCredentialsToken = "AWS_CONTAINER_AUTHORIZATION_TOKEN"
)

// taskRole is what the agent holds for a task that runs with a role: the
// token its containers present, and the role's current credentials as the
// last poll sent them (or why the server could not assume the role). It
// lives in memory only: never checkpointed, never logged.
type taskRole struct {
	token string
	creds *flottaapi.RoleCredentials
	err   string
}

// credentialsEndpoint is the agent's one HTTP server for task credentials,
// started when the first task with a role arrives.
type credentialsEndpoint struct {
	// url is what containers get in AWS_CONTAINER_CREDENTIALS_FULL_URI;
	// err why there is no endpoint.
	url string
	err error
}

// setRole records what a poll said of a task's role, keeping the task's token.
func (a *Agent) setRole(arn string, creds *flottaapi.RoleCredentials, why string) {
	r := a.roles[arn]
	if r == nil {
		r = &taskRole{token: newToken()}
		a.roles[arn] = r
	}
	if creds != nil || why != "" {
		r.creds, r.err = creds, why
	}
}

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// roleEnv returns the variables that lead a container's SDK to its task's
// credentials, or why the task cannot start.
func (a *Agent) roleEnv(arn string) (map[string]string, error) {
	// The role's fields are read under the lock: a poll may change them
	// (setRole) while a runner starts a container.
	a.mu.Lock()
	r, ep := a.roles[arn], a.endpoint
	var token, why string
	if r != nil {
		token, why = r.token, r.err
	}
	a.mu.Unlock()
	if r == nil {
		return nil, errors.New("ResourceInitializationError: unable to assume the task role: the server sent no credentials for this task")
	}
	if why != "" {
		return nil, errors.New(why)
	}
	if ep.url == "" {
		return nil, fmt.Errorf("ResourceInitializationError: this container instance cannot serve task role credentials: %v", ep.err)
	}
	return map[string]string{envCredentialsURI: ep.url, envCredentialsToken: token}, nil
}

// startCredentialsEndpoint listens on the configured address, putting it
// on the loopback interface first when the host does not have it, and
// serves until ctx ends. A failure is logged and kept: tasks with a role
// then fail to start, saying why.
func (a *Agent) startCredentialsEndpoint(ctx context.Context, wg *sync.WaitGroup) {
	a.endpointOnce.Do(func() {
		addr := a.cfg.CredentialsAddress
		var ln net.Listener
		var added bool
		err := errors.New("the agent was started with --credentials-address off")
		if addr != "off" {
			ln, added, err = listenCredentials(ctx, addr)
		}
		if err != nil {
			a.mu.Lock()
			a.endpoint.err = err
			a.mu.Unlock()
			a.logger.Error("cannot serve task role credentials; tasks with a role will not start", "address", addr, "err", err)
			return
		}
		host, port, _ := net.SplitHostPort(ln.Addr().String())
		if port != "80" {
			host = net.JoinHostPort(host, port)
		} else if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		a.mu.Lock()
		a.endpoint.url = "http://" + host + credentialsPath
		a.mu.Unlock()
		srv := &http.Server{Handler: http.HandlerFunc(a.serveCredentials), ReadHeaderTimeout: 5 * time.Second}
		a.logger.Info("serving task role credentials", "url", a.endpoint.url, "added_to_loopback", added)
		wg.Add(2)
		go func() {
			defer wg.Done()
			srv.Serve(ln)
		}()
		go func() {
			defer wg.Done()
			<-ctx.Done()
			srv.Close()
			if added {
				ip, _, _ := net.SplitHostPort(addr)
				if out, err := exec.Command("ip", "addr", "del", hostPrefix(ip), "dev", "lo").CombinedOutput(); err != nil {
					a.logger.Warn("remove the credentials address from the loopback interface", "address", ip, "err", err, "output", string(out))
				}
			}
		}()
	})
}

// listenCredentials listens on addr; when the host lacks that address it
// adds it to the loopback interface (the agent runs as root) and tries again.
func listenCredentials(ctx context.Context, addr string) (net.Listener, bool, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err == nil || !errors.Is(err, syscall.EADDRNOTAVAIL) {
		return ln, false, err
	}
	ip, _, serr := net.SplitHostPort(addr)
	if serr != nil || net.ParseIP(ip) == nil {
		return nil, false, err
	}
	if out, aerr := exec.CommandContext(ctx, "ip", "addr", "add", hostPrefix(ip), "dev", "lo").CombinedOutput(); aerr != nil {
		return nil, false, fmt.Errorf("%w; and adding %s to the loopback interface failed: %v: %s", err, ip, aerr, strings.TrimSpace(string(out)))
	}
	ln, err = lc.Listen(ctx, "tcp", addr)
	return ln, err == nil, err
}

func hostPrefix(ip string) string {
	if strings.Contains(ip, ":") {
		return ip + "/128"
	}
	return ip + "/32"
}

// credentialsAnswer is the JSON the SDKs' container credentials providers read.
type credentialsAnswer struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
	RoleArn         string `json:"RoleArn"`
}

// serveCredentials answers a container with its own task's current role
// credentials: the Authorization header must hold the task's token.
func (a *Agent) serveCredentials(w http.ResponseWriter, req *http.Request) {
	fail := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg})
	}
	if req.URL.Path != credentialsPath {
		fail(http.StatusNotFound, "NotFound", "Credentials are served at "+credentialsPath+".")
		return
	}
	if req.Method != http.MethodGet {
		fail(http.StatusMethodNotAllowed, "MethodNotAllowed", "Credentials are read with GET.")
		return
	}
	token := req.Header.Get("Authorization")
	if token == "" {
		fail(http.StatusUnauthorized, "Unauthorized", "The request has no Authorization header: send the task's AWS_CONTAINER_AUTHORIZATION_TOKEN.")
		return
	}
	var found *taskRole
	a.mu.Lock()
	for _, r := range a.roles {
		if subtle.ConstantTimeCompare([]byte(r.token), []byte(token)) == 1 {
			found = r
		}
	}
	var creds *flottaapi.RoleCredentials
	if found != nil {
		creds = found.creds
	}
	a.mu.Unlock()
	switch {
	case found == nil:
		fail(http.StatusForbidden, "AccessDenied", "The authorization token is not that of a task on this container instance.")
		return
	case creds == nil:
		fail(http.StatusServiceUnavailable, "NoCredentials", "The task's role credentials are not available.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(credentialsAnswer{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey,
		Token: creds.SessionToken, Expiration: creds.Expiration.UTC().Format(time.RFC3339), RoleArn: creds.RoleArn})
}

// hasRole says whether a task runs with a role: its definition names one,
// or the server sent credentials for it (a taskRoleArn override).
func (a *Agent) hasRole(arn string, def *model.TaskDefinition) bool {
	if def.TaskRoleArn != "" {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.roles[arn] != nil
}
