package iam

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/base32"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/iam"
	"github.com/flotta-dev/flotta/internal/model"
	"github.com/flotta-dev/flotta/internal/protocol/query"
	"github.com/flotta-dev/flotta/internal/sealing"
	"github.com/flotta-dev/flotta/internal/state"
)

// IAM server certificates: the certificates HTTPS listeners of Flotta's
// load balancers serve (ELB takes them as ACM's stand-in). A certificate
// and its key are checked at upload; the key is stored sealed and never
// answered.

// IAM's error codes for certificates (aws-sdk-go-v2's iam types/errors.go).
const (
	CodeMalformedCertificate = "MalformedCertificate"
	CodeKeyPairMismatch      = "KeyPairMismatch"
)

func (a *API) serverCertificateOps(ops map[string]query.HandlerFunc) {
	ops["UploadServerCertificate"] = query.Op(a.UploadServerCertificate)
	ops["GetServerCertificate"] = query.Op(a.GetServerCertificate)
	ops["ListServerCertificates"] = query.Op(a.ListServerCertificates)
	ops["DeleteServerCertificate"] = query.OpNoResult(a.DeleteServerCertificate)
}

// ServerCertificateMetadata is IAM's ServerCertificateMetadata shape.
type ServerCertificateMetadata struct {
	Path                  string    `xml:"Path"`
	ServerCertificateName string    `xml:"ServerCertificateName"`
	ServerCertificateID   string    `xml:"ServerCertificateId"`
	Arn                   string    `xml:"Arn"`
	UploadDate            time.Time `xml:"UploadDate"`
	Expiration            time.Time `xml:"Expiration"`
}

func certMetadata(c *state.ServerCertificate) ServerCertificateMetadata {
	return ServerCertificateMetadata{Path: c.Path, ServerCertificateName: c.Name, ServerCertificateID: c.ID, Arn: c.Arn,
		UploadDate: c.UploadDate, Expiration: c.Expiration}
}

type uploadServerCertificateIn struct {
	ServerCertificateName string
	Path                  string
	CertificateBody       string
	PrivateKey            string
	CertificateChain      string
	Tags                  []Tag
}

type uploadServerCertificateOut struct {
	ServerCertificateMetadata ServerCertificateMetadata `xml:"ServerCertificateMetadata"`
	Tags                      []Tag                     `xml:"Tags,omitempty"`
}

var (
	certNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	certPathPattern = regexp.MustCompile(`^/([\x21-\x7E]*/)?$`)
)

func certError(code string, status int, msg string) error {
	return &model.Error{Code: code, Status: status, Message: msg}
}

func noSuchCertificate(name string) error {
	return certError(iam.CodeNoSuchEntity, http.StatusNotFound, "The Server Certificate with name "+model.Truncate(name, 128)+" cannot be found.")
}

// parseCertificate reads the first certificate of a PEM body.
func parseCertificate(body string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(body)))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, certError(CodeMalformedCertificate, http.StatusBadRequest, "Unable to parse certificate. Please ensure the certificate is in PEM format.")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, certError(CodeMalformedCertificate, http.StatusBadRequest, "Unable to parse certificate. Please ensure the certificate is in PEM format.")
	}
	return c, nil
}

// parseKey reads a PEM private key (PKCS #1, PKCS #8 or SEC 1).
func parseKey(body string) (crypto.Signer, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(body)))
	if block != nil {
		if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
			return k, nil
		}
		if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
			if s, ok := k.(crypto.Signer); ok {
				return s, nil
			}
		}
		if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
			return k, nil
		}
	}
	return nil, certError(CodeMalformedCertificate, http.StatusBadRequest, "Unable to parse private key. Please ensure the private key is in PEM format.")
}

