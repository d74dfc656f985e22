// Package images makes container images offline, from the running flotta
// binary: a FROM scratch image holding /flotta (and, when the binary is
// dynamically linked, its loader and libraries at their usual paths). The
// agent's pause image and flotta dev's demo image are made this way, so that
// Flotta works without a registry.
package images

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Builder is what an engine must offer to make images.
type Builder interface {
	ImagePresent(ctx context.Context, ref string) (bool, error)
	BuildImage(ctx context.Context, tag string, buildContext io.Reader, labels map[string]string) error
}

// Spec describes an image made from a binary.
type Spec struct {
	// Repository, e.g. flotta/pause; the tag is derived from the binary's
	// content, so that a new binary makes a new image.
	Repository string
	// Binary is the executable to put at /flotta.
	Binary     string
	Entrypoint []string
	Cmd        []string
	// AlsoTag adds this tag (e.g. "latest") to the image.
	AlsoTag string
}

// Ensure builds the image unless it exists, and returns its content-derived reference.
func Ensure(ctx context.Context, b Builder, s Spec) (string, error) {
	sum, err := fileHash(s.Binary)
	if err != nil {
		return "", err
	}
	ref := s.Repository + ":" + sum[:12]
	present, err := b.ImagePresent(ctx, ref)
	if err != nil {
		return "", err
	}
	if present && (s.AlsoTag == "" || alsoPresent(ctx, b, s.Repository+":"+s.AlsoTag)) {
		return ref, nil
	}
	bc, err := buildContext(s)
	if err != nil {
		return "", err
	}
	if err := b.BuildImage(ctx, ref, bytes.NewReader(bc), map[string]string{"com.flotta.image": s.Repository}); err != nil {
		return "", err
	}
	if s.AlsoTag != "" {
		if err := b.BuildImage(ctx, s.Repository+":"+s.AlsoTag, bytes.NewReader(bc), map[string]string{"com.flotta.image": s.Repository}); err != nil {
			return "", err
		}
	}
	return ref, nil
}

func alsoPresent(ctx context.Context, b Builder, ref string) bool {
	ok, _ := b.ImagePresent(ctx, ref)
	return ok
}

func fileHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// buildContext is a tar with a Dockerfile, the binary, and any shared
// libraries it needs.
func buildContext(s Spec) ([]byte, error) {
	files := map[string]string{"flotta": s.Binary} // path in context -> host path
	libs, err := sharedLibraries(s.Binary)
	if err != nil {
		return nil, err
	}
	var copies []string
	for _, lib := range libs {
		ctxPath := "rootfs" + lib
		files[ctxPath] = lib
		copies = append(copies, fmt.Sprintf("COPY %s %s", ctxPath, lib))
	}
	ep, _ := json.Marshal(s.Entrypoint)
	dockerfile := "FROM scratch\nCOPY flotta /flotta\n" + strings.Join(copies, "\n") + "\nENTRYPOINT " + string(ep) + "\n"
	if len(s.Cmd) > 0 {
		cmd, _ := json.Marshal(s.Cmd)
		dockerfile += "CMD " + string(cmd) + "\n"
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := add("Dockerfile", 0o644, []byte(dockerfile)); err != nil {
		return nil, err
	}
	for name, host := range files {
		data, err := os.ReadFile(host)
		if err != nil {
			return nil, err
		}
		if err := add(name, 0o755, data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var libDirs = []string{"/lib64", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
	"/usr/lib/aarch64-linux-gnu", "/lib", "/usr/lib"}

// sharedLibraries lists the loader and libraries a dynamically linked ELF
// binary needs, transitively, as resolved host paths; none for a static one.
func sharedLibraries(binary string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	var visit func(path string, root bool) error
	visit = func(path string, root bool) error {
		f, err := elf.Open(path)
		if err != nil {
			if root {
				return fmt.Errorf("read %s: %w", path, err)
			}
			return nil
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				data := make([]byte, p.Filesz)
				if _, err := p.ReadAt(data, 0); err == nil {
					interp := strings.TrimRight(string(data), "\x00")
					if !seen[interp] {
						seen[interp] = true
						out = append(out, interp)
					}
				}
			}
		}
		needed, err := f.ImportedLibraries()
		if err != nil {
			return nil
		}
		for _, name := range needed {
			for _, dir := range libDirs {
				p := filepath.Join(dir, name)
				if _, err := os.Stat(p); err == nil {
					if !seen[p] {
						seen[p] = true
						out = append(out, p)
						visit(p, false)
					}
					break
				}
			}
		}
		return nil
	}
	if err := visit(binary, true); err != nil {
		return nil, err
	}
	return out, nil
}
