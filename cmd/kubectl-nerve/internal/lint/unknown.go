package lint

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// unknownFields lists every field of doc that decoding into a value of type t would drop, as
// field paths (spec.strategy.canary.foo, spec.metrics[0].bar), sorted. Fields whose type decodes
// itself (json.Unmarshaler: plugin configs, provider blocks, quantities, times) and free-form
// values (any, json.RawMessage) are not looked into.
func unknownFields(doc any, t reflect.Type) []string {
	var out []string
	walkUnknown(doc, t, "", &out)
	sort.Strings(out)
	return out
}

func decodesItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	for _, i := range []reflect.Type{reflect.TypeFor[json.Unmarshaler](), reflect.TypeFor[encoding.TextUnmarshaler]()} {
		if t.Implements(i) || p.Implements(i) {
			return true
		}
	}
	return false
}

func walkUnknown(v any, t reflect.Type, path string, out *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if decodesItself(t) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		fields := jsonFields(t)
		for k, sub := range m {
			ft, known := fields[k]
			if !known {
				*out = append(*out, join(path, k))
				continue
			}
			walkUnknown(sub, ft, join(path, k), out)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, sub := range m {
			walkUnknown(sub, t.Elem(), join(path, k), out)
		}
	case reflect.Slice, reflect.Array:
		items, ok := v.([]any)
		if !ok {
			return
		}
		for i, sub := range items {
			walkUnknown(sub, t.Elem(), fmt.Sprintf("%s[%d]", path, i), out)
		}
	}
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// jsonFields maps the JSON names of a struct's fields (with embedded structs' fields promoted,
// as encoding/json does) to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			for k, v := range jsonFields(ft) {
				if _, ok := out[k]; !ok {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
