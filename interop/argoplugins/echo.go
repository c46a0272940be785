// Package argoplugins holds the echo logic of the plugins served with Argo v1.10.0's own
// server types (mains in router/ and provider/): they append every call's arguments, as JSON of
// Argo's types, to the file named by --echo.
package argoplugins

import (
	"encoding/json"
	"errors"
	"os"
	"sync"
)

// Echo appends calls to a file.
type Echo struct {
	Path string
	mu   sync.Mutex
}

// Record appends one call; the returned string is "" or the error text (for RpcError).
func (e *Echo) Record(method string, args any) string {
	line, err := json.Marshal(map[string]any{"method": method, "args": args})
	if err != nil {
		return err.Error()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	f, err := os.OpenFile(e.Path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err.Error()
	}
	_, err = f.Write(append(line, '\n'))
	if err = errors.Join(err, f.Close()); err != nil {
		return err.Error()
	}
	return ""
}
