package jsonkeys

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tokend/tokend/api"
)

type limit struct {
	Name   string `json:"name"`
	Window string `json:"window"`
}

type dpop struct {
	Proof string `json:"proof"`
}

type Embedded struct {
	Promoted string `json:"promoted"`
}

type EmbeddedPtr struct {
	Deep string `json:"deep"`
}

type testReq struct {
	Token    string              `json:"token"`
	Cost     *int64              `json:"cost,omitempty"`
	DPoP     *dpop               `json:"dpop,omitempty"`
	Limits   []limit             `json:"ratelimits"`
	Pointers *[]*limit           `json:"pointers"`
	Metadata json.RawMessage     `json:"metadata"`
	Scopes   map[string][]string `json:"api_scopes"`
	Named    map[string]limit    `json:"named"`
	Any      any                 `json:"any"`
	When     time.Time           `json:"when"`
	Skip     string              `json:"-"`
	Dash     string              `json:"-,"`
	NoTag    string
	Embedded
	*EmbeddedPtr
	hidden string
}

var reqType = reflect.TypeFor[*testReq]()

func TestCheck(t *testing.T) {
	cases := []struct {
		name, body string
		want       string // the error's text, "" for none
	}{
		{"exact names", `{"token":"t","cost":1,"dpop":{"proof":"p"},"ratelimits":[{"name":"m","window":"1m"}],` +
			`"metadata":{"A":1,"a":{"B":[1,{"b":2}]}},"api_scopes":{"API":["x"],"api":[]},"named":{"n":{"name":"x"}},` +
			`"any":{"K":1,"k":2},"when":"2026-01-01T00:00:00Z","-":"d","NoTag":"n","promoted":"p","deep":"d","pointers":[{"name":"p"},null]}`, ""},
		{"white space", " {\n\t\"token\" : \"t\" ,\r\n \"ratelimits\" : [ { \"name\" : \"m\" } , { } ] } ", ""},
		{"empty", `{}`, ""},
		{"null body", `null`, ""},
		{"nulls", `{"dpop":null,"ratelimits":null,"metadata":null,"api_scopes":null,"pointers":null}`, ""},
		{"escaped exact name", `{"\u0074oken":"t","tok\"en":1}`, `unknown field "tok\"en"`},
		{"escaped quote in value", `{"token":"a\"b\\","cost":1}`, ""},
		{"upper case", `{"TOKEN":"t"}`, `unknown field "TOKEN" (names are case-sensitive: "token")`},
		{"title case", `{"Token":"t"}`, `unknown field "Token" (names are case-sensitive: "token")`},
		{"escaped upper case", `{"\u0054oken":"t"}`, `unknown field "Token" (names are case-sensitive: "token")`},
		{"long s folds", `{"ratelimit\u017f":[]}`, "unknown field \"ratelimit\u017f\" (names are case-sensitive: \"ratelimits\")"},
		{"kelvin sign folds", `{"dpop":{"proof":"p"},"\u212aey":1,"Key":2}`, "unknown field \"\u212aey\""},
		{"unknown", `{"token":"t","owner":"x"}`, `unknown field "owner"`},
		{"skipped field", `{"Skip":"x"}`, `unknown field "Skip"`},
		{"unexported field", `{"hidden":"x"}`, `unknown field "hidden"`},
		{"go name of a tagged field", `{"Cost":1}`, `unknown field "Cost" (names are case-sensitive: "cost")`},
		{"untagged field", `{"notag":"x"}`, `unknown field "notag" (names are case-sensitive: "NoTag")`},
		{"embedded by type name", `{"Embedded":{}}`, `unknown field "Embedded"`},
		{"promoted case", `{"Promoted":"x"}`, `unknown field "Promoted" (names are case-sensitive: "promoted")`},
		{"duplicate", `{"token":"a","token":"b"}`, `duplicate field "token"`},
		{"duplicate escaped", `{"token":"a","\u0074oken":"b"}`, `duplicate field "token"`},
		{"duplicate apart", `{"token":"a","cost":1,"dpop":{},"token":"b"}`, `duplicate field "token"`},
		{"duplicate nested", `{"dpop":{"proof":"a","proof":"b"}}`, `duplicate field "dpop.proof"`},
		{"duplicate in array", `{"ratelimits":[{"name":"a"},{"name":"a","window":"1m","name":"b"}]}`, `duplicate field "ratelimits.name"`},
		{"duplicate in pointers", `{"pointers":[{"name":"a","name":"b"}]}`, `duplicate field "pointers.name"`},
		{"unknown in array", `{"ratelimits":[{"name":"a","Window":"1m"}]}`, `unknown field "ratelimits.Window" (names are case-sensitive: "window")`},
		{"duplicate in metadata", `{"metadata":{"a":1,"a":2}}`, `field "metadata" has a duplicate key`},
		{"duplicate deep in metadata", `{"metadata":{"a":[{"b":1,"c":{"d":1,"d":1}}]}}`, `field "metadata" has a duplicate key`},
		{"duplicate in a map", `{"api_scopes":{"a":["x"],"a":["y"]}}`, `field "api_scopes" has a duplicate key`},
		{"duplicate in any", `{"any":[{"k":1,"k":1}]}`, `field "any" has a duplicate key`},
		{"struct in a map", `{"named":{"n":{"name":"x","Name":"y"}}}`, `unknown field "named.Name" (names are case-sensitive: "name")`},
		{"duplicate in a time", `{"when":{"a":1,"a":1}}`, `field "when" has a duplicate key`},
		{"many keys", `{"metadata":{` + manyKeys(40, -1) + `}}`, ""},
		{"many keys, one twice", `{"metadata":{` + manyKeys(40, 30) + `}}`, `field "metadata" has a duplicate key`},
		{"many keys, one twice early", `{"metadata":{` + manyKeys(40, 3) + `}}`, `field "metadata" has a duplicate key`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !json.Valid([]byte(c.body)) {
				t.Fatalf("invalid test body %s", c.body)
			}
			err := Check([]byte(c.body), reqType, Strict)
			if got := errText(err); got != c.want {
				t.Errorf("Check(%s) = %q, want %q", c.body, got, c.want)
			}
			if ref := errText(refCheck(t, []byte(c.body), reqType, Strict)); ref != errText(err) {
				t.Errorf("Check(%s) = %q, the reference says %q", c.body, errText(err), ref)
			}
		})
	}
}

