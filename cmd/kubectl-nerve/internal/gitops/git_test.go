package gitops

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitIn runs git in dir for the test's own setup.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// clone makes a working copy of remote with an identity, on main.
func clone(t *testing.T, remote, dir string) {
	t.Helper()
	gitIn(t, filepath.Dir(dir), "clone", "-q", remote, dir)
	gitIn(t, dir, "config", "user.email", "ops@nerve.test")
	gitIn(t, dir, "config", "user.name", "ops")
}

func commitFile(t *testing.T, dir, file, msg string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, file), []byte(msg+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, "add", file)
	gitIn(t, dir, "commit", "-qm", msg)
}

// movingRemote returns a working copy whose pre-push hook lets another clone push to the
// remote first, so the remote moves between nerve's fetch and its push: on the first push only
// (always=false) or on every push.
func movingRemote(t *testing.T, always bool) (work, remote string) {
	t.Helper()
	root := t.TempDir()
	remote = filepath.Join(root, "remote.git")
	gitIn(t, root, "init", "-q", "--bare", "-b", "main", remote)
	seed := filepath.Join(root, "seed")
	clone(t, remote, seed)
	commitFile(t, seed, "README", "seed")
	gitIn(t, seed, "push", "-q", "origin", "HEAD:main")
	other, work := filepath.Join(root, "other"), filepath.Join(root, "work")
	clone(t, remote, other)
	clone(t, remote, work)
	marker := filepath.Join(root, "moved")
	once := `[ -e "` + marker + `" ] && exit 0`
	if always {
		once = ""
	}
	hook := `#!/bin/sh
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
` + once + `
touch "` + marker + `"
cd "` + other + `" && git pull -q --rebase origin main && date +%N >> other.txt && git add other.txt &&
git commit -qm "another engineer's change" && git push -q origin HEAD:main
`
	if err := os.WriteFile(filepath.Join(work, ".git", "hooks", "pre-push"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	return work, remote
}

func TestPushRebasesOnceWhenTheRemoteMoved(t *testing.T) {
	ctx := context.Background()
	work, remote := movingRemote(t, false)
	commitFile(t, work, "promote.txt", "promote mllp-listener")
	g, err := OpenGit(ctx, work)
	if err != nil {
		t.Fatal(err)
	}
	up, err := g.Push(ctx)
	if err != nil {
		t.Fatalf("push after the remote moved once: %v", err)
	}
	if up != "origin/main" {
		t.Fatalf("pushed to %q", up)
	}
	log := gitIn(t, remote, "log", "--format=%s", "main")
	if log != "promote mllp-listener\nanother engineer's change\nseed" {
		t.Fatalf("remote history, newest first:\n%s", log)
	}
}

func TestPushGivesUpWhenTheRemoteMovesTwice(t *testing.T) {
	ctx := context.Background()
	work, remote := movingRemote(t, true)
	commitFile(t, work, "promote.txt", "promote mllp-listener")
	g, err := OpenGit(ctx, work)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Push(ctx); !errors.Is(err, ErrRemoteMoved) || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("want ErrRemoteMoved twice, got %v", err)
	}
	if log := gitIn(t, remote, "log", "--format=%s", "main"); strings.Contains(log, "promote") {
		t.Fatalf("the promotion reached the remote:\n%s", log)
	}
	if head := gitIn(t, work, "log", "-1", "--format=%s"); head != "promote mllp-listener" {
		t.Fatalf("the commit is not kept locally: HEAD is %q", head)
	}
}
