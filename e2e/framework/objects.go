//go:build e2e

package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
)

// Get reads the named object through a dynamic client into a typed struct (JSON round trip),
// e.g. Get[v1alpha1.Rollout](ctx, ri, "web").
func Get[T any](ctx context.Context, ri dynamic.ResourceInterface, name string) (*T, error) {
	u, err := ri.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(u.Object)
	if err != nil {
		return nil, err
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		return nil, fmt.Errorf("decode %s: %w", name, err)
	}
	return out, nil
}

// List lists the objects of a dynamic client into typed structs (JSON round trip).
func List[T any](ctx context.Context, ri dynamic.ResourceInterface) ([]T, error) {
	l, err := ri.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(l.Items))
	for _, u := range l.Items {
		b, err := json.Marshal(u.Object)
		if err != nil {
			return nil, err
		}
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("decode %s: %w", u.GetName(), err)
		}
		out = append(out, v)
	}
	return out, nil
}

// CopyBinary copies an executable into the test's temp dir (a private copy a test may register
// with its own sha256, or corrupt) and returns its path.
func CopyBinary(t testing.TB, src string) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}
