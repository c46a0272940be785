package gitops

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// ImageRef is an image reference split into its repository and its tag or digest.
type ImageRef struct {
	Name, Tag, Digest string
}

// ParseImage splits "repo[:tag][@digest]".
func ParseImage(s string) ImageRef {
	var r ImageRef
	if i := strings.Index(s, "@"); i >= 0 {
		s, r.Digest = s[:i], s[i+1:]
	}
	if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") {
		s, r.Tag = s[:i], s[i+1:]
	}
	r.Name = s
	return r
}

// SetImages points the kustomization in dir at images: each image's entry of `images:`
// (matched by name or newName) gets its tag or digest, or a new entry is added. Comments and
// the other fields of the file are kept.
func SetImages(dir string, images []string) error {
	path := kustomizationFile(dir)
	if path == "" {
		return fmt.Errorf("%s has no kustomization.yaml: nerve writes promotions into a kustomize overlay", dir)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return fmt.Errorf("%s: not a mapping", path)
	}
	seq := mappingValue(doc.Content[0], "images", yaml.SequenceNode)
	for _, img := range images {
		setImage(seq, ParseImage(img))
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func kustomizationFile(dir string) string {
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// mappingValue returns the value of key in m, adding it (of kind) when missing.
func mappingValue(m *yaml.Node, key string, kind yaml.Kind) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
	v := &yaml.Node{Kind: kind}
	m.Content = append(m.Content, k, v)
	return v
}

func setImage(seq *yaml.Node, ref ImageRef) {
	var entry *yaml.Node
	for _, e := range seq.Content {
		if e.Kind != yaml.MappingNode {
			continue
		}
		if scalar(e, "newName") == ref.Name || (scalar(e, "name") == ref.Name && scalar(e, "newName") == "") {
			entry = e
			break
		}
	}
	if entry == nil {
		entry = &yaml.Node{Kind: yaml.MappingNode}
		setScalar(entry, "name", ref.Name)
		seq.Content = append(seq.Content, entry)
	}
	deleteKey(entry, "newTag")
	deleteKey(entry, "digest")
	if ref.Tag != "" {
		setScalar(entry, "newTag", ref.Tag)
	}
	if ref.Digest != "" {
		setScalar(entry, "digest", ref.Digest)
	}
}

func scalar(m *yaml.Node, key string) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1].Value
		}
	}
	return ""
}

func setScalar(m *yaml.Node, key, value string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1].Value, m.Content[i+1].Tag, m.Content[i+1].Style = value, "!!str", yaml.DoubleQuotedStyle
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, Style: quoteStyle(key)})
}

// quoteStyle quotes tags, so 1.10 stays a string.
func quoteStyle(key string) yaml.Style {
	if key == "newTag" {
		return yaml.DoubleQuotedStyle
	}
	return 0
}

func deleteKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}
