package audit

import (
	"bytes"
	"reflect"
	"time"
)

// Same reports whether an update from before to after changes nothing, so
// that it writes no event and keeps updated_at: the two are deeply equal,
// taking a nil and an empty slice or map as equal (what a request says
// with [] the store reads back as nil) and times equal at the same
// instant. before and after are values of one type, such as two copies
// of a store record.
func Same(before, after any) bool {
	return same(reflect.ValueOf(before), reflect.ValueOf(after))
}

var timeType = reflect.TypeFor[time.Time]()

func same(a, b reflect.Value) bool {
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		if a.Type().Elem().Kind() == reflect.Uint8 {
			return bytes.Equal(a.Bytes(), b.Bytes())
		}
		for i := range a.Len() {
			if !same(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		return sameMap(a, b)
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return same(a.Elem(), b.Elem())
	case reflect.Struct:
		return sameStruct(a, b)
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

func sameMap(a, b reflect.Value) bool {
	if a.Len() != b.Len() {
		return false
	}
	for it := a.MapRange(); it.Next(); {
		w := b.MapIndex(it.Key())
		if !w.IsValid() || !same(it.Value(), w) {
			return false
		}
	}
	return true
}

// sameStruct compares field by field; a struct with unexported fields
// is compared whole (a time.Time by its instant).
func sameStruct(a, b reflect.Value) bool {
	if a.Type() == timeType {
		return a.Interface().(time.Time).Equal(b.Interface().(time.Time))
	}
	t := a.Type()
	for i := range t.NumField() {
		if !t.Field(i).IsExported() {
			return reflect.DeepEqual(a.Interface(), b.Interface())
		}
	}
	for i := range t.NumField() {
		if !same(a.Field(i), b.Field(i)) {
			return false
		}
	}
	return true
}
