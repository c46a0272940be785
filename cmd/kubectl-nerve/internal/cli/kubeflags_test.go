package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/rest"
)

// flagInfo is everything a user sees of a flag.
type flagInfo struct {
	Name, Shorthand, Usage, DefValue, Type, NoOptDefVal, Deprecated, ShorthandDeprecated string
	Hidden                                                                               bool
	Annotations                                                                          map[string][]string
}

// flagsOf lists fs's flags in the order they were added.
func flagsOf(fs *pflag.FlagSet) []flagInfo {
	fs.SortFlags = false
	var out []flagInfo
	fs.VisitAll(func(f *pflag.Flag) {
		out = append(out, flagInfo{f.Name, f.Shorthand, f.Usage, f.DefValue, f.Value.Type(), f.NoOptDefVal, f.Deprecated,
			f.ShorthandDeprecated, f.Hidden, f.Annotations})
	})
	return out
}

// The kubeconfig flags are genericclioptions.NewConfigFlags(true)'s, flag for flag.
func TestConfigFlagsAreKubectls(t *testing.T) {
	t.Setenv("KUBECACHEDIR", "/cache/dir")
	ours, theirs := pflag.NewFlagSet("ours", pflag.ContinueOnError), pflag.NewFlagSet("theirs", pflag.ContinueOnError)
	NewConfigFlags(true).AddFlags(ours)
	genericclioptions.NewConfigFlags(true).AddFlags(theirs)
	got, want := flagsOf(ours), flagsOf(theirs)
	if len(want) < 20 {
		t.Fatalf("genericclioptions has only %d flags: %+v", len(want), want)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("flags (-genericclioptions +nerve):\n%s", d)
	}
}

// The -o flags are genericclioptions.NewPrintFlags("")'s, flag for flag.
func TestPrintFlagsAreKubectls(t *testing.T) {
	ours, theirs := &cobra.Command{Use: "x"}, &cobra.Command{Use: "x"}
	newPrintFlags().addFlags(ours)
	genericclioptions.NewPrintFlags("").AddFlags(theirs)
	if d := cmp.Diff(flagsOf(theirs.Flags()), flagsOf(ours.Flags())); d != "" {
		t.Errorf("flags (-genericclioptions +nerve):\n%s", d)
	}
	if d := cmp.Diff(genericclioptions.NewPrintFlags("").AllowedFormats(), newPrintFlags().allowedFormats()); d != "" {
		t.Errorf("formats (-genericclioptions +nerve):\n%s", d)
	}
}

// Every -o choice prints what genericclioptions' printer prints, or fails with its error.
func TestPrintersAreKubectls(t *testing.T) {
	dir := t.TempDir()
	tmplFile, jpFile := filepath.Join(dir, "t.tmpl"), filepath.Join(dir, "t.jsonpath")
	if err := os.WriteFile(tmplFile, []byte("{{.metadata.name}} from a file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jpFile, []byte("{.kind}"), 0o600); err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
		"metadata": map[string]any{"name": "web", "namespace": "ns", "managedFields": []any{map[string]any{"manager": "kubectl"}}},
		"spec":     map[string]any{"replicas": int64(3)}}}
	cases := [][]string{
		{"-o", "json"}, {"-o", "yaml"}, {"-o", "kyaml"}, {"-o", "JSON"}, {"-o", "yaml", "--show-managed-fields"},
		{"-o", "name"}, {"-o", "Name"},
		{"-o", "jsonpath={.metadata.name}"}, {"-o", "jsonpath-as-json={.spec}"}, {"-o", "jsonpath-file=" + jpFile},
		{"-o", "jsonpath"}, {"-o", "jsonpath={.missing}"}, {"-o", "jsonpath={.missing}", "--allow-missing-template-keys=false"},
		{"-o", "jsonpath={.bad"}, {"-o", "jsonpath", "--template", "{.kind}"},
		{"-o", "go-template={{.kind}}"}, {"-o", "template={{.metadata.namespace}}"}, {"-o", "go-template-file=" + tmplFile},
		{"-o", "templatefile=" + filepath.Join(dir, "missing")}, {"-o", "go-template={{"}, {"-o", "go-template"},
		{"--template", "{{.spec.replicas}}"}, {"--template", "{{.x}}", "-o", "json"},
		{"-o", "bogus"}, {"-o", "wide2"}, {"-o", "jsonpath=x", "--template", "y"},
	}
	errs, printed := 0, 0
	for _, args := range cases {
		name := strings.Join(args, " ")
		got := printWith(t, args, func(cmd *cobra.Command) func() (string, error) {
			p := newPrintFlags()
			p.addFlags(cmd)
			return func() (string, error) {
				pr, err := p.toPrinter()
				return printObj(pr, err, obj)
			}
		})
		want := printWith(t, args, func(cmd *cobra.Command) func() (string, error) {
			p := genericclioptions.NewPrintFlags("")
			p.AddFlags(cmd)
			return func() (string, error) {
				pr, err := p.ToPrinter()
				return printObj(pr, err, obj)
			}
		})
		if got != want {
			t.Errorf("%s:\n got %q\nwant %q", name, got, want)
		}
		if strings.HasPrefix(want, "error: ") {
			errs++
		} else if want != "" {
			printed++
		}
	}
	if errs < 5 || printed < 10 {
		t.Errorf("%d cases failed and %d printed: the table no longer covers both", errs, printed)
	}
}

