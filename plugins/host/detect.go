package host

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nerve-rollouts/nerve/plugins"
)

// detectTimeout bounds each handshake attempt of DetectKind.
const detectTimeout = 10 * time.Second

// DetectKind finds a plugin binary's kind by trying the traffic-router and then the
// metric-provider handshake. sum, if non-empty, is verified first (and by go-plugin at exec);
// an empty sum runs the binary unverified. The error is the readable start error.
func DetectKind(ctx context.Context, path, sum string) (plugins.Kind, error) {
	var refusals []string
	for _, kind := range []plugins.Kind{plugins.KindTrafficRouter, plugins.KindMetricProvider} {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		e := Entry{Name: "detect/" + string(kind), Kind: kind, Location: "file://" + path, SHA256: sum}
		p, err := StartProcess(ctx, e, Options{AllowUnverified: sum == "", Logger: hclog.NewNullLogger(), StartTimeout: detectTimeout})
		if err == nil {
			p.Kill()
			return kind, nil
		}
		if !strings.Contains(err.Error(), "wrong magic cookie") {
			return "", err
		}
		refusals = append(refusals, string(kind))
	}
	return "", fmt.Errorf("%s refused both handshakes (%s=%s): it is a go-plugin binary but not an Argo Rollouts traffic-router or metric-provider plugin",
		path, plugins.MagicCookieKey, strings.Join(refusals, "|"))
}

// detectKindTimeout is DetectKind with its own deadline (for LoadDir).
func detectKindTimeout(path, sum string) (plugins.Kind, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*detectTimeout)
	defer cancel()
	return DetectKind(ctx, path, sum)
}
