package scenario

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/nerve-rollouts/nerve/hack/demo/eventlog"
)

// run is the scenario, step by step; cleanup happens in Run.
func (r *runner) run(ctx context.Context) error {
	c := r.cfg
	r.say("run %s: logs in %s; expecting %s", r.runID, c.RunDir, c.Expected())

	r.say("== 1. namespaces %s (Rollout) and %s (controller)", c.Namespace, c.ControllerNamespace)
	for _, ns := range []string{c.Namespace, c.ControllerNamespace} {
		if err := r.freshNamespace(ctx, ns); err != nil {
			return err
		}
	}

	r.say("== 2. nerve-controller; the plugins of %s (snapshot in the run dir) registered in %s/argo-rollouts-config", c.Bin+"/plugins", c.ControllerNamespace)
	if err := r.registerPlugins(ctx); err != nil {
		return err
	}
	if err := r.startController(); err != nil {
		return err
	}

	r.say("== 3. routing: stable/canary Services and the MLLPRoute (kubectl apply -k %s)", filepath.Join(ExamplesPath, "routing"))
	if err := r.applyKustomize(ctx, r.examples("routing")); err != nil {
		return err
	}

	r.say("== 4. pod launcher: one MLLP listener process per Ready pod of the Rollout")
	if err := r.startLauncher(ctx); err != nil {
		return err
	}

	r.say("== 5. nerve-mllp-proxy watching MLLPRoute %s/%s, scraped by Prometheus", c.Namespace, RouteName)
	if err := r.startProxy(ctx); err != nil {
		return err
	}

	r.say("== 6. v1: the seed's Rollout + AnalysisTemplate (kubectl apply -k %s)", filepath.Join(ExamplesPath, "overlays/demo"))
	if err := r.applyKustomize(ctx, r.examples("overlays/demo")); err != nil {
		return err
	}
	stable, err := r.waitStable(ctx, 90*time.Second)
	if err != nil {
		return err
	}
	r.say("v1 is Healthy (pod-template hash %s)", stable)

	r.say("== 7. HL7 traffic: %d senders, %d patients, %.0f msg/s through the proxy", c.Senders, c.Patients, c.Rate)
	if err := r.startGenerator(); err != nil {
		return err
	}
	if err := r.log.Log(eventlog.Event{Kind: eventlog.KindStep, Step: -1, Weight: 0, Detail: "v1 only"}); err != nil {
		return err
	}
	if err := r.waitTraffic(ctx, 90*time.Second); err != nil {
		return err
	}
	if err := r.waitBaseline(ctx, 45*time.Second); err != nil {
		return err
	}

	return r.canary(ctx, stable)
}

// canary ships the new version, watches it to its outcome and records it.
func (r *runner) canary(ctx context.Context, stable string) error {
	overlay := "overlays/demo-v2"
	if r.cfg.Bad {
		overlay = "overlays/demo-v2-bad"
	}
	r.say("== 8. the new version (kubectl apply -k %s)", filepath.Join(ExamplesPath, overlay))
	recCtx, stopRec := context.WithCancel(ctx)
	defer stopRec()
	steps := make(chan error, 1)
	if err := r.applyKustomize(ctx, r.examples(overlay)); err != nil {
		return err
	}
	canary, err := r.waitCanaryHash(ctx, stable)
	if err != nil {
		return err
	}
	r.say("canary pod-template hash %s; watching: kubectl nerve get rollout %s -n %s -w --until completed", canary, RolloutName, r.cfg.Namespace)
	go func() { steps <- r.recordSteps(recCtx, stable) }()
	view := r.startView(ctx)
	result, detail, err := r.waitOutcome(ctx, stable, canary)
	if err != nil {
		return err
	}
	r.stopView(view)
	r.say("outcome: %s (%s); traffic continues for 3s", result, detail)
	time.Sleep(3 * time.Second)
	stopRec()
	if err := <-steps; err != nil {
		return err
	}
	if err := r.recordAnalysis(ctx); err != nil {
		return err
	}
	if err := r.log.Log(eventlog.Event{Kind: eventlog.KindOutcome, Phase: result, Detail: detail}); err != nil {
		return err
	}
	return r.stopTraffic()
}

// stopTraffic stops the generator first (it finishes its messages in
// flight), then the proxy, the launcher (and its listeners) and the controller.
func (r *runner) stopTraffic() error {
	r.say("== 9. stopping: generator (drains), proxy, launcher and listeners, controller")
	for _, name := range []string{"generator", "nerve-mllp-proxy", "launcher", "nerve-controller"} {
		for _, p := range r.procs {
			if p.name == name {
				if err := p.stop(20 * time.Second); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// versionName maps a pod-template hash to its NERVE_DEMO_VERSION.
func versionName(bad, canary bool) string {
	switch {
	case !canary:
		return "v1"
	case bad:
		return "v2-bad"
	default:
		return "v2"
	}
}

func (r *runner) logVersion(hash string, canary bool) error {
	role := "stable"
	if canary {
		role = "canary"
	}
	return r.log.Log(eventlog.Event{Kind: eventlog.KindVersion, Hash: hash, Version: versionName(r.cfg.Bad, canary), Detail: role})
}

// failWithLogs decorates an error with the tail of a process's log.
func (r *runner) failWithLogs(err error, names ...string) error {
	var b strings.Builder
	b.WriteString(err.Error())
	for _, p := range r.procs {
		for _, n := range names {
			if p.name == n {
				fmt.Fprintf(&b, "\n--- last lines of %s ---\n%s", p.logPath, p.tail(3000))
			}
		}
	}
	return fmt.Errorf("%s", b.String())
}
