package job

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
)

// ProviderType is what Type returns (Argo's name).
const ProviderType = "Job"

// Argo's measurement metadata keys, labels and annotations.
const (
	JobNameKey                        = "job-name"
	JobNamespaceKey                   = "job-namespace"
	AnalysisRunNameAnnotationKey      = "analysisrun.argoproj.io/name"
	AnalysisRunNamespaceAnnotationKey = "analysisrun.argoproj.io/namespace"
	AnalysisRunMetricAnnotationKey    = "analysisrun.argoproj.io/metric-name"
	AnalysisRunUIDLabelKey            = "analysisrun.argoproj.io/uid"
)

// Options configure a Provider.
type Options struct {
	// Name is the plugin name whose provider.plugin[Name] config is read (DefaultName if empty).
	Name string
	// Logger receives progress and warnings (hclog.NewNullLogger() if nil).
	Logger hclog.Logger
	// Now is time.Now by default.
	Now func() time.Time
	// Client, when set, is used as it is (tests); otherwise RESTConfig builds one on first use.
	Client *Clients
	// RESTConfig loads the client configuration; by default KUBECONFIG (or ~/.kube/config), else
	// the in-cluster service account.
	RESTConfig func() (*rest.Config, error)
}

// Provider is the Job metric provider; safe for concurrent use.
type Provider struct {
	name       string
	logger     hclog.Logger
	now        func() time.Time
	restConfig func() (*rest.Config, error)

	mu     sync.Mutex
	client *Clients
}

var _ plugins.MetricProvider = (*Provider)(nil)

