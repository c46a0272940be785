package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/nerve-rollouts/nerve/plugins"
)

// Registry keys of the argo-rollouts-config ConfigMap.
const (
	registryConfigMap   = "argo-rollouts-config"
	registryRouterKey   = "trafficRouterPlugins"
	registryProviderKey = "metricProviderPlugins"
	handshakeTimeout    = 5 * time.Second
)

// RegistryEntry is one plugin of the argo-rollouts-config registry.
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

// pluginName is the registry name of a plugin binary: nerve-<x> → nerve/<x>, with the names the
// plugins read by default.
func pluginName(binary string) string {
	known := map[string]string{"nerve-gatewayapi": "nerve/gatewayAPI"}
	if n, ok := known[binary]; ok {
		return n
	}
	if rest, ok := strings.CutPrefix(binary, "nerve-"); ok {
		return "nerve/" + rest
	}
	return binary
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// probeKind runs the binary with each kind's go-plugin handshake and returns the kind that
// answers.
func probeKind(ctx context.Context, path string) (plugins.Kind, error) {
	var last error
	for _, k := range []plugins.Kind{plugins.KindTrafficRouter, plugins.KindMetricProvider} {
		c := goplugin.NewClient(&goplugin.ClientConfig{
			HandshakeConfig:  plugins.Handshake(k),
			Plugins:          plugins.PluginSet(k, handshakeTimeout),
			Cmd:              exec.CommandContext(ctx, path),
			AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolNetRPC},
			Logger:           hclog.NewNullLogger(),
			StartTimeout:     handshakeTimeout,
		})
		_, err := c.Client()
		c.Kill()
		if err == nil {
			return k, nil
		}
		last = err
	}
	return "", fmt.Errorf("no handshake as trafficrouter or metricprovider: %v", last)
}

// scanDir lists the executables of dir with kind and sha256.
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
		path, _ := filepath.Abs(filepath.Join(dir, e.Name()))
		name := pluginName(e.Name())
		if n, ok := names[e.Name()]; ok {
			name = n
		}
		b := PluginBinary{Path: path, Name: name, Status: "ok"}
		if b.SHA256, err = fileSHA256(path); err != nil {
			return nil, err
		}
		kind, err := probeKind(ctx, path)
		if err != nil {
			b.Kind, b.Status, b.Problem = "?", "bad", err.Error()
		} else {
			b.Kind = string(kind)
		}
		out = append(out, b)
	}
	return out, nil
}

// parseRegistry reads the plugin lists of an argo-rollouts-config ConfigMap.
func parseRegistry(data map[string]string) ([]RegistryEntry, error) {
	var out []RegistryEntry
	for key, kind := range map[string]string{registryRouterKey: string(plugins.KindTrafficRouter), registryProviderKey: string(plugins.KindMetricProvider)} {
		var list []RegistryEntry
		if err := yaml.Unmarshal([]byte(data[key]), &list); err != nil {
			return nil, fmt.Errorf("%s %s: %w", registryConfigMap, key, err)
		}
		for i := range list {
			list[i].Kind = kind
		}
		out = append(out, list...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// clusterRegistry reads the registry from the cluster; found is false when there is none.
func (f *Factory) clusterRegistry(ctx context.Context, ns string) ([]RegistryEntry, bool, error) {
	kube, err := f.Kube()
	if err != nil {
		return nil, false, err
	}
	cm, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, registryConfigMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s/%s: %w", ns, registryConfigMap, err)
	}
	entries, err := parseRegistry(cm.Data)
	return entries, true, err
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
