//go:build e2e

package framework

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary returns the path of one of nerve's built binaries: $NERVE_BIN/<name>
// or $NERVE_BIN/plugins/<name> (NERVE_BIN defaults to <repo>/bin). It fails
// the test when the binary is missing: run `make build` (`make e2e` does).
func Binary(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv(EnvNerveBin)
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			t.Fatalf("e2e: binary %s: %v", name, err)
		}
		dir = filepath.Join(root, "bin")
	}
	for _, p := range []string{filepath.Join(dir, name), filepath.Join(dir, "plugins", name)} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	t.Fatalf("e2e: binary %q not found in %s or %s/plugins: run `make build` (or `make e2e`)", name, dir, dir)
	return ""
}

// BuildBinary compiles a Go main package (an import path or a ./relative path
// resolved from the repo root) into t.TempDir() and returns its path. Only for
// test-only helper programs; nerve's own binaries come from Binary.
func BuildBinary(t testing.TB, pkg string) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatalf("e2e: build %s: %v", pkg, err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("e2e: go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("e2e: free port: %v", err)
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		t.Fatalf("e2e: free port: unexpected address %v", l.Addr())
	}
	return addr.Port
}

// Process is a binary started by StartProcess.
type Process struct {
	// Name is the binary's base name; LogPath holds its stdout and stderr.
	Name    string
	LogPath string

	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	err  error
}

// StartProcess starts the binary at path (or, for a bare name, Binary(t, name))
// with args, the test's environment plus env ("KEY=VALUE"), in its own process
// group, with stdout and stderr captured to a file under t.TempDir(). t.Cleanup
// stops the process group and waits for it, and logs the output when the test
// failed.
func StartProcess(t testing.TB, path string, args []string, env []string) *Process {
	t.Helper()
	if !strings.ContainsRune(path, os.PathSeparator) {
		path = Binary(t, path)
	}
	name := filepath.Base(path)
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("e2e: start %s: %v", name, err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("e2e: start %s: %v", name, err)
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		logFile.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.Stop(5 * time.Second)
		if t.Failed() {
			t.Logf("--- output of %s (pid %d) ---\n%s", name, p.Pid(), p.Output())
		}
	})
	return p
}

// Pid returns the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Output returns what the process wrote to stdout and stderr so far.
func (p *Process) Output() string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(read %s: %v)", p.LogPath, err)
	}
	return string(b)
}

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait blocks until the process exits and returns its exit error (nil on exit 0).
func (p *Process) Wait() error {
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// WaitContext is Wait bounded by ctx.
func (p *Process) WaitContext(ctx context.Context) error {
	select {
	case <-p.done:
		return p.Wait()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Signal sends sig to the process group (children included, even after the
// process itself exited).
func (p *Process) Signal(sig syscall.Signal) error {
	err := syscall.Kill(-p.Pid(), sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// Stop sends SIGTERM, waits up to grace, then SIGKILLs; it returns the exit
// error (a signal exit is expected here and not reported).
func (p *Process) Stop(grace time.Duration) error {
	if err := p.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-p.done:
	case <-time.After(grace):
		return p.Kill()
	}
	return exitErr(p.Wait())
}

// Kill sends SIGKILL to the process group and waits for the exit.
func (p *Process) Kill() error {
	if err := p.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	return exitErr(p.Wait())
}

// exitErr drops the "killed by a signal" error that Stop and Kill cause.
func exitErr(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && !ee.Exited() {
		return nil
	}
	return err
}
