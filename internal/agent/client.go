package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/sigv4"
)

// Targets of the operations the agent calls.
const (
	ecsTarget    = "AmazonEC2ContainerServiceV20141113."
	flottaTarget = "FlottaV1."
)

// APIError is a refusal from the server, in AWS's shape.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// client calls the Flotta server with the agent's own credentials.
type client struct {
	endpoint string
	region   string
	keyID    string
	secret   string
	http     *http.Client
	now      func() time.Time
}

func newClient(endpoint, region, keyID, secret string, now func() time.Time) *client {
	return &client{endpoint: strings.TrimRight(endpoint, "/"), region: region, keyID: keyID, secret: secret,
		http: &http.Client{Timeout: 60 * time.Second}, now: now}
}

// call sends one JSON 1.1 request; unsigned when the client has no key yet.
func (c *client) call(ctx context.Context, target string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	if c.keyID != "" {
		sigv4.Sign(req, body, c.keyID, sigv4.Secret{SecretAccessKey: c.secret}, c.region, "ecs", c.now())
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		json.Unmarshal(data, &e)
		return &APIError{Status: resp.StatusCode, Code: e.Type, Message: e.Message}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

type joinOutput struct {
	AgentID         string `json:"agentId"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	Region          string `json:"region"`
	AccountID       string `json:"accountId"`
}

type registerInput struct {
	Cluster                  string             `json:"cluster"`
	InstanceIdentityDocument string             `json:"instanceIdentityDocument"`
	TotalResources           []model.Resource   `json:"totalResources"`
	VersionInfo              *model.VersionInfo `json:"versionInfo"`
	ContainerInstanceArn     string             `json:"containerInstanceArn,omitempty"`
	Attributes               []model.Attribute  `json:"attributes"`
}

type registerOutput struct {
	ContainerInstance model.ContainerInstance `json:"containerInstance"`
}

type pollInput struct {
	ContainerInstanceArn string `json:"containerInstanceArn"`
	Revision             int64  `json:"revision"`
	WaitSeconds          int    `json:"waitSeconds"`
}

// Assignment is a task the server wants run (or stopped) here.
type Assignment struct {
	Task       model.Task           `json:"task"`
	Definition model.TaskDefinition `json:"definition"`
}

type pollOutput struct {
	Revision       int64        `json:"revision"`
	InstanceStatus string       `json:"instanceStatus"`
	Tasks          []Assignment `json:"tasks"`
}

// containerChange and taskChange are SubmitTaskStateChange's shapes, with
// Flotta's extensions (health, network interfaces, stop code).
type containerChange struct {
	ContainerName     string                   `json:"containerName"`
	ImageDigest       string                   `json:"imageDigest,omitempty"`
	RuntimeID         string                   `json:"runtimeId,omitempty"`
	ExitCode          *int                     `json:"exitCode,omitempty"`
	NetworkBindings   []model.NetworkBinding   `json:"networkBindings,omitempty"`
	Reason            string                   `json:"reason,omitempty"`
	Status            string                   `json:"status"`
	HealthStatus      string                   `json:"healthStatus,omitempty"`
	NetworkInterfaces []model.NetworkInterface `json:"networkInterfaces,omitempty"`
}

type taskChange struct {
	Cluster            string             `json:"cluster"`
	Task               string             `json:"task"`
	Status             string             `json:"status"`
	Reason             string             `json:"reason,omitempty"`
	Containers         []containerChange  `json:"containers"`
	PullStartedAt      *model.Time        `json:"pullStartedAt,omitempty"`
	PullStoppedAt      *model.Time        `json:"pullStoppedAt,omitempty"`
	ExecutionStoppedAt *model.Time        `json:"executionStoppedAt,omitempty"`
	StopCode           string             `json:"stopCode,omitempty"`
	HealthStatus       string             `json:"healthStatus,omitempty"`
	Attachments        []model.Attachment `json:"taskAttachments,omitempty"`
}
