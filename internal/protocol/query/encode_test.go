package query

import (
	"bytes"
	"encoding/xml"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flotta-dev/flotta/internal/model"
)

type user struct {
	UserName   string    `xml:"UserName"`
	Path       string    `xml:"Path,omitempty"`
	CreateDate time.Time `xml:"CreateDate"`
	Tags       []tag     `xml:"Tags,omitempty"`
}

type pageOut struct {
	IsTruncated bool   `xml:"IsTruncated"`
	Marker      string `xml:"Marker,omitempty"`
}

type listOut struct {
	Users []user `xml:"Users"`
	pageOut
}

const ns = "https://iam.amazonaws.com/doc/2010-05-08/"

func TestEncode(t *testing.T) {
	created := time.Date(2013, 5, 8, 23, 34, 1, 0, time.FixedZone("CEST", 2*3600))
	millis := time.Date(2016, 3, 25, 21, 26, 12, 920_000_000, time.UTC)
	type scalars struct {
		S    string
		I    int
		I64  int64
		U    uint16
		F    float64
		B    bool
		P    *string
		NilP *string
		Blob []byte
		T    time.Time
		TP   *time.Time
		Skip string `xml:"-"`
		priv string
		Any  any
	}
	type maps struct {
		Attributes map[string]string `xml:"Attributes"`
		Flat       map[string]int    `xml:"Entry,flattened"`
		Empty      map[string]string `xml:"Empty,omitempty"`
	}
	type lists struct {
		Wrapped  []string  `xml:"Wrapped"`
		Renamed  []string  `xml:"Renamed>item"`
		Flat     []string  `xml:"Flat,flattened"`
		Nil      []string  `xml:"Nil"`
		Omitted  []string  `xml:"Omitted,omitempty"`
		Nested   [][]int   `xml:"Nested"`
		Pointers []*string `xml:"Pointers"`
	}
	type omit struct {
		S string    `xml:"S,omitempty"`
		I int       `xml:"I,omitempty"`
		B bool      `xml:"B,omitempty"`
		T time.Time `xml:"T,omitempty"`
		P *int      `xml:"P,omitempty"`
	}
	cases := []struct {
		name   string
		action string
		result any
		want   string
	}{
		{"no result", "DeleteUser", nil, `<DeleteUserResponse xmlns="` + ns + `"><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></DeleteUserResponse>`},
		{"empty result", "TagUser", struct{}{}, `<TagUserResponse xmlns="` + ns + `"><TagUserResult></TagUserResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></TagUserResponse>`},
		{"typed nil result", "GetUser", (*user)(nil), `<GetUserResponse xmlns="` + ns + `"><GetUserResult></GetUserResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetUserResponse>`},
		{"nested struct, time in UTC, escaping", "GetUser", &struct {
			User user `xml:"User"`
		}{user{UserName: "a<b>&\"c\"", CreateDate: created}},
			`<GetUserResponse xmlns="` + ns + `"><GetUserResult><User><UserName>a&lt;b&gt;&amp;&#34;c&#34;</UserName><CreateDate>2013-05-08T21:34:01Z</CreateDate></User></GetUserResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetUserResponse>`},
		{"list of structs as members, embedded struct inlined", "ListUsers", listOut{
			Users:   []user{{UserName: "a", Path: "/", CreateDate: created, Tags: []tag{{"k", "v"}}}, {UserName: "b", CreateDate: millis}},
			pageOut: pageOut{IsTruncated: true, Marker: "m"},
		}, `<ListUsersResponse xmlns="` + ns + `"><ListUsersResult><Users>` +
			`<member><UserName>a</UserName><Path>/</Path><CreateDate>2013-05-08T21:34:01Z</CreateDate><Tags><member><Key>k</Key><Value>v</Value></member></Tags></member>` +
			`<member><UserName>b</UserName><CreateDate>2016-03-25T21:26:12.920Z</CreateDate></member>` +
			`</Users><IsTruncated>true</IsTruncated><Marker>m</Marker></ListUsersResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></ListUsersResponse>`},
		{"scalars", "Op", scalars{S: "s", I: -1, I64: 1 << 40, U: 7, F: 0.5, B: false, P: ptr("p"), Blob: []byte("hi"), T: millis, TP: &created, Skip: "x", priv: "x", Any: 3},
			`<OpResponse xmlns="` + ns + `"><OpResult><S>s</S><I>-1</I><I64>1099511627776</I64><U>7</U><F>0.5</F><B>false</B><P>p</P><Blob>aGk=</Blob><T>2016-03-25T21:26:12.920Z</T><TP>2013-05-08T21:34:01Z</TP><Any>3</Any></OpResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></OpResponse>`},
		{"maps by key order", "Op", maps{Attributes: map[string]string{"b": "2", "a": "1"}, Flat: map[string]int{"x": 1}},
			`<OpResponse xmlns="` + ns + `"><OpResult><Attributes><entry><key>a</key><value>1</value></entry><entry><key>b</key><value>2</value></entry></Attributes><Entry><key>x</key><value>1</value></Entry></OpResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></OpResponse>`},
		{"lists", "Op", lists{Wrapped: []string{"a", "b"}, Renamed: []string{"c"}, Flat: []string{"d", "e"}, Nested: [][]int{{1}, {2, 3}}, Pointers: []*string{ptr("p"), nil}},
			`<OpResponse xmlns="` + ns + `"><OpResult><Wrapped><member>a</member><member>b</member></Wrapped><Renamed><item>c</item></Renamed><Flat>d</Flat><Flat>e</Flat><Nil></Nil><Nested><member><member>1</member></member><member><member>2</member><member>3</member></member></Nested><Pointers><member>p</member></Pointers></OpResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></OpResponse>`},
		{"omitempty", "Op", omit{}, `<OpResponse xmlns="` + ns + `"><OpResult></OpResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></OpResponse>`},
		{"omitempty keeps a set pointer to zero", "Op", omit{P: ptr(0)}, `<OpResponse xmlns="` + ns + `"><OpResult><P>0</P></OpResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></OpResponse>`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Encode(&b, c.action, ns, "req-1", c.result); err != nil {
				t.Fatal(err)
			}
			if b.String() != c.want {
				t.Errorf("Encode:\n got %s\nwant %s", b.String(), c.want)
			}
			if err := xml.Unmarshal(b.Bytes(), new(any)); err != nil {
				t.Errorf("the answer is not well-formed XML: %v", err)
			}
		})
	}
}

