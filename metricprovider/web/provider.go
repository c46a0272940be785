package web

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/metricprovider/evaluate"
	"github.com/nerve-rollouts/nerve/plugins"
)

// ProviderType is what Type returns (Argo's name).
const ProviderType = "Web"

// MaxBodyBytes bounds how much of a response is read; a longer body is an Error.
const MaxBodyBytes = 16 << 20

// Options configure a Provider.
type Options struct {
	// Name is the plugin name whose provider.plugin[Name] config is read (DefaultName if empty).
	Name string
	// Logger receives warnings (hclog.NewNullLogger() if nil). Bodies are never logged.
	Logger hclog.Logger
	// Now is time.Now by default.
	Now func() time.Time
}

// Provider is the web metric provider. It keeps only its shared transports and is safe for
// concurrent use.
type Provider struct {
	name     string
	logger   hclog.Logger
	now      func() time.Time
	secure   *http.Transport
	insecure *http.Transport
}

var _ plugins.MetricProvider = (*Provider)(nil)

// New returns a Provider.
func New(opts Options) *Provider {
	p := &Provider{name: opts.Name, logger: opts.Logger, now: opts.Now}
	if p.name == "" {
		p.name = DefaultName
	}
	if p.logger == nil {
		p.logger = hclog.NewNullLogger()
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.secure = http.DefaultTransport.(*http.Transport).Clone()
	p.insecure = http.DefaultTransport.(*http.Transport).Clone()
	p.insecure.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the metric's insecure: true asks for it
	return p
}

// InitPlugin has nothing to set up: every measurement reads its own config.
func (p *Provider) InitPlugin(context.Context) error { return nil }

// Type returns ProviderType.
func (p *Provider) Type(context.Context) (string, error) { return ProviderType, nil }

// GetMetadata returns no metadata (as Argo), after checking the config.
func (p *Provider) GetMetadata(_ context.Context, m v1alpha1.Metric) (map[string]string, error) {
	if _, err := ParseConfig(p.name, m); err != nil {
		return nil, err
	}
	return nil, nil
}

// GarbageCollect is a no-op: the provider keeps no per-measurement state.
func (p *Provider) GarbageCollect(context.Context, *v1alpha1.AnalysisRun, v1alpha1.Metric, int) error {
	return nil
}

// Resume returns the measurement unchanged: Run always completes a measurement (as Argo).
func (p *Provider) Resume(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, m v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	return m, nil
}

// Terminate returns the measurement unchanged: Run always completes a measurement (as Argo).
func (p *Provider) Terminate(_ context.Context, _ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, m v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	return m, nil
}

// Run takes one measurement. Every failure is an Error measurement whose message names the
// cause; the returned error is always nil.
func (p *Provider) Run(ctx context.Context, _ *v1alpha1.AnalysisRun, m v1alpha1.Metric) (v1alpha1.Measurement, error) {
	started := metav1.NewTime(p.now())
	meas := v1alpha1.Measurement{StartedAt: &started}
	cfg, err := ParseConfig(p.name, m)
	if err != nil {
		return p.finish(meas, v1alpha1.AnalysisPhaseError, err.Error()), nil
	}
	body, err := p.fetch(ctx, cfg)
	if err != nil {
		p.logger.Warn("web metric request failed", "metric", m.Name, "error", err)
		return p.finish(meas, v1alpha1.AnalysisPhaseError, err.Error()), nil
	}
	value, phase, msg := judge(cfg, m, body)
	meas.Value = value
	return p.finish(meas, phase, msg), nil
}

func (p *Provider) finish(m v1alpha1.Measurement, phase v1alpha1.AnalysisPhase, msg string) v1alpha1.Measurement {
	now := metav1.NewTime(p.now())
	m.Phase, m.Message, m.FinishedAt = phase, msg, &now
	return m
}

// fetch sends the request and returns the body of a 2xx answer.
func (p *Provider) fetch(ctx context.Context, cfg Config) ([]byte, error) {
	limit := timeout(cfg)
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	req, err := newRequest(ctx, cfg)
	if err != nil {
		return nil, err
	}
	client := p.client(ctx, cfg)
	resp, err := client.Do(req)
	if err != nil {
		return nil, describeError(ctx, err, cfg, limit)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxBodyBytes))
		return nil, fmt.Errorf("received non 2xx response code: %v", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("Received no bytes in response: %w", describeError(ctx, err, cfg, limit))
	}
	if len(body) > MaxBodyBytes {
		return nil, fmt.Errorf("response body of %s %s is larger than %d bytes", method(cfg), cfg.URL, MaxBodyBytes)
	}
	return body, nil
}

