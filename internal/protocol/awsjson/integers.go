package awsjson

import (
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/flotta-dev/flotta/internal/model"
)

// Integer members.
//
// AWS models two integer types: Integer (32 bits, int32 in the SDKs) and Long
// (64 bits). Go's encoding/json happily decodes 1099511627776 into an int, and
// a server that stored it would hand the SDK a value it cannot read back
// ("int 1099511627776 exceeds range"), breaking every later Describe of the
// resource. So the input shapes of this package follow one convention: a Go
// int (or int8/16/32, uint...) member is an AWS Integer and must fit in 32
// bits; a Go int64 member is an AWS Long. checkIntegers enforces it once, at
// the edge, for every operation, so no handler can forget it.

// checkIntegers reports the first Integer member of v (a decoded input) whose
// value does not fit in 32 bits, as a SerializationException naming it.
func checkIntegers(v any) error {
	path, n, ok := findWideInt(reflect.ValueOf(v), "", 0)
	if ok {
		return nil
	}
	return &model.Error{Code: "SerializationException", Status: http.StatusBadRequest,
		Message: fmt.Sprintf("Member '%s' must be an integer from %d to %d; %s is out of range.", path, math.MinInt32, math.MaxInt32, n)}
}

// maxDepth bounds the walk; input shapes are shallow and never recursive.
const maxDepth = 32

// findWideInt walks v and returns ok=false with the member path and value of
// the first int that does not fit in an int32.
func findWideInt(v reflect.Value, path string, depth int) (string, string, bool) {
	if depth > maxDepth {
		return "", "", true
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "", "", true
		}
		return findWideInt(v.Elem(), path, depth+1)
	case reflect.Int, reflect.Uint, reflect.Uint32:
		// int64 is a Long and is not checked; int32 and narrower cannot
		// overflow (json refuses such values itself).
		if v.CanInt() {
			if n := v.Int(); n < math.MinInt32 || n > math.MaxInt32 {
				return orTop(path), strconv.FormatInt(n, 10), false
			}
		} else if n := v.Uint(); n > math.MaxInt32 {
			return orTop(path), strconv.FormatUint(n, 10), false
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() && !f.Anonymous {
				continue // (an embedded struct's members are decoded even when its type is unexported)
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			child := path
			if !f.Anonymous || name != "" {
				if name == "" {
					name = f.Name
				}
				child = join(path, name)
			}
			if p, n, ok := findWideInt(v.Field(i), child, depth+1); !ok {
				return p, n, false
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "", "", true // raw JSON or bytes
		}
		for i := 0; i < v.Len(); i++ {
			if p, n, ok := findWideInt(v.Index(i), path, depth+1); !ok {
				return p, n, false
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if p, n, ok := findWideInt(it.Value(), path, depth+1); !ok {
				return p, n, false
			}
		}
	}
	return "", "", true
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func orTop(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}