// manyKeys is the members "k0":0,… of an object; the member at dup, if
// any, repeats the first key.
func manyKeys(n, dup int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		k := i
		if i == dup {
			k = 0
		}
		b.WriteString(`"k` + string(rune('A'+k%26)) + string(rune('A'+k/26)) + `":0`)
	}
	return b.String()
}

func TestLenient(t *testing.T) {
	cases := []struct{ body, want string }{
		{`{"token":"t","x_unknown":{"a":1},"ToKeN2":1}`, ""},
		{`{"TOKEN":"t"}`, `unknown field "TOKEN" (names are case-sensitive: "token")`},
		{`{"token":"t","Token":"u"}`, `unknown field "Token" (names are case-sensitive: "token")`},
		{`{"token":"a","token":"b"}`, `duplicate field "token"`},
		{`{"x":1,"x":2}`, `duplicate field "x"`},
		{`{"x":{"a":1,"a":2}}`, `field "x" has a duplicate key`},
		{`{"dpop":{"proof":"p","other":1}}`, ""},
		{`{"dpop":{"Proof":"p"}}`, `unknown field "dpop.Proof" (names are case-sensitive: "proof")`},
	}
	for _, c := range cases {
		err := Check([]byte(c.body), reqType, Lenient)
		if got := errText(err); got != c.want {
			t.Errorf("Check(%s, Lenient) = %q, want %q", c.body, got, c.want)
		}
		if ref := errText(refCheck(t, []byte(c.body), reqType, Lenient)); ref != errText(err) {
			t.Errorf("Check(%s, Lenient) = %q, the reference says %q", c.body, errText(err), ref)
		}
	}
}

