package plugins_test

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
)

// Golden files shared with the interop module (interop/golden_test.go):
//
//	testdata/golden/<Name>.json       the fully populated value (the expectation, both sides)
//	testdata/golden/nerve/<Name>.gob  nerve's gob encoding of it (Argo decodes it in interop)
//	testdata/golden/argo/<Name>.gob   Argo v1.10.0's encoding of it (written by interop)
//
// Values are compared as JSON documents, field by field; gob bytes are never compared.
// NERVE_UPDATE_GOLDEN=1 rewrites the .json and nerve/*.gob files.

const goldenDir = "testdata/golden"

// golden is one wire struct: its name and a fresh, fully populated nerve value.
type golden struct {
	name   string
	filled func() any
	zero   func() any
}

func goldenOf[T any](name string) golden {
	return golden{name: name, filled: func() any { v := filled[T](); return &v }, zero: func() any { return new(T) }}
}

// goldens lists every args and response struct of the wire.
func goldens() []golden {
	return []golden{
		goldenOf[plugins.UpdateHashArgs]("UpdateHashArgs"),
		goldenOf[plugins.SetWeightAndVerifyWeightArgs]("SetWeightAndVerifyWeightArgs"),
		goldenOf[plugins.SetHeaderArgs]("SetHeaderArgs"),
		goldenOf[plugins.SetMirrorArgs]("SetMirrorArgs"),
		goldenOf[plugins.RemoveManagedRoutesArgs]("RemoveManagedRoutesArgs"),
		goldenOf[plugins.VerifyWeightResponse]("VerifyWeightResponse"),
		goldenOf[plugins.RpcError]("RpcError"),
		goldenOf[plugins.RunArgs]("RunArgs"),
		goldenOf[plugins.TerminateAndResumeArgs]("TerminateAndResumeArgs"),
		goldenOf[plugins.GarbageCollectArgs]("GarbageCollectArgs"),
		goldenOf[plugins.GetMetadataArgs]("GetMetadataArgs"),
		goldenOf[v1alpha1.Measurement]("Measurement"),
	}
}

// asDoc returns v as a generic JSON document.
func asDoc(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func readDoc(t *testing.T, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func gobDecode(t *testing.T, path string, into any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (regenerate with NERVE_UPDATE_GOLDEN=1; argo/*.gob come from the interop module)", err)
	}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(into); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
}

func writeGolden(t *testing.T, g golden) {
	t.Helper()
	v := g.filled()
	js, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(goldenDir, "nerve"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(goldenDir, g.name+".json"), append(js, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(goldenDir, "nerve", g.name+".gob"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestGoldenNerve checks the committed expectation is still the fully populated value of the
// current types (a new field fails until the golden files are regenerated) and that nerve's
// committed encoding decodes back to it.
func TestGoldenNerve(t *testing.T) {
	for _, g := range goldens() {
		t.Run(g.name, func(t *testing.T) {
			if os.Getenv("NERVE_UPDATE_GOLDEN") == "1" {
				writeGolden(t, g)
			}
			want := readDoc(t, filepath.Join(goldenDir, g.name+".json"))
			if d := cmp.Diff(want, asDoc(t, g.filled())); d != "" {
				t.Fatalf("the types changed; regenerate with NERVE_UPDATE_GOLDEN=1 (-golden +now):\n%s", d)
			}
			got := g.zero()
			gobDecode(t, filepath.Join(goldenDir, "nerve", g.name+".gob"), got)
			if d := cmp.Diff(want, asDoc(t, got)); d != "" {
				t.Fatalf("nerve's encoding does not decode back (-want +got):\n%s", d)
			}
		})
	}
}

// TestGoldenFromArgo decodes Argo v1.10.0's encodings (written by the interop module from the
// same JSON documents into Argo's own types) into nerve's types and compares every field.
func TestGoldenFromArgo(t *testing.T) {
	for _, g := range goldens() {
		t.Run(g.name, func(t *testing.T) {
			want := readDoc(t, filepath.Join(goldenDir, g.name+".json"))
			got := g.zero()
			gobDecode(t, filepath.Join(goldenDir, "argo", g.name+".gob"), got)
			if d := cmp.Diff(want, asDoc(t, got)); d != "" {
				t.Fatalf("Argo's encoding decodes differently into nerve's types (-want +got):\n%s", d)
			}
		})
	}
}
