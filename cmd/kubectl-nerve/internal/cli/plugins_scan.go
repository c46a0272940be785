package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/host"
)

// RegistryEntry is one plugin of the argo-rollouts-config registry as `plugins list -o` prints it
// (the host parses and validates the ConfigMap; this is only the report's view of an entry).
type RegistryEntry struct {
	Name     string   `json:"name"`
	Location string   `json:"location"`
	SHA256   string   `json:"sha256,omitempty"`
	Args     []string `json:"args,omitempty"`
	Kind     string   `json:"-"`
}

// PluginBinary is one binary of the plugin directory and what was found about it.
type PluginBinary struct {
	Path     string `json:"path"`
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	SHA256   string `json:"sha256"`
	Registry string `json:"registry,omitempty"`
	Status   string `json:"status"`
	Problem  string `json:"problem,omitempty"`
}

// scanDir lists the executables of dir with kind (host.DetectKind, after computing the sum) and
// sha256; names follows host.BinaryName unless names maps the file.
func scanDir(ctx context.Context, dir string, names map[string]string) ([]PluginBinary, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("plugin directory: %w", err)
	}
	var out []PluginBinary
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || e.IsDir() || info.Mode()&0o111 == 0 {
			continue
		}
		b, err := scanBinary(ctx, dir, e.Name(), names)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// scanBinary checksums and probes one binary of dir.
func scanBinary(ctx context.Context, dir, file string, names map[string]string) (PluginBinary, error) {
	path, err := filepath.Abs(filepath.Join(dir, file))
	if err != nil {
		return PluginBinary{}, err
	}
	name := host.BinaryName(file)
	if n, ok := names[file]; ok {
		name = n
	}
	b := PluginBinary{Path: path, Name: name, Status: "ok"}
	if b.SHA256, err = host.FileSHA256(path); err != nil {
		return PluginBinary{}, err
	}
	kind, err := host.DetectKind(ctx, path, b.SHA256)
	if err != nil {
		b.Kind, b.Status, b.Problem = "?", "bad", err.Error()
	} else {
		b.Kind = string(kind)
	}
	return b, nil
}

// clusterRegistry is the registry read from the cluster.
type clusterRegistry struct {
	// Found is false when there is no ConfigMap.
	Found bool
	// Entries are the valid entries, by name.
	Entries []RegistryEntry
	// Problems are the host's Error findings, prefixed with the ConfigMap.
	Problems []string
}

// clusterRegistry reads the registry from the cluster and checks it with the plugin host.
func (f *Factory) clusterRegistry(ctx context.Context, ns string) (clusterRegistry, error) {
	kube, err := f.Kube()
	if err != nil {
		return clusterRegistry{}, err
	}
	cm := &corev1.ConfigMap{}
	err = kube.ConfigMaps.Get(ctx, ns, host.ConfigMapName, cm)
	if apierrors.IsNotFound(err) {
		return clusterRegistry{}, nil
	}
	if err != nil {
		return clusterRegistry{}, fmt.Errorf("read %s/%s: %w", ns, host.ConfigMapName, err)
	}
	reg, findings := host.CheckConfigMap(cm.Data)
	out := clusterRegistry{Found: true, Entries: registryEntries(reg)}
	for _, fd := range findings {
		if fd.Severity == host.SeverityError {
			out.Problems = append(out.Problems, fmt.Sprintf("%s/%s: %s", ns, host.ConfigMapName, fd))
		}
	}
	return out, nil
}

// registryEntries lists the host registry's entries by name.
func registryEntries(reg host.Registry) []RegistryEntry {
	var out []RegistryEntry
	for _, spec := range plugins.Kinds() {
		for _, e := range reg.Entries(spec.Kind) {
			out = append(out, RegistryEntry{Name: e.Name, Location: e.Location, SHA256: e.SHA256, Args: e.Args, Kind: string(e.Kind)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// crossCheck compares the binaries with the registry entries.
func crossCheck(bins []PluginBinary, reg []RegistryEntry) []string {
	var problems []string
	byName := map[string]RegistryEntry{}
	for _, e := range reg {
		byName[e.Name] = e
	}
	for i := range bins {
		b := &bins[i]
		e, ok := byName[b.Name]
		if !ok {
			b.Registry = "not registered"
			continue
		}
		switch {
		case e.Kind != b.Kind && b.Kind != "?":
			b.Status, b.Problem = "bad", fmt.Sprintf("registered as %s, answers as %s", e.Kind, b.Kind)
		case e.SHA256 == "":
			b.Registry = "registered, no sha256"
		case e.SHA256 != b.SHA256:
			b.Status, b.Problem = "bad", fmt.Sprintf("sha256 %s… differs from the registry's %s…", b.SHA256[:12], short(e.SHA256))
		default:
			b.Registry = "sha256 matches"
		}
	}
	for _, b := range bins {
		if b.Problem != "" {
			problems = append(problems, b.Name+": "+b.Problem)
		}
	}
	return problems
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// strayPlugins lists kubectl-nerve-* and kubectl-nerve_* executables on PATH: kubectl runs them
// instead of kubectl-nerve for the matching subcommand.
func strayPlugins(path string) []string {
	var out []string
	for _, dir := range filepath.SplitList(path) {
		for _, pattern := range []string{"kubectl-nerve-*", "kubectl-nerve_*"} {
			matches, _ := filepath.Glob(filepath.Join(dir, pattern))
			out = append(out, matches...)
		}
	}
	sort.Strings(out)
	return out
}
