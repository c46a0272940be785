package kubetest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/rest"
)

// Request is one request as the API server received it.
type Request struct {
	Method, Path, Query, ContentType, Accept, UserAgent string
	Body                                                string
}

// Recorder is an API server that records every request and answers each with the status and
// JSON body of Reply (200 and an empty Status when Reply is nil), so that tests can compare the
// requests two clients make for the same call.
type Recorder struct {
	// Reply answers a request: the status code and the JSON body.
	Reply func(r *http.Request) (int, string)

	srv  *httptest.Server
	mu   sync.Mutex
	reqs []Request
}

// NewRecorder starts a Recorder, stopped when t ends.
func NewRecorder(t testing.TB, reply func(r *http.Request) (int, string)) *Recorder {
	t.Helper()
	rec := &Recorder{Reply: reply}
	rec.srv = httptest.NewServer(http.HandlerFunc(rec.serve))
	t.Cleanup(rec.srv.Close)
	return rec
}

// Config is a client config for the Recorder (no client-side rate limit).
func (rec *Recorder) Config() *rest.Config { return &rest.Config{Host: rec.srv.URL, QPS: -1} }

// Take returns the requests received since the last Take and forgets them.
func (rec *Recorder) Take() []Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := rec.reqs
	rec.reqs = nil
	return out
}

func (rec *Recorder) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, Request{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"),
		r.Header.Get("Accept"), r.Header.Get("User-Agent"), string(body)})
	rec.mu.Unlock()
	code, out := http.StatusOK, `{"kind":"Status","apiVersion":"v1","status":"Success"}`
	if rec.Reply != nil {
		code, out = rec.Reply(r)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, out)
}

// SameRequest makes one call through a client-go typed client (typed) and through its lean
// counterpart (lean) against rec, and fails the test when the typed call made other than one
// request or the lean call's requests differ from it.
func SameRequest(t testing.TB, rec *Recorder, name string, typed, lean func() error) {
	t.Helper()
	if err := typed(); err != nil {
		t.Fatalf("%s (typed): %v", name, err)
	}
	want := rec.Take()
	if err := lean(); err != nil {
		t.Fatalf("%s (lean): %v", name, err)
	}
	got := rec.Take()
	if len(want) != 1 {
		t.Fatalf("%s: the typed client made %d requests", name, len(want))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s (-typed +lean):\n%s", name, d)
	}
}
