package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/nerve-rollouts/nerve/plugins"
)

// stderrTail is how much of a plugin's stderr is kept for error messages.
const stderrTail = 4096

// exitWait is how long a failed call waits to learn whether the process died.
const exitWait = 500 * time.Millisecond

// cookieRefusal is what go-plugin's server prints when the magic cookie does not match.
const cookieRefusal = "This binary is a plugin. These are not meant to be executed directly"

// initializer is the InitPlugin half of both plugin kinds.
type initializer interface {
	InitPlugin(ctx context.Context) error
}

// proc is one plugin's process (started lazily, respawned after a crash).
type proc struct {
	h     *Host
	entry Entry
	log   hclog.Logger

	mu      sync.Mutex
	client  *plugin.Client
	raw     any
	stderr  *tail
	inited  bool
	initErr error
	closed  string
}

// errorf prefixes an error with the plugin's name and kind.
func (p *proc) errorf(format string, args ...any) error {
	return fmt.Errorf("plugin %s (%s): %w", p.entry.Name, p.entry.Kind, fmt.Errorf(format, args...))
}

// ensure starts the plugin if needed (respawning a dead one), pings a running one and runs
// InitPlugin until it has succeeded once per process.
func (p *proc) ensure(ctx context.Context) (any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed != "" {
		return nil, p.errorf("stopped: %s", p.closed)
	}
	p.checkAlive()
	if p.client == nil {
		if err := p.start(ctx); err != nil {
			return nil, err
		}
	}
	if !p.inited {
		if err := p.init(ctx); err != nil {
			return nil, err
		}
	}
	return p.raw, nil
}

// checkAlive drops a process that exited or does not answer a ping.
func (p *proc) checkAlive() {
	if p.client == nil {
		return
	}
	if p.client.Exited() {
		p.log.Warn("plugin process exited; respawning", "stderr", p.stderr.String())
		p.kill()
		return
	}
	rpcClient, err := p.client.Client()
	if err == nil {
		err = rpcClient.Ping()
	}
	if err != nil {
		p.log.Warn("plugin does not answer ping; restarting", "error", err)
		p.kill()
	}
}

// kill stops the process and forgets it (the next ensure starts a new one).
func (p *proc) kill() {
	if p.client != nil {
		p.client.Kill()
	}
	p.client, p.raw, p.inited, p.initErr = nil, nil, false, nil
}

// close kills the process for good.
func (p *proc) close(reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client != nil {
		p.log.Debug("stopping plugin", "reason", reason)
	}
	p.kill()
	p.closed = reason
}

// start verifies, execs and dispenses the plugin.
func (p *proc) start(ctx context.Context) error {
	proc, err := startProcess(ctx, p.h, p.entry, p.log)
	if err != nil {
		return err
	}
	p.client, p.raw, p.stderr = proc.client, proc.raw, proc.stderr
	return nil
}

// Process is one started (not initialised) plugin process, for callers that drive the
// lifecycle themselves (the conformance suite). Host users never need it.
type Process struct {
	entry  Entry
	client *plugin.Client
	raw    any
	stderr *tail
}

// StartProcess verifies, execs and dispenses the plugin of entry e exactly as a Host does
// (same checks, same readable errors) but runs no InitPlugin and never respawns.
func StartProcess(ctx context.Context, e Entry, opts Options) (*Process, error) {
	h := New(opts)
	return startProcess(ctx, h, e, h.log.Named(e.Name))
}

// startProcess is StartProcess with the host's options and logger.
func startProcess(ctx context.Context, h *Host, e Entry, log hclog.Logger) (*Process, error) {
	p := &proc{h: h, entry: e, log: log}
	path, err := h.binaryPath(ctx, e)
	if err != nil {
		return nil, p.errorf("%w", err)
	}
	sec, err := p.secureConfig(path)
	if err != nil {
		return nil, err
	}
	p.stderr = newTail(stderrTail)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  plugins.Handshake(e.Kind),
		Plugins:          plugins.PluginSet(e.Kind, h.opts.CallTimeout),
		Cmd:              exec.Command(path, e.Args...),
		SecureConfig:     sec,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolNetRPC},
		Logger:           log,
		Stderr:           p.stderr,
		StartTimeout:     h.opts.StartTimeout,
	})
	raw, err := dispense(client, e.Kind)
	if err != nil {
		client.Kill()
		return nil, p.startError(path, err)
	}
	log.Debug("plugin started", "path", path)
	return &Process{entry: e, client: client, raw: raw, stderr: p.stderr}, nil
}

// TrafficRouter returns the process' RPC client (nil unless it is a traffic router).
func (p *Process) TrafficRouter() plugins.TrafficRouter {
	r, _ := p.raw.(plugins.TrafficRouter)
	return r
}

// MetricProvider returns the process' RPC client (nil unless it is a metric provider).
func (p *Process) MetricProvider() plugins.MetricProvider {
	m, _ := p.raw.(plugins.MetricProvider)
	return m
}

// Exited reports whether the process has exited, waiting up to d for it to do so.
func (p *Process) Exited(d time.Duration) bool { return waitExited(p.client, d) }

// Stderr returns the tail of the process' stderr.
func (p *Process) Stderr() string { return p.stderr.String() }

