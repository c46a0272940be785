package app

import (
	"os"
	"strconv"
	"time"

	"github.com/spf13/pflag"
)

// Options are the controller's command-line options.
type Options struct {
	Kubeconfig          string
	ControllerNamespace string
	Namespace           string
	InstanceID          string
	PluginDir           string
	PluginWorkDir       string
	AllowUnverified     bool
	LeaderElect         bool
	LeaseDuration       time.Duration
	RenewDeadline       time.Duration
	RetryPeriod         time.Duration
	MetricsAddr         string
	Workers             int
	QPS                 float32
	Burst               int
	PluginCallTimeout   time.Duration
	// GCPercent is the garbage collector's target (GOGC; negative turns the collector off).
	GCPercent int
	// MemoryLimit is the runtime's soft memory limit (GOMEMLIMIT), e.g. "200Mi"; empty keeps
	// GOMEMLIMIT's (none by default).
	MemoryLimit string
}

// DefaultGCPercent is the collector target when GOGC is not set: half of Go's default of 100.
// Most of the controller's heap is its informer caches, which live as long as the process,
// so a smaller target trades a little CPU for a peak heap nearer the live one.
const DefaultGCPercent = 50

// gcPercentDefault is GOGC when it is set (as the runtime reads it), else DefaultGCPercent.
func gcPercentDefault() int {
	v := os.Getenv("GOGC")
	if v == "off" {
		return -1
	}
	if n, err := strconv.Atoi(v); err == nil {
		return n
	}
	return DefaultGCPercent
}

// NewOptions returns the defaults: controller namespace from POD_NAMESPACE, else "default".
func NewOptions() *Options {
	ns := os.Getenv("POD_NAMESPACE")
	if ns == "" {
		ns = "default"
	}
	return &Options{
		ControllerNamespace: ns,
		LeaderElect:         true,
		LeaseDuration:       15 * time.Second,
		RenewDeadline:       10 * time.Second,
		RetryPeriod:         2 * time.Second,
		MetricsAddr:         ":8090",
		Workers:             4,
		QPS:                 40,
		Burst:               80,
		GCPercent:           gcPercentDefault(),
	}
}

// AddFlags registers the options on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "path to a kubeconfig (in-cluster config when empty)")
	fs.StringVar(&o.ControllerNamespace, "controller-namespace", o.ControllerNamespace, "namespace of the leader-election Lease and the argo-rollouts-config ConfigMap ($POD_NAMESPACE when set)")
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "watch only this namespace (default: all namespaces)")
	fs.StringVar(&o.InstanceID, "instance-id", o.InstanceID, "manage only objects labelled argo-rollouts.argoproj.io/controller-instance-id=<id> (empty: only unlabelled objects)")
	fs.StringVar(&o.PluginDir, "plugin-dir", o.PluginDir, "directory of plugin binaries with a SHA256SUMS file, registered in addition to the ConfigMap")
	fs.StringVar(&o.PluginWorkDir, "plugin-workdir", o.PluginWorkDir, "base directory of relative file:// plugin locations and downloads (default: current directory)")
	fs.BoolVar(&o.AllowUnverified, "allow-unverified-plugins", o.AllowUnverified, "run plugins whose registry entry has no sha256")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "use a Lease so that only one replica reconciles")
	fs.DurationVar(&o.LeaseDuration, "leader-elect-lease-duration", o.LeaseDuration, "leader election lease duration")
	fs.DurationVar(&o.RenewDeadline, "leader-elect-renew-deadline", o.RenewDeadline, "leader election renew deadline")
	fs.DurationVar(&o.RetryPeriod, "leader-elect-retry-period", o.RetryPeriod, "leader election retry period")
	fs.StringVar(&o.MetricsAddr, "metrics-addr", o.MetricsAddr, "address serving /metrics and /healthz")
	fs.IntVar(&o.Workers, "workers", o.Workers, "concurrent reconciles per queue")
	fs.Float32Var(&o.QPS, "qps", o.QPS, "API client QPS")
	fs.IntVar(&o.Burst, "burst", o.Burst, "API client burst")
	fs.IntVar(&o.GCPercent, "gc-percent", o.GCPercent, "garbage collector target percentage, as GOGC (default $GOGC when set, else 50; negative: off)")
	fs.StringVar(&o.MemoryLimit, "memory-limit", o.MemoryLimit, "soft memory limit of the Go runtime, e.g. 200Mi (default $GOMEMLIMIT when set, else none)")
	fs.DurationVar(&o.PluginCallTimeout, "plugin-call-timeout", o.PluginCallTimeout, "timeout of each plugin call (0: the plugins package default)")
}
