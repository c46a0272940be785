package cli

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// refresher paces the loops that wait on a rollout (status, get rollout -w): they look again
// on every tick and on every watch event of the rollout, whichever comes first.
type refresher struct {
	events <-chan struct{}
	tick   *time.Ticker
	cancel context.CancelFunc
}

// refresh bounds ctx by timeout (0: no bound), opens the watch of t's rollout and starts a
// ticker of interval; the caller defers stop.
func (t *rolloutTarget) refresh(ctx context.Context, timeout, interval time.Duration) (context.Context, *refresher) {
	cancel := context.CancelFunc(func() {})
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	}
	r := &refresher{events: watchRollout(ctx, t.c, t.Name), cancel: cancel}
	r.tick = time.NewTicker(interval)
	return ctx, r
}

// stop stops the ticker, then releases the timeout context.
func (r *refresher) stop() {
	r.tick.Stop()
	r.cancel()
}

// wait blocks until the next tick or watch event (true), or until ctx ends (false).
func (r *refresher) wait(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return false
	case <-r.tick.C:
	case <-r.events:
	}
	return true
}

// watchRollout signals on every watch event of the named rollout; the channel stays silent when
// the watch cannot be opened (the ticker still refreshes).
func watchRollout(ctx context.Context, c *clients, name string) <-chan struct{} {
	ch := make(chan struct{}, 1)
	w, err := c.rollouts().Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()})
	if err != nil {
		return ch
	}
	go func() {
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-w.ResultChan():
				if !ok {
					return
				}
				select {
				case ch <- struct{}{}:
				default:
				}
			}
		}
	}()
	return ch
}
