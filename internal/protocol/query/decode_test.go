package query

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flotta-dev/flotta/internal/model"
)

type tag struct {
	Key   string
	Value string
}

type inner struct {
	Name  string
	Count *int
	Deep  *inner
}

type paging struct {
	Marker   string
	MaxItems *int
}

type shapes struct {
	paging
	Name        string
	Renamed     string `query:"UserName"`
	Skipped     string `query:"-"`
	Count       int
	Big         int64
	Small       int8
	Unsigned    uint
	Ratio       float64
	Enabled     bool
	When        time.Time
	WhenPtr     *time.Time
	Opt         *string
	OptInt      *int
	OptBool     *bool
	Blob        []byte
	Inner       inner
	InnerPtr    *inner
	Names       []string
	Tags        []tag
	TagPtrs     []*tag
	Flat        []string          `query:"Flat,flattened"`
	Attrs       map[string]string `query:"Attributes"`
	FlatMap     map[string]string `query:"Attribute,flattened,key=Name,value=Value"`
	TagMap      map[string]string `query:"TagMap,members"`
	StructMap   map[string]inner  `query:"StructMap"`
	Lists       [][]string        `query:"Lists"`
	unexported  string
	PtrToList   *[]string           `query:"PtrToList"`
	ListsInMaps map[string][]string `query:"ListsInMaps"`
	MapsInLists []map[string]string `query:"MapsInLists"`
	IntMap      map[string]int      `query:"IntMap"`
}

func ptr[T any](v T) *T { return &v }

func mustParse(t *testing.T, s string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(s)
	if err != nil {
		t.Fatalf("bad test input %q: %v", s, err)
	}
	return v
}

