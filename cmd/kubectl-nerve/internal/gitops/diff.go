package gitops

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// step is one step of a path through an object: a map key, or a list index (with, for
// display, the element's name when the list is keyed by name).
type step struct {
	key   string
	index int
	list  bool
	name  string
}

// fieldDiff is one leaf (or subtree) where the live object and Git differ.
type fieldDiff struct {
	steps     []step
	live, git any
	liveHas   bool
	gitHas    bool
}

// display is ".spec.template.spec.containers[name=listener].image".
func display(steps []step) string {
	var b strings.Builder
	for _, s := range steps {
		switch {
		case !s.list:
			b.WriteString("." + s.key)
		case s.name != "":
			b.WriteString("[name=" + s.name + "]")
		default:
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		}
	}
	return b.String()
}

// pointer is the JSON pointer of the path in the live object ("/spec/weight").
func pointer(steps []step) string {
	var b strings.Builder
	for _, s := range steps {
		b.WriteByte('/')
		if s.list {
			b.WriteString(strconv.Itoa(s.index))
			continue
		}
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(s.key, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// skipped are the paths that never count as drift: what the API server and controllers own.
func skipped(steps []step) bool {
	if len(steps) == 0 {
		return false
	}
	if steps[0].key == "status" {
		return true
	}
	if steps[0].key != "metadata" || len(steps) < 2 {
		return false
	}
	switch steps[1].key {
	case "managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink", "deletionTimestamp", "ownerReferences", "finalizers":
		return true
	}
	return false
}

// compare walks live and git and returns where they differ.
func compare(path []step, live, git any, liveHas, gitHas bool, out *[]fieldDiff) {
	if skipped(path) {
		return
	}
	if liveHas && gitHas {
		lm, lok := live.(map[string]any)
		gm, gok := git.(map[string]any)
		if lok && gok {
			compareMaps(path, lm, gm, out)
			return
		}
		ll, lok := live.([]any)
		gl, gok := git.([]any)
		if lok && gok {
			compareLists(path, ll, gl, out)
			return
		}
		if equalValues(live, git) {
			return
		}
	}
	*out = append(*out, fieldDiff{steps: clonePath(path), live: live, git: git, liveHas: liveHas, gitHas: gitHas})
}

func clonePath(p []step) []step { return append([]step(nil), p...) }

func compareMaps(path []step, live, git map[string]any, out *[]fieldDiff) {
	keys := map[string]bool{}
	for k := range live {
		keys[k] = true
	}
	for k := range git {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		lv, lh := live[k]
		gv, gh := git[k]
		compare(append(path, step{key: k}), lv, gv, lh, gh, out)
	}
}

// compareLists matches elements by name when every element of both lists has one (containers,
// ports, env), else by index.
func compareLists(path []step, live, git []any, out *[]fieldDiff) {
	if ln, gn := names(live), names(git); ln != nil && gn != nil {
		for i, e := range live {
			name := ln[i]
			j := indexOf(gn, name)
			if j < 0 {
				compare(append(path, step{list: true, index: i, name: name}), e, nil, true, false, out)
				continue
			}
			compare(append(path, step{list: true, index: i, name: name}), e, git[j], true, true, out)
		}
		for j, e := range git {
			if indexOf(ln, gn[j]) < 0 {
				compare(append(path, step{list: true, index: len(live) + j, name: gn[j]}), nil, e, false, true, out)
			}
		}
		return
	}
	n := max(len(live), len(git))
	for i := range n {
		var lv, gv any
		if i < len(live) {
			lv = live[i]
		}
		if i < len(git) {
			gv = git[i]
		}
		compare(append(path, step{list: true, index: i}), lv, gv, i < len(live), i < len(git), out)
	}
}

func names(list []any) []string {
	out := make([]string, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil
		}
		n, ok := m["name"].(string)
		if !ok {
			return nil
		}
		out[i] = n
	}
	return out
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// equalValues compares decoded JSON values, numbers by value (int64 and float64 alike).
func equalValues(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// owns reports whether a manager's FieldsV1 set (decoded JSON) covers path in the live object.
func owns(fields map[string]any, cur any, path []step) bool {
	if len(path) == 0 {
		return true
	}
	s := path[0]
	if !s.list {
		child, ok := fields["f:"+s.key].(map[string]any)
		if !ok {
			return false
		}
		if len(child) == 0 {
			return true
		}
		m, _ := cur.(map[string]any)
		return owns(child, m[s.key], path[1:])
	}
	list, _ := cur.([]any)
	if s.index >= len(list) {
		return false
	}
	elem := list[s.index]
	for k, v := range fields {
		if !elementKey(k, elem, s.index) {
			continue
		}
		child, _ := v.(map[string]any)
		if len(child) == 0 {
			return true
		}
		return owns(child, elem, path[1:])
	}
	return false
}

// elementKey matches a FieldsV1 list key ("k:{...}", "i:N", "v:...") against an element.
func elementKey(k string, elem any, index int) bool {
	switch {
	case strings.HasPrefix(k, "i:"):
		return k == fmt.Sprintf("i:%d", index)
	case strings.HasPrefix(k, "k:"):
		var keys map[string]any
		if json.Unmarshal([]byte(k[2:]), &keys) != nil {
			return false
		}
		m, _ := elem.(map[string]any)
		for name, want := range keys {
			if !equalValues(m[name], want) {
				return false
			}
		}
		return true
	case strings.HasPrefix(k, "v:"):
		var v any
		return json.Unmarshal([]byte(k[2:]), &v) == nil && equalValues(v, elem)
	}
	return false
}
