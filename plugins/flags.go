package plugins

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"
)

// ParseName parses the command line of a plugin binary whose one flag is --name: the plugin name
// it answers to (the provider.plugin or trafficRouting.plugins key whose config it reads),
// def by default; usage is the flag's help. It returns the name, or ok=false and the code main
// exits with: 0 after --help, 2 after a bad flag. Errors and help go to stderr, never stdout,
// which carries go-plugin's handshake.
func ParseName(binary, def, usage string, args []string, stderr io.Writer) (name string, code int, ok bool) {
	flags := pflag.NewFlagSet(binary, pflag.ContinueOnError)
	flags.SetOutput(stderr)
	n := flags.String("name", def, usage)
	if err := flags.Parse(args); errors.Is(err, pflag.ErrHelp) {
		return "", 0, false
	} else if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", binary, err)
		return "", 2, false
	}
	return *n, 0, true
}
