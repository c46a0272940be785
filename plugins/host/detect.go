package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/nerve-rollouts/nerve/plugins"
)

// detectTimeout bounds each handshake attempt of DetectKind.
const detectTimeout = 10 * time.Second

// DetectKind finds a plugin binary's kind by trying the traffic-router and then the
// metric-provider handshake. sum, if non-empty, is verified first (and by go-plugin at exec).
func DetectKind(ctx context.Context, path, sum string) (plugins.Kind, error) {
	if sum != "" {
		if err := verify(Entry{SHA256: sum}, path); err != nil {
			return "", err
		}
	}
	var errs []error
	for _, kind := range []plugins.Kind{plugins.KindTrafficRouter, plugins.KindMetricProvider} {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		err := probe(path, sum, kind)
		if err == nil {
			return kind, nil
		}
		errs = append(errs, fmt.Errorf("as %s: %w", kind, err))
	}
	return "", fmt.Errorf("%s is neither a traffic-router nor a metric-provider plugin: %w", path, errors.Join(errs...))
}

// detectKindTimeout is DetectKind with its own deadline (for LoadDir).
func detectKindTimeout(path, sum string) (plugins.Kind, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*detectTimeout)
	defer cancel()
	return DetectKind(ctx, path, sum)
}

// probe starts the binary with kind's handshake, dispenses it and kills it.
func probe(path, sum string, kind plugins.Kind) error {
	var sec *plugin.SecureConfig
	if sum != "" {
		raw, err := hex.DecodeString(sum)
		if err != nil {
			return err
		}
		sec = &plugin.SecureConfig{Checksum: raw, Hash: sha256.New()}
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  plugins.Handshake(kind),
		Plugins:          plugins.PluginSet(kind, 0),
		Cmd:              exec.Command(path),
		SecureConfig:     sec,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolNetRPC},
		Logger:           hclog.NewNullLogger(),
		Stderr:           io.Discard,
		StartTimeout:     detectTimeout,
	})
	defer client.Kill()
	_, err := dispense(client, kind)
	return err
}
