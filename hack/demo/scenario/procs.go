package scenario

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/nerve-rollouts/nerve/e2e/framework/launcher"
)

// proc is a child process of the scenario, in its own process group, with
// its output in RunDir/<name>.log and its pid in PidDir/<name>.pid (so
// hack/demo/down.sh can stop it if the scenario itself is killed).
type proc struct {
	name    string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
	pidFile string
	logPath string
}

func (r *runner) start(name, bin string, args []string, env ...string) (*proc, error) {
	logPath := filepath.Join(r.cfg.RunDir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG="+r.cfg.Kubeconfig), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), logPath: logPath,
		pidFile: filepath.Join(r.cfg.PidDir, name+".pid")}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	if err := os.WriteFile(p.pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		return nil, errors.Join(err, p.stop(time.Second))
	}
	r.procs = append(r.procs, p)
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, waits up to grace, then SIGKILLs.
func (p *proc) stop(grace time.Duration) error {
	defer os.Remove(p.pidFile)
	if p.exited() {
		return nil
	}
	killed, err := launcher.StopGroup(p.cmd.Process.Pid, p.done, grace)
	if err != nil || !killed {
		return err
	}
	return fmt.Errorf("%s did not stop within %s and was killed", p.name, grace)
}

// tail returns the last n bytes of the process's log.
func (p *proc) tail(n int64) string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(st.Size()-n, 0)
	b := make([]byte, st.Size()-off)
	_, _ = f.ReadAt(b, off)
	return string(b)
}
