package gitops

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/rules"
	"github.com/nerve-rollouts/nerve/view"
)

// Verdicts of a revision in one environment.
const (
	VerdictSuccessful  = "Successful"  // every AnalysisRun of the revision passed
	VerdictFailed      = "Failed"      // an AnalysisRun failed, errored or was inconclusive, or the canary was aborted
	VerdictRunning     = "Running"     // analysis still running
	VerdictNoAnalysis  = "NoAnalysis"  // the revision ran without any AnalysisRun
	VerdictNotDeployed = "NotDeployed" // no ReplicaSet of the Rollout runs these images
)

// RunVerdict is one AnalysisRun of a revision.
type RunVerdict struct {
	Name    string `json:"name"`
	Phase   string `json:"phase"`
	Message string `json:"message,omitempty"`
}

// RolloutVerdict is the verdict of one Rollout's revision.
type RolloutVerdict struct {
	Rollout string       `json:"rollout"`
	Images  []string     `json:"images"`
	PodHash string       `json:"podTemplateHash,omitempty"`
	Verdict string       `json:"verdict"`
	Stable  bool         `json:"stable"`
	Phase   string       `json:"phase,omitempty"`
	Runs    []RunVerdict `json:"analysisRuns,omitempty"`
	Message string       `json:"message,omitempty"`
}

// Passed reports a revision that passed analysis and is the Rollout's healthy stable.
func (v RolloutVerdict) Passed() bool { return v.Verdict == VerdictSuccessful && v.Stable }

// Verdicts finds, for each Rollout among the rendered objects, the revision running the images
// Git declares in namespace ns, and the verdict of its AnalysisRuns.
func Verdicts(ctx context.Context, read view.Reader, ns string, rendered []*unstructured.Unstructured) ([]RolloutVerdict, error) {
	var out []RolloutVerdict
	for _, o := range rendered {
		if o.GetKind() != v1alpha1.RolloutKind {
			continue
		}
		want := sortedImages(templateImages(o.Object))
		v, err := rolloutVerdict(ctx, read, ns, o.GetName(), want)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func sortedImages(in []string) []string {
	out := slices.Clone(in)
	sort.Strings(out)
	return slices.Compact(out)
}

func rolloutVerdict(ctx context.Context, read view.Reader, ns, name string, images []string) (RolloutVerdict, error) {
	v := RolloutVerdict{Rollout: name, Images: images, Verdict: VerdictNotDeployed}
	_, ro, err := read.Get(ctx, ns, name)
	if err != nil {
		return v, fmt.Errorf("rollout %s/%s: %w", ns, name, err)
	}
	phase, msg := rules.ObservedPhase(ro)
	v.Phase = string(phase)
	rss, err := read.ReplicaSets(ctx, ro)
	if err != nil {
		return v, err
	}
	rs := replicaSetRunning(rss, images)
	if rs == nil {
		v.Message = "no ReplicaSet of the rollout runs " + strings.Join(images, ", ")
		return v, nil
	}
	v.PodHash = rs.Labels[v1alpha1.DefaultRolloutUniqueLabelKey]
	v.Stable = ro.Status.StableRS == v.PodHash && phase == v1alpha1.RolloutPhaseHealthy
	runs, _, err := read.AnalysisRuns(ctx, ns, ro.UID)
	if err != nil {
		return v, err
	}
	v.Runs = runsOf(runs, v.PodHash)
	v.Verdict, v.Message = judge(v.Runs, ro, v.PodHash, msg)
	return v, nil
}

// replicaSetRunning returns the newest ReplicaSet whose pod template runs exactly images.
func replicaSetRunning(rss []appsv1.ReplicaSet, images []string) *appsv1.ReplicaSet {
	var best *appsv1.ReplicaSet
	for i := range rss {
		rs := &rss[i]
		var got []string
		for _, c := range append(rs.Spec.Template.Spec.InitContainers, rs.Spec.Template.Spec.Containers...) {
			got = append(got, c.Image)
		}
		if !slices.Equal(sortedImages(got), images) {
			continue
		}
		if best == nil || rs.CreationTimestamp.After(best.CreationTimestamp.Time) {
			best = rs
		}
	}
	return best
}

func runsOf(runs []v1alpha1.AnalysisRun, hash string) []RunVerdict {
	var out []RunVerdict
	for _, r := range runs {
		if r.Labels[v1alpha1.DefaultRolloutUniqueLabelKey] != hash {
			continue
		}
		out = append(out, RunVerdict{Name: r.Name, Phase: string(r.Status.Phase), Message: r.Status.Message})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// judge decides the verdict of a revision from its runs (and an abort of that revision).
func judge(runs []RunVerdict, ro *v1alpha1.Rollout, hash, rolloutMsg string) (string, string) {
	running := false
	for _, r := range runs {
		switch v1alpha1.AnalysisPhase(r.Phase) {
		case v1alpha1.AnalysisPhaseFailed, v1alpha1.AnalysisPhaseError, v1alpha1.AnalysisPhaseInconclusive:
			return VerdictFailed, fmt.Sprintf("AnalysisRun %s %s: %s", r.Name, r.Phase, r.Message)
		case v1alpha1.AnalysisPhaseSuccessful:
		default:
			running = true
		}
	}
	if ro.Status.Abort && ro.Status.CurrentPodHash == hash {
		return VerdictFailed, "the canary was aborted: " + rolloutMsg
	}
	if running {
		return VerdictRunning, "analysis is running"
	}
	if len(runs) == 0 {
		return VerdictNoAnalysis, "no AnalysisRun ran for this revision"
	}
	return VerdictSuccessful, ""
}

// VerdictOf is the verdict of the revision of Rollout ns/name that runs images.
func VerdictOf(ctx context.Context, read view.Reader, ns, name string, images []string) (RolloutVerdict, error) {
	return rolloutVerdict(ctx, read, ns, name, sortedImages(images))
}
