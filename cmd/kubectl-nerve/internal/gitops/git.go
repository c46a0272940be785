package gitops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Git runs the user's git in a working copy, so their configuration, credentials and commit
// signing apply.
type Git struct {
	// Dir is the top level of the working copy.
	Dir string
}

// OpenGit finds the working copy containing dir.
func OpenGit(ctx context.Context, dir string) (*Git, error) {
	g := &Git{Dir: dir}
	top, err := g.Run(ctx, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("%s is not in a git working copy: %w", dir, err)
	}
	return &Git{Dir: strings.TrimSpace(top)}, nil
}

// Run runs git with args and returns its standard output.
func (g *Git) Run(ctx context.Context, args ...string) (string, error) {
	return g.RunInput(ctx, nil, args...)
}

// RunInput runs git with stdin.
func (g *Git) RunInput(ctx context.Context, stdin []byte, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", g.Dir}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errOut.String())
		if msg == "" {
			msg = strings.TrimSpace(out.String())
		}
		return out.String(), fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, msg)
	}
	return out.String(), nil
}

// Abs is the absolute path of a repository-relative path.
func (g *Git) Abs(rel string) string { return filepath.Join(g.Dir, filepath.FromSlash(rel)) }

// Dirty returns the uncommitted changes (git status --porcelain) under path.
func (g *Git) Dirty(ctx context.Context, path string) (string, error) {
	out, err := g.Run(ctx, "status", "--porcelain", "--", path)
	return strings.TrimSpace(out), err
}

// Head is the commit of HEAD.
func (g *Git) Head(ctx context.Context) (string, error) {
	out, err := g.Run(ctx, "rev-parse", "HEAD")
	return strings.TrimSpace(out), err
}

// LastCommit is the last commit that changed path (empty when none did).
func (g *Git) LastCommit(ctx context.Context, ref, path string) (string, error) {
	out, err := g.Run(ctx, "log", "-1", "--format=%H", ref, "--", path)
	return strings.TrimSpace(out), err
}

// Upstream is the upstream of the current branch ("" when it has none).
func (g *Git) Upstream(ctx context.Context) string {
	out, err := g.Run(ctx, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// Commit commits the staged paths with a message and trailers ("Key: value").
func (g *Git) Commit(ctx context.Context, subject, body string, trailers []string, paths ...string) (string, error) {
	if _, err := g.Run(ctx, append([]string{"add", "--all", "--"}, paths...)...); err != nil {
		return "", err
	}
	msg := subject + "\n"
	if body != "" {
		msg += "\n" + body + "\n"
	}
	if len(trailers) > 0 {
		msg += "\n" + strings.Join(trailers, "\n") + "\n"
	}
	if _, err := g.RunInput(ctx, []byte(msg), append([]string{"commit", "--file=-", "--"}, paths...)...); err != nil {
		return "", err
	}
	return g.Head(ctx)
}

// ErrRemoteMoved is returned when the push was refused twice because the remote moved.
var ErrRemoteMoved = errors.New("the remote moved")

// Push pushes the current branch to its upstream. When the remote moved it rebases onto it
// and tries once more.
func (g *Git) Push(ctx context.Context) (string, error) {
	up := g.Upstream(ctx)
	if up == "" {
		return "", errors.New("the current branch has no upstream; push it yourself or use --no-push")
	}
	remote, branch, _ := strings.Cut(up, "/")
	if _, err := g.Run(ctx, "push", remote, "HEAD:"+branch); err == nil {
		return up, nil
	}
	if _, err := g.Run(ctx, "pull", "--rebase", remote, branch); err != nil {
		_, _ = g.Run(ctx, "rebase", "--abort")
		return "", fmt.Errorf("%w and rebasing onto %s failed (the commit is kept locally): %v", ErrRemoteMoved, up, err)
	}
	if _, err := g.Run(ctx, "push", remote, "HEAD:"+branch); err != nil {
		return "", fmt.Errorf("%w twice (the commit is kept locally, rebased onto %s): %v", ErrRemoteMoved, up, err)
	}
	return up, nil
}

// Fetch fetches the upstream and reports whether it has commits HEAD lacks.
func (g *Git) Fetch(ctx context.Context) (behind bool, err error) {
	up := g.Upstream(ctx)
	if up == "" {
		return false, nil
	}
	remote, _, _ := strings.Cut(up, "/")
	if _, err := g.Run(ctx, "fetch", "--quiet", remote); err != nil {
		return false, err
	}
	out, err := g.Run(ctx, "rev-list", "--count", "HEAD..@{u}")
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(out) != "0", nil
}

// Trailers returns the trailers of a commit.
func (g *Git) Trailers(ctx context.Context, commit string) (map[string][]string, error) {
	out, err := g.Run(ctx, "show", "-s", "--format=%(trailers:only,unfold)", commit)
	if err != nil {
		return nil, err
	}
	t := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			t[strings.TrimSpace(k)] = append(t[strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	return t, nil
}

// LogEntry is one commit of a path's history.
type LogEntry struct {
	Commit  string `json:"commit"`
	Date    string `json:"date"`
	Author  string `json:"author"`
	Subject string `json:"subject"`
}

// Log is the history of path, newest first.
func (g *Git) Log(ctx context.Context, path string, max int) ([]LogEntry, error) {
	out, err := g.Run(ctx, "log", fmt.Sprintf("-%d", max), "--format=%H%x1f%cI%x1f%an%x1f%s", "--", path)
	if err != nil {
		return nil, err
	}
	var entries []LogEntry
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "\x1f")
		if len(f) == 4 {
			entries = append(entries, LogEntry{Commit: f[0], Date: f[1], Author: f[2], Subject: f[3]})
		}
	}
	return entries, nil
}

// RenderAt renders the repository-relative dir as of commit (the tree exported to a
// temporary directory, so the working copy is untouched).
func (g *Git) RenderAt(ctx context.Context, commit, dir, tmp string) ([]*unstructured.Unstructured, error) {
	archive := exec.CommandContext(ctx, "git", "-C", g.Dir, "archive", "--format=tar", commit)
	untar := exec.CommandContext(ctx, "tar", "-x", "-C", tmp)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return nil, err
	}
	untar.Stdin = pipe
	if err := untar.Start(); err != nil {
		return nil, err
	}
	if err := archive.Run(); err != nil {
		return nil, fmt.Errorf("git archive %s: %w", commit, err)
	}
	if err := untar.Wait(); err != nil {
		return nil, fmt.Errorf("untar %s: %w", commit, err)
	}
	return Render(filepath.Join(tmp, filepath.FromSlash(dir)))
}
