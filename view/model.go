package view

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
	"github.com/nerve-rollouts/nerve/rollout/canary"
	"github.com/nerve-rollouts/nerve/rollout/rules"
)

// Status icons, as Argo's CLI prints them. The builders set them on every row, so every front end
// shows the same status glyphs.
const (
	IconWaiting     = "◷"
	IconProgressing = "◌"
	IconWarning     = "⚠"
	IconUnknown     = "?"
	IconOK          = "✔"
	IconBad         = "✖"
	IconPaused      = "॥"
	IconNeutral     = "•"
)

// Rollout is everything `get rollout` shows.
type Rollout struct {
	Name, Namespace string
	Status, Icon    string
	Message         string
	Strategy        string
	Step            string
	SetWeight       string
	ActualWeight    string
	Images          []Image
	Desired         int32
	Current         int32
	Updated         int32
	Ready           int32
	Available       int32
	Created         time.Time
	Revisions       []Revision
}

// Image is a container image with its stable/canary tags.
type Image struct {
	Image string
	Tags  []string
}

// Revision groups the ReplicaSets and AnalysisRuns of one revision.
type Revision struct {
	Number       int
	ReplicaSets  []ReplicaSet
	AnalysisRuns []AnalysisRun
}

// ReplicaSet is one ReplicaSet row and its pods.
type ReplicaSet struct {
	Name, Status, Icon string
	Tags               []string
	Created            time.Time
	Replicas           int32
	Available          int32
	Images             []string
	Pods               []Pod
	hash               string
	uid                types.UID
	revision           int
}

// Pod is one pod row.
type Pod struct {
	Name, Status, Icon string
	Ready              string
	Restarts           int32
	Created            time.Time
}

// AnalysisRun is one AnalysisRun row with its metrics.
type AnalysisRun struct {
	Name, Status, Icon string
	Message            string
	Created            time.Time
	Successful         int32
	Failed             int32
	Inconclusive       int32
	Error              int32
	Metrics            []Metric
	revision           int
}

// Metric is the latest state of one metric of an AnalysisRun.
type Metric struct {
	Run       string
	Name      string
	Phase     string
	Icon      string
	Value     string
	Condition string
	Query     string
	Measured  int
	Count     string
	TimeLeft  string
	Message   string
}

// Build derives the view of ro from its ReplicaSets, pods and AnalysisRuns (objects not owned
// by ro are ignored), at time now.
func Build(ro *v1alpha1.Rollout, rss []appsv1.ReplicaSet, pods []corev1.Pod, runs []v1alpha1.AnalysisRun, now time.Time) Rollout {
	phase, msg := rules.ObservedPhase(ro)
	out := Rollout{
		Name: ro.Name, Namespace: ro.Namespace, Status: string(phase), Icon: RolloutIcon(string(phase)), Message: msg,
		Desired: canary.Replicas(ro), Current: ro.Status.Replicas, Updated: ro.Status.UpdatedReplicas,
		Ready: ro.Status.ReadyReplicas, Available: ro.Status.AvailableReplicas, Created: ro.CreationTimestamp.Time,
	}
	sets := replicaSets(ro, rss, pods, now)
	out.Strategy, out.Step, out.SetWeight, out.ActualWeight = strategy(ro, sets)
	out.Images = images(sets)
	out.Revisions = revisions(sets, analysisRuns(ro.UID, runs, now))
	return out
}

func strategy(ro *v1alpha1.Rollout, sets []ReplicaSet) (name, step, set, actual string) {
	if ro.Spec.Strategy.BlueGreen != nil {
		return "BlueGreen", "", "", ""
	}
	if ro.Spec.Strategy.Canary == nil {
		return "", "", "", ""
	}
	steps := canary.Steps(ro)
	if ro.Status.CurrentStepIndex != nil && len(steps) > 0 {
		step = fmt.Sprintf("%d/%d", *ro.Status.CurrentStepIndex, len(steps))
	}
	set = strconv.Itoa(int(canary.CurrentSetWeight(ro)))
	return "Canary", step, set, actualWeight(ro, sets, set)
}

func actualWeight(ro *v1alpha1.Rollout, sets []ReplicaSet, set string) string {
	if cur, _ := canary.CurrentStep(ro); cur == nil {
		return strconv.Itoa(int(canary.MaxWeight(ro)))
	}
	if ro.Status.AvailableReplicas <= 0 {
		return "0"
	}
	if ro.Spec.Strategy.Canary.TrafficRouting != nil {
		if w := ro.Status.Canary.Weights; w != nil {
			return strconv.Itoa(int(w.Canary.Weight))
		}
		return set
	}
	for _, rs := range sets {
		if hasTag(rs.Tags, "canary") {
			return strconv.Itoa(int(rs.Available * canary.MaxWeight(ro) / ro.Status.AvailableReplicas))
		}
	}
	return "0"
}

