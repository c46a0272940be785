package launcher

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ExecStarter starts a listener process (the demo's `nerve-demo listener`),
// one process group per pod, logging to LogDir/listener-<pod>.jsonl and
// recording its pid in PidDir. The process must print "listening <addr>"
// on stdout once it accepts.
type ExecStarter struct {
	// Binary and Args are the listener command (Args come before the
	// listener's own flags, e.g. the subcommand).
	Binary string
	Args   []string
	LogDir string
	PidDir string
}

type procHandle struct {
	addr    string
	cmd     *exec.Cmd
	done    chan struct{}
	pidFile string
}

// Start runs the listener and waits for the address it prints.
func (s ExecStarter) Start(ctx context.Context, spec Spec) (Handle, error) {
	listen := spec.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	args := append(append([]string(nil), s.Args...),
		"--listen", listen,
		"--pod", spec.Pod, "--hash", spec.Hash, "--version", spec.Version,
		"--ack-delay-ms", strconv.Itoa(spec.AckDelayMS),
		"--error-rate", strconv.FormatFloat(spec.ErrorRate, 'g', -1, 64),
		"--log", filepath.Join(s.LogDir, "listener-"+spec.Pod+".jsonl"))
	cmd := exec.Command(s.Binary, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	h := &procHandle{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				select {
				case addr <- a:
				default:
				}
			}
		}
	}()
	go func() {
		_ = cmd.Wait()
		close(h.done)
	}()
	select {
	case h.addr = <-addr:
	case <-h.done:
		return nil, fmt.Errorf("listener for pod %s exited at start", spec.Pod)
	case <-time.After(10 * time.Second):
		_ = h.Stop()
		return nil, fmt.Errorf("listener for pod %s printed no address", spec.Pod)
	case <-ctx.Done():
		_ = h.Stop()
		return nil, ctx.Err()
	}
	if s.PidDir != "" {
		h.pidFile = filepath.Join(s.PidDir, "listener-"+spec.Pod+".pid")
		if err := os.WriteFile(h.pidFile, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
			return nil, errors.Join(err, h.Stop())
		}
	}
	return h, nil
}

func (h *procHandle) Addr() string { return h.addr }

// Stop sends SIGTERM to the listener's process group (it finishes the
// message it is answering), then SIGKILL after 5 s.
func (h *procHandle) Stop() error {
	defer func() {
		if h.pidFile != "" {
			_ = os.Remove(h.pidFile)
		}
	}()
	_, err := StopGroup(h.cmd.Process.Pid, h.done, 5*time.Second)
	return err
}

// StopGroup sends SIGTERM to the process group of pid, waits up to grace for done to close,
// then SIGKILLs the group and waits for done; killed says whether SIGKILL was needed.
func StopGroup(pid int, done <-chan struct{}, grace time.Duration) (killed bool, err error) {
	if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return false, err
	}
	select {
	case <-done:
		return false, nil
	case <-time.After(grace):
	}
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return true, err
	}
	<-done
	return true, nil
}