// TestNullable checks that api.Nullable is read as the value it holds.
func TestNullable(t *testing.T) {
	typ := reflect.TypeFor[api.UpdateKeyRequest]()
	for body, want := range map[string]string{
		`{"credits":{"remaining":5,"refill":{"amount":1,"interval":"1h"}}}`: "",
		`{"credits":null,"expires_at":null}`:                                "",
		`{"credits":{"Remaining":5}}`:                                       `unknown field "credits.Remaining" (names are case-sensitive: "remaining")`,
		`{"credits":{"remaining":5,"remaining":6}}`:                         `duplicate field "credits.remaining"`,
		`{"credits":{"refill":{"amount":1,"amount":2}}}`:                    `duplicate field "credits.refill.amount"`,
	} {
		if got := errText(Check([]byte(body), typ, Strict)); got != want {
			t.Errorf("Check(%s) = %q, want %q", body, got, want)
		}
	}
}

// TestFieldsAsEncodingJSON checks the names jsonFields finds against
// the names encoding/json decodes (case-insensitively, as it does), on
// the request types and on embedding that cancels or shadows names.
func TestFieldsAsEncodingJSON(t *testing.T) {
	type A struct {
		X int `json:"x"`
		Y int
	}
	type B struct {
		X int `json:"x"`
		Y int `json:"Y"`
		Z int `json:"z"`
	}
	type C struct {
		A
		*B
		Z int `json:"z,omitempty"`
	}
	type D struct {
		A `json:"a"`
		B
	}
	for _, typ := range []reflect.Type{
		reflect.TypeFor[testReq](), reflect.TypeFor[C](), reflect.TypeFor[D](),
		reflect.TypeFor[api.CreateClientRequest](), reflect.TypeFor[api.UpdateClientRequest](),
		reflect.TypeFor[api.CreateKeyRequest](), reflect.TypeFor[api.UpdateKeyRequest](),
		reflect.TypeFor[api.VerifyRequest](), reflect.TypeFor[api.CreateAPIRequest](),
	} {
		s := build(typ, map[reflect.Type]*shape{})
		for _, name := range candidates(typ) {
			dec := json.NewDecoder(strings.NewReader(`{` + quote(name) + `:null}`))
			dec.DisallowUnknownFields()
			jsonTakes := dec.Decode(reflect.New(typ).Interface()) == nil
			if ours := s.fold([]byte(name)) != ""; ours != jsonTakes {
				t.Errorf("%v: name %q: jsonkeys knows it %v, encoding/json decodes it %v", typ, name, ours, jsonTakes)
			}
		}
	}
}

// candidates are every json tag name and Go field name in t and the
// structs it embeds.
func candidates(t reflect.Type) []string {
	var names []string
	for _, f := range reflect.VisibleFields(t) {
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		names = append(names, f.Name, strings.ToLower(f.Name))
		if tag != "" {
			names = append(names, tag)
		}
	}
	return names
}

