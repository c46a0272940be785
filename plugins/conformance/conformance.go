// Package conformance drives a plugin binary of either kind through every method of the Argo
// Rollouts plugin protocol over the real wire (the binary is started through go-plugin) and
// reports one result per method.
//
// Wire mode (the default) requires that every call crosses the wire: no gob or transport
// failure and no crash, on a fresh process that never ran InitPlugin and on one that did; an
// application error is allowed. Functional mode additionally requires the happy path: no
// errors, a non-empty Type, VerifyWeight Verified after SetWeight and a finished Run.
package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/host"
)

// Defaults of Options.
const (
	DefaultName          = "nerve/conformance"
	DefaultNamespace     = "default"
	DefaultRollout       = "nerve-conformance"
	DefaultStableService = "stable"
	DefaultCanaryService = "canary"
	DefaultWeight        = 30
	// DefaultRunUID is the uid of the AnalysisRun sent to metric providers.
	DefaultRunUID = "00000000-0000-0000-0000-0000000a7a15"
	// HeaderRoute and MirrorRoute are the managed route names the suite uses.
	HeaderRoute = "nerve-conformance-header"
	MirrorRoute = "nerve-conformance-mirror"
)

// Options configure a run.
type Options struct {
	// Kind of the plugin; "" detects it by trying the handshakes.
	Kind plugins.Kind
	// Name is the plugin's config key (Plugins[Name] / Plugin[Name]); "" = DefaultName.
	Name string
	// Config is the plugin's JSON config; nil = {}.
	Config json.RawMessage
	// Functional also requires the happy path to succeed (needs the plugin's environment).
	Functional bool
	// Namespace, Rollout, StableService, CanaryService and Weight shape the Rollout (and the
	// AnalysisRun's namespace) sent to the plugin; zero values take the defaults.
	Namespace, Rollout, StableService, CanaryService string
	Weight                                           int32
	// RunUID is the uid of the AnalysisRun sent to a metric provider ("" = DefaultRunUID).
	RunUID types.UID
	// SuccessCondition and FailureCondition go into the Metric sent to a metric provider.
	SuccessCondition, FailureCondition string
	// Args are the plugin's command-line arguments.
	Args []string
	// SHA256 is verified before every exec ("" = computed from the binary when the run starts).
	SHA256 string
	// CallTimeout bounds each call (0 = 30s).
	CallTimeout time.Duration
	// Logger receives the plugin's re-levelled stderr (nil = discarded).
	Logger hclog.Logger
}

// withDefaults fills the zero values.
func (o Options) withDefaults() Options {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.Name, DefaultName)
	def(&o.Namespace, DefaultNamespace)
	def(&o.Rollout, DefaultRollout)
	def(&o.StableService, DefaultStableService)
	def(&o.CanaryService, DefaultCanaryService)
	if o.RunUID == "" {
		o.RunUID = DefaultRunUID
	}
	if o.Weight == 0 {
		o.Weight = DefaultWeight
	}
	if len(o.Config) == 0 {
		o.Config = json.RawMessage(`{}`)
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	return o
}

// Result is the verdict on one method (or on the start of the plugin).
type Result struct {
	Method string
	Pass   bool
	Detail string
}

// String formats the result as the command prints it.
func (r Result) String() string {
	verdict := "FAIL"
	if r.Pass {
		verdict = "PASS"
	}
	return fmt.Sprintf("%s %s: %s", verdict, r.Method, r.Detail)
}

// Report is the outcome of a run.
type Report struct {
	Kind    plugins.Kind
	Results []Result
}

// Passed reports whether every result passed (and there is at least one).
func (r *Report) Passed() bool {
	for _, res := range r.Results {
		if !res.Pass {
			return false
		}
	}
	return len(r.Results) > 0
}

// Write prints one line per result.
func (r *Report) Write(w io.Writer) error {
	for _, res := range r.Results {
		if _, err := fmt.Fprintln(w, res); err != nil {
			return err
		}
	}
	return nil
}

// Run drives the plugin binary at bin through every method of its kind and reports. The
// error is only for problems of the run itself (an unreadable binary, a cancelled ctx); a
// plugin that fails to start yields a report with a failed "start" line.
func Run(ctx context.Context, bin string, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	if opts.SHA256 == "" {
		sum, err := host.FileSHA256(bin)
		if err != nil {
			return nil, fmt.Errorf("conformance: %w", err)
		}
		opts.SHA256 = sum
	}
	if opts.Kind == "" {
		kind, err := host.DetectKind(ctx, bin, opts.SHA256)
		if err != nil {
			return &Report{Results: []Result{{Method: "start", Detail: "cannot detect the plugin kind: " + err.Error()}}}, nil
		}
		opts.Kind = kind
	}
	if !opts.Kind.Known() {
		return nil, fmt.Errorf("conformance: unknown kind %q (want %s or %s)", opts.Kind, plugins.KindTrafficRouter, plugins.KindMetricProvider)
	}
	s := &suite{bin: bin, opts: opts, results: map[string]*Result{}}
	return s.run(ctx)
}