func TestDecodeShapes(t *testing.T) {
	when := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	cases := []struct {
		name   string
		params string
		want   shapes
	}{
		{"nothing", "Action=X&Version=Y", shapes{}},
		{"strings by name and tag; - and unknown ignored",
			"Name=a%20b&UserName=bob&Skipped=no&Nope=1&unexported=x", shapes{Name: "a b", Renamed: "bob"}},
		{"empty string is a value", "Opt=", shapes{Opt: ptr("")}},
		{"integers", "Count=-2147483648&Big=9223372036854775807&Small=-128&Unsigned=2147483647",
			shapes{Count: -2147483648, Big: 9223372036854775807, Small: -128, Unsigned: 2147483647}},
		{"pointers set only when present", "OptInt=0&OptBool=false", shapes{OptInt: ptr(0), OptBool: ptr(false)}},
		{"float", "Ratio=0.25", shapes{Ratio: 0.25}},
		{"bools in any case", "Enabled=TRUE", shapes{Enabled: true}},
		{"time in UTC, with or without fraction or offset",
			"When=2024-05-06T07:08:09Z&WhenPtr=2024-05-06T09:08:09.5%2B02:00",
			shapes{When: when, WhenPtr: ptr(when.Add(500 * time.Millisecond))}},
		{"blob", "Blob=aGk%3D", shapes{Blob: []byte("hi")}},
		{"embedded struct inlined", "Marker=m1&MaxItems=10", shapes{paging: paging{Marker: "m1", MaxItems: ptr(10)}}},
		{"nested structs", "Inner.Name=i&Inner.Count=3&InnerPtr.Deep.Name=d",
			shapes{Inner: inner{Name: "i", Count: ptr(3)}, InnerPtr: &inner{Deep: &inner{Name: "d"}}}},
		{"wrapped list in index order, gaps closed",
			"Names.member.2=b&Names.member.1=a&Names.member.10=c&Names.member.x=ignored&Names.member.0=ignored&Names.member.-1=ignored&Names.member.%2B3=ignored",
			shapes{Names: []string{"a", "b", "c"}}},
		{"empty list marker", "Names=&Tags=", shapes{Names: []string{}, Tags: []tag{}}},
		{"list of structs (IAM tags)",
			"Tags.member.1.Key=k1&Tags.member.1.Value=v1&Tags.member.2.Key=k2&TagPtrs.member.1.Value=only",
			shapes{Tags: []tag{{"k1", "v1"}, {"k2", ""}}, TagPtrs: []*tag{{Value: "only"}}}},
		{"flattened list", "Flat.1=a&Flat.2=b&Flat.member.1=ignored", shapes{Flat: []string{"a", "b"}}},
		{"map", "Attributes.entry.1.key=a&Attributes.entry.1.value=1&Attributes.entry.2.key=b&Attributes.entry.2.value=2",
			shapes{Attrs: map[string]string{"a": "1", "b": "2"}}},
		{"map entry without value", "Attributes.entry.1.key=a", shapes{Attrs: map[string]string{"a": ""}}},
		{"flattened map with renamed key and value",
			"Attribute.1.Name=Policy&Attribute.1.Value=%7B%7D", shapes{FlatMap: map[string]string{"Policy": "{}"}}},
		{"map from IAM's tag members", "TagMap.member.1.Key=env&TagMap.member.1.Value=prod",
			shapes{TagMap: map[string]string{"env": "prod"}}},
		{"map of structs", "StructMap.entry.1.key=x&StructMap.entry.1.value.Name=n",
			shapes{StructMap: map[string]inner{"x": {Name: "n"}}}},
		{"list of lists", "Lists.member.1.member.1=a&Lists.member.1.member.2=b&Lists.member.2.member.1=c",
			shapes{Lists: [][]string{{"a", "b"}, {"c"}}}},
		{"pointer to list", "PtrToList.member.1=a", shapes{PtrToList: &[]string{"a"}}},
		{"list in map, map in list",
			"ListsInMaps.entry.1.key=k&ListsInMaps.entry.1.value.member.1=v&MapsInLists.member.1.entry.1.key=a&MapsInLists.member.1.entry.1.value=b",
			shapes{ListsInMaps: map[string][]string{"k": {"v"}}, MapsInLists: []map[string]string{{"a": "b"}}}},
		{"int map", "IntMap.entry.1.key=a&IntMap.entry.1.value=7", shapes{IntMap: map[string]int{"a": 7}}},
		{"first of a repeated parameter", "Name=first&Name=second", shapes{Name: "first"}},
		{"a value where a struct is expected is ignored", "Inner=x", shapes{}},
		{"a scalar under a list name is an empty list", "Names=x", shapes{Names: []string{}}},
		{"children of a scalar are ignored", "Name.member.1=x", shapes{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got shapes
			if err := Decode(mustParse(t, c.params), &got); err != nil {
				t.Fatalf("Decode(%s): %v", c.params, err)
			}
			if d := cmp.Diff(c.want, got, cmp.AllowUnexported(shapes{})); d != "" {
				t.Errorf("Decode(%s) (-want +got):\n%s", c.params, d)
			}
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	const prefix = "1 validation error detected: "
	cases := []struct {
		params string
		msg    string
	}{
		{"Count=abc", "Value 'abc' at 'count' failed to satisfy constraint: Member must be an integer"},
		{"Count=1.5", "Value '1.5' at 'count' failed to satisfy constraint: Member must be an integer"},
		{"Count=", "Value '' at 'count' failed to satisfy constraint: Member must be an integer"},
		{"Count=2147483648", "Value '2147483648' at 'count' failed to satisfy constraint: Member must be an integer from -2147483648 to 2147483647"},
		{"MaxItems=-2147483649", "Value '-2147483649' at 'maxItems' failed to satisfy constraint: Member must be an integer from -2147483648 to 2147483647"},
		{"Big=9223372036854775808", "Value '9223372036854775808' at 'big' failed to satisfy constraint: Member must be an integer from -9223372036854775808 to 9223372036854775807"},
		{"Small=128", "Value '128' at 'small' failed to satisfy constraint: Member must be an integer from -128 to 127"},
		{"Unsigned=-1", "Value '-1' at 'unsigned' failed to satisfy constraint: Member must be an integer from 0 to 2147483647"},
		{"Unsigned=2147483648", "Value '2147483648' at 'unsigned' failed to satisfy constraint: Member must be an integer from 0 to 2147483647"},
		{"Unsigned=x", "Value 'x' at 'unsigned' failed to satisfy constraint: Member must be an integer"},
		{"Ratio=lots", "Value 'lots' at 'ratio' failed to satisfy constraint: Member must be a number"},
		{"Enabled=yes", "Value 'yes' at 'enabled' failed to satisfy constraint: Member must be true or false"},
		{"Enabled=1", "Value '1' at 'enabled' failed to satisfy constraint: Member must be true or false"},
		{"When=2024-05-06", "Value '2024-05-06' at 'when' failed to satisfy constraint: Member must be an ISO 8601 timestamp such as 2006-01-02T15:04:05Z"},
		{"WhenPtr=1714979289", "Value '1714979289' at 'whenPtr' failed to satisfy constraint: Member must be an ISO 8601 timestamp such as 2006-01-02T15:04:05Z"},
		{"Blob=%21%21", "Value '!!' at 'blob' failed to satisfy constraint: Member must be base64-encoded"},
		{"Inner.Count=x", "Value 'x' at 'inner.count' failed to satisfy constraint: Member must be an integer"},
		{"InnerPtr.Deep.Count=x", "Value 'x' at 'innerPtr.deep.count' failed to satisfy constraint: Member must be an integer"},
		{"IntMap.entry.3.key=a&IntMap.entry.3.value=x", "Value 'x' at 'intMap.entry.3.value' failed to satisfy constraint: Member must be an integer"},
		{"MapsInLists.member.1.entry.1.value=v",
			"Value 'null' at 'mapsInLists.member.1.entry.1.key' failed to satisfy constraint: Member must not be null"},
		{"Attributes.entry.1.value=v", "Value 'null' at 'attributes.entry.1.key' failed to satisfy constraint: Member must not be null"},
		{"Attributes.entry.1.key=a&Attributes.entry.2.key=a", "Value 'a' at 'attributes.entry.2.key' failed to satisfy constraint: Keys must be unique"},
		{"TagMap.member.1.Key=a&TagMap.member.2.Key=a", "Value 'a' at 'tagMap.member.2.key' failed to satisfy constraint: Keys must be unique"},
		{"Attribute.1.Value=v", "Value 'null' at 'attribute.1.name' failed to satisfy constraint: Member must not be null"},
		{"Count=" + strings.Repeat("x", 100), "Value '" + strings.Repeat("x", 64) + "...' at 'count' failed to satisfy constraint: Member must be an integer"},
	}
	for _, c := range cases {
		t.Run(c.params, func(t *testing.T) {
			var got shapes
			err := Decode(mustParse(t, c.params), &got)
			var me *model.Error
			if !errors.As(err, &me) {
				t.Fatalf("Decode(%s) = %v, want a model.Error", c.params, err)
			}
			if me.Code != "ValidationError" || me.HTTPStatus() != 400 || me.Message != prefix+c.msg {
				t.Errorf("Decode(%s) = %s %d %q,\nwant ValidationError 400 %q", c.params, me.Code, me.HTTPStatus(), me.Message, prefix+c.msg)
			}
		})
	}
}

func TestDecodeRefusesWhatItCannotFill(t *testing.T) {
	var s shapes
	if err := Decode(url.Values{}, s); err == nil {
		t.Error("Decode into a struct value (not a pointer) succeeded")
	}
	var n int
	if err := Decode(url.Values{}, &n); err == nil {
		t.Error("Decode into a *int succeeded")
	}
	var bad struct{ M map[int]string }
	if err := Decode(mustParse(t, "M.entry.1.key=1"), &bad); err == nil {
		t.Error("Decode into a map with int keys succeeded")
	}
	var ch struct{ C chan int }
	if err := Decode(mustParse(t, "C=1"), &ch); err == nil {
		t.Error("Decode into a channel succeeded")
	}
}

// TestDecodeManyItems shows that a list's items are found once each: ten
// thousand of them decode quickly and in order.
func TestDecodeManyItems(t *testing.T) {
	v := url.Values{}
	for i := 1; i <= 10000; i++ {
		v.Set("Tags.member."+strconv.Itoa(i)+".Key", "k"+strconv.Itoa(i))
	}
	var got shapes
	start := time.Now()
	if err := Decode(v, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Tags) != 10000 || got.Tags[0].Key != "k1" || got.Tags[9999].Key != "k10000" {
		t.Fatalf("decoded %d tags, first %+v", len(got.Tags), got.Tags[0])
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("decoding 10,000 tags took %v", d)
	}
}