// TestMalformed checks that a document that is not JSON is an error,
// not a panic or a pass.
func TestMalformed(t *testing.T) {
	for _, body := range []string{``, `{`, `{"a"`, `{"token":`, `{"token":1`, `{"token":1,`, `[1,`, `"abc`, `"ab\"`, `{"token":"t"}x`, `{1:2}`, `{"a" 1}`, `[1 2]`, `{"token":1 "b":2}`, `"\`, `{"token":"t",}`} {
		if err := Check([]byte(body), reqType, Strict); !errors.Is(err, ErrMalformed) {
			t.Errorf("Check(%q) = %v, want ErrMalformed", body, err)
		}
	}
}

// FuzzCheck compares Check with refCheck, a plain walk over the tokens
// of json.Decoder, on valid documents, and requires no panic on others.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		`{"token":"t","dpop":{"proof":"p"},"ratelimits":[{"name":"m","Name":"n"}]}`,
		`{"metadata":{"a":{"b":1,"b":2}},"token":"x"}`,
		`{"\u0074oken":"a","token":"b"}`,
		`{"api_scopes":{"a":[],"b":[]},"named":{"x":{"window":"1m","window":"2m"}}}`,
		`[{"a":1},{"a":1,"a":2}]`,
		`{"x":1,"pointers":[null,{"name":"\\\""}]}`,
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, b []byte, lenient bool) {
		mode := Strict
		if lenient {
			mode = Lenient
		}
		err := Check(b, reqType, mode)
		if !json.Valid(b) || !utf8.Valid(b) {
			return // the server refuses both before
		}
		if errors.Is(err, ErrMalformed) {
			t.Fatalf("Check(%q): %v on valid JSON", b, err)
		}
		if ref := refCheck(t, b, reqType, mode); errText(ref) != errText(err) {
			t.Fatalf("Check(%q) = %q, the reference says %q", b, errText(err), errText(ref))
		}
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// refCheck is Check written over json.Decoder's tokens: slower, plainer,
// and with its own scanner, so that the two can be compared.
func refCheck(t testing.TB, b []byte, typ reflect.Type, mode Mode) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	err := refValue(dec, shapeOf(typ), mode)
	if _, eof := dec.Token(); err == nil && eof != io.EOF {
		t.Fatalf("reference: trailing data in %q", b)
	}
	return err
}

func refValue(dec *json.Decoder, s *shape, mode Mode) error {
	tok, err := dec.Token()
	if err != nil {
		panic(err)
	}
	switch tok {
	case json.Delim('['):
		elem := anything
		if s.kind == array {
			elem = s.elem
		}
		for dec.More() {
			if err := refValue(dec, elem, mode); err != nil {
				return err
			}
		}
		dec.Token()
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			k, _ := dec.Token()
			key := k.(string)
			if seen[key] {
				if s.kind != object {
					return &Error{Duplicate: true, InValue: true}
				}
				return &Error{Field: key, Duplicate: true}
			}
			seen[key] = true
			elem := anything
			switch s.kind {
			case dict:
				elem = s.elem
			case object:
				if f := s.lookup([]byte(key)); f != nil {
					elem = f.shape
				} else if known := s.fold([]byte(key)); known != "" || mode == Strict {
					return &Error{Field: key, Known: known}
				}
			}
			if err := refValue(dec, elem, mode); err != nil {
				if e, ok := err.(*Error); ok && s.kind == object {
					e.Field = join(key, e.Field)
				}
				return err
			}
		}
		dec.Token()
	}
	return nil
}

// BenchmarkCheck is the check of a POST /v1/verify body, which every
// verification pays.
func BenchmarkCheck(b *testing.B) {
	body := []byte(`{"token":"pay_PfMqrJz0Xs9fUvAzm9fT7uaF8dn4S1kNbjLueGwxMsH01wlnq","scopes":["read"]}`)
	typ := reflect.TypeFor[*api.VerifyRequest]()
	b.ReportAllocs()
	for b.Loop() {
		if err := Check(body, typ, Strict); err != nil {
			b.Fatal(err)
		}
	}
}

// TestUnmarshal checks what Unmarshal refuses, and in which order: not
// JSON first, then invalid UTF-8, then a key, then a wrong type.
func TestUnmarshal(t *testing.T) {
	type body struct {
		Name string          `json:"name"`
		Raw  json.RawMessage `json:"raw"`
	}
	isSyntax := func(err error) bool { _, ok := errors.AsType[*json.SyntaxError](err); return ok }
	isKey := func(err error) bool { _, ok := errors.AsType[*Error](err); return ok }
	isType := func(err error) bool { _, ok := errors.AsType[*json.UnmarshalTypeError](err); return ok }
	for _, tt := range []struct {
		in   string
		want func(error) bool
	}{
		{`{"name":"a","raw":{"x":1}}`, func(err error) bool { return err == nil }},
		{``, isSyntax},
		{`{"name":"a"} {}`, isSyntax},
		{"{\"name\":\"a\xff\",\"NAME\":1}", func(err error) bool { return errors.Is(err, ErrNotUTF8) }},
		{`{"name":"a","name":"b"}`, isKey},
		{`{"Name":"a"}`, isKey},
		{`{"raw":{"x":1,"x":2}}`, isKey},
		{`{"NAME":1}`, isKey},
		{`{"name":1}`, isType},
	} {
		var v body
		if err := Unmarshal([]byte(tt.in), &v, Strict); !tt.want(err) {
			t.Errorf("Unmarshal(%q) = %v", tt.in, err)
		}
	}
}