// Kill stops the process (idempotent) and waits until its stderr is drained.
func (p *Process) Kill() { p.client.Kill() }

// dispense connects to a started client and dispenses the kind's plugin.
func dispense(client *plugin.Client, kind plugins.Kind) (any, error) {
	rpcClient, err := client.Client()
	if err != nil {
		return nil, err
	}
	raw, err := rpcClient.Dispense(plugins.DispenseKey(kind))
	if err != nil {
		return nil, fmt.Errorf("dispensing %s: %w", plugins.DispenseKey(kind), err)
	}
	return raw, nil
}

// secureConfig checks the binary's sum (so a mismatch names both sums) and returns the
// go-plugin SecureConfig that re-checks it at exec. An entry without a sum is refused unless
// AllowUnverified.
func (p *proc) secureConfig(path string) (*plugin.SecureConfig, error) {
	if p.entry.SHA256 == "" {
		if !p.h.opts.AllowUnverified {
			return nil, p.errorf("no sha256 configured for %s: refusing to run an unverified binary "+
				"(add its sha256 to the plugin entry, or explicitly allow unverified plugins)", path)
		}
		p.log.Warn("starting an UNVERIFIED plugin binary (no sha256 configured; allowed by configuration)", "path", path)
		return nil, nil
	}
	if err := verify(p.entry, path); err != nil {
		return nil, p.errorf("%w", err)
	}
	sum, err := hex.DecodeString(p.entry.SHA256)
	if err != nil {
		return nil, p.errorf("invalid sha256 %q: %w", p.entry.SHA256, err)
	}
	return &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}, nil
}

// startError turns go-plugin's start errors into readable ones (a refused cookie into a
// *HandshakeError), adding the tail of the plugin's stderr.
func (p *proc) startError(path string, err error) error {
	cause := p.startCause(path, err)
	if stderr := p.stderr.String(); stderr != "" {
		cause = fmt.Errorf("%w; plugin stderr (tail): %s", cause, stderr)
	}
	return p.errorf("%w", cause)
}

// startCause classifies a start error. go-plugin reports a refused cookie only on the plugin's
// stderr, so that one case still reads the plugin's words (cookieRefusal); callers get a type.
func (p *proc) startCause(path string, err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, plugin.ErrChecksumsDoNotMatch):
		got, _ := FileSHA256(path)
		return fmt.Errorf("checksum mismatch for binary %s at exec: expected sha256 %s, got %s", path, p.entry.SHA256, got)
	case strings.Contains(p.stderr.String(), cookieRefusal):
		return &HandshakeError{Path: path, Kind: p.entry.Kind}
	case strings.Contains(msg, "Unrecognized remote plugin message: \n"), strings.HasSuffix(msg, "Unrecognized remote plugin message: "):
		return fmt.Errorf("%s exited at start before completing the go-plugin handshake (crashed, or not a plugin)", path)
	case strings.Contains(msg, "Unrecognized remote plugin message"):
		return fmt.Errorf("not a plugin: %s did not print the go-plugin handshake line on stdout (%s)", path, firstLine(msg))
	case strings.Contains(msg, "exited before we could connect"):
		return fmt.Errorf("%s exited at start before completing the go-plugin handshake (crashed, or not a plugin)", path)
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return fmt.Errorf("%s did not complete the go-plugin handshake within %s", path, p.h.opts.StartTimeout)
	default:
		return fmt.Errorf("starting %s: %w", path, err)
	}
}

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// init runs InitPlugin; a failure is recorded and retried on the next call.
func (p *proc) init(ctx context.Context) error {
	err := p.raw.(initializer).InitPlugin(ctx)
	if err != nil {
		if p.initErr == nil {
			p.log.Warn("InitPlugin failed; it is retried on the next call", "error", err)
		}
		p.initErr = err
		return p.errorf("InitPlugin failed (retried on the next call): %w", err)
	}
	p.inited, p.initErr = true, nil
	return nil
}

// callError names the plugin in a call's error and, if the process died during the call, says
// so and adds the tail of its stderr.
func (p *proc) callError(err error) error {
	if err == nil {
		return nil
	}
	if pe := (*plugins.PluginError)(nil); errors.As(err, &pe) {
		return p.errorf("%w", err)
	}
	p.mu.Lock()
	client, stderr := p.client, p.stderr
	p.mu.Unlock()
	if client != nil && waitExited(client, exitWait) {
		p.reap(client)
		return p.errorf("process exited during the call (it is respawned on the next call): %w; plugin stderr (tail): %s", err, stderr.String())
	}
	return p.errorf("%w", err)
}

// reap forgets a dead process (if it is still the current one) and waits for its stderr to be
// drained, so the error can show its last words.
func (p *proc) reap(client *plugin.Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client == client {
		p.kill()
	}
}

// waitExited reports whether the client's process exits within d.
func waitExited(client *plugin.Client, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !client.Exited() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// tail keeps the last n bytes written to it.
type tail struct {
	mu  sync.Mutex
	n   int
	buf []byte
}

func newTail(n int) *tail { return &tail{n: n} }

// Write implements io.Writer.
func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.n; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

// String returns the kept bytes, trimmed.
func (t *tail) String() string {
	if t == nil {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
