// Package fields lists every JSON field path of Argo Rollouts v1.10.0's Rollout and AnalysisRun
// specs (from the real module's types, by reflection) and says for each whether nerve handles
// it or refuses it; its test proves each claim against nerve's types and rules and keeps
// docs/argo-fields.md, the printed list, up to date.
package fields

import (
	"reflect"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Leaf types: their insides are Kubernetes' (pod template, selector, quantities, times) or
// free-form (plugin configs), not fields of Argo's API.
func leaf(t reflect.Type) bool {
	pkg := t.PkgPath()
	return strings.HasPrefix(pkg, "k8s.io/") || t.Kind() != reflect.Struct
}

func elem(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map || t.Kind() == reflect.Array {
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return t // []byte, json.RawMessage
		}
		t = t.Elem()
	}
	return t
}

// jsonName is a field's JSON name; "" for a field JSON skips; inline for an embedded struct
// without a name.
func jsonName(f reflect.StructField) (name string, inline bool) {
	tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	switch {
	case !f.IsExported() || tag == "-":
		return "", false
	case tag == "" && f.Anonymous:
		return "", true
	case tag == "":
		return f.Name, false
	}
	return tag, false
}

// Paths returns every JSON field path under t, prefixed, sorted (a list or map element adds no
// segment: spec.strategy.canary.steps.setWeight).
func Paths(t reflect.Type, prefix string) []string {
	var out []string
	walk(elem(t), prefix, map[reflect.Type]bool{}, &out)
	sort.Strings(out)
	return out
}

func walk(t reflect.Type, prefix string, seen map[reflect.Type]bool, out *[]string) {
	if leaf(t) || seen[t] {
		return
	}
	seen[t] = true
	defer delete(seen, t)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, inline := jsonName(f)
		if inline {
			walk(elem(f.Type), prefix, seen, out)
			continue
		}
		if name == "" {
			continue
		}
		p := prefix + "." + name
		*out = append(*out, p)
		walk(elem(f.Type), p, seen, out)
	}
}

// Set returns a value of type t (a struct) whose field at path (relative, dot-separated, as
// Paths spells it) is set to a non-zero value: pointers allocated, lists of one element, maps of
// one key "k", strings "x", numbers 1, booleans true. It reports false when path does not exist.
func Set(t reflect.Type, path string) (reflect.Value, bool) {
	v := reflect.New(t).Elem()
	return v, set(v, strings.Split(path, "."))
}

func set(v reflect.Value, segs []string) bool {
	if v.Kind() == reflect.Map {
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		key, el := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(key)
		ok := set(el, segs)
		v.SetMapIndex(key, el)
		return ok
	}
	v = alloc(v)
	if v.Kind() == reflect.Map {
		return set(v, segs)
	}
	if len(segs) == 0 {
		fill(v)
		return true
	}
	if v.Kind() != reflect.Struct {
		return false
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, inline := jsonName(f)
		if inline {
			if set(v.Field(i), segs) {
				return true
			}
			continue
		}
		if name == segs[0] {
			return set(v.Field(i), segs[1:])
		}
	}
	return false
}

// alloc walks through pointers, lists and maps to a settable element, allocating them.
func alloc(v reflect.Value) reflect.Value {
	for {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				return v
			}
			if v.Len() == 0 {
				v.Set(reflect.MakeSlice(v.Type(), 1, 1))
			}
			v = v.Index(0)
		default:
			return v
		}
	}
}

// fill makes a leaf non-zero.
func fill(v reflect.Value) {
	if !v.IsValid() || !v.CanSet() {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte(`{"x":1}`))
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.Map:
		set(v, nil)
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))))
			return
		}
		fillStruct(v)
	}
}

// timeType is metav1.Time (a struct of unexported fields).
var timeType = reflect.TypeFor[metav1.Time]()

// fillStruct sets the first settable leaf field of a struct (a k8s struct such as a pod
// template or an IntOrString gets one field that makes it non-empty in JSON).
func fillStruct(v reflect.Value) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if name, inline := jsonName(f); name == "" && !inline {
			continue
		}
		fv := v.Field(i)
		switch fv.Kind() {
		case reflect.String, reflect.Int32, reflect.Int64, reflect.Int, reflect.Bool:
			fill(fv)
			return
		}
	}
}
