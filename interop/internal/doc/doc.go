// Package doc compares values as generic JSON documents, for the interop tests: the golden
// expectations under plugins/testdata/golden are JSON documents of nerve's types, and every
// value that crossed the wire (in either type set) is compared with them field by field.
package doc

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

// GoldenDir returns plugins/testdata/golden of the nerve module.
func GoldenDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "plugins", "testdata", "golden")
}

// Names lists the golden wire structs.
func Names() []string {
	return []string{"UpdateHashArgs", "SetWeightAndVerifyWeightArgs", "SetHeaderArgs", "SetMirrorArgs",
		"RemoveManagedRoutesArgs", "VerifyWeightResponse", "RpcError", "RunArgs", "TerminateAndResumeArgs",
		"GarbageCollectArgs", "GetMetadataArgs", "Measurement"}
}

// Read returns the raw golden JSON of name.
func Read(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(GoldenDir(), name+".json"))
}

// Of returns v as a generic document.
func Of(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var d any
	return d, json.Unmarshal(b, &d)
}

// Parse returns raw JSON as a generic document.
func Parse(raw []byte) (any, error) {
	var d any
	return d, json.Unmarshal(raw, &d)
}

// Subset returns the differences where got does not contain want: every key of want must be
// in got with an equal value; keys only in got are allowed when their value is zero (null,
// "", 0, false, {} or []), since one type set may model fields the other does not.
func Subset(want, got any) []string {
	var diffs []string
	subset("", want, got, &diffs)
	sort.Strings(diffs)
	return diffs
}

func subset(path string, want, got any, diffs *[]string) {
	if isZero(want) && isZero(got) {
		return // e.g. null in one type set, an empty struct in the other
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*diffs = append(*diffs, fmt.Sprintf("%s: want an object, got %v", path, got))
			return
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				if !isZero(wv) {
					*diffs = append(*diffs, fmt.Sprintf("%s.%s: missing (want %v)", path, k, wv))
				}
				continue
			}
			subset(path+"."+k, wv, gv, diffs)
		}
		for k, gv := range g {
			if _, ok := w[k]; !ok && !isZero(gv) {
				*diffs = append(*diffs, fmt.Sprintf("%s.%s: unexpected %v", path, k, gv))
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			*diffs = append(*diffs, fmt.Sprintf("%s: want %v, got %v", path, want, got))
			return
		}
		for i := range w {
			subset(fmt.Sprintf("%s[%d]", path, i), w[i], g[i], diffs)
		}
	default:
		if fmt.Sprint(want) != fmt.Sprint(got) {
			*diffs = append(*diffs, fmt.Sprintf("%s: want %v, got %v", path, want, got))
		}
	}
}

func isZero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case float64:
		return x == 0
	case bool:
		return !x
	case map[string]any:
		for _, e := range x {
			if !isZero(e) {
				return false
			}
		}
		return true
	case []any:
		return len(x) == 0
	}
	return false
}

// Call is one call recorded by an echo plugin.
type Call struct {
	Method string          `json:"method"`
	Args   json.RawMessage `json:"args"`
}

// ReadCalls reads an echo file (one JSON call per line).
func ReadCalls(path string) (map[string]json.RawMessage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	calls := map[string]json.RawMessage{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var c Call
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, err
		}
		calls[c.Method] = c.Args
	}
	return calls, sc.Err()
}

// Report formats diffs for a test failure.
func Report(diffs []string) string {
	if len(diffs) > 20 {
		diffs = append(diffs[:20], fmt.Sprintf("... and %d more", len(diffs)-20))
	}
	return strings.Join(diffs, "\n")
}
