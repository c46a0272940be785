package proxy

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nerve-rollouts/nerve/router/mllp/mllptest"
)

func TestAddressMap(t *testing.T) {
	am, err := ParseAddressMap("10.244.0.5:2575=127.0.0.1:4001, 10.244.0.6=127.0.0.1:4002 # comment\n")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		ip   string
		port int32
		want string
		ok   bool
	}{
		{"10.244.0.5", 2575, "127.0.0.1:4001", true},
		{"10.244.0.6", 9999, "127.0.0.1:4002", true},
		{"10.244.0.7", 2575, "", false},
	}
	for _, c := range cases {
		got, ok := am.Resolve(c.ip, c.port)
		if got != c.want || ok != c.ok {
			t.Errorf("%s:%d -> %q %v", c.ip, c.port, got, ok)
		}
	}
	if got, ok := (AddressMap{}).Resolve("10.0.0.1", 1); !ok || got != "10.0.0.1:1" {
		t.Error("an empty map must pass addresses through")
	}
	if _, err := ParseAddressMap("nonsense"); err == nil {
		t.Error("want parse error")
	}
}

// TestStaticSourceReload: a weight change in the file applies within 1 s.
func TestStaticSourceReload(t *testing.T) {
	stable := newBackend(t, mllptest.BackendOptions{Name: "stable"})
	canary := newBackend(t, mllptest.BackendOptions{Name: "canary"})
	path := filepath.Join(t.TempDir(), "route.yaml")
	write := func(w int) {
		cfg := fmt.Sprintf("service: mllp-listener\nstable: [%q]\ncanary: [%q]\nweight: %d\nstickyKey: message\n",
			stable.Addr(), canary.Addr(), w)
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(0)
	m, _ := NewMetrics(prometheus.NewRegistry())
	p, _ := New(Options{Metrics: m})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	applied := make(chan struct{})
	src := &StaticSource{Path: path, Interval: 50 * time.Millisecond, Logger: p.log}
	go func() { _ = src.Run(ctx, p, applied) }()
	<-applied
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.Serve(ln) }()
	defer func() { _ = p.Drain(ctx) }()
	c := dial(t, ln.Addr().String())
	if _, _, err := c.Send(msgFor("A", "F", "ADT^A01", "P")); err != nil || canary.Count() != 0 {
		t.Fatalf("weight 0: err %v canary %d", err, canary.Count())
	}
	write(100)
	changed := time.Now()
	for i := 0; canary.Count() == 0; i++ {
		if time.Since(changed) > time.Second {
			t.Fatal("weight change not applied within 1 s")
		}
		if _, _, err := c.Send(msgFor(fmt.Sprintf("B%d", i), "F", "ADT^A01", "P")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestParseStaticRejects(t *testing.T) {
	bad := []string{
		"service: s\nstable: [a:1]\nweight: 101\n",
		"service: s\nstable: [a:1]\nunknownField: 1\n",
		"stable: [a:1]\n",
	}
	for _, b := range bad {
		if _, err := ParseStatic([]byte(b), nil, 1); err == nil {
			t.Errorf("want error for %q", b)
		}
	}
}
