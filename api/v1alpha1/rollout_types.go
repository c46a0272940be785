package v1alpha1

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// +genclient
// +kubebuilder:object:root=true

// Rollout is a Deployment-like workload progressed by a canary strategy.
type Rollout struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RolloutSpec   `json:"spec"`
	Status RolloutStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// RolloutList is a list of Rollouts.
type RolloutList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Rollout `json:"items"`
}

// RolloutSpec is the desired state of a Rollout.
type RolloutSpec struct {
	// TemplateResolvedFromRef and SelectorResolvedFromRef are Argo's internal flags; gob still
	// carries them (json:"-"), so they keep Argo's names and kinds.
	TemplateResolvedFromRef bool `json:"-"`
	SelectorResolvedFromRef bool `json:"-"`

	Replicas                *int32                 `json:"replicas,omitempty"`
	Selector                *metav1.LabelSelector  `json:"selector"`
	Template                corev1.PodTemplateSpec `json:"template"`
	WorkloadRef             *ObjectRef             `json:"workloadRef,omitempty"`
	MinReadySeconds         int32                  `json:"minReadySeconds,omitempty"`
	RollbackWindow          *RollbackWindowSpec    `json:"rollbackWindow,omitempty"`
	Strategy                RolloutStrategy        `json:"strategy"`
	RevisionHistoryLimit    *int32                 `json:"revisionHistoryLimit,omitempty"`
	Paused                  bool                   `json:"paused,omitempty"`
	ProgressDeadlineSeconds *int32                 `json:"progressDeadlineSeconds,omitempty"`
	ProgressDeadlineAbort   bool                   `json:"progressDeadlineAbort,omitempty"`
	RestartAt               *metav1.Time           `json:"restartAt,omitempty"`
	Analysis                *AnalysisRunStrategy   `json:"analysis,omitempty"`
}

// ObjectRef references a workload (workloadRef); nerve refuses it with InvalidSpec.
type ObjectRef struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Name       string `json:"name,omitempty"`
	ScaleDown  string `json:"scaleDown,omitempty"`
}

// RollbackWindowSpec lets a rollback to one of the last N revisions skip the steps.
type RollbackWindowSpec struct {
	Revisions int32 `json:"revisions,omitempty"`
}

// AnalysisRunStrategy limits the AnalysisRuns kept per Rollout.
type AnalysisRunStrategy struct {
	SuccessfulRunHistoryLimit   *int32 `json:"successfulRunHistoryLimit,omitempty"`
	UnsuccessfulRunHistoryLimit *int32 `json:"unsuccessfulRunHistoryLimit,omitempty"`
}

// RolloutStrategy holds exactly one strategy.
type RolloutStrategy struct {
	BlueGreen *BlueGreenStrategy `json:"blueGreen,omitempty"`
	Canary    *CanaryStrategy    `json:"canary,omitempty"`
}

// BlueGreenStrategy is Argo's blueGreen update strategy: the new ReplicaSet comes up beside the
// stable one behind previewService, and activeService is switched to it once it is fully
// available and promoted (automatically or by the user), optionally gated by pre- and
// post-promotion analysis.
type BlueGreenStrategy struct {
	ActiveService               string               `json:"activeService"`
	PreviewService              string               `json:"previewService,omitempty"`
	PreviewReplicaCount         *int32               `json:"previewReplicaCount,omitempty"`
	AutoPromotionEnabled        *bool                `json:"autoPromotionEnabled,omitempty"`
	AutoPromotionSeconds        int32                `json:"autoPromotionSeconds,omitempty"`
	MaxUnavailable              *intstr.IntOrString  `json:"maxUnavailable,omitempty"`
	ScaleDownDelaySeconds       *int32               `json:"scaleDownDelaySeconds,omitempty"`
	ScaleDownDelayRevisionLimit *int32               `json:"scaleDownDelayRevisionLimit,omitempty"`
	PrePromotionAnalysis        *RolloutAnalysis     `json:"prePromotionAnalysis,omitempty"`
	AntiAffinity                *AntiAffinity        `json:"antiAffinity,omitempty"`
	PostPromotionAnalysis       *RolloutAnalysis     `json:"postPromotionAnalysis,omitempty"`
	PreviewMetadata             *PodTemplateMetadata `json:"previewMetadata,omitempty"`
	ActiveMetadata              *PodTemplateMetadata `json:"activeMetadata,omitempty"`
	AbortScaleDownDelaySeconds  *int32               `json:"abortScaleDownDelaySeconds,omitempty"`
}

