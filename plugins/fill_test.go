package plugins_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// filler populates every exported field of a value with distinct, deterministic, JSON-stable
// values, so a golden or round-trip test notices any field that does not survive.
type filler struct{ n int }

var (
	timeType   = reflect.TypeFor[metav1.Time]()
	intstrType = reflect.TypeFor[intstr.IntOrString]()
	rawType    = reflect.TypeFor[json.RawMessage]()
)

// maxDepth stops recursive types.
const maxDepth = 16

// skipped reports whether a field is left zero:
//   - k8s.io/api types (pod templates, job specs): plugins never read them, resource.Quantity
//     does not survive gob, and they differ between the k8s versions of nerve and Argo;
//   - ObjectMeta.ManagedFields (opaque bytes);
//   - json:"-" fields (MetricProvider.Other, RolloutSpec.*ResolvedFromRef): not in the JSON
//     documents the comparison uses (and Argo's RolloutSpec.MarshalJSON hides the selector
//     when SelectorResolvedFromRef is set);
//   - nerve-only fields Argo v1.10.0 lacks, which gob skips by name: Authentication.BasicAuth,
//     JobMetric.RawMetadata/RawSpec (nerve keeps the job's metadata/spec as raw JSON under other
//     Go names, so gob never pairs them with Argo's ObjectMeta/JobSpec).
func skipped(f reflect.StructField) bool {
	t := f.Type
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	switch f.Name {
	case "ManagedFields", "BasicAuth", "RawMetadata", "RawSpec":
		return true
	}
	return strings.HasPrefix(t.PkgPath(), "k8s.io/api/") || f.Tag.Get("json") == "-"
}

func (f *filler) next() int { f.n++; return f.n }

// fill populates v (settable).
func (f *filler) fill(v reflect.Value, depth int) {
	if depth > maxDepth {
		return
	}
	switch v.Type() {
	case timeType:
		v.Set(reflect.ValueOf(metav1.NewTime(time.Date(2026, 1, 2, 3, 4, f.next()%60, 0, time.UTC))))
		return
	case intstrType:
		n := f.next()
		if n%2 == 0 {
			v.Set(reflect.ValueOf(intstr.FromInt32(int32(n))))
		} else {
			v.Set(reflect.ValueOf(intstr.FromString(fmt.Sprintf("%d%%", n))))
		}
		return
	case rawType:
		v.SetBytes([]byte(fmt.Sprintf(`{"key":"value-%d","n":%d}`, f.next(), f.n)))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			sf := v.Type().Field(i)
			if sf.IsExported() && !skipped(sf) {
				f.fill(v.Field(i), depth+1)
			}
		}
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		f.fill(s.Index(0), depth+1)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := 0; i < 2; i++ {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			f.fill(k, depth+1)
			f.fill(e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", f.next()))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(f.next()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(f.next()))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(f.next()) + 0.5)
	}
}

// filled returns a fully populated T.
func filled[T any]() T {
	var v T
	(&filler{}).fill(reflect.ValueOf(&v).Elem(), 0)
	return v
}