func hasTag(tags []string, tag string) bool {
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}

func ownedBy(refs []metav1.OwnerReference, uid types.UID) bool {
	for _, r := range refs {
		if r.UID == uid {
			return true
		}
	}
	return false
}

func revisionOf(annotations map[string]string) int {
	n, _ := strconv.Atoi(annotations[v1alpha1.RevisionAnnotation])
	return n
}

func replicaSets(ro *v1alpha1.Rollout, rss []appsv1.ReplicaSet, pods []corev1.Pod, now time.Time) []ReplicaSet {
	var out []ReplicaSet
	for i := range rss {
		rs := &rss[i]
		if !ownedBy(rs.OwnerReferences, ro.UID) {
			continue
		}
		status := replicaSetHealth(rs)
		info := ReplicaSet{
			Name: rs.Name, Status: status, Icon: ReplicaSetIcon(status), Created: rs.CreationTimestamp.Time,
			Replicas: rs.Status.Replicas, Available: rs.Status.AvailableReplicas, uid: rs.UID,
			hash: rs.Labels[v1alpha1.DefaultRolloutUniqueLabelKey], revision: revisionOf(rs.Annotations),
		}
		info.Tags = replicaSetTags(ro, info.hash)
		if d, ok := rs.Annotations[v1alpha1.ScaleDownDeadlineAnnotationKey]; ok {
			info.Tags = append(info.Tags, "delay:"+scaleDownDelay(d, now))
		}
		for _, c := range rs.Spec.Template.Spec.Containers {
			info.Images = append(info.Images, c.Image)
		}
		info.Pods = podsOf(rs.UID, pods)
		out = append(out, info)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].revision != out[j].revision {
			return out[i].revision > out[j].revision
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// replicaSetTags are Argo's tree tags of a ReplicaSet: stable, then canary (canary) or active or
// preview (blueGreen: the ReplicaSet the active or preview Service selects).
func replicaSetTags(ro *v1alpha1.Rollout, hash string) []string {
	var tags []string
	switch {
	case ro.Spec.Strategy.Canary != nil:
		switch hash {
		case ro.Status.StableRS:
			tags = append(tags, "stable")
		case ro.Status.CurrentPodHash:
			tags = append(tags, "canary")
		}
	case ro.Spec.Strategy.BlueGreen != nil:
		if hash == ro.Status.StableRS {
			tags = append(tags, "stable")
		}
		switch hash {
		case ro.Status.BlueGreen.ActiveSelector:
			tags = append(tags, "active")
		case ro.Status.BlueGreen.PreviewSelector:
			tags = append(tags, "preview")
		}
	}
	return tags
}

// scaleDownDelay is the time left before a scale-down deadline as Argo's CLI prints it
// ("passed" once due).
func scaleDownDelay(deadline string, now time.Time) string {
	t, err := time.Parse(time.RFC3339, deadline)
	if err != nil {
		return ""
	}
	if t.Before(now) {
		return "passed"
	}
	return duration.HumanDuration(t.Sub(now))
}

func replicaSetHealth(rs *appsv1.ReplicaSet) string {
	if rs.Generation > rs.Status.ObservedGeneration {
		return "Progressing"
	}
	for _, c := range rs.Status.Conditions {
		if c.Type == appsv1.ReplicaSetReplicaFailure && c.Status == corev1.ConditionTrue {
			return string(appsv1.ReplicaSetReplicaFailure)
		}
	}
	if rs.Spec.Replicas != nil && rs.Status.AvailableReplicas < *rs.Spec.Replicas {
		return "Progressing"
	}
	if rs.Spec.Replicas != nil && *rs.Spec.Replicas == 0 {
		return "ScaledDown"
	}
	return "Healthy"
}

func podsOf(uid types.UID, pods []corev1.Pod) []Pod {
	var out []Pod
	for i := range pods {
		p := &pods[i]
		if !ownedBy(p.OwnerReferences, uid) {
			continue
		}
		status, icon := podStatus(p)
		ready, restarts := 0, int32(0)
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Ready {
				ready++
			}
			restarts += cs.RestartCount
		}
		out = append(out, Pod{
			Name: p.Name, Status: status, Icon: icon, Created: p.CreationTimestamp.Time, Restarts: restarts,
			Ready: fmt.Sprintf("ready:%d/%d", ready, len(p.Spec.Containers)),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func podStatus(p *corev1.Pod) (string, string) {
	if p.DeletionTimestamp != nil {
		return "Terminating", IconNeutral
	}
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			return w.Reason, iconForWaiting(w.Reason)
		}
		if t := cs.State.Terminated; t != nil && t.Reason != "" && p.Status.Phase != corev1.PodSucceeded {
			return t.Reason, IconBad
		}
	}
	switch p.Status.Phase {
	case corev1.PodRunning:
		return "Running", IconOK
	case corev1.PodSucceeded:
		return "Completed", IconOK
	case corev1.PodFailed:
		return "Error", IconBad
	case corev1.PodPending:
		return "Pending", IconProgressing
	}
	return "Unknown", IconUnknown
}

func iconForWaiting(reason string) string {
	switch reason {
	case "ContainerCreating", "PodInitializing":
		return IconProgressing
	}
	return IconBad
}

// images lists the images of the ReplicaSets that run pods with their strategy tags, as Argo's
// CLI: an image's tags keep their ReplicaSet's order (stable, canary|active|preview) until a
// second ReplicaSet with the same image merges its tags in, sorted.
func images(sets []ReplicaSet) []Image {
	var out []Image
	for _, rs := range sets {
		if rs.Replicas <= 0 {
			continue
		}
		for _, img := range rs.Images {
			out = mergeImage(out, img, strategyTags(rs.Tags))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Image < out[j].Image })
	return out
}

func mergeImage(out []Image, img string, tags []string) []Image {
	for i := range out {
		if out[i].Image != img {
			continue
		}
		seen := map[string]bool{}
		var merged []string
		for _, t := range append(append([]string(nil), out[i].Tags...), tags...) {
			if !seen[t] {
				seen[t] = true
				merged = append(merged, t)
			}
		}
		sort.Strings(merged)
		out[i].Tags = merged
		return out
	}
	return append(out, Image{Image: img, Tags: tags})
}

// strategyTags drops the delay:… tag (a ReplicaSet's, not an image's).
func strategyTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if !strings.HasPrefix(t, "delay:") {
			out = append(out, t)
		}
	}
	return out
}

func revisions(sets []ReplicaSet, runs []AnalysisRun) []Revision {
	byRev := map[int]*Revision{}
	get := func(n int) *Revision {
		if byRev[n] == nil {
			byRev[n] = &Revision{Number: n}
		}
		return byRev[n]
	}
	for _, rs := range sets {
		r := get(rs.revision)
		r.ReplicaSets = append(r.ReplicaSets, rs)
	}
	for _, ar := range runs {
		r := get(ar.revision)
		r.AnalysisRuns = append(r.AnalysisRuns, ar)
	}
	out := make([]Revision, 0, len(byRev))
	for _, r := range byRev {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number > out[j].Number })
	return out
}