// AntiAffinity asks for an anti-affinity rule against the previous stable ReplicaSet's pods on
// a new ReplicaSet (exactly one of the two kinds).
type AntiAffinity struct {
	PreferredDuringSchedulingIgnoredDuringExecution *PreferredDuringSchedulingIgnoredDuringExecution `json:"preferredDuringSchedulingIgnoredDuringExecution,omitempty"`
	RequiredDuringSchedulingIgnoredDuringExecution  *RequiredDuringSchedulingIgnoredDuringExecution  `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty"`
}

// PreferredDuringSchedulingIgnoredDuringExecution is a preferred anti-affinity rule's weight (1-100).
type PreferredDuringSchedulingIgnoredDuringExecution struct {
	Weight int32 `json:"weight"`
}

// RequiredDuringSchedulingIgnoredDuringExecution selects a required anti-affinity rule.
type RequiredDuringSchedulingIgnoredDuringExecution struct{}

// CanaryStrategy is the canary update strategy.
type CanaryStrategy struct {
	CanaryService               string                     `json:"canaryService,omitempty"`
	StableService               string                     `json:"stableService,omitempty"`
	Steps                       []CanaryStep               `json:"steps,omitempty"`
	TrafficRouting              *RolloutTrafficRouting     `json:"trafficRouting,omitempty"`
	MaxUnavailable              *intstr.IntOrString        `json:"maxUnavailable,omitempty"`
	MaxSurge                    *intstr.IntOrString        `json:"maxSurge,omitempty"`
	Analysis                    *RolloutAnalysisBackground `json:"analysis,omitempty"`
	CanaryMetadata              *PodTemplateMetadata       `json:"canaryMetadata,omitempty"`
	StableMetadata              *PodTemplateMetadata       `json:"stableMetadata,omitempty"`
	ScaleDownDelaySeconds       *int32                     `json:"scaleDownDelaySeconds,omitempty"`
	ScaleDownDelayRevisionLimit *int32                     `json:"scaleDownDelayRevisionLimit,omitempty"`
	AbortScaleDownDelaySeconds  *int32                     `json:"abortScaleDownDelaySeconds,omitempty"`
	DynamicStableScale          bool                       `json:"dynamicStableScale,omitempty"`
	MinPodsPerReplicaSet        *int32                     `json:"minPodsPerReplicaSet,omitempty"`
	// AntiAffinity keeps the canary's pods off the nodes of the stable's (as blueGreen's).
	AntiAffinity *AntiAffinity `json:"antiAffinity,omitempty"`
	// ReplicaProgressThreshold is refused by rollout/rules (unsupported_types.go).
	ReplicaProgressThreshold *ReplicaProgressThreshold `json:"replicaProgressThreshold,omitempty"`
	// PingPong is Argo's ping-pong service pair; nerve refuses it (rollout/rules).
	PingPong *PingPongSpec `json:"pingPong,omitempty"`
}

// PingPongSpec names Argo's ping and pong Services (canary.pingPong).
type PingPongSpec struct {
	PingService string `json:"pingService"`
	PongService string `json:"pongService"`
}

// RolloutTrafficRouting configures the traffic routers. nerve routes only through plugins;
// the built-in router blocks of Argo (istio, nginx, alb, ...) are kept only to be refused.
type RolloutTrafficRouting struct {
	// ManagedRoutes lists the route names setHeaderRoute/setMirrorRoute steps may use, in
	// precedence order. (Argo spells the element type "MangedRoutes"; only the field name
	// matters on the wire.)
	ManagedRoutes []MangedRoutes `json:"managedRoutes,omitempty"`
	// Plugins maps a plugin name ("<namespace>/<name>") to its free-form JSON config. On the gob
	// wire this must stay map[string][]byte.
	Plugins          map[string]json.RawMessage `json:"plugins,omitempty"`
	MaxTrafficWeight *int32                     `json:"maxTrafficWeight,omitempty"`
	// Argo's built-in routers, refused by rollout/rules (unsupported_types.go).
	Istio      *IstioTrafficRouting      `json:"istio,omitempty"`
	Nginx      *NginxTrafficRouting      `json:"nginx,omitempty"`
	ALB        *ALBTrafficRouting        `json:"alb,omitempty"`
	SMI        *SMITrafficRouting        `json:"smi,omitempty"`
	Ambassador *AmbassadorTrafficRouting `json:"ambassador,omitempty"`
	AppMesh    *AppMeshTrafficRouting    `json:"appMesh,omitempty"`
	Traefik    *TraefikTrafficRouting    `json:"traefik,omitempty"`
	Apisix     *ApisixTrafficRouting     `json:"apisix,omitempty"`
}

