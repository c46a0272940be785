package plugins

import (
	"context"
	"net/rpc"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// TrafficRouterPlugin is the go-plugin glue of a traffic router (netrpc only, as Argo requires).
type TrafficRouterPlugin struct {
	// Impl is served on the plugin side; nil on the host side.
	Impl TrafficRouter
	// Ctx is the base context of served calls.
	Ctx context.Context
	// CallTimeout bounds each host-side call (0 = DefaultCallTimeout).
	CallTimeout time.Duration
}

// Server implements plugin.Plugin.
func (p *TrafficRouterPlugin) Server(*plugin.MuxBroker) (any, error) {
	RegisterGobNames()
	return &TrafficRouterServer{Impl: p.Impl, Ctx: p.Ctx}, nil
}

// Client implements plugin.Plugin.
func (p *TrafficRouterPlugin) Client(_ *plugin.MuxBroker, c *rpc.Client) (any, error) {
	return NewTrafficRouterClient(c, p.CallTimeout), nil
}

// MetricProviderPlugin is the go-plugin glue of a metric provider (netrpc only).
type MetricProviderPlugin struct {
	// Impl is served on the plugin side; nil on the host side.
	Impl MetricProvider
	// Ctx is the base context of served calls.
	Ctx context.Context
	// CallTimeout bounds each host-side call (0 = DefaultCallTimeout).
	CallTimeout time.Duration
}

// Server implements plugin.Plugin.
func (p *MetricProviderPlugin) Server(*plugin.MuxBroker) (any, error) {
	RegisterGobNames()
	return &MetricProviderServer{Impl: p.Impl, Ctx: p.Ctx}, nil
}

// Client implements plugin.Plugin.
func (p *MetricProviderPlugin) Client(_ *plugin.MuxBroker, c *rpc.Client) (any, error) {
	return NewMetricProviderClient(c, p.CallTimeout), nil
}

// NewLogger returns the logger plugin binaries use: JSON lines on stderr, which the host (nerve's
// or Argo's, both through go-plugin) parses and re-levels. Plugins must never write to stdout:
// it carries go-plugin's handshake line.
func NewLogger(name string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: name, Output: os.Stderr, JSONFormat: true, Level: hclog.LevelFromString(os.Getenv("NERVE_PLUGIN_LOG_LEVEL"))})
}

// ServeTrafficRouter serves impl as an Argo-compatible traffic-router plugin until the host
// closes the connection. It is the only thing a router's main does.
func ServeTrafficRouter(ctx context.Context, impl TrafficRouter, logger hclog.Logger) {
	RegisterGobNames()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake(KindTrafficRouter),
		Plugins:         plugin.PluginSet{DispenseTrafficRouter: &TrafficRouterPlugin{Impl: impl, Ctx: ctx}},
		Logger:          logger,
	})
}

// ServeMetricProvider serves impl as an Argo-compatible metric-provider plugin until the host
// closes the connection.
func ServeMetricProvider(ctx context.Context, impl MetricProvider, logger hclog.Logger) {
	RegisterGobNames()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake(KindMetricProvider),
		Plugins:         plugin.PluginSet{DispenseMetricProvider: &MetricProviderPlugin{Impl: impl, Ctx: ctx}},
		Logger:          logger,
	})
}

// PluginSet returns the go-plugin plugin map a host uses to dispense a plugin of kind (empty for
// an unknown kind).
func PluginSet(kind Kind, callTimeout time.Duration) plugin.PluginSet {
	switch kind {
	case KindTrafficRouter:
		return plugin.PluginSet{DispenseKey(kind): &TrafficRouterPlugin{CallTimeout: callTimeout}}
	case KindMetricProvider:
		return plugin.PluginSet{DispenseKey(kind): &MetricProviderPlugin{CallTimeout: callTimeout}}
	default:
		return plugin.PluginSet{}
	}
}
