package query

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
)

// Decode reads a request's parameters into v, a pointer to a struct.
//
// A field's parameter is named by its `query` tag or else its Go name;
// "-" skips it. A nested struct's members are Parent.Child. A list is wrapped
// as IAM's are (Users.member.1, Users.member.2, ...; Tags.member.1.Key for a
// list of structs), or flattened (Name.1, Name.2) when the tag says
// `query:"Name,flattened"`; items are taken in the order of their numbers,
// and the SDKs' empty-list marker (Name= with no items) is an empty list. A
// map is Name.entry.N.key and Name.entry.N.value (flattened: Name.N.key);
// tag options key=K and value=V rename the two (SQS's Attribute.N.Name), and
// the option "members" reads a map from IAM's list of tags
// (Tags.member.N.Key and Tags.member.N.Value). An embedded struct without a
// tag has its fields inlined. Unknown parameters are ignored, as AWS does,
// so that newer SDKs keep working.
//
// Scalars: strings as sent; bools true or false (in any case); integers in
// base 10, where a Go int, int32 or uint is an AWS Integer and must fit in 32
// bits and an int64 is an AWS Long (the rule package awsjson keeps too);
// floats; time.Time in ISO 8601 (RFC 3339, "2006-01-02T15:04:05Z", with or
// without a fraction), kept in UTC; []byte in base64. A pointer is set only
// when its parameter is present.
//
// A malformed value is a ValidationError (400), the code IAM, STS and ELBv2
// use for input that breaks their constraints (their SDKs model no
// narrower one), in Coral's words: "1 validation error detected: Value 'x' at
// 'maxItems' failed to satisfy constraint: Member must be an integer".
func Decode(values url.Values, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("query: Decode needs a pointer to a struct, not %T", v)
	}
	root := buildTree(values)
	return decodeStruct(root, rv.Elem(), "", 0)
}

// node is one dot-separated step of parameter names: Tags.member.1.Key is
// root → Tags → member → 1 → Key. Decoding walks the tree along the shape,
// so each parameter is looked at once however many fields there are.
type node struct {
	value    string
	hasValue bool
	children map[string]*node
}

func buildTree(values url.Values) *node {
	root := &node{}
	for key, vs := range values {
		n := root
		for part := range strings.SplitSeq(key, ".") {
			child := n.children[part]
			if child == nil {
				if n.children == nil {
					n.children = map[string]*node{}
				}
				child = &node{}
				n.children[part] = child
			}
			n = child
		}
		if len(vs) > 0 {
			n.value, n.hasValue = vs[0], true
		}
	}
	return root
}

// numbered returns a node's children whose names are positive numbers (the
// items of a list or map), in the order of those numbers. Other children are
// unknown parameters, ignored.
func (n *node) numbered() []indexed {
	var items []indexed
	for name, child := range n.children {
		if i, err := strconv.Atoi(name); err == nil && i > 0 && name[0] != '+' {
			items = append(items, indexed{i, name, child})
		}
	}
	slices.SortFunc(items, func(a, b indexed) int { return a.index - b.index })
	return items
}

type indexed struct {
	index int
	name  string
	node  *node
}

// tagOpts are the options of a field's query tag.
type tagOpts struct {
	flattened bool
	members   bool   // a map sent as a list of Key/Value members
	key       string // a map entry's key name
	value     string // a map entry's value name
}

