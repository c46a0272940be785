package launcher

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// WriteAddressMap writes the address map atomically (temp file + rename) as
// a JSON object {"<pod IP>:<port>": "127.0.0.1:<port>"}.
func WriteAddressMap(path string, m map[string]string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// writeFileAtomic writes a file through a temp file and a rename, so the
// proxy never reads a half-written address map.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".addrmap-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