// newRequest builds the request: method, body, headers (Set, in order), and Argo's JSON content
// type for jsonBody.
func newRequest(ctx context.Context, cfg Config) (*http.Request, error) {
	var body io.Reader
	switch {
	case cfg.Body != "":
		body = strings.NewReader(cfg.Body)
	case cfg.JSONBody != nil:
		body = bytes.NewReader(cfg.JSONBody)
	}
	req, err := http.NewRequestWithContext(ctx, method(cfg), cfg.URL, body)
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	for _, h := range cfg.Headers {
		req.Header.Set(h.Key, h.Value)
	}
	if cfg.JSONBody != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// client returns the HTTP client for cfg: the (in)secure transport, wrapped in the OAuth2
// client-credentials flow when a tokenUrl is set.
func (p *Provider) client(ctx context.Context, cfg Config) *http.Client {
	base := &http.Client{Transport: p.secure}
	if cfg.Insecure {
		base.Transport = p.insecure
	}
	o := cfg.Authentication.OAuth2
	if o.TokenURL == "" {
		return base
	}
	cc := &clientcredentials.Config{ClientID: o.ClientID, ClientSecret: o.ClientSecret, TokenURL: o.TokenURL, Scopes: o.Scopes}
	return cc.Client(context.WithValue(ctx, oauth2.HTTPClient, base))
}

// describeError words a transport error; a timeout names the limit and where it came from.
func describeError(ctx context.Context, err error, cfg Config, limit time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s %s did not answer within the %s timeout (%s): %w", method(cfg), cfg.URL, limit, timeoutSource(cfg), err)
	}
	return err
}

func timeoutSource(cfg Config) string {
	if cfg.TimeoutSeconds <= 0 {
		return "default, set timeoutSeconds to change it"
	}
	return fmt.Sprintf("timeoutSeconds: %d", cfg.TimeoutSeconds)
}

// judge maps a 2xx body to the measurement's value, phase and message, as Argo does.
func judge(cfg Config, m v1alpha1.Metric, body []byte) (string, v1alpha1.AnalysisPhase, string) {
	var data any
	if err := json.Unmarshal(body, &data); err != nil {
		return string(body), v1alpha1.AnalysisPhaseSuccessful,
			"the response is not JSON: Successful without evaluating the conditions (Argo's rule for a non-JSON body)"
	}
	result, text, err := pick(cfg.JSONPath, data)
	if err != nil {
		return "", v1alpha1.AnalysisPhaseError, err.Error()
	}
	out := evaluate.Evaluate(result, m.SuccessCondition, m.FailureCondition)
	if out.Phase == v1alpha1.AnalysisPhaseError {
		return text, out.Phase, out.Err.Error()
	}
	return text, out.Phase, describeOutcome(m, text, out)
}

// pick evaluates the JSONPath on the decoded body and returns the first value found and its JSON.
func pick(expr string, data any) (any, string, error) {
	jp, err := parseJSONPath(expr)
	if err != nil {
		return nil, "", err
	}
	results, err := jp.FindResults(data)
	if err != nil {
		return nil, "", fmt.Errorf("Could not find JSONPath in body: %s", err)
	}
	for _, rs := range results {
		for _, r := range rs {
			return encode(r)
		}
	}
	return nil, "", errors.New("result of web metric produced no value")
}

func encode(r reflect.Value) (any, string, error) {
	v := r.Interface()
	b, err := json.Marshal(v)
	if err != nil {
		return nil, "", fmt.Errorf("result of web metric: %w", err)
	}
	return v, string(b), nil
}

// describeOutcome words the evaluation: value, each condition with its outcome and the phase.
func describeOutcome(m v1alpha1.Metric, text string, out evaluate.Outcome) string {
	var b strings.Builder
	evaluate.Describe(&b, m, text, out)
	if m.SuccessCondition == "" && m.FailureCondition == "" {
		b.WriteString("; no conditions set")
	}
	fmt.Fprintf(&b, " -> %s", out.Phase)
	return b.String()
}
