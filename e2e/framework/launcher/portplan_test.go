package launcher

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPortPlan(t *testing.T) {
	p := PortPlan{Prefix: "10.244", Base: 21000}
	for ip, want := range map[string]int{"10.244.0.0": 21000, "10.244.0.7": 21007, "10.244.1.2": 21258, "10.244.7.255": 23047} {
		got, err := p.Port(ip)
		if err != nil || got != want {
			t.Errorf("Port(%s) = %d, %v; want %d", ip, got, err, want)
		}
	}
	for _, ip := range []string{"10.245.0.1", "10.244.8.1", "fe80::1", "x"} {
		if _, err := p.Port(ip); err == nil {
			t.Errorf("Port(%s): want error", ip)
		}
	}
	path := filepath.Join(t.TempDir(), "map")
	if err := p.WriteAddressMap(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\n10.244.1.2=127.0.0.1:21258\n") || strings.Count(string(b), "\n") != 1+8*256 {
		t.Fatal("bad map")
	}
}
