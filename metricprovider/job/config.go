package job

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// DefaultName is the plugin name (config key) the provider answers to by default.
const DefaultName = "nerve/job"

// Config is Argo's provider.job block: the Job's metadata (labels and annotations are used) and
// its spec.
type Config struct {
	Metadata metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec     batchv1.JobSpec   `json:"spec"`
}

// ParseConfig reads and validates the config of metric m for the plugin called name.
func ParseConfig(name string, m v1alpha1.Metric) (Config, error) {
	raw, source, err := m.Provider.PluginConfig(m.Name, name, "job")
	if err != nil {
		return Config{}, err
	}
	var cfg Config
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return Config{}, fmt.Errorf("%s: config is empty", source)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("%s: invalid config: %w", source, err)
	}
	if err := cfg.validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", source, err)
	}
	return cfg, nil
}

// validate checks what the API server would refuse later with a less local message.
func (c Config) validate() error {
	if len(c.Spec.Template.Spec.Containers) == 0 {
		return errors.New("spec.template.spec.containers: a Job needs at least one container")
	}
	switch c.Spec.Template.Spec.RestartPolicy {
	case "Never", "OnFailure":
	default:
		return fmt.Errorf("spec.template.spec.restartPolicy: %q must be Never or OnFailure (a Job's pods must end)", c.Spec.Template.Spec.RestartPolicy)
	}
	return nil
}