// printWith parses args into a command whose flags add makes, and returns what its printer
// printed or the error.
func printWith(t *testing.T, args []string, add func(*cobra.Command) func() (string, error)) string {
	t.Helper()
	cmd := &cobra.Command{Use: "x"}
	run := add(cmd)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	out, err := run()
	if err != nil {
		return "error: " + err.Error()
	}
	return out
}

func printObj(p printers.ResourcePrinter, err error, obj runtime.Object) (string, error) {
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := p.PrintObj(obj.DeepCopyObject(), &b); err != nil {
		return "", fmt.Errorf("print: %w", err)
	}
	return b.String(), nil
}

// The loader sees the flags as genericclioptions' does: the same client config, namespace and
// errors.
func TestConfigFlagsLoadAsKubectls(t *testing.T) {
	dir := t.TempDir()
	kc := filepath.Join(dir, "config")
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
current-context: a
clusters:
- name: c1
  cluster: {server: "https://one.example:6443"}
- name: c2
  cluster: {server: "https://two.example:6443"}
users:
- name: u1
  user: {token: t1}
contexts:
- name: a
  context: {cluster: c1, user: u1, namespace: team-a}
- name: b
  context: {cluster: c2, user: u1}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", "")
	cases := [][]string{
		{"--kubeconfig", kc},
		{"--kubeconfig", kc, "--context", "b"},
		{"--kubeconfig", kc, "-n", "other", "--as", "alice", "--as-group", "g1", "--as-group", "g2", "--as-uid", "u",
			"--as-user-extra", "scopes=a", "--as-user-extra", "scopes=b", "--as-user-extra", "bad"},
		{"--kubeconfig", kc, "-s", "https://three.example", "--token", "t2", "--insecure-skip-tls-verify",
			"--tls-server-name", "name.example", "--request-timeout", "5s", "--disable-compression", "--proxy-url", "http://proxy:3128"},
		{"--kubeconfig", kc, "--cluster", "c2", "--user", "u1", "--client-certificate", "/c.crt", "--client-key", "/c.key",
			"--certificate-authority", "/ca.crt"},
		{"--kubeconfig", kc, "--context", "missing"},
		{"--kubeconfig", empty},
		{"--kubeconfig", filepath.Join(dir, "absent")},
	}
	for _, args := range cases {
		ours, theirs := NewConfigFlags(true), genericclioptions.NewConfigFlags(true)
		got := loadWith(t, args, ours.AddFlags, ours.ToRESTConfig, ours.ToRawKubeConfigLoader().Namespace)
		want := loadWith(t, args, theirs.AddFlags, theirs.ToRESTConfig, theirs.ToRawKubeConfigLoader().Namespace)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%v (-genericclioptions +nerve):\n%s", args, d)
		}
	}
}

func loadWith(t *testing.T, args []string, add func(*pflag.FlagSet), cfg func() (*rest.Config, error), ns func() (string, bool, error)) string {
	t.Helper()
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	add(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	var b bytes.Buffer
	c, err := cfg()
	if err != nil {
		fmt.Fprintf(&b, "config error: %v\n", err)
	} else {
		fmt.Fprintf(&b, "host %s timeout %s token %q impersonate %+v tls %+v compression-off %v\n", c.Host, c.Timeout,
			c.BearerToken, c.Impersonate, c.TLSClientConfig, c.DisableCompression)
		if c.Proxy != nil {
			u, _ := c.Proxy(nil)
			fmt.Fprintf(&b, "proxy %v\n", u)
		}
	}
	n, explicit, err := ns()
	fmt.Fprintf(&b, "namespace %q explicit %v err %v\n", n, explicit, err)
	return b.String()
}
