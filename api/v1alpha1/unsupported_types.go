package v1alpha1

// Argo Rollouts v1.10 fields that nerve's controller does not run. They are modelled only far
// enough for a Rollout that sets them to keep them (the CRD schema, JSON decoding) and for
// rollout/rules to refuse it with an InvalidSpec naming the field; each type keeps Argo's Go
// name and a subset of its fields, so the gob wire to Argo's plugins stays compatible.

// IstioTrafficRouting is Argo's built-in Istio router (trafficRouting.istio); refused.
type IstioTrafficRouting struct {
	VirtualService *IstioVirtualService `json:"virtualService,omitempty"`
}

// IstioVirtualService names an Istio VirtualService.
type IstioVirtualService struct {
	Name string `json:"name"`
}

// NginxTrafficRouting is Argo's built-in NGINX router (trafficRouting.nginx); refused.
type NginxTrafficRouting struct {
	StableIngress string `json:"stableIngress,omitempty"`
}

// ALBTrafficRouting is Argo's built-in AWS ALB router (trafficRouting.alb); refused.
type ALBTrafficRouting struct {
	Ingress string `json:"ingress,omitempty"`
}

// SMITrafficRouting is Argo's built-in SMI router (trafficRouting.smi); refused.
type SMITrafficRouting struct {
	RootService string `json:"rootService,omitempty"`
}

// AmbassadorTrafficRouting is Argo's built-in Ambassador router (trafficRouting.ambassador); refused.
type AmbassadorTrafficRouting struct {
	Mappings []string `json:"mappings"`
}

// AppMeshTrafficRouting is Argo's built-in AWS App Mesh router (trafficRouting.appMesh); refused.
type AppMeshTrafficRouting struct {
	VirtualService *AppMeshVirtualService `json:"virtualService,omitempty"`
}

// AppMeshVirtualService names an App Mesh virtual service.
type AppMeshVirtualService struct {
	Name string `json:"name"`
}

// TraefikTrafficRouting is Argo's built-in Traefik router (trafficRouting.traefik); refused.
type TraefikTrafficRouting struct {
	WeightedTraefikServiceName string `json:"weightedTraefikServiceName"`
}

// ApisixTrafficRouting is Argo's built-in Apache APISIX router (trafficRouting.apisix); refused.
type ApisixTrafficRouting struct {
	Route *ApisixRoute `json:"route,omitempty"`
}

// ApisixRoute names an APISIX route.
type ApisixRoute struct {
	Name string `json:"name"`
}

// ReplicaProgressThreshold is Argo's canary.replicaProgressThreshold (promote once this many
// pods, or this percentage, are available); refused.
type ReplicaProgressThreshold struct {
	Type  string `json:"type"`
	Value int32  `json:"value"`
}
