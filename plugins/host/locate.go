package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// pluginBinDir is where downloaded plugins live below the work dir (Argo's layout).
const pluginBinDir = "plugin-bin"

// FileSHA256 returns the lowercase hex sha256 of a file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// verify checks that the file at path has the entry's checksum (hex compared case-insensitively,
// the NormalizeSHA256 rule). It returns a descriptive error naming both sums on a mismatch.
func verify(e Entry, path string) error {
	got, err := FileSHA256(path)
	if err != nil {
		return fmt.Errorf("cannot checksum binary %s: %w", path, err)
	}
	if !strings.EqualFold(got, e.SHA256) {
		return fmt.Errorf("checksum mismatch for binary %s: expected sha256 %s, got %s", path, e.SHA256, got)
	}
	return nil
}

// workDir returns the base of relative file:// locations and of downloads.
func (h *Host) workDir() (string, error) {
	if h.opts.WorkDir != "" {
		return h.opts.WorkDir, nil
	}
	return os.Getwd()
}

// binaryPath returns the local path of an entry's binary, downloading an https location
// (once; it is re-verified before every exec anyway).
func (h *Host) binaryPath(ctx context.Context, e Entry) (string, error) {
	base, err := h.workDir()
	if err != nil {
		return "", err
	}
	if rest, ok := strings.CutPrefix(e.Location, "file://"); ok {
		path := rest
		if !filepath.IsAbs(path) {
			path = filepath.Join(base, path)
		}
		st, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("missing binary %s (location %s): %w", path, e.Location, err)
		}
		if st.IsDir() {
			return "", fmt.Errorf("binary %s (location %s) is a directory", path, e.Location)
		}
		return path, nil
	}
	return h.download(ctx, e, base)
}

// download fetches an https location into <workdir>/plugin-bin/<ns>/<name>. A file already
// there with the right checksum is reused.
func (h *Host) download(ctx context.Context, e Entry, base string) (string, error) {
	path := filepath.Join(base, pluginBinDir, filepath.FromSlash(e.Name))
	if e.SHA256 != "" {
		if verify(e, path) == nil {
			return path, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("download %s: %w", e.Location, err)
	}
	if err := h.fetch(ctx, e, path); err != nil {
		return "", fmt.Errorf("download %s: %w", e.Location, err)
	}
	return path, nil
}

// fetch performs the GET and writes the body to path atomically (mode 0700).
func (h *Host) fetch(ctx context.Context, e Entry, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.Location, nil)
	if err != nil {
		return err
	}
	if err := h.addHeaders(ctx, e, req); err != nil {
		return err
	}
	client := h.opts.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP status %s", resp.Status)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".download-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, resp.Body); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o700); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// addHeaders adds the headers of the entry's headersFrom secrets.
func (h *Host) addHeaders(ctx context.Context, e Entry, req *http.Request) error {
	if len(e.HeadersFrom) == 0 {
		return nil
	}
	if h.opts.DownloadHeaders == nil {
		return fmt.Errorf("headersFrom %v set but the host has no way to read secrets (Options.DownloadHeaders)", e.HeadersFrom)
	}
	for _, secret := range e.HeadersFrom {
		hdrs, err := h.opts.DownloadHeaders(ctx, secret)
		if err != nil {
			return fmt.Errorf("headersFrom secret %s: %w", secret, err)
		}
		for k, v := range hdrs {
			req.Header.Set(k, v)
		}
	}
	return nil
}
