// Command crashatstart dies before the go-plugin handshake (test data).
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "crashatstart: cannot load config: open /nonexistent/config.yaml: no such file or directory")
	os.Exit(3)
}
