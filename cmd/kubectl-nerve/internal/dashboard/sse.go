package dashboard

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// heartbeat keeps idle event streams (and proxies in between) open.
const heartbeat = 15 * time.Second

// writeEvent writes one Server-Sent Event: its id, its type and data split into one "data:"
// line per line (CR and CRLF count as line ends), ended by a blank line.
func writeEvent(w io.Writer, id, event, data string) error {
	var b strings.Builder
	if id != "" {
		b.WriteString("id: " + id + "\n")
	}
	if event != "" {
		b.WriteString("event: " + event + "\n")
	}
	data = strings.ReplaceAll(strings.ReplaceAll(data, "\r\n", "\n"), "\r", "\n")
	for _, line := range strings.Split(data, "\n") {
		b.WriteString("data: " + line + "\n")
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// stream serves an event stream: render's output as an "html" event now, then again whenever
// a change that match accepts arrives (after the debounce) or the refresh interval passes, but
// only when the output differs from the last one sent.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, match func(Change) bool, render func(context.Context) (string, error)) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ctx := r.Context()
	changes, cancel := s.hub.subscribe(match)
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	refresh := time.NewTicker(s.cfg.Refresh)
	defer refresh.Stop()
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	last, seq := "", 0
	send := func() error {
		html, err := render(ctx)
		if err != nil {
			return err
		}
		if html == last {
			return nil
		}
		last, seq = html, seq+1
		if err := writeEvent(w, strconv.Itoa(seq), "html", html); err != nil {
			return err
		}
		flusher.Flush()
		return nil
	}
	for err := send(); err == nil; {
		select {
		case <-ctx.Done():
			return
		case <-changes:
			if !s.debounce(ctx, changes) {
				return
			}
			err = send()
		case <-refresh.C:
			err = send()
		case <-beat.C:
			if _, err = io.WriteString(w, ": ping\n\n"); err == nil {
				flusher.Flush()
			}
		}
	}
}

// debounce waits until no change arrived for the debounce interval (at most 4 intervals), so a
// burst of changes renders once; false when ctx ended.
func (s *Server) debounce(ctx context.Context, changes <-chan struct{}) bool {
	deadline := time.NewTimer(4 * s.cfg.Debounce)
	defer deadline.Stop()
	for {
		quiet := time.NewTimer(s.cfg.Debounce)
		select {
		case <-ctx.Done():
			quiet.Stop()
			return false
		case <-changes:
			quiet.Stop()
		case <-quiet.C:
			return true
		case <-deadline.C:
			quiet.Stop()
			return true
		}
	}
}

// fragment executes the named template of page into a string.
func (s *Server) fragment(page, name string, data any) (string, error) {
	var b bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return b.String(), nil
}
