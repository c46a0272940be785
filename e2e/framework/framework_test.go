//go:build e2e

package framework

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNamespaceNameIsDNSLabel(t *testing.T) {
	n := namespaceName("TestSomething/Sub_Case#01 with A Very Long Name That Goes On And On")
	if len(n) > 63 || strings.Trim(n, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" || strings.Contains(n, "--") {
		t.Fatalf("namespace name %q is not a DNS-1123 label", n)
	}
	if n == namespaceName("TestSomething/Sub_Case#01 with A Very Long Name That Goes On And On") {
		t.Fatal("namespace names are not random")
	}
}

func TestDecodeManifestMultiDoc(t *testing.T) {
	objs, err := decodeManifest([]byte("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n\n---\n" +
		`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"b"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].GetKind() != "ConfigMap" || objs[1].GetName() != "b" {
		t.Fatalf("decoded %d objects: %v", len(objs), objs)
	}
	if _, err := decodeManifest([]byte("metadata: {name: x}\n")); err == nil {
		t.Fatal("object without kind accepted")
	}
}

func TestLoadEnvFileKeepsSetVariables(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env")
	content := "# comment\nNERVE_FW_TEST_A=from-file\nNERVE_FW_TEST_B=\"quoted\"\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NERVE_FW_TEST_A", "preset")
	t.Setenv("NERVE_FW_TEST_B", "")
	if err := os.Unsetenv("NERVE_FW_TEST_B"); err != nil {
		t.Fatal(err)
	}
	if err := loadEnvFile(path); err != nil {
		t.Fatal(err)
	}
	if got := os.Getenv("NERVE_FW_TEST_A"); got != "preset" {
		t.Errorf("A = %q, want preset (environment wins)", got)
	}
	if got := os.Getenv("NERVE_FW_TEST_B"); got != "quoted" {
		t.Errorf("B = %q, want quoted", got)
	}
}

func TestPollReportsLastError(t *testing.T) {
	boom := errors.New("boom")
	err := Poll(t.Context(), 50*time.Millisecond, 10*time.Millisecond, func(context.Context) (bool, error) {
		return false, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Poll error %v, want it to wrap the last condition error", err)
	}
	calls := 0
	err = Poll(t.Context(), time.Second, time.Millisecond, func(context.Context) (bool, error) {
		calls++
		return calls == 3, nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("Poll = %v after %d calls", err, calls)
	}
}
