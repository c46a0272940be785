package prometheus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/metricprovider/evaluate"
	"github.com/nerve-rollouts/nerve/plugins"
)

// ProviderType is what Type returns.
const ProviderType = "Prometheus"

// ResolvedPrometheusQuery is the metadata key of the resolved query (Argo's key).
const ResolvedPrometheusQuery = "ResolvedPrometheusQuery"

// MetadataWarnings is the measurement metadata key of Prometheus' warnings (Argo's key).
const MetadataWarnings = "warnings"

// Options configure a Provider.
type Options struct {
	// Name is the plugin name whose provider.plugin[Name] config is read (DefaultName if empty).
	Name string
	// Logger receives warnings (hclog.NewNullLogger() if nil).
	Logger hclog.Logger
	// Env reads secrets (the process environment and files by default).
	Env Env
	// Now is time.Now by default.
	Now func() time.Time
}

// Provider is the Prometheus metric provider. It is stateless apart from its shared HTTP
// transports and safe for concurrent use.
type Provider struct {
	name     string
	logger   hclog.Logger
	env      Env
	now      func() time.Time
	secure   *http.Transport
	insecure *http.Transport
}

var _ plugins.MetricProvider = (*Provider)(nil)

// New returns a Provider.
func New(opts Options) *Provider {
	p := &Provider{name: opts.Name, logger: opts.Logger, env: opts.Env.withDefaults(), now: opts.Now,
		secure: newTransport(false), insecure: newTransport(true)}
	if p.name == "" {
		p.name = DefaultName
	}
	if p.logger == nil {
		p.logger = hclog.NewNullLogger()
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p
}

// InitPlugin has nothing to set up: every measurement reads its own config.
func (p *Provider) InitPlugin(context.Context) error { return nil }

// Type returns ProviderType.
func (p *Provider) Type(context.Context) (string, error) { return ProviderType, nil }

// GetMetadata returns the resolved query under ResolvedPrometheusQuery.
func (p *Provider) GetMetadata(_ context.Context, m v1alpha1.Metric) (map[string]string, error) {
	cfg, err := ParseConfig(p.name, m)
	if err != nil {
		return nil, err
	}
	return map[string]string{ResolvedPrometheusQuery: cfg.Query}, nil
}

// GarbageCollect is a no-op: the provider keeps no per-measurement state.
func (p *Provider) GarbageCollect(context.Context, *v1alpha1.AnalysisRun, v1alpha1.Metric, int) error {
	return nil
}

// Resume returns the measurement unchanged: Run always completes a measurement.
func (p *Provider) Resume(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, m v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	return m, nil
}

// Terminate returns a finished measurement unchanged; an unfinished one (which this provider never
// produces) is finished as Inconclusive, never as Successful.
func (p *Provider) Terminate(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, m v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	if m.FinishedAt != nil && m.Phase.Completed() {
		return m, nil
	}
	now := metav1.NewTime(p.now())
	m.FinishedAt = &now
	m.Phase = v1alpha1.AnalysisPhaseInconclusive
	m.Message = "Metric Terminated"
	return m, nil
}

// Run takes one measurement. Every failure is an Error measurement with a message naming the
// cause (config field, address, timeout, condition); the returned error is always nil.
func (p *Provider) Run(ctx context.Context, _ *v1alpha1.AnalysisRun, m v1alpha1.Metric) (v1alpha1.Measurement, error) {
	started := metav1.NewTime(p.now())
	meas := v1alpha1.Measurement{StartedAt: &started}
	cfg, err := ParseConfig(p.name, m)
	if err != nil {
		return p.finish(meas, v1alpha1.AnalysisPhaseError, err.Error()), nil
	}
	res, warnings, err := p.query(ctx, cfg)
	if err != nil {
		p.logger.Warn("prometheus query failed", "metric", m.Name, "error", err)
		return p.finish(meas, v1alpha1.AnalysisPhaseError, withQuery(err.Error(), cfg.Query)), nil
	}
	meas.Value = res.Text
	if len(warnings) > 0 {
		meas.Metadata = map[string]string{MetadataWarnings: formatWarnings(warnings)}
		p.logger.Warn("prometheus returned warnings", "metric", m.Name, "warnings", meas.Metadata[MetadataWarnings])
	}
	phase, msg := judge(cfg, m, res)
	return p.finish(meas, phase, msg), nil
}

func (p *Provider) finish(m v1alpha1.Measurement, phase v1alpha1.AnalysisPhase, msg string) v1alpha1.Measurement {
	now := metav1.NewTime(p.now())
	m.Phase, m.Message, m.FinishedAt = phase, msg, &now
	return m
}

// query resolves the address and credentials and runs the (instant or range) query.
func (p *Provider) query(ctx context.Context, cfg Config) (Result, promv1.Warnings, error) {
	address := cfg.Address
	if address == "" {
		address = p.envAddress()
	}
	if address == "" {
		return Result{}, nil, fmt.Errorf("address: not configured (set address or %s)", EnvAddress)
	}
	if !isURL(address) {
		return Result{}, nil, fmt.Errorf("address: %s=%q is not a URL", EnvAddress, address)
	}
	timeout := cfg.timeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	base := p.secure
	if cfg.Insecure {
		base = p.insecure
	}
	client, err := p.env.httpClient(ctx, cfg, base)
	if err != nil {
		return Result{}, nil, err
	}
	api, err := newAPI(address, client)
	if err != nil {
		return Result{}, nil, err
	}
	value, warnings, err := runQuery(ctx, api, cfg, p.now())
	if err != nil {
		return Result{}, warnings, describeQueryError(ctx, err, address, timeout, cfg.Timeout)
	}
	res, err := MapResult(value, cfg.RangeQuery != nil)
	return res, warnings, err
}

func (p *Provider) envAddress() string {
	v, _ := p.env.LookupEnv(EnvAddress)
	return v
}

func runQuery(ctx context.Context, api promv1.API, cfg Config, now time.Time) (model.Value, promv1.Warnings, error) {
	if cfg.RangeQuery == nil {
		v, w, _, err := api.Query(ctx, cfg.Query, now)
		return v, w, err
	}
	start, err := evaluate.EvalTime(cfg.RangeQuery.Start)
	if err != nil {
		return nil, nil, &configError{fmt.Errorf("rangeQuery.start: %w", err)}
	}
	end, err := evaluate.EvalTime(cfg.RangeQuery.End)
	if err != nil {
		return nil, nil, &configError{fmt.Errorf("rangeQuery.end: %w", err)}
	}
	step, err := time.ParseDuration(cfg.RangeQuery.Step)
	if err != nil {
		return nil, nil, &configError{fmt.Errorf("rangeQuery.step: %w", err)}
	}
	v, w, _, err := api.QueryRange(ctx, cfg.Query, promv1.Range{Start: start, End: end, Step: step})
	return v, w, err
}

// configError marks errors that come from the config, not from Prometheus.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// describeQueryError turns a query error into a message that names its cause.
func describeQueryError(ctx context.Context, err error, address string, timeout time.Duration, configured *int64) error {
	var ce *configError
	if errors.As(err, &ce) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("Prometheus at %s did not answer within the %s timeout (%s): %w", address, timeout, timeoutSource(configured), err)
	}
	var apiErr *promv1.Error
	if errors.As(err, &apiErr) && apiErr.Type == promv1.ErrBadResponse {
		return fmt.Errorf("Prometheus at %s returned an unsupported response (want a scalar or an instant vector): %w", address, err)
	}
	if errors.As(err, &apiErr) {
		return fmt.Errorf("Prometheus at %s rejected the query: %w", address, err)
	}
	var netErr net.Error
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.As(err, &netErr) {
		return fmt.Errorf("Prometheus at %s is unreachable: %w", address, err)
	}
	return fmt.Errorf("Prometheus at %s: query failed: %w", address, err)
}

func timeoutSource(configured *int64) string {
	if configured == nil || *configured == 0 {
		return "default, set timeout in seconds to change it"
	}
	return fmt.Sprintf("timeout: %d", *configured)
}

func formatWarnings(ws promv1.Warnings) string {
	quoted := make([]string, 0, len(ws))
	for _, w := range ws {
		quoted = append(quoted, `"`+w+`"`)
	}
	return strings.Join(quoted, ", ")
}

// withQuery appends the resolved query to a message, with white-space runs (the newlines of a
// YAML block scalar) folded into single spaces.
func withQuery(msg, query string) string {
	return fmt.Sprintf("%s; query: %s", msg, strings.Join(strings.Fields(query), " "))
}
