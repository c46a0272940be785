package rollout

import (
	"encoding/json"
	"reflect"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// statusPatch is the merge patch (RFC 7386) that turns the status nerve read (old) into the one
// it computed (new), with resourceVersion as the precondition of the write. Only fields of
// nerve's status type can be in it: fields another controller writes that nerve does not model
// (Argo's blueGreen, alb, canary.stablePingPong, canary.stepPluginStatuses, ...) are never
// mentioned, so they survive nerve's writes, where a whole-status update would erase them.
func statusPatch(old, updated v1alpha1.RolloutStatus, resourceVersion string) ([]byte, error) {
	o, err := toJSONMap(old)
	if err != nil {
		return nil, err
	}
	n, err := toJSONMap(updated)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": resourceVersion},
		"status":   mergeDiff(o, n),
	})
}

func toJSONMap(v any) (map[string]any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	return out, json.Unmarshal(raw, &out)
}

// mergeDiff returns the merge patch from old to updated: changed and new keys with their new
// value (objects recursively), removed keys as null; lists are replaced whole.
func mergeDiff(old, updated map[string]any) map[string]any {
	out := map[string]any{}
	for k, ov := range old {
		nv, ok := updated[k]
		if !ok {
			out[k] = nil
			continue
		}
		om, oIsMap := ov.(map[string]any)
		nm, nIsMap := nv.(map[string]any)
		switch {
		case oIsMap && nIsMap:
			if d := mergeDiff(om, nm); len(d) > 0 {
				out[k] = d
			}
		case !reflect.DeepEqual(ov, nv):
			out[k] = nv
		}
	}
	for k, nv := range updated {
		if _, ok := old[k]; !ok {
			out[k] = nv
		}
	}
	return out
}
