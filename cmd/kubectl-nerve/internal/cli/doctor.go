package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	authv1 "k8s.io/api/authorization/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/view"
	"github.com/nerve-rollouts/nerve/plugins/host"
)

// Check results.
const (
	checkOK   = "ok"
	checkWarn = "warn"
	checkFail = "fail"
)

// Check is one doctor finding.
type Check struct {
	Area   string `json:"area"`
	Check  string `json:"check"`
	Result string `json:"result"`
	Detail string `json:"detail,omitempty"`
}

// access is one permission the workflow needs.
type access struct {
	verb, group, resource, sub, why string
}

// neededAccess lists the verbs kubectl nerve uses.
func neededAccess() []access {
	g := v1alpha1.Group
	return []access{
		{"get", g, "rollouts", "", "get rollout, status"},
		{"list", g, "rollouts", "", "list rollouts"},
		{"watch", g, "rollouts", "", "get -w, status"},
		{"patch", g, "rollouts", "", "pause, resume, restart, undo, promote"},
		{"update", g, "rollouts", "", "set image"},
		{"patch", g, "rollouts", "status", "promote, abort, retry"},
		{"list", g, "analysisruns", "", "get rollout, analysis"},
		{"list", "apps", "replicasets", "", "get rollout, undo"},
		{"list", "", "pods", "", "get rollout"},
	}
}

// DoctorOptions are the options of `doctor`.
type DoctorOptions struct {
	genericiooptions.IOStreams
	f      *Factory
	output *outputFlags

	PrometheusURL     string
	PluginDir         string
	RegistryNamespace string
	HTTP              *http.Client
}

// NewCmdDoctor is `doctor`.
func NewCmdDoctor(streams genericiooptions.IOStreams, f *Factory) *cobra.Command {
	o := &DoctorOptions{IOStreams: streams, f: f, output: newOutputFlags(), RegistryNamespace: "argo-rollouts",
		HTTP: &http.Client{Timeout: 5 * time.Second}}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check CRDs, RBAC (SelfSubjectAccessReview per verb), Prometheus, plugin checksums, kubectl and completion",
		Long:  "Check what kubectl nerve and nerve's controller need. Exit 1 when a check fails; warnings exit 0.",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.output.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&o.PrometheusURL, "prometheus-url", "", "Prometheus base URL (default $PROMETHEUS_URL)")
	cmd.Flags().StringVar(&o.PluginDir, "plugin-dir", "", "Plugin directory to check against the registry (skipped when empty)")
	cmd.Flags().StringVar(&o.RegistryNamespace, "registry-namespace", o.RegistryNamespace, "Namespace of the argo-rollouts-config ConfigMap")
	o.output.AddFlags(cmd)
	return cmd
}

// Run runs every check.
func (o *DoctorOptions) Run(ctx context.Context) error {
	var checks []Check
	kube, err := o.f.Kube()
	if err != nil {
		return err
	}
	ns, err := o.f.Namespace()
	if err != nil {
		return err
	}
	checks = append(checks, o.crds(ctx, kube)...)
	checks = append(checks, o.rbac(ctx, kube, ns)...)
	checks = append(checks, o.prometheus(ctx))
	checks = append(checks, o.plugins(ctx)...)
	checks = append(checks, o.kubectl(), o.completion())
	if err := o.print(checks); err != nil {
		return err
	}
	failed := 0
	for _, c := range checks {
		if c.Result == checkFail {
			failed++
		}
	}
	if failed > 0 {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("doctor: %d check(s) failed", failed)}
	}
	return nil
}

func (o *DoctorOptions) print(checks []Check) error {
	if !o.output.Human() {
		r, err := report("DoctorReport", "doctor", map[string]any{"checks": checks})
		if err != nil {
			return err
		}
		return o.output.Print(r, o.Out)
	}
	rows := make([][]string, 0, len(checks))
	for _, c := range checks {
		icon := map[string]string{checkOK: view.IconOK, checkWarn: view.IconWarning, checkFail: view.IconBad}[c.Result]
		rows = append(rows, []string{c.Area, c.Check, icon + " " + c.Result, c.Detail})
	}
	return view.Table(o.Out, []string{"AREA", "CHECK", "RESULT", "DETAIL"}, rows)
}

func (o *DoctorOptions) crds(ctx context.Context, kube *Kube) []Check {
	gv := v1alpha1.GroupVersion().String()
	list, err := kube.Resources(ctx, gv)
	if err != nil {
		return []Check{{"crds", gv, checkFail, err.Error()}}
	}
	served := map[string]bool{}
	for _, r := range list.APIResources {
		served[r.Name] = true
	}
	var out []Check
	for _, r := range []string{v1alpha1.RolloutResource, v1alpha1.AnalysisRunResource, v1alpha1.AnalysisTemplateResource, v1alpha1.ClusterAnalysisTemplateResource} {
		c := Check{"crds", r + "." + v1alpha1.Group, checkOK, "served at " + gv}
		if !served[r] {
			c.Result, c.Detail = checkFail, "not served: install manifests/crds"
		}
		out = append(out, c)
	}
	return out
}