func parseTag(tag string) (name string, opts tagOpts) {
	name, rest, _ := strings.Cut(tag, ",")
	for _, o := range strings.Split(rest, ",") {
		switch {
		case o == "flattened":
			opts.flattened = true
		case o == "members":
			opts.members = true
		case strings.HasPrefix(o, "key="):
			opts.key = o[len("key="):]
		case strings.HasPrefix(o, "value="):
			opts.value = o[len("value="):]
		}
	}
	return name, opts
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func decodeStruct(n *node, v reflect.Value, path string, depth int) error {
	if depth > maxDepth {
		return nil
	}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag, hasTag := f.Tag.Lookup("query")
		if f.Anonymous && !hasTag {
			fv := v.Field(i)
			if fv.Kind() == reflect.Pointer && fv.Type().Elem().Kind() == reflect.Struct && f.IsExported() {
				if fv.IsNil() {
					fv.Set(reflect.New(fv.Type().Elem()))
				}
				fv = fv.Elem()
			}
			if fv.Kind() == reflect.Struct {
				if err := decodeStruct(n, fv, path, depth+1); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, opts := parseTag(tag)
		if name == "" {
			name = f.Name
		}
		child := n.children[name]
		if child == nil {
			continue
		}
		if err := decodeValue(child, v.Field(i), join(path, name), opts, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// decodeValue sets v from the parameters under n, whose name is path.
func decodeValue(n *node, v reflect.Value, path string, opts tagOpts, depth int) error {
	if depth > maxDepth {
		return nil
	}
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		if !present(n, t.Elem()) {
			return nil
		}
		elem := reflect.New(t.Elem())
		if err := decodeValue(n, elem.Elem(), path, opts, depth+1); err != nil {
			return err
		}
		v.Set(elem)
		return nil
	}
	switch {
	case t == timeType:
		if !n.hasValue {
			return nil
		}
		tm, err := time.Parse(time.RFC3339Nano, n.value)
		if err != nil {
			return invalid(path, n.value, "Member must be an ISO 8601 timestamp such as 2006-01-02T15:04:05Z")
		}
		v.Set(reflect.ValueOf(tm.UTC()))
		return nil
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		if !n.hasValue {
			return nil
		}
		b, err := decodeBase64(n.value)
		if err != nil {
			return invalid(path, n.value, "Member must be base64-encoded")
		}
		v.SetBytes(b)
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		return decodeStruct(n, v, path, depth)
	case reflect.Slice:
		return decodeList(n, v, path, opts, depth)
	case reflect.Map:
		return decodeMap(n, v, path, opts, depth)
	}
	if !n.hasValue {
		return nil
	}
	s := n.value
	switch t.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		switch {
		case strings.EqualFold(s, "true"):
			v.SetBool(true)
		case strings.EqualFold(s, "false"):
			v.SetBool(false)
		default:
			return invalid(path, s, "Member must be true or false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		if t.Kind() == reflect.Int {
			bits = 32
		}
		i, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return badInteger(path, s, err, -1<<(bits-1), 1<<(bits-1)-1)
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		bits := t.Bits()
		if t.Kind() == reflect.Uint {
			bits = 31 // an AWS Integer that may not be negative
		}
		u, err := strconv.ParseUint(s, 10, bits)
		if err != nil {
			return badUnsigned(path, s, err, bits)
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, t.Bits())
		if err != nil {
			return invalid(path, s, "Member must be a number")
		}
		v.SetFloat(f)
	default:
		return fmt.Errorf("query: %s: a %s cannot be read from a Query request", path, t)
	}
	return nil
}

// present says whether a pointer to t has anything to point to: a scalar's
// value, or any parameter under a struct, list or map.
func present(n *node, t reflect.Type) bool {
	switch {
	case t == timeType:
		return n.hasValue
	case t.Kind() == reflect.Struct, t.Kind() == reflect.Map:
		return true
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		return true
	}
	return n.hasValue
}

// decodeList reads Name.member.N (or Name.N when flattened) into a slice.
// The list's node present at all (Name= is the SDKs' empty list) makes the
// slice non-nil.
func decodeList(n *node, v reflect.Value, path string, opts tagOpts, depth int) error {
	items := n
	itemPath := path
	if !opts.flattened {
		items = n.children["member"]
		itemPath = join(path, "member")
	}
	list := reflect.MakeSlice(v.Type(), 0, 0)
	if items != nil {
		for _, it := range items.numbered() {
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := decodeValue(it.node, elem, join(itemPath, it.name), tagOpts{}, depth+1); err != nil {
				return err
			}
			list = reflect.Append(list, elem)
		}
	}
	v.Set(list)
	return nil
}

// decodeMap reads Name.entry.N.key and .value (Name.N.key when flattened,
// Name.member.N.Key for a map sent as IAM's tags) into a map with string keys.
// An entry without a key, or a key twice, is refused: either would lose
// what the caller asked for.
func decodeMap(n *node, v reflect.Value, path string, opts tagOpts, depth int) error {
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		return fmt.Errorf("query: %s: map keys must be strings, not %s", path, t.Key())
	}
	keyName, valueName, wrapper := "key", "value", "entry"
	if opts.members {
		keyName, valueName, wrapper = "Key", "Value", "member"
	}
	if opts.key != "" {
		keyName = opts.key
	}
	if opts.value != "" {
		valueName = opts.value
	}
	entries := n
	entryPath := path
	if !opts.flattened {
		entries = n.children[wrapper]
		entryPath = join(path, wrapper)
	}
	m := reflect.MakeMap(t)
	if entries != nil {
		for _, e := range entries.numbered() {
			at := join(entryPath, e.name)
			k := e.node.children[keyName]
			if k == nil || !k.hasValue {
				return invalid(join(at, keyName), "null", "Member must not be null")
			}
			key := reflect.New(t.Key()).Elem()
			key.SetString(k.value)
			if m.MapIndex(key).IsValid() {
				return invalid(join(at, keyName), k.value, "Keys must be unique")
			}
			val := reflect.New(t.Elem()).Elem()
			if vn := e.node.children[valueName]; vn != nil {
				if err := decodeValue(vn, val, join(at, valueName), tagOpts{}, depth+1); err != nil {
					return err
				}
			}
			m.SetMapIndex(key, val)
		}
	}
	v.Set(m)
	return nil
}

// invalid is a ValidationError about one parameter, in AWS's words. The
// parameter is named as AWS's validators name members, each step's first
// letter in lower case ('tags.member.1.key').
func invalid(path, value, constraint string) *model.Error {
	return &model.Error{Code: "ValidationError", Status: http.StatusBadRequest,
		Message: fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s",
			model.Truncate(value, 64), memberPath(path), constraint)}
}

func memberPath(path string) string {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToLower(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, ".")
}

func badInteger(path, s string, err error, lo, hi int64) *model.Error {
	if isRange(err) {
		return invalid(path, s, fmt.Sprintf("Member must be an integer from %d to %d", lo, hi))
	}
	return invalid(path, s, "Member must be an integer")
}

func badUnsigned(path, s string, err error, bits int) *model.Error {
	if isRange(err) || strings.HasPrefix(s, "-") {
		return invalid(path, s, fmt.Sprintf("Member must be an integer from 0 to %d", uint64(math.MaxUint64)>>(64-bits)))
	}
	return invalid(path, s, "Member must be an integer")
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// decodeBase64 reads a blob: standard base64, padded as the SDKs send it.
func decodeBase64(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(s)
}
