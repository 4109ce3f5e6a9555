// Package jsonkeys closes the two gaps encoding/json (v1) leaves in a
// strict decoder: it matches object keys to struct fields without regard
// to case ({"TOKEN":…} sets Token), and it lets a repeated key override
// the first ({"token":"a","token":"b"} decodes as "b"), so that a proxy or
// an auditor that reads the first key sees another request than the
// server acts on.
//
// Check walks a JSON document that has already been decoded (so it is
// known to be valid) beside the Go type it was decoded into, and refuses
// any object that holds the same key twice, at any depth, and any key of
// an object decoded into a struct that is not exactly one of the struct's
// JSON names. What each type decodes from is worked out once, from its
// json tags, and cached.
//
// Unmarshal is the strict decoder built on both: json.Unmarshal, then
// the UTF-8 check encoding/json skips, then Check. Every JSON body tokend
// reads (the /v1 API's, the browser pages' passkey answers) goes through
// it.
//
// Values a type decodes itself (json.Unmarshaler, encoding.TextUnmarshaler:
// json.RawMessage, time.Time), maps and interfaces are free-form: their
// keys are data, so only repeated keys are refused there. api.Nullable is
// the exception: it is read as the value it holds.
package jsonkeys

import (
	"bytes"
	"cmp"
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// Mode says what Check does with a key that is not a field name.
type Mode uint8

const (
	// Strict refuses any key of a struct's object that is not exactly
	// one of its field names.
	Strict Mode = iota
	// Lenient ignores unknown keys (as RFC 7591 §2 requires of client
	// metadata) but refuses one that differs from a field name only in
	// case: encoding/json would act on it, not ignore it.
	Lenient
)

// Error is a key Check refuses. Its text names the field, never a value.
type Error struct {
	// Field is the dotted path of the key, such as "credits.refill.amount"
	// (array indices and map keys are left out, as in
	// json.UnmarshalTypeError). For a repeated key inside a free-form
	// value it is the path of that value, such as "metadata": there
	// the key is data and is not repeated back.
	Field string
	// Duplicate is set for a repeated key; otherwise the key is unknown.
	Duplicate bool
	// InValue is set for a repeated key inside a free-form value.
	InValue bool
	// Known is, for an unknown key, the field name it matches but for
	// case, if any.
	Known string
}

func (e *Error) Error() string {
	switch {
	case e.InValue && e.Field == "":
		return "the body has a duplicate key"
	case e.InValue:
		return "field " + quote(e.Field) + " has a duplicate key"
	case e.Duplicate:
		return "duplicate field " + quote(e.Field)
	case e.Known != "":
		return "unknown field " + quote(e.Field) + " (names are case-sensitive: " + quote(e.Known) + ")"
	}
	return "unknown field " + quote(e.Field)
}

// quote quotes a name as encoding/json quotes an unknown field.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// ErrMalformed is returned for a document that is not valid JSON, which
// the caller should have refused before.
var ErrMalformed = errors.New("jsonkeys: malformed JSON")

// ErrNotUTF8 is returned by Unmarshal for a document that is not valid
// UTF-8, which encoding/json lets through into raw values
// (json.RawMessage) and replaces with U+FFFD in strings.
var ErrNotUTF8 = errors.New("jsonkeys: the document is not valid UTF-8")

// Unmarshal decodes the JSON document b into v (a pointer) as
// json.Unmarshal does, and refuses what encoding/json lets through. Its
// error is, in this order: a *json.SyntaxError for a document that is
// not exactly one JSON value; ErrNotUTF8; an *Error for a key Check
// refuses in mode (before any wrong type, which a wrong key can cause);
// else json.Unmarshal's own error, such as a *json.UnmarshalTypeError.
// v may have been partly filled when an error is returned.
func Unmarshal(b []byte, v any, mode Mode) error {
	err := json.Unmarshal(b, v)
	if _, syntax := errors.AsType[*json.SyntaxError](err); syntax {
		return err
	}
	if !utf8.Valid(b) {
		return ErrNotUTF8
	}
	if kerr := Check(b, reflect.TypeOf(v), mode); kerr != nil {
		return kerr
	}
	return err
}

// Check checks the keys of the JSON document b, decoded into a value of
// type t (a pointer is followed), and returns an *Error for the first
// key it refuses.
func Check(b []byte, t reflect.Type, mode Mode) error {
	c := checker{b: b, mode: mode}
	i, err := c.value(0, shapeOf(t))
	if err == nil && c.space(i) != len(b) {
		err = ErrMalformed
	}
	return err
}

// kind is what a type decodes a JSON value into.
type kind uint8

const (
	free   kind = iota // anything; objects inside are checked for repeated keys only
	object             // a struct: the keys are its field names
	array              // a slice or an array of elem
	dict               // a map: the keys are data, the values elem
)

// anything is the shape of a free-form value.
var anything = &shape{}

// shape is what Check knows of a type.
type shape struct {
	kind   kind
	fields []field // object
	elem   *shape  // array, dict
}

// field is one JSON name of a struct.
type field struct {
	name  string
	shape *shape
}

// lookup returns the field named exactly key, or nil.
func (s *shape) lookup(key []byte) *field {
	for i := range s.fields {
		if s.fields[i].name == string(key) {
			return &s.fields[i]
		}
	}
	return nil
}

// fold returns the field name that key matches but for case, as
// encoding/json matches names (Unicode simple folding), or "".
func (s *shape) fold(key []byte) string {
	for _, f := range s.fields {
		if strings.EqualFold(f.name, string(key)) {
			return f.name
		}
	}
	return ""
}

// shapes caches shapeOf.
var shapes sync.Map // reflect.Type → *shape

func shapeOf(t reflect.Type) *shape {
	if s, ok := shapes.Load(t); ok {
		return s.(*shape)
	}
	s, _ := shapes.LoadOrStore(t, build(t, map[reflect.Type]*shape{}))
	return s.(*shape)
}

var (
	unmarshaler     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// build works out the shape of t; done holds the shapes under
// construction, for types that contain themselves.
func build(t reflect.Type, done map[reflect.Type]*shape) *shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := done[t]; ok {
		return s
	}
	if v, ok := nullable(t); ok {
		return build(v, done)
	}
	s := &shape{}
	done[t] = s
	if p := reflect.PointerTo(t); p.Implements(unmarshaler) || p.Implements(textUnmarshaler) {
		return s // decodes itself: free
	}
	switch t.Kind() {
	case reflect.Struct:
		s.kind = object
		for _, f := range jsonFields(t) {
			s.fields = append(s.fields, field{name: f.name, shape: build(f.typ, done)})
		}
	case reflect.Map:
		s.kind, s.elem = dict, build(t.Elem(), done)
	case reflect.Slice, reflect.Array:
		s.kind, s.elem = array, build(t.Elem(), done)
	}
	return s
}

// nullable returns the type of the Value of an api.Nullable, which
// decodes itself only to tell null from absent and decodes Value as the
// body around it.
func nullable(t reflect.Type) (reflect.Type, bool) {
	if t.PkgPath() != "github.com/tokend/tokend/api" || !strings.HasPrefix(t.Name(), "Nullable[") {
		return nil, false
	}
	f, ok := t.FieldByName("Value")
	return f.Type, ok
}

// jsonField is a JSON name of a struct and the type of its field.
type jsonField struct {
	name   string
	typ    reflect.Type
	depth  int  // how deeply embedded the field is
	tagged bool // the name comes from a json tag
}

// jsonFields lists the names encoding/json decodes into t: exported
// fields by tag or Go name, skipping "-", with the fields of embedded
// structs promoted unless a shallower field, or a tagged one at the same
// depth, has the name; two at the same depth cancel out.
func jsonFields(t reflect.Type) []jsonField {
	var all []jsonField
	walked := map[reflect.Type]bool{}
	var walk func(t reflect.Type, depth int)
	walk = func(t reflect.Type, depth int) {
		if walked[t] {
			return
		}
		walked[t] = true
		for i := range t.NumField() {
			sf := t.Field(i)
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if !sf.IsExported() && !(sf.Anonymous && ft.Kind() == reflect.Struct) {
				continue
			}
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if sf.Anonymous && name == "" && ft.Kind() == reflect.Struct {
				walk(ft, depth+1)
				continue
			}
			if !sf.IsExported() {
				continue
			}
			all = append(all, jsonField{name: cmp.Or(name, sf.Name), typ: sf.Type, depth: depth, tagged: name != ""})
		}
	}
	walk(t, 0)
	var out []jsonField
	for i, f := range all {
		if dominant(f, i, all) {
			out = append(out, f)
		}
	}
	return out
}

// dominant reports whether all[i], f, is the field encoding/json decodes
// its name into: no other field of the name is shallower, or as deep
// and tagged where f is not, or as deep and as tagged (which cancels both).
func dominant(f jsonField, i int, all []jsonField) bool {
	for j, g := range all {
		if j == i || g.name != f.name {
			continue
		}
		if g.depth < f.depth || g.depth == f.depth && (g.tagged || !f.tagged) {
			return false
		}
	}
	return true
}

// checker walks one document.
type checker struct {
	b    []byte
	mode Mode
}

// space returns the index of the first byte at or after i that is not
// JSON white space.
func (c *checker) space(i int) int {
	for i < len(c.b) && (c.b[i] == ' ' || c.b[i] == '\n' || c.b[i] == '\r' || c.b[i] == '\t') {
		i++
	}
	return i
}

// value checks the value that starts at or after i as s describes it
// and returns the index after it.
func (c *checker) value(i int, s *shape) (int, error) {
	i = c.space(i)
	if i >= len(c.b) {
		return i, ErrMalformed
	}
	switch c.b[i] {
	case '{':
		return c.object(i+1, s)
	case '[':
		return c.array(i+1, s)
	case '"':
		end, _, err := c.str(i)
		return end, err
	}
	for i < len(c.b) && !delim(c.b[i]) {
		i++ // a number, true, false or null
	}
	return i, nil
}

// delim reports a byte that ends a number, true, false or null.
func delim(b byte) bool {
	switch b {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// str returns the index after the string that starts at i (a quote),
// and whether it holds an escape.
func (c *checker) str(i int) (end int, escaped bool, err error) {
	for j := i + 1; j <= len(c.b); {
		q := bytes.IndexByte(c.b[j:], '"')
		if q < 0 {
			break
		}
		q += j
		bs := bytes.IndexByte(c.b[j:q], '\\')
		if bs < 0 {
			return q + 1, escaped, nil
		}
		escaped = true
		j += bs + 2 // past the backslash and the byte it escapes
	}
	return len(c.b), escaped, ErrMalformed
}

// array checks the elements of the array whose '[' is before i.
func (c *checker) array(i int, s *shape) (int, error) {
	elem := s.elem
	if s.kind != array {
		elem = anything
	}
	if i = c.space(i); i < len(c.b) && c.b[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		if i, err = c.value(i, elem); err != nil {
			return i, err
		}
		var done bool
		if i, done, err = c.next(i, ']'); err != nil || done {
			return i, err
		}
	}
}

// next reads what follows a value in an array or object: a ',' before
// another value, or close, which ends it (done).
func (c *checker) next(i int, close byte) (int, bool, error) {
	if i = c.space(i); i >= len(c.b) {
		return i, false, ErrMalformed
	}
	switch c.b[i] {
	case ',':
		return i + 1, false, nil
	case close:
		return i + 1, true, nil
	}
	return i, false, ErrMalformed
}

// object checks the members of the object whose '{' is before i.
func (c *checker) object(i int, s *shape) (int, error) {
	var seen keys
	if i = c.space(i); i < len(c.b) && c.b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i = c.space(i); i >= len(c.b) || c.b[i] != '"' {
			return i, ErrMalformed
		}
		end, escaped, err := c.str(i)
		if err != nil {
			return end, err
		}
		key := c.b[i+1 : end-1]
		if escaped {
			var k string
			if json.Unmarshal(c.b[i:end], &k) != nil {
				return end, ErrMalformed
			}
			key = []byte(k)
		}
		if i = c.space(end); i >= len(c.b) || c.b[i] != ':' {
			return i, ErrMalformed
		}
		elem, err := c.member(s, key, &seen)
		if err != nil {
			return i, err
		}
		if i, err = c.value(i+1, elem); err != nil {
			var e *Error
			if s.kind == object && errors.As(err, &e) {
				e.Field = join(string(key), e.Field)
			}
			return i, err
		}
		var done bool
		if i, done, err = c.next(i, '}'); err != nil || done {
			return i, err
		}
	}
}

// member checks key, a key of an object of shape s, and returns the
// shape of its value.
func (c *checker) member(s *shape, key []byte, seen *keys) (*shape, error) {
	if seen.add(key) {
		if s.kind != object {
			return nil, &Error{Duplicate: true, InValue: true}
		}
		return nil, &Error{Field: string(key), Duplicate: true}
	}
	switch s.kind {
	case dict:
		return s.elem, nil
	case object:
		if f := s.lookup(key); f != nil {
			return f.shape, nil
		}
		if known := s.fold(key); known != "" || c.mode == Strict {
			return nil, &Error{Field: string(key), Known: known}
		}
	}
	return anything, nil
}

// join joins a key and the path below it with a dot.
func join(key, below string) string {
	if below == "" {
		return key
	}
	return key + "." + below
}

// keys are the keys of one object seen so far: a few in place, more in a
// map, so that an object of many keys costs no more than linear time.
type keys struct {
	few  [8][]byte
	n    int
	many map[string]bool
}

// add adds key and reports whether it was there already.
func (k *keys) add(key []byte) (dup bool) {
	if k.many != nil {
		dup = k.many[string(key)]
		k.many[string(key)] = true
		return dup
	}
	for _, s := range k.few[:k.n] {
		if bytes.Equal(s, key) {
			return true
		}
	}
	if k.n < len(k.few) {
		k.few[k.n] = key
		k.n++
		return false
	}
	k.many = make(map[string]bool, 2*len(k.few))
	for _, s := range k.few {
		k.many[string(s)] = true
	}
	k.many[string(key)] = true
	return false
}
