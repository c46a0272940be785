//go:build e2e

package framework

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Condition reports whether the awaited state is reached. An error does not
// stop the wait: it is remembered and reported if the deadline passes.
type Condition func(ctx context.Context) (bool, error)

// Eventually polls cond every interval until it returns true, and fails the
// test (t.Fatalf) when timeout passes first. msgf (a format string and its
// arguments) describes what was awaited; the failure names it together with
// the last error returned by cond. Call it from the test goroutine.
func Eventually(t testing.TB, timeout, interval time.Duration, cond Condition, msgf ...any) {
	t.Helper()
	if err := Poll(t.Context(), timeout, interval, cond); err != nil {
		t.Fatalf("e2e: timed out after %s waiting for %s: %v", timeout, describe(msgf), err)
	}
}

// Poll is Eventually without a testing.TB: it returns an error that carries
// the last condition error when the timeout (or ctx) ends the wait.
func Poll(ctx context.Context, timeout, interval time.Duration, cond Condition) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var last error
	polls := 0
	for {
		polls++
		ok, err := cond(ctx)
		if ok && err == nil {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%d polls, last error: %w", polls, last)
			}
			return fmt.Errorf("%d polls, condition stayed false", polls)
		case <-tick.C:
		}
	}
}

func describe(msgf []any) string {
	if len(msgf) == 0 {
		return "condition"
	}
	format, ok := msgf[0].(string)
	if !ok {
		return fmt.Sprint(msgf...)
	}
	return fmt.Sprintf(format, msgf[1:]...)
}
