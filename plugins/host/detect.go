package host

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nerve-rollouts/nerve/plugins"
)

// detectTimeout bounds each handshake attempt of DetectKind.
const detectTimeout = 10 * time.Second

// HandshakeError is the cause StartProcess (and every Host start) wraps when the binary is a
// go-plugin plugin that refused the handshake's magic cookie: a plugin of another kind, or of
// another go-plugin protocol. Detect it with errors.As.
type HandshakeError struct {
	// Path is the binary.
	Path string
	// Kind is the kind whose cookie was refused.
	Kind plugins.Kind
}

// Error implements error.
func (e *HandshakeError) Error() string {
	return fmt.Sprintf("wrong magic cookie: %s is a go-plugin binary but refused the %s handshake (%s=%s); it is not a %s plugin",
		e.Path, e.Kind, plugins.MagicCookieKey, plugins.Handshake(e.Kind).MagicCookieValue, e.Kind)
}

// DetectKind finds a plugin binary's kind by trying each kind's handshake in the order of
// plugins.Kinds. sum, if non-empty, is verified first (and by go-plugin at exec); an empty sum
// runs the binary unverified. The error is the readable start error.
func DetectKind(ctx context.Context, path, sum string) (plugins.Kind, error) {
	var refusals []string
	for _, spec := range plugins.Kinds() {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		e := Entry{Name: "detect/" + string(spec.Kind), Kind: spec.Kind, Location: "file://" + path, SHA256: sum}
		p, err := StartProcess(ctx, e, Options{AllowUnverified: sum == "", Logger: hclog.NewNullLogger(), StartTimeout: detectTimeout})
		if err == nil {
			p.Kill()
			return spec.Kind, nil
		}
		if herr := (*HandshakeError)(nil); !errors.As(err, &herr) {
			return "", err
		}
		refusals = append(refusals, spec.Cookie)
	}
	return "", fmt.Errorf("%s refused every handshake (%s=%s): it is a go-plugin binary but not an Argo Rollouts plugin of a known kind",
		path, plugins.MagicCookieKey, strings.Join(refusals, "|"))
}
