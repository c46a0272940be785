package lint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// document is one YAML document of a file with the line of every field path.
type document struct {
	line  int
	value map[string]any
	lines map[string]int
}

// lineOf returns the line of path, or of its nearest ancestor present in the document.
func (d *document) lineOf(path string) int {
	for p := path; p != ""; p = parent(p) {
		if l, ok := d.lines[p]; ok {
			return l
		}
	}
	return d.line
}

func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i <= 0 {
		return ""
	}
	return path[:i]
}

// parseDocuments splits data into YAML documents.
func parseDocuments(data []byte) ([]*document, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []*document
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if len(n.Content) == 0 {
			continue
		}
		root := n.Content[0]
		var v any
		if err := root.Decode(&v); err != nil {
			return out, fmt.Errorf("line %d: %w", root.Line, err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		d := &document{line: root.Line, value: m, lines: map[string]int{}}
		walk(root, "", d.lines)
		out = append(out, d)
	}
}

func walk(n *yaml.Node, path string, lines map[string]int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			lines[p] = k.Line
			walk(v, p, lines)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			lines[p] = c.Line
			walk(c, p, lines)
		}
	case yaml.ScalarNode:
		walkEmbedded(n, path, lines)
	}
}

// walkEmbedded records the lines of a YAML document embedded in a literal block scalar (the
// plugin lists of argo-rollouts-config), so a finding on data.key[1].location points at its
// line. Other scalars, and block text that is not YAML, are left alone.
func walkEmbedded(n *yaml.Node, path string, lines map[string]int) {
	if n.Style&yaml.LiteralStyle == 0 {
		return
	}
	var inner yaml.Node
	if yaml.Unmarshal([]byte(n.Value), &inner) != nil || len(inner.Content) == 0 {
		return
	}
	found := map[string]int{}
	walk(inner.Content[0], path, found)
	for p, l := range found {
		lines[p] = n.Line + l
	}
}
