package lint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			return err
		}
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(p)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// The Applications as they were before issue 17 (D1-D3) are reported with file and line.
func TestGitOpsBrokenTree(t *testing.T) {
	fs := LintGitOps(readTree(t, "testdata/gitops-broken"))
	out := render(fs)
	golden(t, "gitops-broken", out)
	for _, want := range []string{
		"clinical-ingestion.yaml:8: error: Application/clinical-ingestion: metadata.annotations.argocd.argoproj.io/sync-wave: the sync wave of an Application does not wait",
		"clinical-ingestion.yaml:21: error: Application/clinical-ingestion: spec.syncPolicy.syncOptions: ServerSideApply=true without the compare option ServerSideDiff=true",
		"clinical-ingestion.yaml:27: error: Application/clinical-ingestion: spec.ignoreDifferences[0]: MLLPRoute fields are ignored only in the diff",
		"clinical-ingestion.yaml:30: warning: Application/clinical-ingestion: spec.ignoreDifferences[1]: Service fields",
		"platform-kafka.yaml:8: error: Application/platform-kafka",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("findings lack %q:\n%s", want, out)
		}
	}
}

// nerve's own GitOps tree lints clean.
func TestGitOpsShippedTreeIsClean(t *testing.T) {
	fs := LintGitOps(readTree(t, "../../../../manifests/argocd"))
	if len(fs) != 0 {
		t.Errorf("manifests/argocd:\n%s", render(fs))
	}
}

func TestGitOpsApplicationSetAndParams(t *testing.T) {
	files := map[string][]byte{
		"appset.yaml": []byte(`apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: envs}
spec:
  generators: [{list: {elements: [{env: dev}]}}]
  template:
    metadata: {name: 'x-{{env}}'}
    spec:
      syncPolicy:
        syncOptions: [ServerSideApply=true]
`),
	}
	fs := LintGitOps(files)
	if len(fs) != 1 || fs[0].Line != 10 || fs[0].Path != "spec.template.spec.syncPolicy.syncOptions" {
		t.Fatalf("want one ServerSideDiff finding at line 10:\n%s", render(fs))
	}
	files["params.yaml"] = []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: argocd-cmd-params-cm}\ndata: {controller.diff.server.side: \"true\"}\n")
	if fs := LintGitOps(files); len(fs) != 0 {
		t.Fatalf("server-side diff enabled globally:\n%s", render(fs))
	}
}
