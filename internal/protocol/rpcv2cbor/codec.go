package rpcv2cbor

import (
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/flotta-dev/flotta/internal/model"
)

// The mapping between CBOR and Go values, both ways, by reflection over
// plain Go types:
//
//	Smithy shape        CBOR                         Go
//	structure           map, member name as key      struct; a field's key is its
//	                                                 `cbor:"Name"` tag, else its Go name
//	string, enum        text string                  string (or a named string type)
//	boolean             true/false                   bool
//	integer             uint / negint, 32 bits       int, int32 (int is 32 bits, as in awsjson)
//	long                uint / negint                int64
//	double, float       float (or an integer)        float64, float32
//	timestamp           tag 1, epoch seconds         time.Time
//	blob                byte string                  []byte
//	list                array                        slice
//	map                 map                          map[string]T
//
// A pointer field is nil when its member is absent or CBOR null, so that a
// handler can tell "absent" from "zero". Members the struct does not know
// are ignored (newer SDKs send members an older server does not know). When
// encoding, nil pointers, slices, maps and interfaces are left out, and so
// are zero values of fields tagged `cbor:",omitempty"`; a field tagged
// `cbor:"-"` is never encoded or decoded.

var (
	timeType  = reflect.TypeOf(time.Time{})
	bytesType = reflect.TypeOf([]byte(nil))
)

// Unmarshal decodes a CBOR request body (a map of the input's members) into
// v, a pointer to a struct. An empty body is an empty input. Malformed CBOR
// and members of the wrong type are a SerializationException (400) that
// names the member.
func Unmarshal(body []byte, v any) error {
	in, err := decodeInput(body)
	if err != nil {
		return err
	}
	return in.Decode(v)
}

// decodeInput parses a request body into its members.
func decodeInput(body []byte) (*Input, error) {
	if len(body) == 0 {
		return &Input{}, nil
	}
	val, err := cbor.Decode(body)
	if err != nil {
		return nil, serializationError("The request body is not valid CBOR: %v.", err)
	}
	m, ok := val.(cbor.Map)
	if !ok {
		return nil, serializationError("The request body must be a CBOR map of the input's members, not %s.", describeValue(val))
	}
	return &Input{members: m}, nil
}

// Input is an operation's input as decoded from the wire: a map of its
// members, not yet bound to a Go type.
type Input struct {
	members cbor.Map
}

// Has says whether the input has a member (not null) of this name.
func (in *Input) Has(member string) bool {
	if in == nil {
		return false
	}
	v, ok := in.members[member]
	return ok && !isNil(v)
}

// Decode binds the input to v, a pointer to a struct (see the package's
// mapping table). A member of the wrong type is a SerializationException.
func (in *Input) Decode(v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("rpcv2cbor: Decode needs a pointer to a struct, not %T", v)
	}
	var m cbor.Map
	if in != nil {
		m = in.members
	}
	return decodeStruct(m, rv.Elem(), "")
}

