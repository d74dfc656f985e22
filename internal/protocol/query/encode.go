package query

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TimeFormat is how answers write timestamps: ISO 8601 in UTC, as IAM does
// ("2013-05-08T23:34:01Z"); a time with a fraction of a second keeps its
// milliseconds, as ELBv2 does ("2016-03-25T21:26:12.920Z").
const TimeFormat = "2006-01-02T15:04:05Z"

const timeFormatMillis = "2006-01-02T15:04:05.000Z"

// Encode writes the answer to an action:
//
//	<ActionResponse xmlns="NAMESPACE">
//	  <ActionResult>...result...</ActionResult>
//	  <ResponseMetadata><RequestId>ID</RequestId></ResponseMetadata>
//	</ActionResponse>
//
// A nil result writes no ActionResult (DeleteUser's answer); a nil pointer to
// a struct writes an empty one. The result is a
// struct (or a pointer to one) whose exported fields become elements named
// by their `xml` tag or else the field's name; the tag's omitempty leaves out
// zero values, "-" a field. A nil pointer is left out. An embedded struct
// without a tag has its fields inlined.
//
// Lists are wrapped as IAM wraps them, each item a <member>:
// <Users><member>...</member></Users> (a tag "Users>item" names the items
// instead, and a "flattened" option repeats <Users> once per item with no
// wrapper). Maps are <Name><entry><key>k</key><value>v</value></entry></Name>,
// in the order of their keys. Times are TimeFormat, []byte is base64, and
// booleans are true and false.
func Encode(w io.Writer, action, namespace, requestID string, result any) error {
	var b bytes.Buffer
	b.WriteString(`<` + action + `Response xmlns="`)
	escape(&b, namespace)
	b.WriteString(`">`)
	if result != nil {
		v := reflect.ValueOf(result)
		for (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && !v.IsNil() {
			v = v.Elem()
		}
		switch {
		case v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct:
			// A typed nil: the operation has a result, an empty one.
			b.WriteString("<" + action + "Result></" + action + "Result>")
		case v.Kind() != reflect.Struct:
			return fmt.Errorf("query: the result of %s is a %s, not a struct", action, v.Type())
		default:
			if err := encodeValue(&b, action+"Result", v, fieldOpts{}, 0); err != nil {
				return fmt.Errorf("query: encode %sResult: %w", action, err)
			}
		}
	}
	b.WriteString(`<ResponseMetadata><RequestId>`)
	escape(&b, requestID)
	b.WriteString(`</RequestId></ResponseMetadata></` + action + `Response>`)
	_, err := w.Write(b.Bytes())
	return err
}

// WriteError answers with an error as AWS's Query services do: Type Sender
// for a 4xx status and Receiver for a 5xx one. The SDKs read Code (the name
// they map to a typed error) and Message.
func WriteError(w http.ResponseWriter, namespace, requestID string, err APIError) {
	status := err.HTTPStatus()
	kind := "Sender"
	if status >= 500 {
		kind = "Receiver"
	}
	var b bytes.Buffer
	b.WriteString(`<ErrorResponse`)
	if namespace != "" {
		b.WriteString(` xmlns="`)
		escape(&b, namespace)
		b.WriteString(`"`)
	}
	b.WriteString(`><Error><Type>` + kind + `</Type><Code>`)
	escape(&b, err.ErrorCode())
	b.WriteString(`</Code><Message>`)
	escape(&b, err.ErrorMessage())
	b.WriteString(`</Message></Error><RequestId>`)
	escape(&b, requestID)
	b.WriteString(`</RequestId></ErrorResponse>`)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func escape(b *bytes.Buffer, s string) {
	xml.EscapeText(b, []byte(s))
}

// fieldOpts are the options of a field's xml tag that Encode reads.
type fieldOpts struct {
	omitempty bool
	flattened bool
	// item names list items (member unless the tag says "Name>item").
	item string
}

// maxDepth bounds the walk of a value; shapes are shallow, and a cycle
// through pointers would otherwise never end.
const maxDepth = 32

var timeType = reflect.TypeFor[time.Time]()

func encodeValue(b *bytes.Buffer, name string, v reflect.Value, opts fieldOpts, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%s: nested deeper than %d", name, maxDepth)
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch {
	case v.Type() == timeType:
		t := v.Interface().(time.Time).UTC()
		format := TimeFormat
		if t.Nanosecond() != 0 {
			format = timeFormatMillis
		}
		writeText(b, name, t.Format(format))
		return nil
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		writeText(b, name, base64.StdEncoding.EncodeToString(v.Bytes()))
		return nil
	}
	switch v.Kind() {
	case reflect.Struct:
		b.WriteString("<" + name + ">")
		if err := encodeFields(b, v, depth); err != nil {
			return err
		}
		b.WriteString("</" + name + ">")
	case reflect.Slice, reflect.Array:
		item := opts.item
		if item == "" {
			item = "member"
		}
		if opts.flattened {
			item = name
		} else {
			b.WriteString("<" + name + ">")
		}
		for i := range v.Len() {
			if err := encodeValue(b, item, v.Index(i), fieldOpts{}, depth+1); err != nil {
				return err
			}
		}
		if !opts.flattened {
			b.WriteString("</" + name + ">")
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("%s: map keys must be strings, not %s", name, v.Type().Key())
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		entry := "entry"
		if opts.flattened {
			entry = name
		} else {
			b.WriteString("<" + name + ">")
		}
		for _, k := range keys {
			b.WriteString("<" + entry + ">")
			writeText(b, "key", k.String())
			if err := encodeValue(b, "value", v.MapIndex(k), fieldOpts{}, depth+1); err != nil {
				return err
			}
			b.WriteString("</" + entry + ">")
		}
		if !opts.flattened {
			b.WriteString("</" + name + ">")
		}
	case reflect.String:
		writeText(b, name, v.String())
	case reflect.Bool:
		writeText(b, name, strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		writeText(b, name, strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		writeText(b, name, strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		writeText(b, name, strconv.FormatFloat(v.Float(), 'g', -1, v.Type().Bits()))
	default:
		return fmt.Errorf("%s: a %s cannot be written in a Query answer", name, v.Type())
	}
	return nil
}

// encodeFields writes a struct's fields in their order.
func encodeFields(b *bytes.Buffer, v reflect.Value, depth int) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag, hasTag := f.Tag.Lookup("xml")
		if f.Anonymous && !hasTag {
			fv := v.Field(i)
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				fv = fv.Elem()
			}
			if fv.Kind() == reflect.Struct {
				if err := encodeFields(b, fv, depth+1); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, rest, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		var opts fieldOpts
		for _, o := range strings.Split(rest, ",") {
			switch o {
			case "omitempty":
				opts.omitempty = true
			case "flattened":
				opts.flattened = true
			}
		}
		fv := v.Field(i)
		if opts.omitempty && isEmpty(fv) {
			continue
		}
		if parent, item, ok := strings.Cut(name, ">"); ok {
			name, opts.item = parent, item
		}
		if err := encodeValue(b, name, fv, opts, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// isEmpty says whether omitempty leaves a value out: false, 0, "", an empty
// list or map, a nil pointer, a zero time.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map, reflect.String, reflect.Array:
		return v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Struct:
		return v.Type() == timeType && v.Interface().(time.Time).IsZero()
	}
	return v.IsZero()
}

func writeText(b *bytes.Buffer, name, text string) {
	b.WriteString("<" + name + ">")
	escape(b, text)
	b.WriteString("</" + name + ">")
}