// RolloutIcon is the status icon of a Rollout phase.
func RolloutIcon(status string) string {
	switch status {
	case "Progressing":
		return IconProgressing
	case "Error", "InvalidSpec":
		return IconWarning
	case "Paused":
		return IconPaused
	case "Healthy":
		return IconOK
	case "Degraded":
		return IconBad
	case "ScaledDown":
		return IconNeutral
	}
	return IconUnknown
}

// ReplicaSetIcon is the status icon of a ReplicaSet health.
func ReplicaSetIcon(status string) string {
	switch status {
	case "Progressing":
		return IconProgressing
	case "Healthy":
		return IconOK
	case string(appsv1.ReplicaSetReplicaFailure):
		return IconBad
	case "ScaledDown":
		return IconNeutral
	}
	return IconUnknown
}

// AnalysisIcon is the status icon of an analysis phase.
func AnalysisIcon(p v1alpha1.AnalysisPhase) string {
	switch p {
	case v1alpha1.AnalysisPhasePending:
		return IconWaiting
	case v1alpha1.AnalysisPhaseRunning:
		return IconProgressing
	case v1alpha1.AnalysisPhaseSuccessful:
		return IconOK
	case v1alpha1.AnalysisPhaseFailed:
		return IconBad
	case v1alpha1.AnalysisPhaseError:
		return IconWarning
	case v1alpha1.AnalysisPhaseInconclusive:
		return IconUnknown
	}
	return IconWaiting
}

// Tags joins tags with commas.
func Tags(tags []string) string { return strings.Join(tags, ",") }
