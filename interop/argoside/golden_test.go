// Package argoside holds the interop tests that run Argo v1.10.0's own types in this process:
// golden files both ways and Argo's RPC clients driving nerve-served plugins. It must never call
// nerve's plugins.RegisterGobNames (Argo's rpc packages register the same names in init).
package argoside

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	trpc "github.com/argoproj/argo-rollouts/metricproviders/plugin/rpc"
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	rrpc "github.com/argoproj/argo-rollouts/rollout/trafficrouting/plugin/rpc"
	"github.com/argoproj/argo-rollouts/utils/plugin/types"

	"github.com/nerve-rollouts/nerve/interop/internal/doc"
)

// argoTypes returns a fresh Argo value of each golden wire struct.
func argoTypes() map[string]func() any {
	return map[string]func() any{
		"UpdateHashArgs":               func() any { return new(rrpc.UpdateHashArgs) },
		"SetWeightAndVerifyWeightArgs": func() any { return new(rrpc.SetWeightAndVerifyWeightArgs) },
		"SetHeaderArgs":                func() any { return new(rrpc.SetHeaderArgs) },
		"SetMirrorArgs":                func() any { return new(rrpc.SetMirrorArgs) },
		"RemoveManagedRoutesArgs":      func() any { return new(rrpc.RemoveManagedRoutesArgs) },
		"VerifyWeightResponse":         func() any { return new(rrpc.VerifyWeightResponse) },
		"RpcError":                     func() any { return new(types.RpcError) },
		"RunArgs":                      func() any { return new(trpc.RunArgs) },
		"TerminateAndResumeArgs":       func() any { return new(trpc.TerminateAndResumeArgs) },
		"GarbageCollectArgs":           func() any { return new(trpc.GarbageCollectArgs) },
		"GetMetadataArgs":              func() any { return new(trpc.GetMetadataArgs) },
		"Measurement":                  func() any { return new(v1alpha1.Measurement) },
	}
}

// fixture returns the golden document and the Argo value decoded from it.
func fixture(t *testing.T, name string) (any, any) {
	t.Helper()
	raw, err := doc.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	want, err := doc.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	v := argoTypes()[name]()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("golden %s into Argo's type: %v", name, err)
	}
	return want, v
}

// check compares an Argo value with the golden document.
func check(t *testing.T, what string, want, v any) {
	t.Helper()
	got, err := doc.Of(v)
	if err != nil {
		t.Fatal(err)
	}
	if diffs := doc.Subset(want, got); len(diffs) > 0 {
		t.Errorf("%s differs from the golden document:\n%s", what, doc.Report(diffs))
	}
}

// TestGoldenArgoTypesHoldEveryField: every field of nerve's fully populated documents exists
// in Argo's types (so the Argo encoding below carries all of them).
func TestGoldenArgoTypesHoldEveryField(t *testing.T) {
	for _, name := range doc.Names() {
		want, v := fixture(t, name)
		check(t, name+" through Argo's JSON", want, v)
	}
}

// TestGoldenArgoEncodes writes Argo's gob encoding of every golden document (with
// NERVE_UPDATE_GOLDEN=1) and checks the committed one decodes back into Argo's types; nerve's
// plugins/golden_test.go TestGoldenFromArgo decodes the same files into nerve's types.
func TestGoldenArgoEncodes(t *testing.T) {
	dir := filepath.Join(doc.GoldenDir(), "argo")
	for _, name := range doc.Names() {
		want, v := fixture(t, name)
		path := filepath.Join(dir, name+".gob")
		if os.Getenv("NERVE_UPDATE_GOLDEN") == "1" {
			var buf bytes.Buffer
			if err := gob.NewEncoder(&buf).Encode(v); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		back := argoTypes()[name]()
		decode(t, path, back)
		check(t, "argo/"+name+".gob", want, back)
	}
}

// TestGoldenNerveDecodesIntoArgo decodes nerve's encodings into Argo's types, field by field.
func TestGoldenNerveDecodesIntoArgo(t *testing.T) {
	for _, name := range doc.Names() {
		want, _ := fixture(t, name)
		v := argoTypes()[name]()
		decode(t, filepath.Join(doc.GoldenDir(), "nerve", name+".gob"), v)
		check(t, "nerve/"+name+".gob decoded by Argo", want, v)
	}
}

func decode(t *testing.T, path string, into any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
