package host

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SumsFile is the checksum file of a plugin directory (sha256sum format).
const SumsFile = "SHA256SUMS"

// BinaryName is the one naming rule from a plugin binary's file name to its registry name: the
// names nerve's own plugins read by default (nerve-gatewayapi → nerve/gatewayAPI, nerve-mllp →
// nerve/mllp, nerve-prometheus → nerve/prometheus), else nerve-<x> → nerve/<x> and <file> →
// nerve/<file>.
func BinaryName(file string) string {
	// The defaults of router/gatewayapi, router/mllp and metricprovider/prometheus (pinned by a test).
	known := map[string]string{
		"nerve-gatewayapi": "nerve/gatewayAPI",
		"nerve-mllp":       "nerve/mllp",
		"nerve-prometheus": "nerve/prometheus",
	}
	if n, ok := known[file]; ok {
		return n
	}
	return "nerve/" + strings.TrimPrefix(file, "nerve-")
}

// LoadDir reads a plugin directory: the binaries listed in its SHA256SUMS file (sha256sum
// format: "<hex>  <file>" or "<hex> *<file>"). Each binary's kind is detected by trying the
// handshakes (DetectKind, after verifying its sum); its name follows BinaryName. Binaries not
// listed in SHA256SUMS are ignored (never executed).
func LoadDir(ctx context.Context, dir string) (Registry, error) {
	sums, err := ReadSums(filepath.Join(dir, SumsFile))
	if err != nil {
		return Registry{}, err
	}
	files := make([]string, 0, len(sums))
	for f := range sums {
		files = append(files, f)
	}
	sort.Strings(files)
	var reg Registry
	for _, f := range files {
		e, err := dirEntry(ctx, dir, f, sums[f])
		if err != nil {
			return Registry{}, err
		}
		reg.Add(e)
	}
	return reg, nil
}

// dirEntry builds the entry of one binary of a plugin directory.
func dirEntry(ctx context.Context, dir, file, sum string) (Entry, error) {
	abs, err := filepath.Abs(filepath.Join(dir, file))
	if err != nil {
		return Entry{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*detectTimeout)
	defer cancel()
	kind, err := DetectKind(ctx, abs, sum)
	if err != nil {
		return Entry{}, fmt.Errorf("plugin directory %s: %s: %w", dir, file, err)
	}
	e := Entry{Name: BinaryName(file), Kind: kind, Location: "file://" + abs, SHA256: sum}
	return e, e.Validate()
}

// ReadSums is the strict form of CheckSums: it parses a sha256sum-format file into file name →
// lowercase hex sum and fails on any Error finding.
func ReadSums(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading checksums: %w", err)
	}
	sums, fs := CheckSums(path, data)
	if err := FindingsError(fs); err != nil {
		return nil, err
	}
	return sums, nil
}

// CheckSums parses the sha256sum-format data of the file at path: one "<hex>  <file>" or
// "<hex> *<file>" line per binary (blank lines and # comments are skipped; hex in either case,
// normalised to lowercase; plain file names only). Findings are at "<path>:<line>".
func CheckSums(path string, data []byte) (map[string]string, []Finding) {
	sums := map[string]string{}
	var fs []Finding
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		at := fmt.Sprintf("%s:%d", path, n)
		sum, file, ok := strings.Cut(line, " ")
		file = strings.TrimPrefix(strings.TrimLeft(file, " "), "*")
		sum, okSum := NormalizeSHA256(sum)
		switch {
		case !ok || !okSum || file == "" || strings.ContainsRune(file, '/'):
			fs = append(fs, errorf(at, "not a sha256sum line: %q", line))
		case sums[file] != "":
			fs = append(fs, errorf(at, "%s is listed twice", file))
		default:
			sums[file] = sum
		}
	}
	if err := sc.Err(); err != nil {
		fs = append(fs, errorf(path, "reading: %v", err))
	}
	if len(sums) == 0 && len(fs) == 0 {
		fs = append(fs, errorf(path, "lists no plugin binaries"))
	}
	return sums, fs
}
