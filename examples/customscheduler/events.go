package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The parts of Flotta's event stream (FlottaV1.GetEvents) this program
// reads. The stream sends ECS's EventBridge events; docs/events.md has the
// whole shape.
type (
	getEventsInput struct {
		Cursor      string   `json:"cursor,omitempty"`
		MaxEvents   int      `json:"maxEvents,omitempty"`
		WaitSeconds int      `json:"waitSeconds,omitempty"`
		Cluster     string   `json:"cluster,omitempty"`
		DetailTypes []string `json:"detailTypes,omitempty"`
	}
	getEventsOutput struct {
		Events []event `json:"events"`
		Cursor string  `json:"cursor"`
	}
	event struct {
		ID         string          `json:"id"`
		DetailType string          `json:"detail-type"`
		Detail     json.RawMessage `json:"detail"`
	}
	// taskDetail is an "ECS Task State Change" event's detail, which is the
	// task as DescribeTasks shows it.
	taskDetail struct {
		TaskArn              string `json:"taskArn"`
		ContainerInstanceArn string `json:"containerInstanceArn"`
		StartedBy            string `json:"startedBy"`
		LastStatus           string `json:"lastStatus"`
		DesiredStatus        string `json:"desiredStatus"`
		StoppedReason        string `json:"stoppedReason"`
	}
	// instanceDetail is an "ECS Container Instance State Change" event's
	// detail, the container instance as DescribeContainerInstances shows it.
	instanceDetail struct {
		ContainerInstanceArn string `json:"containerInstanceArn"`
		Status               string `json:"status"`
		Attributes           []struct {
			Name  string  `json:"name"`
			Value *string `json:"value"`
		} `json:"attributes"`
	}
)

// eventReader reads the stream with a request signed like any AWS call
// (Signature Version 4, service "ecs"), with the same credentials as the
// SDK client.
type eventReader struct {
	endpoint string
	region   string
	creds    aws.CredentialsProvider
	http     *http.Client
	signer   *v4.Signer
}

func newEventReader(endpoint, region string, creds aws.CredentialsProvider) *eventReader {
	return &eventReader{endpoint: strings.TrimRight(endpoint, "/") + "/", region: region, creds: creds,
		http: &http.Client{Timeout: time.Minute}, signer: v4.NewSigner()}
}

// read asks for the events after in.Cursor ("" for from now).
func (r *eventReader) read(ctx context.Context, in getEventsInput) (*getEventsOutput, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "FlottaV1.GetEvents")
	creds, err := r.creds.Retrieve(ctx)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	if err := r.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ecs", r.region, time.Now()); err != nil {
		return nil, err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		json.Unmarshal(data, &e)
		return nil, fmt.Errorf("GetEvents: %d %s: %s", resp.StatusCode, e.Type, e.Message)
	}
	var out getEventsOutput
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("GetEvents: %w", err)
	}
	return &out, nil
}
