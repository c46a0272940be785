package dashboard

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"time"

	"github.com/nerve-rollouts/nerve/view"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Watcher reports changes of the objects the pages show until ctx ends.
type Watcher interface {
	Watch(ctx context.Context, notify func(Change)) error
}

// Config is what a Server needs.
type Config struct {
	Source  Source
	Patcher Patcher
	Watcher Watcher
	// Reviews answers the SelfSubjectAccessReviews that gate the actions.
	Reviews Reviewer
	// Namespaces is the scope (nil: every namespace); Scope describes it in the header.
	Namespaces []string
	Scope      string
	// ReadOnly offers no action and refuses every action request.
	ReadOnly bool
	// Hosts are the Host headers the server answers to (nil: any); TLS marks cookies Secure and
	// expects https origins.
	Hosts []string
	TLS   bool
	// Now is the clock; Debounce is how long a page waits for more changes before it
	// re-renders; Refresh re-renders live pages without a change (ages, heartbeats).
	Now      func() time.Time
	Debounce time.Duration
	Refresh  time.Duration
	// Logf logs server-side problems (a failed watch, an action).
	Logf func(format string, args ...any)
}

// Server is the dashboard.
type Server struct {
	cfg    Config
	auth   *auth
	hub    *hub
	access *access
	pages  map[string]*template.Template
}

// New builds a Server with a fresh token.
func New(cfg Config) (*Server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Debounce <= 0 {
		cfg.Debounce = 50 * time.Millisecond
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 10 * time.Second
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	a, err := newAuth(cfg.Hosts, cfg.TLS)
	if err != nil {
		return nil, err
	}
	pages, err := parsePages(cfg.Now)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, auth: a, hub: newHub(), access: newAccess(cfg.Reviews, cfg.Now), pages: pages}, nil
}

// Token is the secret of the URL to print.
func (s *Server) Token() string { return s.auth.token }

// Handler serves the pages, behind the authentication middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", s.handleOverview)
	mux.HandleFunc("GET /rollouts/{ns}/{name}", s.handleRollout)
	mux.HandleFunc("GET /rollouts/{ns}/{name}/actions/{action}", s.handleConfirm)
	mux.HandleFunc("POST /rollouts/{ns}/{name}/actions/{action}", s.handleAction)
	mux.HandleFunc("GET /sse/overview", s.handleOverviewSSE)
	mux.HandleFunc("GET /sse/rollouts/{ns}/{name}", s.handleRolloutSSE)
	return s.auth.middleware(mux)
}

// Serve runs the watcher and serves l (TLS when certFile is set) until ctx ends, then shuts
// down, giving open requests a second.
func (s *Server) Serve(ctx context.Context, l net.Listener, certFile, keyFile string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		if err := s.cfg.Watcher.Watch(ctx, s.hub.publish); err != nil && ctx.Err() == nil {
			s.cfg.Logf("watch: %v (pages refresh every %s only)", err, s.cfg.Refresh)
		}
	}()
	errc := make(chan error, 1)
	go func() {
		if certFile != "" {
			errc <- srv.ServeTLS(l, certFile, keyFile)
			return
		}
		errc <- srv.Serve(l)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func parsePages(now func() time.Time) (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"age":   func(t time.Time) string { return view.Age(t, now()) },
		"class": phaseClass,
		"join":  view.Tags,
		"clock": func(t time.Time) string { return t.Format(time.TimeOnly) },
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"overview", "rollout", "confirm"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		pages[name] = t
	}
	return pages, nil
}
