package gatewayapi

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// longFlags are the flags that may also be written with one dash, as the labs plugin's Go
// flag package accepts (-kubeClientQPS=20); pflag would read those as shorthand clusters.
func longFlags() []string {
	return []string{"name", "kubeClientQPS", "kubeClientBurst", "logformat", "verifyWait"}
}

// ParseArgs parses the plugin binary's arguments (without the program name):
//
//	--name NS/NAME        config key under trafficRouting.plugins (default nerve/gatewayAPI)
//	--kubeClientQPS N     Kubernetes client QPS (default 5, as the labs plugin)
//	--kubeClientBurst N   Kubernetes client burst (default 10)
//	--logformat text|json accepted for compatibility; logs are always JSON lines on stderr
//	--verifyWait D        how long VerifyWeight waits for the Gateway to accept a change (default 2s)
//
// Every flag may be written with one or two dashes. Usage goes to usage (never stdout: that
// belongs to go-plugin).
func ParseArgs(args []string, usage io.Writer) (Options, error) {
	fs := pflag.NewFlagSet("nerve-gatewayapi", pflag.ContinueOnError)
	fs.SetOutput(usage)
	name := fs.String("name", DefaultPluginName, "config key under spec.strategy.canary.trafficRouting.plugins (e.g. argoproj-labs/gatewayAPI for a drop-in swap)")
	qps := fs.Float32("kubeClientQPS", 5, "QPS of the Kubernetes client")
	burst := fs.Int("kubeClientBurst", 10, "burst of the Kubernetes client")
	logFormat := fs.String("logformat", "json", "accepted for compatibility with the labs plugin; logs are always JSON on stderr")
	verifyWait := fs.Duration("verifyWait", DefaultVerifyWait, "how long VerifyWeight re-checks a route the Gateway has not accepted yet before answering NotVerified (0 = at once)")
	if err := fs.Parse(normalizeArgs(args)); err != nil {
		return Options{}, err
	}
	if fs.NArg() > 0 {
		return Options{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *logFormat != "json" && *logFormat != "text" {
		return Options{}, fmt.Errorf("--logformat must be text or json, got %q", *logFormat)
	}
	if *name == "" {
		return Options{}, fmt.Errorf("--name must not be empty")
	}
	if *verifyWait < 0 {
		return Options{}, fmt.Errorf("--verifyWait must not be negative")
	}
	return Options{Name: *name, QPS: *qps, Burst: *burst, VerifyWait: *verifyWait}, nil
}

// normalizeArgs rewrites -flag and -flag=value into --flag forms for the long flags.
func normalizeArgs(args []string) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") {
			flag, _, _ := strings.Cut(a[1:], "=")
			for _, f := range longFlags() {
				if flag == f {
					a = "-" + a
					break
				}
			}
		}
		out = append(out, a)
	}
	return out
}
