package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "map")
	if err := os.WriteFile(file, []byte("10.244.0.1=127.0.0.1:1\n10.244.0.2=127.0.0.1:2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("POD_NAME", "proxy-7")
	o, err := parseFlags([]string{"--listen", "127.0.0.1:0", "--route", "r", "--address-map", file,
		"--address-map-flag", "10.244.0.2=127.0.0.1:9", "--ack-timeout", "3s", "--lenient"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if o.ReplicaName != "proxy-7" || o.Proxy.AckTimeout != 3*time.Second || !o.Proxy.Lenient || o.DrainTimeout != 30*time.Second {
		t.Fatalf("options %+v", o)
	}
	if o.AddressMap["10.244.0.1"] != "127.0.0.1:1" || o.AddressMap["10.244.0.2"] != "127.0.0.1:9" {
		t.Fatalf("address map %v (the flag must win over the file)", o.AddressMap)
	}
	if _, err := parseFlags([]string{"--address-map-flag", "junk"}, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("want an error for a bad address map")
	}
}