// suite is one run in progress.
type suite struct {
	bin     string
	opts    Options
	proc    *host.Process
	results map[string]*Result
}

// note records the outcome of one call of a method in one pass.
func (s *suite) note(method, pass string, ok bool, detail string) {
	r, seen := s.results[method]
	if !seen {
		r = &Result{Method: method, Pass: true}
		s.results[method] = r
	}
	r.Pass = r.Pass && ok
	part := pass + ": " + detail
	if r.Detail != "" {
		part = "; " + part
	}
	r.Detail += part
}

// run performs the passes and assembles the report.
func (s *suite) run(ctx context.Context) (*Report, error) {
	rep := &Report{Kind: s.opts.Kind}
	defer s.stop()
	if err := s.start(ctx); err != nil {
		rep.Results = append(rep.Results, Result{Method: "start", Detail: err.Error()})
		return rep, nil
	}
	rep.Results = append(rep.Results, Result{Method: "start", Pass: true,
		Detail: fmt.Sprintf("%s handshake and dispense ok", s.opts.Kind)})
	if err := s.pass(ctx, "without InitPlugin", false); err != nil {
		return nil, err
	}
	s.stop()
	if err := s.start(ctx); err != nil {
		s.note(plugins.MethodInitPlugin, "restart", false, err.Error())
	} else if err := s.pass(ctx, "after InitPlugin", true); err != nil {
		return nil, err
	}
	methods := plugins.TrafficRouterMethods()
	if s.opts.Kind == plugins.KindMetricProvider {
		methods = plugins.MetricProviderMethods()
	}
	for _, m := range methods { // the protocol's order: InitPlugin first
		if r, ok := s.results[m]; ok {
			rep.Results = append(rep.Results, *r)
		}
	}
	return rep, nil
}

// start starts a fresh process (no InitPlugin).
func (s *suite) start(ctx context.Context) error {
	e := host.Entry{Name: s.opts.Name, Kind: s.opts.Kind, Location: "file://" + s.bin, SHA256: s.opts.SHA256, Args: s.opts.Args}
	p, err := host.StartProcess(ctx, e, host.Options{CallTimeout: s.opts.CallTimeout, Logger: s.opts.Logger})
	if err != nil {
		return err
	}
	s.proc = p
	return nil
}

// stop kills the current process.
func (s *suite) stop() {
	if s.proc != nil {
		s.proc.Kill()
		s.proc = nil
	}
}

// pass calls every method once. withInit calls InitPlugin first (and judges it).
func (s *suite) pass(ctx context.Context, name string, withInit bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.opts.Kind == plugins.KindMetricProvider {
		s.providerPass(ctx, name, withInit)
	} else {
		s.routerPass(ctx, name, withInit)
	}
	return ctx.Err()
}

// verdict judges one call in wire mode (and, when functional, the happy path): it returns
// whether it passed and the detail. A crashed process is restarted (without InitPlugin in the
// first pass, with it in the second) so the remaining methods are still exercised.
func (s *suite) verdict(ctx context.Context, err error, withInit bool, functionalProblem string) (bool, string) {
	if s.proc.Exited(50 * time.Millisecond) {
		detail := "plugin process crashed"
		if err != nil {
			detail += ": " + err.Error()
		}
		s.proc.Kill() // drains its stderr
		detail += "; stderr: " + crashLines(s.proc.Stderr())
		s.restart(ctx, withInit)
		return false, detail
	}
	if err != nil && !isApplicationError(err) {
		return false, "call did not cross the wire: " + err.Error()
	}
	functional := s.opts.Functional && withInit
	if functional && (err != nil || functionalProblem != "") {
		if err != nil {
			return false, "error on the happy path: " + err.Error()
		}
		return false, functionalProblem
	}
	if err != nil {
		return true, "crossed the wire (application error: " + err.Error() + ")"
	}
	if functionalProblem != "" {
		return true, "crossed the wire (" + functionalProblem + ")"
	}
	return true, "ok"
}

// restart replaces a crashed process.
func (s *suite) restart(ctx context.Context, withInit bool) {
	s.stop()
	if err := s.start(ctx); err != nil {
		return
	}
	if withInit {
		s.init(ctx)
	}
}

// init calls InitPlugin on the current process.
func (s *suite) init(ctx context.Context) error {
	if s.opts.Kind == plugins.KindMetricProvider {
		return s.proc.MetricProvider().InitPlugin(ctx)
	}
	return s.proc.TrafficRouter().InitPlugin(ctx)
}

// isApplicationError reports whether err is the plugin's own answer (an RpcError).
func isApplicationError(err error) bool {
	var pe *plugins.PluginError
	return errors.As(err, &pe)
}

// crashLines picks the panic line of a crashed plugin's stderr, else its last lines.
func crashLines(s string) string {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			return l
		}
	}
	return lastLines(s, 3)
}

// lastLines returns the last n non-empty lines of s.
func lastLines(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 0 {
		return "(empty)"
	}
	return strings.Join(lines, " | ")
}
