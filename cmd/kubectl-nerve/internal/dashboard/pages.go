package dashboard

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/nerve-rollouts/nerve/cmd/kubectl-nerve/internal/actions"
)

// page is what the layout needs around a page's content.
type page struct {
	Title, Scope, CSRF, SSE string
	ReadOnly                bool
	Done                    string
	Body                    any
}

func (s *Server) page(r *http.Request, title, sse string, body any) page {
	return page{Title: title, Scope: s.cfg.Scope, CSRF: s.auth.csrf(sessionOf(r.Context())), SSE: sse,
		ReadOnly: s.cfg.ReadOnly, Body: body}
}

func (s *Server) render(w http.ResponseWriter, name string, p page, status int) {
	html, err := s.fragment(name, "layout", p)
	if err != nil {
		s.cfg.Logf("%v", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(html))
}

func (s *Server) handleOverview(w http.ResponseWriter, r *http.Request) {
	s.render(w, "overview", s.page(r, "Rollouts", "/sse/overview", s.overview(r.Context())), http.StatusOK)
}

func (s *Server) handleRollout(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	p := s.page(r, name, "/sse"+rolloutURL(ns, name), s.rolloutPage(r.Context(), ns, name))
	p.Done = r.URL.Query().Get("done")
	s.render(w, "rollout", p, http.StatusOK)
}

func (s *Server) handleOverviewSSE(w http.ResponseWriter, r *http.Request) {
	match := func(c Change) bool {
		return c.Kind == "rollouts" || c.Kind == "analysisruns" || c.Kind == "replicasets"
	}
	s.stream(w, r, match, func(ctx context.Context) (string, error) {
		return s.fragment("overview", "live", s.overview(ctx))
	})
}

func (s *Server) handleRolloutSSE(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	match := func(c Change) bool {
		switch c.Kind {
		case "httproutes", "grpcroutes", "tcproutes", "tlsroutes", "mllproutes":
			return true // a router's route may live in another namespace
		}
		return c.Namespace == ns
	}
	s.stream(w, r, match, func(ctx context.Context) (string, error) {
		return s.fragment("rollout", "live", s.rolloutPage(ctx, ns, name))
	})
}

// confirmData is the confirmation page of an action.
type confirmData struct {
	Namespace, Name string
	Action          actions.Name
	Plan            []string
	Back            string
	Error           string
}

// plan checks that action of ns/name may run and plans it; the status is the HTTP answer when
// it may not.
func (s *Server) plan(ctx context.Context, r *http.Request) (confirmData, actions.Plan, int, error) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	data := confirmData{Namespace: ns, Name: name, Back: rolloutURL(ns, name)}
	n, err := actions.Parse(r.PathValue("action"))
	if err != nil {
		return data, actions.Plan{}, http.StatusNotFound, err
	}
	data.Action = n
	if s.cfg.ReadOnly {
		return data, actions.Plan{}, http.StatusForbidden, errors.New("the dashboard runs with --read-only")
	}
	ok, err := s.access.mayRun(ctx, n, ns, name)
	if err != nil {
		return data, actions.Plan{}, http.StatusBadGateway, err
	}
	if !ok {
		return data, actions.Plan{}, http.StatusForbidden, errors.New("your Kubernetes user may not patch rollout " + ns + "/" + name)
	}
	d, err := s.cfg.Source.Rollout(ctx, ns, name)
	if err != nil {
		return data, actions.Plan{}, apiStatus(err), err
	}
	p, err := actions.For(n, d.Object, s.cfg.Now())
	if err != nil {
		return data, actions.Plan{}, http.StatusConflict, err
	}
	data.Plan = p.Lines
	return data, p, http.StatusOK, nil
}

func (s *Server) handleConfirm(w http.ResponseWriter, r *http.Request) {
	data, _, status, err := s.plan(r.Context(), r)
	if err != nil {
		data.Error = err.Error()
	}
	s.render(w, "confirm", s.page(r, string(data.Action)+" "+data.Name, "", data), status)
}

func (s *Server) handleAction(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	data, p, status, err := s.plan(ctx, r)
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	start := time.Now()
	if !p.Patch.Empty() {
		if err := s.cfg.Patcher.Patch(ctx, data.Namespace, data.Name, p.Patch); err != nil {
			s.cfg.Logf("%s %s/%s: %v", data.Action, data.Namespace, data.Name, err)
			http.Error(w, err.Error(), apiStatus(err))
			return
		}
	}
	s.cfg.Logf("%s %s/%s sent in %s", data.Action, data.Namespace, data.Name, time.Since(start).Round(time.Millisecond))
	http.Redirect(w, r, data.Back+"?done="+url.QueryEscape(string(data.Action)), http.StatusSeeOther)
}

// apiStatus maps an API error to the dashboard's answer.
func apiStatus(err error) int {
	switch {
	case apierrors.IsForbidden(err):
		return http.StatusForbidden
	case apierrors.IsNotFound(err):
		return http.StatusNotFound
	case apierrors.IsConflict(err):
		return http.StatusConflict
	}
	return http.StatusBadGateway
}
