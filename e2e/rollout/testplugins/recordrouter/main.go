// Command recordrouter is the rollout e2e tests' traffic-router plugin: it accepts every call
// and appends one JSON line per call to the file given by --record, so a test can check the
// controller's call sequence and that weights never regress. --unverified-file makes
// VerifyWeight return NotVerified while that file exists.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"sync"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/plugins"
)

// Call is one recorded call.
type Call struct {
	Time       time.Time `json:"time"`
	Pid        int       `json:"pid"`
	Method     string    `json:"method"`
	Rollout    string    `json:"rollout,omitempty"`
	Weight     int32     `json:"weight,omitempty"`
	CanaryHash string    `json:"canaryHash,omitempty"`
	StableHash string    `json:"stableHash,omitempty"`
	Route      string    `json:"route,omitempty"`
}

type router struct {
	mu         sync.Mutex
	path       string
	unverified string
}

func (r *router) record(c Call) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c.Time, c.Pid = time.Now(), os.Getpid()
	f, err := os.OpenFile(r.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	b, _ := json.Marshal(c)
	_, err = f.Write(append(b, '\n'))
	return err
}

func name(ro *v1alpha1.Rollout) string { return ro.Namespace + "/" + ro.Name }

func (r *router) InitPlugin(context.Context) error     { return r.record(Call{Method: "InitPlugin"}) }
func (r *router) Type(context.Context) (string, error) { return "RecordRouter", nil }
func (r *router) RemoveManagedRoutes(_ context.Context, ro *v1alpha1.Rollout) error {
	return r.record(Call{Method: "RemoveManagedRoutes", Rollout: name(ro)})
}

func (r *router) UpdateHash(_ context.Context, ro *v1alpha1.Rollout, canary, stable string, _ []v1alpha1.WeightDestination) error {
	return r.record(Call{Method: "UpdateHash", Rollout: name(ro), CanaryHash: canary, StableHash: stable})
}

func (r *router) SetWeight(_ context.Context, ro *v1alpha1.Rollout, w int32, _ []v1alpha1.WeightDestination) error {
	return r.record(Call{Method: "SetWeight", Rollout: name(ro), Weight: w})
}

func (r *router) SetHeaderRoute(_ context.Context, ro *v1alpha1.Rollout, h *v1alpha1.SetHeaderRoute) error {
	return r.record(Call{Method: "SetHeaderRoute", Rollout: name(ro), Route: h.Name})
}

func (r *router) SetMirrorRoute(_ context.Context, ro *v1alpha1.Rollout, m *v1alpha1.SetMirrorRoute) error {
	return r.record(Call{Method: "SetMirrorRoute", Rollout: name(ro), Route: m.Name})
}

func (r *router) VerifyWeight(_ context.Context, ro *v1alpha1.Rollout, w int32, _ []v1alpha1.WeightDestination) (plugins.RpcVerified, error) {
	if err := r.record(Call{Method: "VerifyWeight", Rollout: name(ro), Weight: w}); err != nil {
		return plugins.NotVerified, err
	}
	if r.unverified != "" {
		if _, err := os.Stat(r.unverified); err == nil {
			return plugins.NotVerified, nil
		}
	}
	return plugins.Verified, nil
}

func main() {
	fs := flag.NewFlagSet("recordrouter", flag.ExitOnError)
	record := fs.String("record", "", "file the calls are appended to")
	unverified := fs.String("unverified-file", "", "while this file exists VerifyWeight answers NotVerified")
	_ = fs.String("name", "e2e/record", "plugin name")
	_ = fs.Parse(os.Args[1:])
	logger := plugins.NewLogger("recordrouter")
	plugins.ServeTrafficRouter(context.Background(), &router{path: *record, unverified: *unverified}, logger)
}
