package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/flotta-dev/flotta/internal/model"
)

// ParseOptions say what kind of document is parsed and how large it may be.
type ParseOptions struct {
	Kind Kind
	// MaxChars, when positive, is the document's quota in characters not
	// counting whitespace (see CountChars): 6,144 for a managed policy,
	// 2,048 for a user's inline policies... The quota is the caller's to
	// choose; over it, Parse refuses with LimitExceeded.
	MaxChars int
}

// CountChars is a document's size as IAM counts it against its quotas:
// characters, whitespace not counted.
func CountChars(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// Parse reads and validates a policy document. Its refusals are
// *model.Error values with IAM's code (MalformedPolicyDocument, or
// LimitExceeded for size) and IAM's messages.
func Parse(doc string, opts ParseOptions) (*Policy, error) {
	if opts.MaxChars > 0 && CountChars(doc) > opts.MaxChars {
		return nil, &model.Error{Code: CodeLimitExceeded, Message: fmt.Sprintf(msgPolicySize, opts.MaxChars), Status: http.StatusConflict}
	}
	top, ok := object([]byte(doc))
	if !ok {
		return nil, malformed(msgSyntax)
	}
	for k := range top {
		switch k {
		case "Version", "Id", "Statement":
		default:
			return nil, malformed(msgSyntax)
		}
	}
	p := &Policy{}
	if raw, ok := top["Version"]; ok {
		if !text(raw, &p.Version) {
			return nil, malformed(msgSyntax)
		}
		if p.Version != Version2012 && p.Version != Version2008 {
			return nil, malformed(msgLegacyParsing)
		}
	}
	if raw, ok := top["Id"]; ok && !text(raw, &p.ID) {
		return nil, malformed(msgSyntax)
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, malformed(msgMissingField, "Statement")
	}
	var items []json.RawMessage
	switch firstByte(raw) {
	case '{':
		items = []json.RawMessage{raw}
	case '[':
		if json.Unmarshal(raw, &items) != nil {
			return nil, malformed(msgSyntax)
		}
	default:
		return nil, malformed(msgSyntax)
	}
	sids := map[string]bool{}
	for _, item := range items {
		s, err := parseStatement(item, opts.Kind)
		if err != nil {
			return nil, err
		}
		if s.Sid != "" {
			if sids[s.Sid] {
				return nil, malformed(msgSidUnique)
			}
			sids[s.Sid] = true
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

var sidPattern = regexp.MustCompile(`^[0-9A-Za-z]*$`)

func parseStatement(raw json.RawMessage, kind Kind) (Statement, error) {
	var s Statement
	m, ok := object(raw)
	if !ok {
		return s, malformed(msgSyntax)
	}
	for k := range m {
		switch k {
		case "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition":
		default:
			return s, malformed(msgSyntax)
		}
	}
	if raw, ok := m["Sid"]; ok {
		if !text(raw, &s.Sid) {
			return s, malformed(msgSyntax)
		}
		if kind == KindIdentity && !sidPattern.MatchString(s.Sid) {
			return s, malformed(msgSidAlnum)
		}
	}
	raw, ok = m["Effect"]
	if !ok {
		return s, malformed(msgMissingField, "Effect")
	}
	var effect string
	if !text(raw, &effect) {
		return s, malformed(msgSyntax)
	}
	if s.Effect = Effect(effect); s.Effect != EffectAllow && s.Effect != EffectDeny {
		return s, malformed(msgLegacyParsing)
	}
	if err := parsePrincipalElements(m, kind, &s); err != nil {
		return s, err
	}
	if err := parseActions(m, &s); err != nil {
		return s, err
	}
	if err := parseResources(m, kind, &s); err != nil {
		return s, err
	}
	if raw, ok := m["Condition"]; ok {
		conds, err := parseConditions(raw)
		if err != nil {
			return s, err
		}
		s.Conditions = conds
	}
	return s, nil
}

func parsePrincipalElements(m map[string]json.RawMessage, kind Kind, s *Statement) error {
	p, hasP := m["Principal"]
	np, hasNP := m["NotPrincipal"]
	switch {
	case hasP && hasNP:
		return malformed(msgSyntax)
	case kind == KindIdentity && (hasP || hasNP):
		return malformed(msgNoPrincipal)
	case kind != KindIdentity && !hasP && !hasNP:
		return malformed(msgMissingField, "Principal")
	case hasP:
		v, err := parsePrincipals(p)
		s.Principal = v
		return err
	case hasNP:
		v, err := parsePrincipals(np)
		s.NotPrincipal = v
		return err
	}
	return nil
}

// parsePrincipals reads "*" or {"AWS"|"Service"|"Federated"|"CanonicalUser": id or [ids]}.
func parsePrincipals(raw json.RawMessage) (*Principals, error) {
	var star string
	if text(raw, &star) {
		if star != "*" {
			return nil, malformed(msgPrincipal, string(raw))
		}
		return &Principals{Any: true}, nil
	}
	m, ok := object(raw)
	if !ok || len(m) == 0 {
		return nil, malformed(msgSyntax)
	}
	p := &Principals{}
	for _, typ := range sortedKeys(m) {
		ids, ok := stringList(m[typ])
		if !ok || len(ids) == 0 {
			return nil, malformed(msgSyntax)
		}
		for _, id := range ids {
			if !validPrincipal(typ, id) {
				return nil, malformed(msgPrincipal, fmt.Sprintf("%q:%q", typ, id))
			}
		}
		switch typ {
		case "AWS":
			for _, id := range ids {
				if id == "*" {
					p.Any = true
				}
			}
			p.AWS = ids
		case "Service":
			p.Service = ids
		case "Federated":
			p.Federated = ids
		case "CanonicalUser":
			p.CanonicalUser = ids
		}
	}
	return p, nil
}

// validPrincipal: an AWS principal is "*", an account id, or an IAM or STS
// ARN without wildcards; the other types name something without wildcards.
func validPrincipal(typ, id string) bool {
	switch typ {
	case "AWS":
		if id == "*" || accountID.MatchString(id) {
			return true
		}
		parts := strings.SplitN(id, ":", 6)
		return len(parts) == 6 && parts[0] == "arn" && (parts[2] == "iam" || parts[2] == "sts") &&
			!strings.ContainsAny(id, "*?")
	case "Service", "Federated", "CanonicalUser":
		return id != "" && !strings.ContainsAny(id, "*?")
	}
	return false
}

func parseActions(m map[string]json.RawMessage, s *Statement) error {
	a, hasA := m["Action"]
	na, hasNA := m["NotAction"]
	var raw json.RawMessage
	var dst *[]string
	switch {
	case hasA && hasNA:
		return malformed(msgSyntax)
	case hasA:
		raw, dst = a, &s.Action
	case hasNA:
		raw, dst = na, &s.NotAction
	default:
		return malformed(msgNoActions)
	}
	list, ok := stringList(raw)
	if !ok {
		return malformed(msgSyntax)
	}
	if len(list) == 0 {
		return malformed(msgNoActions)
	}
	for _, action := range list {
		if action == "*" {
			continue
		}
		vendor, _, found := strings.Cut(action, ":")
		switch {
		case !found || vendor == "":
			return malformed(msgVendor)
		case strings.Count(action, ":") > 1:
			return malformed(msgOneColon)
		case strings.ContainsAny(vendor, "*?"):
			return malformed(msgVendorWildcard)
		}
	}
	*dst = list
	return nil
}

func parseResources(m map[string]json.RawMessage, kind Kind, s *Statement) error {
	r, hasR := m["Resource"]
	nr, hasNR := m["NotResource"]
	var raw json.RawMessage
	var dst *[]string
	switch {
	case hasR && hasNR:
		return malformed(msgSyntax)
	case kind == KindTrust && hasR:
		return malformed(msgProhibitedField, "Resource")
	case kind == KindTrust && hasNR:
		return malformed(msgProhibitedField, "NotResource")
	case hasR:
		raw, dst = r, &s.Resource
	case hasNR:
		raw, dst = nr, &s.NotResource
	case kind == KindIdentity:
		return malformed(msgNoResources)
	default:
		return nil
	}
	list, ok := stringList(raw)
	if !ok {
		return malformed(msgSyntax)
	}
	if len(list) == 0 {
		return malformed(msgNoResources)
	}
	for _, res := range list {
		if res != "*" && !strings.HasPrefix(res, "arn:") {
			return malformed(msgResourceFormat, res)
		}
	}
	*dst = list
	return nil
}

// parseConditions reads {operator: {key: value or [values]}}, in a stable
// order (operators, then keys, sorted) so that the first refusal is always
// the same one.
func parseConditions(raw json.RawMessage) ([]Condition, error) {
	ops, ok := object(raw)
	if !ok {
		return nil, malformed(msgSyntax)
	}
	var out []Condition
	for _, name := range sortedKeys(ops) {
		op, ok := parseOperator(name)
		if !ok {
			return nil, malformed(msgSyntax)
		}
		keys, ok := object(ops[name])
		if !ok {
			return nil, malformed(msgSyntax)
		}
		for _, key := range sortedKeys(keys) {
			if vendor, _, found := strings.Cut(key, ":"); !found || vendor == "" {
				return nil, malformed(msgVendor)
			}
			values, ok := conditionValues(keys[key])
			if !ok {
				return nil, malformed(msgSyntax)
			}
			out = append(out, Condition{Operator: name, Key: key, Values: values, op: op})
		}
	}
	return out, nil
}

// conditionValues reads a string, number or boolean, or an array of them.
func conditionValues(raw json.RawMessage) ([]string, bool) {
	var v any
	if decodeOne(raw, &v) != nil {
		return nil, false
	}
	list, isList := v.([]any)
	if !isList {
		list = []any{v}
	}
	out := make([]string, 0, len(list))
	for _, item := range list {
		switch x := item.(type) {
		case string:
			out = append(out, x)
		case json.Number:
			out = append(out, x.String())
		case bool:
			out = append(out, fmt.Sprint(x))
		default:
			return nil, false
		}
	}
	return out, true
}

// stringList reads a string or an array of strings.
func stringList(raw json.RawMessage) ([]string, bool) {
	var one string
	if text(raw, &one) {
		return []string{one}, true
	}
	var list []string
	if firstByte(raw) != '[' || json.Unmarshal(raw, &list) != nil {
		return nil, false
	}
	return list, true
}

// object reads a JSON object whole (nothing may follow it).
func object(raw []byte) (map[string]json.RawMessage, bool) {
	if firstByte(raw) != '{' {
		return nil, false
	}
	var m map[string]json.RawMessage
	if decodeOne(raw, &m) != nil {
		return nil, false
	}
	return m, true
}

func text(raw json.RawMessage, dst *string) bool {
	return firstByte(raw) == '"' && json.Unmarshal(raw, dst) == nil
}

func firstByte(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// decodeOne decodes exactly one JSON value, numbers kept as text.
func decodeOne(raw []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data")
	}
	return nil
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
