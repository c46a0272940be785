package host

import (
	"errors"
	"fmt"
	"strings"
)

// Severity grades a Finding.
type Severity string

// Severities. An Error makes the strict entry points (ParseConfigMap, ReadSums, LoadDir) fail;
// a Warning is advice (lint and doctor print it, the controller ignores it).
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Finding is one problem of a registry: where (Path) and what (Message). For a ConfigMap, Path
// is a field path rooted at the object ("data.trafficRouterPlugins[1].location"); for a
// SHA256SUMS file it is "<file>:<line>".
type Finding struct {
	Path     string
	Severity Severity
	Message  string
}

// String is "path: message".
func (f Finding) String() string {
	if f.Path == "" {
		return f.Message
	}
	return f.Path + ": " + f.Message
}

// errorf returns an Error finding.
func errorf(path, format string, a ...any) Finding {
	return Finding{Path: path, Severity: SeverityError, Message: fmt.Sprintf(format, a...)}
}

// warnf returns a Warning finding.
func warnf(path, format string, a ...any) Finding {
	return Finding{Path: path, Severity: SeverityWarning, Message: fmt.Sprintf(format, a...)}
}

// FindingsError joins the Error findings into one single-line error ("; "-separated, so it
// logs as one line); nil if there is none.
func FindingsError(fs []Finding) error {
	var msgs []string
	for _, f := range fs {
		if f.Severity == SeverityError {
			msgs = append(msgs, f.String())
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return errors.New(strings.Join(msgs, "; "))
}
