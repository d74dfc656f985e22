package iam

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteCredentialsFile writes an AWS shared-credentials file with one profile
// holding k, readable by its owner only. It replaces the file atomically.
func WriteCredentialsFile(path, profile string, k AccessKey) error {
	var body string
	body += fmt.Sprintf("[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", profile, k.AccessKeyID, k.SecretAccessKey)
	if k.SessionToken != "" {
		body += "aws_session_token = " + k.SessionToken + "\n"
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".credentials-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.WriteString(body); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