func serializationError(format string, args ...any) *model.Error {
	return &model.Error{Code: "SerializationException", Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

func isNil(v cbor.Value) bool {
	switch v.(type) {
	case nil, *cbor.Nil, *cbor.Undefined:
		return true
	}
	return false
}

// field is one struct field's wire name and options.
type field struct {
	index     int
	name      string
	omitempty bool
}

func fieldsOf(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, opts := sf.Name, ""
		if tag, ok := sf.Tag.Lookup("cbor"); ok {
			if tag == "-" {
				continue
			}
			n, o, _ := strings.Cut(tag, ",")
			if n != "" {
				name = n
			}
			opts = o
		}
		out = append(out, field{index: i, name: name, omitempty: opts == "omitempty"})
	}
	return out
}

func memberPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func decodeStruct(m cbor.Map, rv reflect.Value, path string) error {
	for _, f := range fieldsOf(rv.Type()) {
		val, ok := m[f.name]
		if !ok || isNil(val) {
			continue
		}
		if err := decodeValue(val, rv.Field(f.index), memberPath(path, f.name)); err != nil {
			return err
		}
	}
	return nil
}

func decodeValue(val cbor.Value, rv reflect.Value, path string) error {
	wrong := func(want string) error {
		return serializationError("Member '%s' must be %s, not %s.", path, want, describeValue(val))
	}
	t := rv.Type()
	switch {
	case t == timeType:
		tm, err := asTime(val)
		if err != nil {
			return wrong("a timestamp (CBOR tag 1, epoch seconds)")
		}
		rv.Set(reflect.ValueOf(tm))
		return nil
	case t == bytesType:
		s, ok := val.(cbor.Slice)
		if !ok {
			return wrong("a blob (a byte string)")
		}
		rv.SetBytes(append([]byte{}, s...))
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		if isNil(val) {
			return nil
		}
		p := reflect.New(t.Elem())
		if err := decodeValue(val, p.Elem(), path); err != nil {
			return err
		}
		rv.Set(p)
	case reflect.String:
		s, ok := val.(cbor.String)
		if !ok {
			return wrong("a string")
		}
		rv.SetString(string(s))
	case reflect.Bool:
		b, ok := val.(cbor.Bool)
		if !ok {
			return wrong("a boolean")
		}
		rv.SetBool(bool(b))
	case reflect.Int, reflect.Int32:
		n, err := cbor.AsInt32(val)
		if err != nil {
			return wrong("an integer of 32 bits")
		}
		rv.SetInt(int64(n))
	case reflect.Int64:
		n, err := cbor.AsInt64(val)
		if err != nil {
			return wrong("an integer of 64 bits")
		}
		rv.SetInt(n)
	case reflect.Float64, reflect.Float32:
		f, err := cbor.AsFloat64(val)
		if err != nil {
			return wrong("a number")
		}
		rv.SetFloat(f)
	case reflect.Slice:
		l, ok := val.(cbor.List)
		if !ok {
			return wrong("a list")
		}
		s := reflect.MakeSlice(t, len(l), len(l))
		for i, item := range l {
			if isNil(item) {
				continue
			}
			if err := decodeValue(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		rv.Set(s)
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return fmt.Errorf("rpcv2cbor: member %s: map keys must be strings, not %s", path, t.Key())
		}
		m, ok := val.(cbor.Map)
		if !ok {
			return wrong("a map")
		}
		out := reflect.MakeMapWithSize(t, len(m))
		for k, item := range m {
			if isNil(item) {
				continue
			}
			ev := reflect.New(t.Elem()).Elem()
			if err := decodeValue(item, ev, path+"."+k); err != nil {
				return err
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
		}
		rv.Set(out)
	case reflect.Struct:
		m, ok := val.(cbor.Map)
		if !ok {
			return wrong("a structure (a map)")
		}
		return decodeStruct(m, rv, path)
	default:
		return fmt.Errorf("rpcv2cbor: member %s: Go type %s has no CBOR mapping", path, t)
	}
	return nil
}

// asTime reads a timestamp: tag 1 around epoch seconds, an integer or a
// float (the SDKs send a float64 with milliseconds).
func asTime(val cbor.Value) (time.Time, error) {
	tag, ok := val.(*cbor.Tag)
	if !ok || tag.ID != 1 {
		return time.Time{}, fmt.Errorf("not a tag 1")
	}
	switch v := tag.Value.(type) {
	case cbor.Float64:
		return floatTime(float64(v))
	case cbor.Float32:
		return floatTime(float64(v))
	}
	secs, err := cbor.AsInt64(tag.Value)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(secs, 0).UTC(), nil
}

func floatTime(f float64) (time.Time, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return time.Time{}, fmt.Errorf("timestamp %v out of range", f)
	}
	// Milliseconds, rounded: the SDKs send float64(UnixMilli)/1000.
	return time.UnixMilli(int64(math.Round(f * 1e3))).UTC(), nil
}

func describeValue(v cbor.Value) string {
	switch v := v.(type) {
	case cbor.Uint, cbor.NegInt:
		return "an integer"
	case cbor.Float32, cbor.Float64:
		return "a float"
	case cbor.String:
		return "a text string"
	case cbor.Slice:
		return "a byte string"
	case cbor.List:
		return "a list"
	case cbor.Map:
		return "a map"
	case cbor.Bool:
		return "a boolean"
	case *cbor.Tag:
		return fmt.Sprintf("a value of tag %d", v.ID)
	case *cbor.Nil, *cbor.Undefined, nil:
		return "null"
	}
	return "another CBOR type"
}

// Marshal encodes v (a pointer to a struct, a struct or a map with string
// keys; nil is an empty structure) as the CBOR body of an answer.
func Marshal(v any) ([]byte, error) {
	if v == nil {
		return cbor.Encode(cbor.Map{}), nil
	}
	val, err := encodeValue(reflect.ValueOf(v), "")
	if err != nil {
		return nil, err
	}
	if val == nil {
		val = cbor.Map{}
	}
	if _, ok := val.(cbor.Map); !ok {
		return nil, fmt.Errorf("rpcv2cbor: an answer must be a structure, not %T", v)
	}
	return cbor.Encode(val), nil
}

// encodeValue is rv as CBOR; nil means "leave the member out".
func encodeValue(rv reflect.Value, path string) (cbor.Value, error) {
	t := rv.Type()
	switch {
	case t == timeType:
		return encodeTime(rv.Interface().(time.Time)), nil
	case t == bytesType:
		if rv.IsNil() {
			return nil, nil
		}
		return cbor.Slice(append([]byte{}, rv.Bytes()...)), nil
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		return encodeValue(rv.Elem(), path)
	case reflect.String:
		return cbor.String(rv.String()), nil
	case reflect.Bool:
		return cbor.Bool(rv.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return encodeInt(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return cbor.Uint(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return cbor.Float64(rv.Float()), nil
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && rv.IsNil() {
			return nil, nil
		}
		l := make(cbor.List, 0, rv.Len())
		for i := range rv.Len() {
			item, err := encodeValue(rv.Index(i), fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			if item == nil {
				item = &cbor.Nil{}
			}
			l = append(l, item)
		}
		return l, nil
	case reflect.Map:
		if rv.IsNil() {
			return nil, nil
		}
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("rpcv2cbor: member %s: map keys must be strings, not %s", path, t.Key())
		}
		m := make(cbor.Map, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			k := iter.Key().String()
			item, err := encodeValue(iter.Value(), path+"."+k)
			if err != nil {
				return nil, err
			}
			if item != nil {
				m[k] = item
			}
		}
		return m, nil
	case reflect.Struct:
		m := cbor.Map{}
		for _, f := range fieldsOf(t) {
			fv := rv.Field(f.index)
			if f.omitempty && fv.IsZero() {
				continue
			}
			item, err := encodeValue(fv, memberPath(path, f.name))
			if err != nil {
				return nil, err
			}
			if item != nil {
				m[f.name] = item
			}
		}
		return m, nil
	}
	return nil, fmt.Errorf("rpcv2cbor: member %s: Go type %s has no CBOR mapping", path, t)
}

func encodeInt(n int64) cbor.Value {
	if n >= 0 {
		return cbor.Uint(n)
	}
	// CBOR's negative integers are -1 minus the argument; the package's
	// NegInt holds the magnitude (-100 is NegInt(100)).
	return cbor.NegInt(uint64(-(n + 1)) + 1)
}

// encodeTime is a timestamp as the SDKs read it: tag 1 around epoch
// seconds, a whole number of seconds as an integer and otherwise a float64
// such that the SDK's reading (int64(f*1e3) milliseconds, truncated) gives
// back the exact millisecond. float64(ms)/1e3 already does for every
// millisecond tried (50 million around today); the nudge is a guard.
func encodeTime(t time.Time) cbor.Value {
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		return &cbor.Tag{ID: 1, Value: encodeInt(ms / 1000)}
	}
	f := float64(ms) / 1e3
	away := math.Inf(1) // int64() truncates toward zero
	if ms < 0 {
		away = math.Inf(-1)
	}
	for range 4 {
		if int64(f*1e3) == ms {
			break
		}
		f = math.Nextafter(f, away)
	}
	return &cbor.Tag{ID: 1, Value: cbor.Float64(f)}
}
