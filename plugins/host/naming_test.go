package host_test

import (
	"testing"

	"github.com/nerve-rollouts/nerve/metricprovider/job"
	"github.com/nerve-rollouts/nerve/metricprovider/prometheus"
	"github.com/nerve-rollouts/nerve/metricprovider/web"
	"github.com/nerve-rollouts/nerve/plugins/host"
	"github.com/nerve-rollouts/nerve/router/gatewayapi"
	"github.com/nerve-rollouts/nerve/router/mllp"
)

// TestBinaryNameMatchesPluginDefaults keeps the naming rule in step with the names nerve's
// plugins read by default.
func TestBinaryNameMatchesPluginDefaults(t *testing.T) {
	for file, want := range map[string]string{
		"nerve-gatewayapi": gatewayapi.DefaultPluginName,
		"nerve-mllp":       mllp.DefaultPluginName,
		"nerve-prometheus": prometheus.DefaultName,
		"nerve-web":        web.DefaultName,
		"nerve-job":        job.DefaultName,
	} {
		if got := host.BinaryName(file); got != want {
			t.Errorf("BinaryName(%q) = %q, the plugin's default is %q", file, got, want)
		}
	}
}
