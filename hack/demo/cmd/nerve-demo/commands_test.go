package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestUsageExitStatus(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, exitUsage}, {[]string{"help"}, exitOK}, {[]string{"bogus"}, exitUsage},
		{[]string{"summary"}, exitUsage}, {[]string{"summary", "--nope", "x"}, exitUsage},
		{[]string{"listener", "-h"}, exitOK}, {[]string{"summary", t.TempDir()}, exitFail},
		{[]string{"generator"}, exitFail},
	} {
		if got := dispatch(t.Context(), tc.args, io.Discard, io.Discard); got != tc.want {
			t.Errorf("nerve-demo %v: exit %d, want %d", tc.args, got, tc.want)
		}
	}
}

// TestListenerAndGenerator runs the two subcommands against each other in-process.
func TestListenerAndGenerator(t *testing.T) {
	dir := t.TempDir()
	pr, pw := io.Pipe()
	lctx, stopListener := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() {
		done <- dispatch(lctx, []string{"listener", "--pod", "p", "--log", filepath.Join(dir, "listener-p.jsonl")}, pw, io.Discard)
		_ = pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	addr := strings.TrimSpace(strings.TrimPrefix(line, "listening "))
	gctx, cancel := context.WithTimeout(t.Context(), 400*time.Millisecond)
	defer cancel()
	glog := filepath.Join(dir, "generator.jsonl")
	if got := dispatch(gctx, []string{"generator", "--addr", addr, "--log", glog, "--rate", "200"}, io.Discard, io.Discard); got != exitOK {
		t.Fatalf("generator: exit %d", got)
	}
	stopListener()
	if got := <-done; got != exitOK {
		t.Fatalf("listener: exit %d", got)
	}
	b, err := os.ReadFile(glog)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `"ev":"ack"`); n < 20 {
		t.Fatalf("%d ACKs logged:\n%s", n, b)
	}
}
