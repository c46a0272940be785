package main

import (
	"context"
	"testing"

	"github.com/nerve-rollouts/nerve/plugins/conformance/testbin"
)

func TestExitCodes(t *testing.T) {
	bins, err := testbin.Build(t.TempDir(), testbin.GoodProvider, testbin.WrongCookie)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		args []string
		want int
	}{
		{[]string{bins[testbin.GoodProvider]}, 0},
		{[]string{"--functional", "--kind", "metricprovider", "--name", "x/y", "--config", `{"q":1}`, bins[testbin.GoodProvider]}, 0},
		{[]string{"--kind", "metricprovider", bins[testbin.GoodProvider], "--", "--panic-before-init"}, 1},
		{[]string{bins[testbin.WrongCookie]}, 1},
		{[]string{}, 2},
		{[]string{"--config", "{", bins[testbin.GoodProvider]}, 2},
		{[]string{"--kind", "step", bins[testbin.GoodProvider]}, 2},
	}
	for _, tc := range tests {
		if got := run(ctx, tc.args); got != tc.want {
			t.Errorf("nerve-conformance %q = %d, want %d", tc.args, got, tc.want)
		}
	}
}