func (o *DoctorOptions) rbac(ctx context.Context, kube *Kube, ns string) []Check {
	var out []Check
	for _, a := range neededAccess() {
		res := a.resource
		if a.sub != "" {
			res += "/" + a.sub
		}
		name := fmt.Sprintf("%s %s", a.verb, res)
		got, err := kube.mayI(ctx, authv1.ResourceAttributes{
			Namespace: ns, Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.sub,
		})
		switch {
		case err != nil:
			out = append(out, Check{"rbac", name, checkFail, err.Error()})
		case !got.Status.Allowed:
			out = append(out, Check{"rbac", name, checkFail, fmt.Sprintf("denied in namespace %s (needed by %s)", ns, a.why)})
		default:
			out = append(out, Check{"rbac", name, checkOK, "namespace " + ns})
		}
	}
	return out
}

func (o *DoctorOptions) prometheus(ctx context.Context) Check {
	u := o.PrometheusURL
	if u == "" {
		u = o.f.Getenv("PROMETHEUS_URL")
	}
	if u == "" {
		return Check{"prometheus", "reachable", checkWarn, "no --prometheus-url or PROMETHEUS_URL"}
	}
	target := strings.TrimRight(u, "/") + "/-/ready"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return Check{"prometheus", "reachable", checkFail, err.Error()}
	}
	resp, err := o.HTTP.Do(req)
	if err != nil {
		return Check{"prometheus", "reachable", checkFail, err.Error()}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Check{"prometheus", "reachable", checkFail, fmt.Sprintf("%s: %s", target, resp.Status)}
	}
	return Check{"prometheus", "reachable", checkOK, target}
}

func (o *DoctorOptions) plugins(ctx context.Context) []Check {
	var out []Check
	if stray := strayPlugins(o.f.Getenv("PATH")); len(stray) > 0 {
		out = append(out, Check{"plugins", "PATH", checkFail, "stray " + strings.Join(stray, ", ") + " shadow kubectl nerve subcommands"})
	} else {
		out = append(out, Check{"plugins", "PATH", checkOK, "no kubectl-nerve-* shadows"})
	}
	reg, err := o.f.clusterRegistry(ctx, o.RegistryNamespace)
	switch {
	case err != nil:
		return append(out, Check{"plugins", "registry", checkFail, err.Error()})
	case !reg.Found:
		out = append(out, Check{"plugins", "registry", checkWarn, fmt.Sprintf("no %s/%s: no plugins registered", o.RegistryNamespace, host.ConfigMapName)})
	default:
		for _, p := range reg.Problems {
			out = append(out, Check{"plugins", "registry", checkFail, p})
		}
		out = append(out, o.registryChecks(reg.Entries)...)
	}
	if o.PluginDir == "" {
		return out
	}
	bins, err := scanDir(ctx, o.PluginDir, nil)
	if err != nil {
		return append(out, Check{"plugins", o.PluginDir, checkFail, err.Error()})
	}
	crossCheck(bins, reg.Entries)
	for _, b := range bins {
		c := Check{"plugins", b.Name, checkOK, b.Kind + ", " + dash(b.Registry)}
		if b.Problem != "" {
			c.Result, c.Detail = checkFail, b.Problem
		}
		out = append(out, c)
	}
	return out
}

func (o *DoctorOptions) registryChecks(reg []RegistryEntry) []Check {
	var out []Check
	for _, e := range reg {
		c := Check{"plugins", e.Name, checkOK, e.Kind + " " + e.Location}
		path, isFile := strings.CutPrefix(e.Location, "file://")
		switch {
		case e.SHA256 == "":
			c.Result, c.Detail = checkWarn, "no sha256 in the registry: `kubectl nerve plugins config` writes it"
		case isFile:
			if sum, err := host.FileSHA256(path); err != nil {
				c.Result, c.Detail = checkWarn, "cannot read "+path+" here (it may live on the controller's host)"
			} else if sum != e.SHA256 {
				c.Result, c.Detail = checkFail, fmt.Sprintf("sha256 of %s is %s…, the registry says %s…", path, sum[:12], short(e.SHA256))
			} else {
				c.Detail += " (sha256 matches)"
			}
		}
		out = append(out, c)
	}
	return out
}

func (o *DoctorOptions) kubectl() Check {
	out, err := o.f.RunCommand("kubectl", "version", "--client", "-o", "json")
	if err != nil {
		return Check{"kubectl", "version", checkWarn, "kubectl not runnable: " + err.Error()}
	}
	var v struct {
		ClientVersion struct {
			Major, Minor, GitVersion string
		} `json:"clientVersion"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return Check{"kubectl", "version", checkWarn, "cannot parse `kubectl version`: " + err.Error()}
	}
	minor, _ := strconv.Atoi(strings.TrimRight(v.ClientVersion.Minor, "+"))
	if v.ClientVersion.Major == "1" && minor < 26 {
		return Check{"kubectl", "version", checkWarn, v.ClientVersion.GitVersion + ": plugin completion needs kubectl >= 1.26"}
	}
	return Check{"kubectl", "version", checkOK, v.ClientVersion.GitVersion}
}

func (o *DoctorOptions) completion() Check {
	p, err := o.f.LookPath("kubectl_complete-nerve")
	if err != nil {
		return Check{"completion", "kubectl_complete-nerve", checkWarn, "not on PATH: kubectl nerve completion kubectl-plugin > kubectl_complete-nerve (chmod +x, put on PATH)"}
	}
	return Check{"completion", "kubectl_complete-nerve", checkOK, p}
}