// New returns a Provider. It builds no client yet: InitPlugin does, and every later call retries
// after a failure.
func New(opts Options) *Provider {
	p := &Provider{name: opts.Name, logger: opts.Logger, now: opts.Now, restConfig: opts.RESTConfig, client: opts.Client}
	if p.name == "" {
		p.name = DefaultName
	}
	if p.logger == nil {
		p.logger = hclog.NewNullLogger()
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.restConfig == nil {
		p.restConfig = defaultRESTConfig
	}
	return p
}

// defaultRESTConfig loads KUBECONFIG / ~/.kube/config, falling back to the in-cluster config.
func defaultRESTConfig() (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
}

// kube returns the client, building it on first use (or after a failed attempt).
func (p *Provider) kube() (*Clients, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client != nil {
		return p.client, nil
	}
	cfg, err := p.restConfig()
	if err != nil {
		return nil, fmt.Errorf("load Kubernetes client config (KUBECONFIG or in-cluster): %w", err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "nerve-job"
	c, err := NewClients(cfg)
	if err != nil {
		return nil, fmt.Errorf("Kubernetes client: %w", err)
	}
	p.client = c
	return c, nil
}

// InitPlugin builds the client. A failure is returned but not fatal: every later call retries.
func (p *Provider) InitPlugin(context.Context) error {
	if _, err := p.kube(); err != nil {
		p.logger.Error("init failed; will retry on the next call", "error", err)
		return err
	}
	return nil
}

// Type returns ProviderType.
func (p *Provider) Type(context.Context) (string, error) { return ProviderType, nil }

// GetMetadata returns no metadata (as Argo), after checking the config.
func (p *Provider) GetMetadata(_ context.Context, m v1alpha1.Metric) (map[string]string, error) {
	if _, err := ParseConfig(p.name, m); err != nil {
		return nil, err
	}
	return nil, nil
}

// Run creates the measurement's Job and returns a Running measurement; every failure is an Error
// measurement naming the cause (the returned error is always nil).
func (p *Provider) Run(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric) (v1alpha1.Measurement, error) {
	now := metav1.NewTime(p.now())
	meas := v1alpha1.Measurement{StartedAt: &now, Phase: v1alpha1.AnalysisPhaseRunning}
	if run == nil || run.UID == "" || run.Namespace == "" {
		return p.fail(meas, errors.New("the AnalysisRun has no uid or namespace: cannot name and own the Job")), nil
	}
	cfg, err := ParseConfig(p.name, m)
	if err != nil {
		return p.fail(meas, err), nil
	}
	c, err := p.kube()
	if err != nil {
		return p.fail(meas, err), nil
	}
	job, err := p.create(ctx, c, newJob(run, m, cfg))
	if err != nil {
		return p.fail(meas, err), nil
	}
	meas.Metadata = map[string]string{JobNameKey: job.Name, JobNamespaceKey: job.Namespace}
	meas.ResumeAt = &now // resume at once, to catch short Jobs
	p.logger.Info("job created", "namespace", job.Namespace, "job", job.Name, "metric", m.Name)
	return meas, nil
}

// Resume reads the Job and finishes the measurement when it has completed or failed.
func (p *Provider) Resume(ctx context.Context, run *v1alpha1.AnalysisRun, _ v1alpha1.Metric, meas v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	ns, name, err := jobRef(meas, run)
	if err != nil {
		return p.fail(meas, err), nil
	}
	c, err := p.kube()
	if err != nil {
		return p.fail(meas, err), nil
	}
	job := &batchv1.Job{}
	if err := c.Jobs.Get(ctx, ns, name, job); err != nil {
		return p.fail(meas, fmt.Errorf("job %s/%s: %w", ns, name, err)), nil
	}
	if phase, msg, done := finished(job); done {
		p.logger.Info("job finished", "namespace", ns, "job", name, "phase", phase)
		return p.finish(meas, phase, msg), nil
	}
	if msg, stuck, err := p.stuckPod(ctx, c, job); err != nil {
		return p.fail(meas, err), nil
	} else if stuck {
		return p.finish(meas, v1alpha1.AnalysisPhaseInconclusive, msg), nil
	}
	meas.ResumeAt = p.nextResume(meas)
	return meas, nil
}

// nextResume is Argo's growing delay: now + sqrt(2 × seconds since the measurement started).
func (p *Provider) nextResume(meas v1alpha1.Measurement) *metav1.Time {
	now := p.now()
	elapsed := time.Duration(0)
	if meas.StartedAt != nil {
		elapsed = now.Sub(meas.StartedAt.Time)
	}
	delay := time.Duration(math.Sqrt(2*max(elapsed.Seconds(), 0)) * float64(time.Second))
	t := metav1.NewTime(now.Add(delay))
	return &t
}

// Terminate deletes the measurement's Job and finishes it as Inconclusive (as Argo). A finished
// measurement (which controllers never terminate) is returned unchanged and its Job kept.
func (p *Provider) Terminate(ctx context.Context, run *v1alpha1.AnalysisRun, _ v1alpha1.Metric, meas v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	if meas.FinishedAt != nil && meas.Phase.Completed() {
		return meas, nil
	}
	ns, name, err := jobRef(meas, run)
	if err != nil {
		return p.fail(meas, err), nil
	}
	c, err := p.kube()
	if err != nil {
		return p.fail(meas, err), nil
	}
	if err := deleteJob(ctx, c, ns, name); err != nil {
		return p.fail(meas, err), nil
	}
	p.logger.Info("job terminated", "namespace", ns, "job", name)
	return p.finish(meas, v1alpha1.AnalysisPhaseInconclusive, fmt.Sprintf("Metric Terminated: job %s/%s deleted", ns, name)), nil
}

// GarbageCollect deletes the run's oldest Jobs of this metric beyond limit.
func (p *Provider) GarbageCollect(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, limit int) error {
	if run == nil || run.UID == "" || run.Namespace == "" {
		return nil // nothing can have been created for it
	}
	c, err := p.kube()
	if err != nil {
		return err
	}
	old, err := oldJobs(ctx, c, run, m.Name, limit)
	if err != nil {
		return err
	}
	for _, j := range old {
		if err := deleteJob(ctx, c, j.Namespace, j.Name); err != nil {
			return err
		}
		p.logger.Info("job garbage collected", "namespace", j.Namespace, "job", j.Name)
	}
	return nil
}

func (p *Provider) finish(m v1alpha1.Measurement, phase v1alpha1.AnalysisPhase, msg string) v1alpha1.Measurement {
	now := metav1.NewTime(p.now())
	m.Phase, m.Message, m.FinishedAt, m.ResumeAt = phase, msg, &now, nil
	return m
}

// fail is Argo's MarkMeasurementError: Error with the message, FinishedAt kept if already set.
func (p *Provider) fail(m v1alpha1.Measurement, err error) v1alpha1.Measurement {
	m.Phase, m.Message, m.ResumeAt = v1alpha1.AnalysisPhaseError, err.Error(), nil
	if m.FinishedAt == nil {
		now := metav1.NewTime(p.now())
		m.FinishedAt = &now
	}
	return m
}
