package lb

import (
	"encoding/json"
	"fmt"
	"io"
)

// DecodeConfig reads a Config sent over the wire, strictly: an unknown
// field is an error rather than a setting silently dropped by a data plane
// older than its control plane.
func DecodeConfig(r io.Reader) (Config, error) {
	var c Config
	d := json.NewDecoder(r)
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("decode load balancer configuration: %w", err)
	}
	if d.More() {
		return Config{}, fmt.Errorf("decode load balancer configuration: data after the configuration")
	}
	return c, nil
}
