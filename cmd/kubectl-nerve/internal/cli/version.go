package cli

import (
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// VersionInfo is what `version` prints.
type VersionInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// BuildVersion reads the version the Go toolchain stamped into the binary (the module version
// from the VCS tag, or a pseudo-version, and the VCS revision).
func BuildVersion() VersionInfo {
	v := VersionInfo{Version: "(devel)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// VersionOptions are the options of `version`.
type VersionOptions struct {
	genericiooptions.IOStreams
	output *outputFlags
	Short  bool
}

// NewCmdVersion is `version`.
func NewCmdVersion(streams genericiooptions.IOStreams, _ *Factory) *cobra.Command {
	o := &VersionOptions{IOStreams: streams, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the client version",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	cmd.Flags().BoolVar(&o.Short, "short", false, "Print the version only")
	o.output.AddFlags(cmd)
	return cmd
}

// Validate checks -o.
func (o *VersionOptions) Validate() error { return o.output.Validate() }

// Run prints the version.
func (o *VersionOptions) Run() error {
	v := BuildVersion()
	if !o.output.Human() {
		r, err := report("Version", "kubectl-nerve", v)
		if err != nil {
			return err
		}
		return o.output.Print(r, o.Out)
	}
	if o.Short {
		return printf(o.Out, "%s\n", v.Version)
	}
	rev := v.Revision
	if v.Modified {
		rev += "+dirty"
	}
	return printf(o.Out, "kubectl-nerve: %s\n  Revision: %s\n  GoVersion: %s\n  Platform: %s\n", v.Version, dash(rev), v.GoVersion, v.Platform)
}
