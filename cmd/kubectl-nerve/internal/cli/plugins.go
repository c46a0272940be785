package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/view"
	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/host"
)

// PluginsReport is what `plugins list|verify -o` prints.
type PluginsReport struct {
	Dir       string          `json:"dir"`
	Binaries  []PluginBinary  `json:"binaries"`
	Registry  []RegistryEntry `json:"registry,omitempty"`
	Stray     []string        `json:"strayOnPath,omitempty"`
	Problems  []string        `json:"problems,omitempty"`
	RegSource string          `json:"registrySource"`
}

// PluginsOptions are the options of `plugins list|verify|config`.
type PluginsOptions struct {
	genericiooptions.IOStreams
	f      *Factory
	output *outputFlags

	Dir               string
	Names             map[string]string
	RegistryNamespace string
	NoCluster         bool
	ConfigNamespace   string
	verify            bool
}

// NewCmdPlugins is `plugins list|verify|config`.
func NewCmdPlugins(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	return newGroupCmd("plugins", "Inspect go-plugin binaries: kind by handshake, sha256 against the argo-rollouts-config registry",
		"list, verify, config",
		newPluginsListCmd(streams, f, false), newPluginsListCmd(streams, f, true), newPluginsConfigCmd(streams, f))
}

func (o *PluginsOptions) addDirFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Dir, "dir", "bin/plugins", "Directory holding the plugin binaries")
	cmd.Flags().StringToStringVar(&o.Names, "name", nil, "Registry name of a binary, BINARY=NAME (default nerve-x → nerve/x)")
}

func newPluginsListCmd(streams genericiooptions.IOStreams, f *Factory, verify bool) *cobra.Command {
	o := &PluginsOptions{IOStreams: streams, f: f, output: newOutputFlags(), verify: verify, RegistryNamespace: "argo-rollouts"}
	use, short := "list", "List the plugin binaries: kind (handshake), sha256, registry entry; flags stray kubectl-nerve-* on PATH"
	if verify {
		use, short = "verify", "Like list, but exit 1 on any handshake failure, sha256 mismatch or stray kubectl-nerve-* on PATH"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.output.Validate(); err != nil {
				return err
			}
			return o.RunList(cmd.Context())
		},
	}
	o.addDirFlags(cmd)
	cmd.Flags().StringVar(&o.RegistryNamespace, "registry-namespace", o.RegistryNamespace, "Namespace of the argo-rollouts-config ConfigMap")
	cmd.Flags().BoolVar(&o.NoCluster, "no-cluster", false, "Do not read the registry from the cluster")
	o.output.AddFlags(cmd)
	return cmd
}

// Collect scans the directory, the registry and PATH.
func (o *PluginsOptions) Collect(ctx context.Context) (PluginsReport, error) {
	rep := PluginsReport{Dir: o.Dir, RegSource: "none"}
	bins, err := scanDir(ctx, o.Dir, o.Names)
	if err != nil {
		return rep, err
	}
	rep.Binaries = bins
	if !o.NoCluster {
		reg, err := o.f.clusterRegistry(ctx, o.RegistryNamespace)
		switch {
		case err != nil:
			rep.Problems = append(rep.Problems, err.Error())
		case reg.Found:
			rep.Registry = reg.Entries
			rep.RegSource = o.RegistryNamespace + "/" + host.ConfigMapName
			rep.Problems = append(rep.Problems, reg.Problems...)
		}
	}
	rep.Problems = append(rep.Problems, crossCheck(rep.Binaries, rep.Registry)...)
	rep.Stray = strayPlugins(o.f.Getenv("PATH"))
	for _, s := range rep.Stray {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%s on PATH shadows a kubectl nerve subcommand; plugin binaries belong in a plugin directory", s))
	}
	return rep, nil
}

// RunList prints the report (and fails for verify when there are problems).
func (o *PluginsOptions) RunList(ctx context.Context) error {
	rep, err := o.Collect(ctx)
	if err != nil {
		return err
	}
	if !o.output.Human() {
		r, err := report("PluginsReport", "plugins", rep)
		if err != nil {
			return err
		}
		if err := o.output.Print(r, o.Out); err != nil {
			return err
		}
	} else if err := writePlugins(o.Out, rep); err != nil {
		return err
	}
	if o.verify && len(rep.Problems) > 0 {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("plugins verify: %d problem(s)", len(rep.Problems))}
	}
	return nil
}

func writePlugins(w interface{ Write([]byte) (int, error) }, rep PluginsReport) error {
	rows := make([][]string, 0, len(rep.Binaries))
	for _, b := range rep.Binaries {
		rows = append(rows, []string{b.Name, b.Kind, b.Status, b.SHA256[:16] + "…", dash(b.Registry), b.Path})
	}
	if err := view.Table(w, []string{"NAME", "KIND", "STATUS", "SHA256", "REGISTRY", "PATH"}, rows); err != nil {
		return err
	}
	if err := printf(w, "registry: %s\n", rep.RegSource); err != nil {
		return err
	}
	for _, p := range rep.Problems {
		if err := printf(w, "problem: %s\n", p); err != nil {
			return err
		}
	}
	return nil
}

func newPluginsConfigCmd(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	o := &PluginsOptions{IOStreams: streams, f: f, ConfigNamespace: "argo-rollouts"}
	cmd := &cobra.Command{
		Use:     "config",
		Short:   "Print an argo-rollouts-config ConfigMap for the binaries in --dir, with their real sha256 and file:// locations",
		Example: "  kubectl nerve plugins config --dir bin/plugins | kubectl apply -f -",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.RunConfig(cmd.Context())
		},
	}
	o.addDirFlags(cmd)
	cmd.Flags().StringVar(&o.ConfigNamespace, "config-namespace", o.ConfigNamespace, "Namespace written into the ConfigMap")
	return cmd
}

// RunConfig prints the ConfigMap.
func (o *PluginsOptions) RunConfig(ctx context.Context) error {
	bins, err := scanDir(ctx, o.Dir, o.Names)
	if err != nil {
		return err
	}
	cm, err := RegistryConfigMap(bins, o.ConfigNamespace)
	if err != nil {
		return err
	}
	out, err := yaml.Marshal(cm)
	if err != nil {
		return err
	}
	_, err = o.Out.Write(out)
	return err
}

// RegistryConfigMap builds the argo-rollouts-config ConfigMap for bins (written by the plugin
// host, so it is exactly what the controller accepts).
func RegistryConfigMap(bins []PluginBinary, ns string) (*corev1.ConfigMap, error) {
	var reg host.Registry
	var bad []string
	for _, b := range bins {
		kind := plugins.Kind(b.Kind)
		if !kind.Known() {
			bad = append(bad, b.Path+": "+b.Problem)
			continue
		}
		reg.Add(host.Entry{Name: b.Name, Kind: kind, Location: "file://" + b.Path, SHA256: b.SHA256})
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("not a plugin: %s", strings.Join(bad, "; "))
	}
	data, err := reg.ConfigMapData()
	if err != nil {
		return nil, err
	}
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: host.ConfigMapName, Namespace: ns},
		Data:       data,
	}, nil
}
