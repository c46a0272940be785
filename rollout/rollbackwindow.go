package rollout

// rollbackWithinWindow is Argo's isRollbackWithinWindow: the current template is an older
// ReplicaSet than the stable one (a rollback), and fewer than spec.rollbackWindow.revisions
// ReplicaSets were created between the two. Such a rollback skips the steps (and the analysis)
// and goes straight to full weight.
func (rc *rolloutCtx) rollbackWithinWindow() bool {
	w := rc.ro.Spec.RollbackWindow
	if rc.newRS == nil || rc.stableRS == nil || w == nil || w.Revisions <= 0 {
		return false
	}
	newAt, stableAt := rc.newRS.CreationTimestamp, rc.stableRS.CreationTimestamp
	if !newAt.Before(&stableAt) {
		return false
	}
	var between int32
	for _, rs := range rc.all {
		if rs.CreationTimestamp.Before(&stableAt) && newAt.Before(&rs.CreationTimestamp) {
			between++
		}
	}
	return between < w.Revisions
}