// UploadServerCertificate stores a certificate, its chain and its private
// key (sealed), after checking that each parses and that the key is the
// certificate's.
func (a *API) UploadServerCertificate(ctx context.Context, in *uploadServerCertificateIn) (*uploadServerCertificateOut, error) {
	if in.ServerCertificateName == "" || !certNamePattern.MatchString(in.ServerCertificateName) {
		return nil, certError(iam.CodeValidation, http.StatusBadRequest, "1 validation error detected: Value '"+model.Truncate(in.ServerCertificateName, 128)+
			"' at 'serverCertificateName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+")
	}
	path := in.Path
	if path == "" {
		path = "/"
	}
	if len(path) > 512 || !certPathPattern.MatchString(path) {
		return nil, certError(iam.CodeValidation, http.StatusBadRequest, "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	if in.CertificateBody == "" {
		return nil, certError(iam.CodeValidation, http.StatusBadRequest, "1 validation error detected: Value null at 'certificateBody' failed to satisfy constraint: Member must not be null")
	}
	if in.PrivateKey == "" {
		return nil, certError(iam.CodeValidation, http.StatusBadRequest, "1 validation error detected: Value null at 'privateKey' failed to satisfy constraint: Member must not be null")
	}
	cert, err := parseCertificate(in.CertificateBody)
	if err != nil {
		return nil, err
	}
	for rest := []byte(in.CertificateChain); len(bytes.TrimSpace(rest)) > 0; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return nil, certError(CodeMalformedCertificate, http.StatusBadRequest, "Unable to parse certificate chain. Please ensure the chain is in PEM format.")
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return nil, certError(CodeMalformedCertificate, http.StatusBadRequest, "Unable to parse certificate chain. Please ensure the chain is in PEM format.")
		}
	}
	key, err := parseKey(in.PrivateKey)
	if err != nil {
		return nil, err
	}
	if pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(key.Public()) {
		return nil, certError(CodeKeyPairMismatch, http.StatusBadRequest, "The public key certificate and the private key do not match.")
	}
	if len(in.Tags) > 50 {
		return nil, certError(iam.CodeLimitExceeded, http.StatusConflict, "The number of tags has reached the maximum limit.")
	}
	acct := a.IAM.Account()
	arn := "arn:" + acct.Partition + ":iam::" + acct.ID + ":server-certificate" + path + in.ServerCertificateName
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	var id [11]byte
	rand.Read(id[:])
	rec := state.ServerCertificate{Name: in.ServerCertificateName, ID: "ASCA" + base32.StdEncoding.EncodeToString(id[:])[:17], Arn: arn, Path: path,
		CertificateBody: strings.TrimSpace(in.CertificateBody), CertificateChain: strings.TrimSpace(in.CertificateChain),
		SealedPrivateKey: a.Box.Seal(in.PrivateKey, arn), UploadDate: now().UTC().Truncate(time.Second), Expiration: cert.NotAfter.UTC()}
	for _, t := range in.Tags {
		rec.Tags = append(rec.Tags, model.Tag{Key: t.Key, Value: t.Value})
	}
	if err := a.State.CreateServerCertificate(ctx, rec); err != nil {
		if errors.Is(err, state.ErrExists) {
			return nil, certError(iam.CodeEntityAlreadyExists, http.StatusConflict, "The Server Certificate with name "+in.ServerCertificateName+" already exists.")
		}
		return nil, err
	}
	return &uploadServerCertificateOut{ServerCertificateMetadata: certMetadata(&rec), Tags: in.Tags}, nil
}

type serverCertificateNameIn struct {
	ServerCertificateName string
}

type getServerCertificateOut struct {
	ServerCertificate struct {
		ServerCertificateMetadata ServerCertificateMetadata `xml:"ServerCertificateMetadata"`
		CertificateBody           string                    `xml:"CertificateBody"`
		CertificateChain          string                    `xml:"CertificateChain,omitempty"`
		Tags                      []Tag                     `xml:"Tags,omitempty"`
	} `xml:"ServerCertificate"`
}

