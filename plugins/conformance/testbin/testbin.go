// Package testbin builds the test plugins under plugins/conformance/testdata into real
// binaries, for the tests of the host, the conformance suite and the interop module. It is a
// test helper: nothing shipped imports it.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// Names of the test plugins (directories under plugins/conformance/testdata).
const (
	GoodRouter   = "goodrouter"
	GoodProvider = "goodprovider"
	WrongCookie  = "wrongcookie"
	NotPlugin    = "notplugin"
	CrashAtStart = "crashatstart"
	GobBad       = "gobbad"
)

// All lists every test plugin.
func All() []string {
	return []string{GoodRouter, GoodProvider, WrongCookie, NotPlugin, CrashAtStart, GobBad}
}

// ModuleRoot returns the nerve module's root directory (from this file's location).
func ModuleRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("testbin: cannot locate source")
	}
	return filepath.Abs(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// Build builds the named test plugins (all when none are named) into dir with one `go build`
// and returns name → binary path.
func Build(dir string, names ...string) (map[string]string, error) {
	if len(names) == 0 {
		names = All()
	}
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	args := []string{"build", "-o", dir + string(os.PathSeparator)}
	bins := map[string]string{}
	for _, n := range names {
		args = append(args, "./plugins/conformance/testdata/"+n)
		bins[n] = filepath.Join(dir, n)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building test plugins: %w\n%s", err, out)
	}
	return bins, nil
}