func TestEncodeRefusesWhatItCannotWrite(t *testing.T) {
	for _, result := range []any{
		"a string",
		struct{ C chan int }{make(chan int)},
		struct{ M map[int]string }{map[int]string{1: "a"}},
		struct{ L []func() }{[]func(){func() {}}},
	} {
		if err := Encode(&bytes.Buffer{}, "Op", ns, "r", result); err == nil {
			t.Errorf("Encode(%T) succeeded", result)
		}
	}
	type loop struct{ Next *loop }
	l := &loop{}
	l.Next = l
	if err := Encode(&bytes.Buffer{}, "Op", ns, "r", l); err == nil || !strings.Contains(err.Error(), "deeper") {
		t.Errorf("Encode of a cycle = %v, want an error about depth", err)
	}
}

func TestWriteError(t *testing.T) {
	cases := []struct {
		err        *model.Error
		namespace  string
		wantStatus int
		want       string
	}{
		{&model.Error{Code: "NoSuchEntity", Message: "The user with name bob cannot be found.", Status: 404}, ns, 404,
			`<ErrorResponse xmlns="` + ns + `"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name bob cannot be found.</Message></Error><RequestId>r</RequestId></ErrorResponse>`},
		{&model.Error{Code: "ValidationError", Message: "a < b"}, "", 400,
			`<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>a &lt; b</Message></Error><RequestId>r</RequestId></ErrorResponse>`},
		{&model.Error{Code: "ServiceFailure", Message: "down", Status: 500}, ns, 500,
			`<ErrorResponse xmlns="` + ns + `"><Error><Type>Receiver</Type><Code>ServiceFailure</Code><Message>down</Message></Error><RequestId>r</RequestId></ErrorResponse>`},
		{&model.Error{Code: "ServiceUnavailable", Message: "busy", Status: 503}, ns, 503,
			`<ErrorResponse xmlns="` + ns + `"><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>busy</Message></Error><RequestId>r</RequestId></ErrorResponse>`},
	}
	for _, c := range cases {
		w := httptest.NewRecorder()
		WriteError(w, c.namespace, "r", c.err)
		if w.Code != c.wantStatus || w.Body.String() != c.want || w.Header().Get("Content-Type") != "text/xml" {
			t.Errorf("WriteError(%v) = %d %s %q\nwant %d text/xml %s", c.err, w.Code, w.Header().Get("Content-Type"), w.Body.String(), c.wantStatus, c.want)
		}
	}
}
