package host

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nerve-rollouts/nerve/plugins"
	"github.com/nerve-rollouts/nerve/plugins/conformance/testbin"
)

func TestDetectKind(t *testing.T) {
	tests := []struct {
		bin  string
		want plugins.Kind
		err  string
	}{
		{testbin.GoodRouter, plugins.KindTrafficRouter, ""},
		{testbin.GoodProvider, plugins.KindMetricProvider, ""},
		{testbin.WrongCookie, "", "refused every handshake (ARGO_ROLLOUTS_RPC_PLUGIN=trafficrouter|metricprovider)"},
		{testbin.NotPlugin, "", "not a plugin"},
	}
	for _, tc := range tests {
		t.Run(tc.bin, func(t *testing.T) {
			sum, err := FileSHA256(bins[tc.bin])
			if err != nil {
				t.Fatal(err)
			}
			got, err := DetectKind(context.Background(), bins[tc.bin], sum)
			if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("got %q, %v; want %q, %q", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestStartProcessHandshakeError(t *testing.T) {
	tests := []struct {
		name      string
		e         Entry
		handshake bool
	}{
		{"metric provider as router", entry(t, plugins.KindTrafficRouter, "test/r", testbin.GoodProvider), true},
		{"router as metric provider", entry(t, plugins.KindMetricProvider, "test/m", testbin.GoodRouter), true},
		{"wrong cookie", entry(t, plugins.KindTrafficRouter, "test/r", testbin.WrongCookie), true},
		{"not a plugin", entry(t, plugins.KindTrafficRouter, "test/r", testbin.NotPlugin), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := StartProcess(context.Background(), tc.e, Options{StartTimeout: detectTimeout})
			if err == nil {
				p.Kill()
				t.Fatal("started")
			}
			var herr *HandshakeError
			if errors.As(err, &herr) != tc.handshake {
				t.Fatalf("errors.As(%v, *HandshakeError) = %v", err, !tc.handshake)
			}
			if tc.handshake && (herr.Kind != tc.e.Kind || !strings.HasPrefix(err.Error(), "plugin "+tc.e.Name+" ("+string(tc.e.Kind)+"): wrong magic cookie")) {
				t.Fatalf("got %+v: %v", herr, err)
			}
		})
	}
}
