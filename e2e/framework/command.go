//go:build e2e

package framework

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
)

// Result is a finished command: its standard output and error, and its exit code (-1 when it
// could not be run, with the reason in Err).
type Result struct {
	Out, Err string
	Code     int
}

func (r Result) String() string {
	return fmt.Sprintf("rc=%d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Out, r.Err)
}

// RunCommand runs cmd to completion, capturing its output.
func RunCommand(cmd *exec.Cmd) Result {
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
		errOut.WriteString(err.Error())
	}
	return Result{Out: out.String(), Err: errOut.String(), Code: code}
}
