package plugins

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseName(t *testing.T) {
	cases := []struct {
		args     []string
		name     string
		code     int
		ok       bool
		inStderr string
	}{
		{nil, "nerve/web", 0, true, ""},
		{[]string{"--name", "acme/web"}, "acme/web", 0, true, ""},
		{[]string{"--help"}, "", 0, false, "--name"},
		{[]string{"--bogus"}, "", 2, false, "nerve-web: unknown flag: --bogus"},
	}
	for _, c := range cases {
		var stderr bytes.Buffer
		name, code, ok := ParseName("nerve-web", "nerve/web", "plugin name", c.args, &stderr)
		if name != c.name || code != c.code || ok != c.ok || !strings.Contains(stderr.String(), c.inStderr) {
			t.Errorf("%v: got %q %d %v (stderr %q), want %q %d %v (stderr with %q)", c.args, name, code, ok, stderr.String(), c.name, c.code, c.ok, c.inStderr)
		}
	}
}
