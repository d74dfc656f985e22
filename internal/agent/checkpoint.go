package agent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
)

// identity is what an agent keeps across restarts: who it is and where.
type identity struct {
	Server               string `json:"server"`
	Cluster              string `json:"cluster"`
	AgentID              string `json:"agentId"`
	AccessKeyID          string `json:"accessKeyId"`
	SecretAccessKey      string `json:"secretAccessKey"`
	Region               string `json:"region"`
	ContainerInstanceArn string `json:"containerInstanceArn,omitempty"`
	// CAFingerprint is the server CA's fingerprint the agent pinned when it
	// joined: it trusts no other server.
	CAFingerprint string `json:"caFingerprint,omitempty"`
}

// containerState is the agent's knowledge of one container of a task.
type containerState struct {
	Name      string                 `json:"name"`
	ID        string                 `json:"id,omitempty"`
	Status    string                 `json:"status"` // PENDING, RUNNING, STOPPED
	ExitCode  *int                   `json:"exitCode,omitempty"`
	Reason    string                 `json:"reason,omitempty"`
	Health    string                 `json:"health,omitempty"`
	Bindings  []model.NetworkBinding `json:"bindings,omitempty"`
	ImageID   string                 `json:"imageId,omitempty"`
	Restarts  int                    `json:"restarts,omitempty"`
	StartedAt time.Time              `json:"startedAt,omitzero"`
	// Started says the agent has asked the engine to start it at least once.
	Started bool `json:"started,omitempty"`
}

// taskState is the agent's checkpointed knowledge of one task. Only the
// task's runner goroutine changes it.
type taskState struct {
	Arn           string                     `json:"arn"`
	Cluster       string                     `json:"cluster"`
	Status        string                     `json:"status"`
	Containers    map[string]*containerState `json:"containers"`
	StartOrder    []string                   `json:"startOrder,omitempty"`
	PauseID       string                     `json:"pauseId,omitempty"`
	IP            string                     `json:"ip,omitempty"`
	PullStartedAt *model.Time                `json:"pullStartedAt,omitempty"`
	PullStoppedAt *model.Time                `json:"pullStoppedAt,omitempty"`
	StopCode      string                     `json:"stopCode,omitempty"`
	Reason        string                     `json:"reason,omitempty"`
	StoppedAt     *model.Time                `json:"stoppedAt,omitempty"`
	Volumes       []string                   `json:"volumes,omitempty"`
}

// writeJSON replaces a file atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readJSON(path string, v any) (bool, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(b, v)
}
