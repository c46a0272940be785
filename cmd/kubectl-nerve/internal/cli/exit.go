package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Exit codes of kubectl nerve (kubectl passes a plugin's exit code through).
const (
	ExitOK       = 0
	ExitFailure  = 1
	ExitUsage    = 2
	ExitDegraded = 3
	ExitTimeout  = 4
)

// ExitError carries an exit code with an error.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

func usageError(format string, a ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, a...)}
}

func usageErr(err error) error {
	if err == nil {
		return nil
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return err
	}
	return &ExitError{Code: ExitUsage, Err: err}
}

// Code returns the exit code for err and writes the error to w.
func Code(err error, w io.Writer) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	code := ExitFailure
	if errors.As(err, &ee) {
		code = ee.Code
	} else if errors.Is(err, context.Canceled) {
		return ExitOK
	} else if strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag") {
		code = ExitUsage
	}
	fmt.Fprintf(w, "error: %v\n", err)
	return code
}
