package proxy

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/nerve-rollouts/nerve/router/mllp/api"
)

// StaticConfig is the file format of static mode (YAML or JSON):
//
//	service: mllp-listener
//	stable: [127.0.0.1:4001]
//	canary: [127.0.0.1:4002]
//	weight: 5            # of maxWeight (default 100)
//	stickyKey: pid3      # pid3 | msh4 | message | connection
//	matches: [{field: MSH-9, prefix: "ORU^"}]
//	mirror: {percentage: 10, targets: [127.0.0.1:4003], shadow: true}
type StaticConfig struct {
	Service   string        `json:"service"`
	Stable    []string      `json:"stable"`
	Canary    []string      `json:"canary,omitempty"`
	Weight    int32         `json:"weight"`
	MaxWeight int32         `json:"maxWeight,omitempty"`
	StickyKey api.StickyKey `json:"stickyKey,omitempty"`
	Matches   []api.Match   `json:"matches,omitempty"`
	Mirror    *StaticMirror `json:"mirror,omitempty"`
}

// StaticMirror is the mirror block of a static file; Shadow flags the
// targets as no-commit shadows (required).
type StaticMirror struct {
	Percentage int32    `json:"percentage"`
	Targets    []string `json:"targets"`
	Shadow     bool     `json:"shadow"`
}

// ParseStatic parses a static config and converts it with the address map.
func ParseStatic(b []byte, am AddressMap, generation int64) (RouteConfig, error) {
	var sc StaticConfig
	if err := yaml.UnmarshalStrict(b, &sc); err != nil {
		return RouteConfig{}, fmt.Errorf("static config: %w", err)
	}
	spec := api.MLLPRouteSpec{Service: sc.Service, StableService: "static", Weight: sc.Weight,
		MaxWeight: sc.MaxWeight, StickyKey: sc.StickyKey, Matches: sc.Matches}
	if err := spec.Validate(); err != nil {
		return RouteConfig{}, fmt.Errorf("static config: %w", err)
	}
	cfg := RouteConfig{Generation: generation, Service: sc.Service, Weight: sc.Weight, MaxWeight: sc.MaxWeight,
		StickyKey: sc.StickyKey, Matches: sc.Matches, Stable: mapAll(sc.Stable, am), Canary: mapAll(sc.Canary, am)}
	if sc.Mirror != nil {
		cfg.Mirror = &MirrorConfig{Percentage: sc.Mirror.Percentage, Targets: mapAll(sc.Mirror.Targets, am),
			Shadow: sc.Mirror.Shadow}
	}
	return cfg, nil
}

func mapAll(addrs []string, am AddressMap) []string {
	var out []string
	for _, a := range addrs {
		if to, ok := am.ResolveAddr(a); ok {
			out = append(out, to)
		}
	}
	return out
}

// StaticSource applies a config file and re-applies it when its content changes.
type StaticSource struct {
	Path     string
	Map      AddressMap
	Interval time.Duration // poll interval (default 250 ms, so changes apply within 1 s)
	Logger   *slog.Logger
}

// Run applies the file until ctx ends; the first read must succeed.
func (s *StaticSource) Run(ctx context.Context, p *Proxy, applied chan<- struct{}) error {
	if s.Interval <= 0 {
		s.Interval = 250 * time.Millisecond
	}
	var last []byte
	gen := int64(0)
	load := func() error {
		b, err := os.ReadFile(s.Path)
		if err != nil {
			return fmt.Errorf("read %s: %w", s.Path, err)
		}
		if bytes.Equal(b, last) {
			return nil
		}
		cfg, err := ParseStatic(b, s.Map, gen+1)
		if err != nil {
			return err
		}
		if _, err := p.Apply(cfg); err != nil {
			return err
		}
		last, gen = b, gen+1
		return nil
	}
	if err := load(); err != nil {
		return err
	}
	close(applied)
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := load(); err != nil {
				s.Logger.Warn("static config not applied; keeping the previous one", "error", err.Error())
			}
		}
	}
}
