package secretsmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Resolve is the value a task's secret with this valueFrom gets: a secret's
// ARN or name, optionally followed by ECS's selectors,
//
//	arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf:json-key:version-stage:version-id
//
// where any selector may be empty or left off. A json-key picks one member
// of a secret that holds a JSON object (a string member as it is, any other
// as its JSON text); the version is AWSCURRENT unless a stage or id names
// another. Its errors name the secret, never a value.
func (a *API) Resolve(ctx context.Context, valueFrom string) (string, error) {
	id, jsonKey, stage, versionID, err := splitValueFrom(valueFrom)
	if err != nil {
		return "", err
	}
	s, _, val, err := a.value(ctx, id, versionID, stage)
	if err != nil {
		return "", fmt.Errorf("secret %s: %w", id, err)
	}
	if val.binary {
		return "", fmt.Errorf("secret %s holds a binary value (SecretBinary); a task's secret takes a SecretString", s.Name)
	}
	if jsonKey == "" {
		return val.data, nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(val.data), &obj) != nil || obj == nil {
		return "", fmt.Errorf("secret %s: the json-key %q needs a value that is a JSON object, and this one is not", s.Name, jsonKey)
	}
	raw, ok := obj[jsonKey]
	if !ok {
		return "", fmt.Errorf("secret %s has no json-key %q", s.Name, jsonKey)
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str, nil
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return string(raw), nil
	}
	return compact.String(), nil
}

// splitValueFrom separates the secret from ECS's selectors. A secret's name
// has no colon, so the selectors begin after the ARN's seventh part, or
// after a name's first.
func splitValueFrom(valueFrom string) (id, jsonKey, stage, versionID string, err error) {
	parts := strings.Split(valueFrom, ":")
	n := 1
	if parts[0] == "arn" {
		n = 7
	}
	if len(parts) < n || len(parts) > n+3 {
		return "", "", "", "", fmt.Errorf("secret %q is not of the form NAME or arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME, optionally followed by :json-key:version-stage:version-id", valueFrom)
	}
	sel := append(parts[n:], "", "", "")
	return strings.Join(parts[:n], ":"), sel[0], sel[1], sel[2], nil
}
