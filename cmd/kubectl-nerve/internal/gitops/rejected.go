package gitops

import (
	"errors"
	"os"
	"path/filepath"
	"slices"

	"sigs.k8s.io/yaml"
)

// RejectedFile is the record, in an environment's directory, of the revisions rolled back
// there. Kustomize and Argo CD ignore it (no kustomization references it); env promote refuses
// every revision it lists until its entry is deleted (a Git commit, so the clearing is reviewed).
const RejectedFile = "nerve-rejected.yaml"

const rejectedHeader = "# Revisions rolled back in this environment (kubectl nerve rollback). kubectl nerve env promote\n# refuses them; delete an entry (and commit) to clear it.\n"

// Rejection is one rolled-back revision.
type Rejection struct {
	Images       []string `json:"images"`
	Rollout      string   `json:"rollout,omitempty"`
	Reason       string   `json:"reason,omitempty"`
	RolledBackAt string   `json:"rolledBackAt,omitempty"`
	RevertOf     string   `json:"revertOf,omitempty"`
}

// Rejections is the file's content.
type Rejections struct {
	Rejected []Rejection `json:"rejected"`
}

// ReadRejections reads dir's record (empty when there is none).
func ReadRejections(dir string) (Rejections, error) {
	var r Rejections
	b, err := os.ReadFile(filepath.Join(dir, RejectedFile))
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	return r, yaml.Unmarshal(b, &r)
}

// Find returns the entry listing any of images, or nil.
func (r Rejections) Find(images []string) *Rejection {
	for i := range r.Rejected {
		for _, img := range r.Rejected[i].Images {
			if slices.Contains(images, img) {
				return &r.Rejected[i]
			}
		}
	}
	return nil
}

// AddRejection appends an entry to dir's record.
func AddRejection(dir string, rej Rejection) error {
	r, err := ReadRejections(dir)
	if err != nil {
		return err
	}
	r.Rejected = append(r.Rejected, rej)
	b, err := yaml.Marshal(r)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, RejectedFile), append([]byte(rejectedHeader), b...), 0o644)
}
