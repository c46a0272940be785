package api

import "k8s.io/apimachinery/pkg/runtime"

// DeepCopyInto copies r into out.
func (r *MLLPRoute) DeepCopyInto(out *MLLPRoute) {
	*out = *r
	out.TypeMeta = r.TypeMeta
	r.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	r.Spec.DeepCopyInto(&out.Spec)
	r.Status.DeepCopyInto(&out.Status)
}

// DeepCopy returns a deep copy.
func (r *MLLPRoute) DeepCopy() *MLLPRoute {
	if r == nil {
		return nil
	}
	out := new(MLLPRoute)
	r.DeepCopyInto(out)
	return out
}

// DeepCopyObject implements runtime.Object.
func (r *MLLPRoute) DeepCopyObject() runtime.Object { return r.DeepCopy() }

// DeepCopyInto copies l into out.
func (l *MLLPRouteList) DeepCopyInto(out *MLLPRouteList) {
	*out = *l
	l.ListMeta.DeepCopyInto(&out.ListMeta)
	if l.Items != nil {
		out.Items = make([]MLLPRoute, len(l.Items))
		for i := range l.Items {
			l.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
}

// DeepCopy returns a deep copy.
func (l *MLLPRouteList) DeepCopy() *MLLPRouteList {
	if l == nil {
		return nil
	}
	out := new(MLLPRouteList)
	l.DeepCopyInto(out)
	return out
}

// DeepCopyObject implements runtime.Object.
func (l *MLLPRouteList) DeepCopyObject() runtime.Object { return l.DeepCopy() }

// DeepCopyInto copies s into out.
func (s *MLLPRouteSpec) DeepCopyInto(out *MLLPRouteSpec) {
	*out = *s
	if s.Matches != nil {
		out.Matches = append([]Match(nil), s.Matches...)
	}
	if s.Mirror != nil {
		m := *s.Mirror
		out.Mirror = &m
	}
}

// DeepCopyInto copies s into out.
func (s *MLLPRouteStatus) DeepCopyInto(out *MLLPRouteStatus) {
	*out = *s
	if s.Replicas != nil {
		out.Replicas = make([]ReplicaStatus, len(s.Replicas))
		for i := range s.Replicas {
			s.Replicas[i].DeepCopyInto(&out.Replicas[i])
		}
	}
}

// DeepCopyInto copies r into out.
func (r *ReplicaStatus) DeepCopyInto(out *ReplicaStatus) {
	*out = *r
	r.HeartbeatTime.DeepCopyInto(&out.HeartbeatTime)
}