// MangedRoutes names one managed route (Argo's spelling).
type MangedRoutes struct {
	Name string `json:"name"`
}

// PodTemplateMetadata is extra pod metadata for the canary or stable pods.
type PodTemplateMetadata struct {
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// AnalysisRunMetadata is extra metadata for created AnalysisRuns.
type AnalysisRunMetadata struct {
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// CanaryStep is one step of a canary; exactly one field is set.
type CanaryStep struct {
	SetWeight      *int32                 `json:"setWeight,omitempty"`
	Pause          *RolloutPause          `json:"pause,omitempty"`
	Experiment     *RolloutExperimentStep `json:"experiment,omitempty"`
	Analysis       *RolloutAnalysis       `json:"analysis,omitempty"`
	SetCanaryScale *SetCanaryScale        `json:"setCanaryScale,omitempty"`
	SetHeaderRoute *SetHeaderRoute        `json:"setHeaderRoute,omitempty"`
	SetMirrorRoute *SetMirrorRoute        `json:"setMirrorRoute,omitempty"`
	Plugin         *PluginStep            `json:"plugin,omitempty"`
}

// RolloutExperimentStep is recognised (so that it is refused clearly) but not run by nerve.
type RolloutExperimentStep struct {
	Templates []RolloutExperimentTemplate `json:"templates"`
	Duration  DurationString              `json:"duration,omitempty"`
}

// RolloutExperimentTemplate is one template of an experiment step.
type RolloutExperimentTemplate struct {
	Name     string `json:"name"`
	SpecRef  string `json:"specRef"`
	Replicas *int32 `json:"replicas,omitempty"`
	Weight   *int32 `json:"weight,omitempty"`
}

// PluginStep is a step plugin invocation (not run by nerve's loop).
type PluginStep struct {
	Name   string          `json:"name"`
	Config json.RawMessage `json:"config,omitempty"`
}

// SetMirrorRoute mirrors matching traffic to the canary.
type SetMirrorRoute struct {
	// Name must be listed in trafficRouting.managedRoutes.
	Name string `json:"name"`
	// Match: nil removes the route.
	Match []RouteMatch `json:"match,omitempty"`
	// Percentage of matching traffic to mirror (default 100).
	Percentage *int32 `json:"percentage,omitempty"`
}

// RouteMatch matches a request; all set fields must match.
type RouteMatch struct {
	Method  *StringMatch           `json:"method,omitempty"`
	Path    *StringMatch           `json:"path,omitempty"`
	Headers map[string]StringMatch `json:"headers,omitempty"`
}

// StringMatch is exactly one of exact, prefix or regex.
type StringMatch struct {
	Exact  string `json:"exact,omitempty"`
	Prefix string `json:"prefix,omitempty"`
	Regex  string `json:"regex,omitempty"`
}

// SetHeaderRoute sends requests matching headers to the canary.
type SetHeaderRoute struct {
	// Name must be listed in trafficRouting.managedRoutes.
	Name string `json:"name,omitempty"`
	// Match: nil removes the route.
	Match []HeaderRoutingMatch `json:"match,omitempty"`
}

// HeaderRoutingMatch matches one header.
type HeaderRoutingMatch struct {
	HeaderName  string       `json:"headerName"`
	HeaderValue *StringMatch `json:"headerValue"`
}

// SetCanaryScale scales the canary independently of the traffic weight.
type SetCanaryScale struct {
	Weight             *int32 `json:"weight,omitempty"`
	Replicas           *int32 `json:"replicas,omitempty"`
	MatchTrafficWeight bool   `json:"matchTrafficWeight,omitempty"`
}

// RolloutAnalysisBackground is the background analysis of a canary. It embeds RolloutAnalysis,
// so on the gob wire the embedded struct is a field named RolloutAnalysis.
type RolloutAnalysisBackground struct {
	RolloutAnalysis `json:",inline"`
	StartingStep    *int32 `json:"startingStep,omitempty"`
}

// RolloutAnalysis references the templates and arguments of an analysis.
type RolloutAnalysis struct {
	Templates            []AnalysisTemplateRef  `json:"templates,omitempty"`
	Args                 []AnalysisRunArgument  `json:"args,omitempty"`
	DryRun               []DryRun               `json:"dryRun,omitempty"`
	MeasurementRetention []MeasurementRetention `json:"measurementRetention,omitempty"`
	AnalysisRunMetadata  *AnalysisRunMetadata   `json:"analysisRunMetadata,omitempty"`
}

// AnalysisTemplateRef names an AnalysisTemplate (or, with clusterScope, a ClusterAnalysisTemplate).
type AnalysisTemplateRef struct {
	TemplateName string `json:"templateName"`
	ClusterScope *bool  `json:"clusterScope,omitempty"`
}

// AnalysisRunArgument is an argument value a Rollout passes to its analysis.
type AnalysisRunArgument struct {
	Name      string             `json:"name"`
	Value     string             `json:"value,omitempty"`
	ValueFrom *ArgumentValueFrom `json:"valueFrom,omitempty"`
}

// ArgumentValueFrom takes an argument value from the Rollout.
type ArgumentValueFrom struct {
	PodTemplateHashValue *ValueFromPodTemplateHash `json:"podTemplateHashValue,omitempty"`
	FieldRef             *FieldRef                 `json:"fieldRef,omitempty"`
}

// ValueFromPodTemplateHash is "Stable" or "Latest".
type ValueFromPodTemplateHash string

// Pod template hash sources.
const (
	Stable ValueFromPodTemplateHash = "Stable"
	Latest ValueFromPodTemplateHash = "Latest"
)

// FieldRef is a field path of the Rollout, e.g. metadata.labels['app'].
type FieldRef struct {
	FieldPath string `json:"fieldPath"`
}

// RolloutPause pauses the canary; a nil Duration pauses until promoted.
type RolloutPause struct {
	// Duration is an int (seconds) or a duration string ("30s", "5m", "1h").
	Duration *intstr.IntOrString `json:"duration,omitempty"`
}

// PauseReason says why a Rollout paused.
type PauseReason string

// Pause reasons as Argo writes them.
const (
	PauseReasonInconclusiveAnalysis   PauseReason = "InconclusiveAnalysisRun"
	PauseReasonInconclusiveExperiment PauseReason = "InconclusiveExperiment"
	PauseReasonCanaryPauseStep        PauseReason = "CanaryPauseStep"
	PauseReasonBlueGreenPause         PauseReason = "BlueGreenPause"
)

// PauseCondition records one reason the controller paused the Rollout.
type PauseCondition struct {
	Reason    PauseReason `json:"reason"`
	StartTime metav1.Time `json:"startTime"`
}

// RolloutPhase is the summary phase of a Rollout.
type RolloutPhase string

// Rollout phases.
const (
	RolloutPhaseHealthy     RolloutPhase = "Healthy"
	RolloutPhaseDegraded    RolloutPhase = "Degraded"
	RolloutPhaseProgressing RolloutPhase = "Progressing"
	RolloutPhasePaused      RolloutPhase = "Paused"
)

// RolloutStatus is the observed state of a Rollout, written as Argo writes it so Argo's tools
// read it.
type RolloutStatus struct {
	Abort              bool               `json:"abort,omitempty"`
	PauseConditions    []PauseCondition   `json:"pauseConditions,omitempty"`
	ControllerPause    bool               `json:"controllerPause,omitempty"`
	AbortedAt          *metav1.Time       `json:"abortedAt,omitempty"`
	CurrentPodHash     string             `json:"currentPodHash,omitempty"`
	CurrentStepHash    string             `json:"currentStepHash,omitempty"`
	Replicas           int32              `json:"replicas,omitempty"`
	UpdatedReplicas    int32              `json:"updatedReplicas,omitempty"`
	ReadyReplicas      int32              `json:"readyReplicas,omitempty"`
	AvailableReplicas  int32              `json:"availableReplicas,omitempty"`
	CurrentStepIndex   *int32             `json:"currentStepIndex,omitempty"`
	CollisionCount     *int32             `json:"collisionCount,omitempty"`
	ObservedGeneration string             `json:"observedGeneration,omitempty"`
	Conditions         []RolloutCondition `json:"conditions,omitempty"`
	Canary             CanaryStatus       `json:"canary,omitempty"`
	BlueGreen          BlueGreenStatus    `json:"blueGreen,omitempty"`
	HPAReplicas        int32              `json:"HPAReplicas,omitempty"`
	Selector           string             `json:"selector,omitempty"`
	StableRS           string             `json:"stableRS,omitempty"`
	RestartedAt        *metav1.Time       `json:"restartedAt,omitempty"`
	PromoteFull        bool               `json:"promoteFull,omitempty"`
	Phase              RolloutPhase       `json:"phase,omitempty"`
	Message            string             `json:"message,omitempty"`
}

// BlueGreenStatus is the blueGreen part of the status.
type BlueGreenStatus struct {
	PreviewSelector                string                    `json:"previewSelector,omitempty"`
	ActiveSelector                 string                    `json:"activeSelector,omitempty"`
	ScaleUpPreviewCheckPoint       bool                      `json:"scaleUpPreviewCheckPoint,omitempty"`
	PrePromotionAnalysisRunStatus  *RolloutAnalysisRunStatus `json:"prePromotionAnalysisRunStatus,omitempty"`
	PostPromotionAnalysisRunStatus *RolloutAnalysisRunStatus `json:"postPromotionAnalysisRunStatus,omitempty"`
}

// CanaryStatus is the canary part of the status.
type CanaryStatus struct {
	CurrentStepAnalysisRunStatus       *RolloutAnalysisRunStatus `json:"currentStepAnalysisRunStatus,omitempty"`
	CurrentBackgroundAnalysisRunStatus *RolloutAnalysisRunStatus `json:"currentBackgroundAnalysisRunStatus,omitempty"`
	CurrentExperiment                  string                    `json:"currentExperiment,omitempty"`
	Weights                            *TrafficWeights           `json:"weights,omitempty"`
}

// TrafficWeights are the weights last set on the traffic routers.
type TrafficWeights struct {
	Canary     WeightDestination   `json:"canary"`
	Stable     WeightDestination   `json:"stable"`
	Additional []WeightDestination `json:"additional,omitempty"`
	Verified   *bool               `json:"verified,omitempty"`
}

// WeightDestination is the weight of one destination.
type WeightDestination struct {
	Weight          int32  `json:"weight"`
	ServiceName     string `json:"serviceName,omitempty"`
	PodTemplateHash string `json:"podTemplateHash,omitempty"`
}

// RolloutAnalysisRunStatus names the AnalysisRun of the current step or the background.
type RolloutAnalysisRunStatus struct {
	Name    string        `json:"name"`
	Status  AnalysisPhase `json:"status"`
	Message string        `json:"message,omitempty"`
}

// RolloutConditionType is the type of a Rollout condition.
type RolloutConditionType string

// Rollout condition types.
const (
	InvalidSpec           RolloutConditionType = "InvalidSpec"
	RolloutAvailable      RolloutConditionType = "Available"
	RolloutProgressing    RolloutConditionType = "Progressing"
	RolloutReplicaFailure RolloutConditionType = "ReplicaFailure"
	RolloutPaused         RolloutConditionType = "Paused"
	RolloutCompleted      RolloutConditionType = "Completed"
	RolloutHealthy        RolloutConditionType = "Healthy"
)

// RolloutCondition is one condition of a Rollout.
type RolloutCondition struct {
	Type               RolloutConditionType   `json:"type"`
	Status             corev1.ConditionStatus `json:"status"`
	LastUpdateTime     metav1.Time            `json:"lastUpdateTime"`
	LastTransitionTime metav1.Time            `json:"lastTransitionTime"`
	Reason             string                 `json:"reason"`
	Message            string                 `json:"message"`
}

// Well-known labels and annotations shared with Argo Rollouts.
const (
	// DefaultRolloutUniqueLabelKey is the pod-template-hash label put on ReplicaSets, pods and
	// injected into the stable/canary Service selectors.
	DefaultRolloutUniqueLabelKey = "rollouts-pod-template-hash"
	// RevisionAnnotation carries the revision of a ReplicaSet and a Rollout.
	RevisionAnnotation = "rollout.argoproj.io/revision"
	// LabelKeyControllerInstanceID selects which controller instance owns an object.
	LabelKeyControllerInstanceID = "argo-rollouts.argoproj.io/controller-instance-id"
	// ManagedByRolloutsKey annotates Services whose selectors the controller manages.
	ManagedByRolloutsKey = "argo-rollouts.argoproj.io/managed-by-rollouts"
	// ScaleDownDeadlineAnnotationKey marks a ReplicaSet to be scaled down at the given time.
	ScaleDownDeadlineAnnotationKey = "scale-down-deadline"
	// RolloutTypeLabel / RolloutTypeStepLabel / RolloutTypeBackgroundRunLabel label AnalysisRuns.
	RolloutTypeLabel              = "rollout-type"
	RolloutTypeStepLabel          = "Step"
	RolloutTypeBackgroundRunLabel = "Background"
	// RolloutTypePrePromotionLabel / RolloutTypePostPromotionLabel label a blueGreen Rollout's
	// runs before and after the active Service switch.
	RolloutTypePrePromotionLabel  = "PrePromotion"
	RolloutTypePostPromotionLabel = "PostPromotion"
	// RolloutCanaryStepIndexLabel labels a step AnalysisRun with its step index.
	RolloutCanaryStepIndexLabel = "step-index"
)