// GetServerCertificate reads a certificate and its chain (never its key).
func (a *API) GetServerCertificate(ctx context.Context, in *serverCertificateNameIn) (*getServerCertificateOut, error) {
	c, err := a.State.GetServerCertificate(ctx, in.ServerCertificateName)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, noSuchCertificate(in.ServerCertificateName)
	}
	out := &getServerCertificateOut{}
	out.ServerCertificate.ServerCertificateMetadata = certMetadata(c)
	out.ServerCertificate.CertificateBody, out.ServerCertificate.CertificateChain = c.CertificateBody, c.CertificateChain
	for _, t := range c.Tags {
		out.ServerCertificate.Tags = append(out.ServerCertificate.Tags, Tag{Key: t.Key, Value: t.Value})
	}
	return out, nil
}

type listServerCertificatesOut struct {
	ServerCertificateMetadataList []ServerCertificateMetadata `xml:"ServerCertificateMetadataList"`
	IsTruncated                   bool                        `xml:"IsTruncated"`
	Marker                        string                      `xml:"Marker,omitempty"`
}

// ListServerCertificates lists certificates under a path prefix, a page at
// a time.
func (a *API) ListServerCertificates(ctx context.Context, in *listIn) (*listServerCertificatesOut, error) {
	all, err := a.State.ListServerCertificates(ctx)
	if err != nil {
		return nil, err
	}
	var under []state.ServerCertificate
	for _, c := range all {
		if strings.HasPrefix(c.Path, in.PathPrefix) {
			under = append(under, c)
		}
	}
	got, more, next, err := page(under, func(c state.ServerCertificate) string { return c.Name }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &listServerCertificatesOut{ServerCertificateMetadataList: []ServerCertificateMetadata{}, IsTruncated: more, Marker: next}
	for i := range got {
		out.ServerCertificateMetadataList = append(out.ServerCertificateMetadataList, certMetadata(&got[i]))
	}
	return out, nil
}

// DeleteServerCertificate deletes a certificate no listener serves.
func (a *API) DeleteServerCertificate(ctx context.Context, in *serverCertificateNameIn) error {
	found, err := a.State.DeleteServerCertificate(ctx, in.ServerCertificateName)
	if errors.Is(err, state.ErrCertificateInUse) {
		return certError(iam.CodeDeleteConflict, http.StatusConflict, "Certificate: "+in.ServerCertificateName+" is currently in use by a load balancer listener. Please remove it first before deleting it from IAM.")
	}
	if err != nil {
		return err
	}
	if !found {
		return noSuchCertificate(in.ServerCertificateName)
	}
	return nil
}

// CertificatePEM is a certificate as a TLS server needs it: the
// certificate followed by its chain, and the private key, in PEM.
type CertificatePEM struct {
	Arn       string
	CertChain string
	Key       string
}

// ListenerCertificatePEMs are the certificates and keys an HTTPS listener
// serves, its default first, opened with box: what the load balancer's
// data plane hands its TLS configuration.
func ListenerCertificatePEMs(ctx context.Context, st *state.State, box *sealing.Box, listenerArn string) ([]CertificatePEM, error) {
	certs, err := st.ListenerCertificates(ctx, listenerArn)
	if err != nil {
		return nil, err
	}
	out := make([]CertificatePEM, 0, len(certs))
	for _, c := range certs {
		key, err := box.Open(c.SealedPrivateKey, c.Arn)
		if err != nil {
			return nil, fmt.Errorf("open the key of %s: %w", c.Arn, err)
		}
		chain := c.CertificateBody + "\n"
		if c.CertificateChain != "" {
			chain += c.CertificateChain + "\n"
		}
		out = append(out, CertificatePEM{Arn: c.Arn, CertChain: chain, Key: key})
	}
	return out, nil
}

// serverCertificateResource is the ARN an action on a named server
// certificate is authorized on: the request names no path, so the ARN is
// the one the certificate has under the path "/".
func (a *API) serverCertificateResource(name string) string {
	acct := a.IAM.Account()
	return "arn:" + acct.Partition + ":iam::" + acct.ID + ":server-certificate/" + name
}
