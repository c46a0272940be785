//go:build e2e

package framework

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// PromSample is one series of an instant query result.
type PromSample struct {
	Metric map[string]string
	Value  float64
}

// PrometheusURL returns the local Prometheus base URL (PROMETHEUS_URL).
func PrometheusURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvPrometheusURL)
	if u == "" {
		t.Fatalf("e2e: %s is not set: run `make cluster-up`", EnvPrometheusURL)
	}
	return strings.TrimRight(u, "/")
}

// RegisterScrapeTarget makes the local Prometheus scrape addr (host:port on
// 127.0.0.1, path /metrics) under the given job label, plus extra labels, by
// writing a file_sd JSON file into PROMETHEUS_TARGETS_DIR; t.Cleanup removes
// it. Prometheus picks it up within about 1–5 s (refresh 1 s, scrape 1 s).
func RegisterScrapeTarget(t testing.TB, job, addr string, labels map[string]string) {
	t.Helper()
	dir := os.Getenv(EnvTargetsDir)
	if dir == "" {
		t.Fatalf("e2e: %s is not set: run `make cluster-up`", EnvTargetsDir)
	}
	all := map[string]string{"job": job}
	for k, v := range labels {
		all[k] = v
	}
	body, err := json.Marshal([]map[string]any{{"targets": []string{addr}, "labels": all}})
	if err != nil {
		t.Fatalf("e2e: scrape target: %v", err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	path := filepath.Join(dir, safeFileName(job)+"-"+hex.EncodeToString(b)+".json")
	// Write then rename so that Prometheus never reads a half-written file.
	if err := os.WriteFile(path+".tmp", body, 0o644); err != nil {
		t.Fatalf("e2e: scrape target: %v", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatalf("e2e: scrape target: %v", err)
	}
	t.Cleanup(func() {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			t.Errorf("e2e: remove scrape target %s: %v", path, err)
		}
	})
}

func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// WaitForPromSeries waits (up to 60 s) until the instant query returns at
// least one series and returns the result.
func WaitForPromSeries(t testing.TB, query string) []PromSample {
	t.Helper()
	base := PrometheusURL(t)
	var got []PromSample
	Eventually(t, 60*time.Second, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		s, err := PromQuery(ctx, base, query)
		got = s
		return len(s) > 0, err
	}, "Prometheus series for %q", query)
	return got
}

// PromQuery runs an instant query against the Prometheus at base
// (e.g. PrometheusURL(t)); vector and scalar results are supported.
func PromQuery(ctx context.Context, base, query string) ([]PromSample, error) {
	u := base + "/api/v1/query?query=" + url.QueryEscape(query)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("query %q: HTTP %d: %w", query, resp.StatusCode, err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", query, body.Error)
	}
	return decodeResult(body.Data.ResultType, body.Data.Result)
}

func decodeResult(kind string, raw json.RawMessage) ([]PromSample, error) {
	switch kind {
	case "vector":
		var vec []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(raw, &vec); err != nil {
			return nil, err
		}
		out := make([]PromSample, 0, len(vec))
		for _, s := range vec {
			v, err := sampleValue(s.Value)
			if err != nil {
				return nil, err
			}
			out = append(out, PromSample{Metric: s.Metric, Value: v})
		}
		return out, nil
	case "scalar":
		var pair [2]any
		if err := json.Unmarshal(raw, &pair); err != nil {
			return nil, err
		}
		v, err := sampleValue(pair)
		if err != nil {
			return nil, err
		}
		return []PromSample{{Value: v}}, nil
	default:
		return nil, fmt.Errorf("unsupported result type %q", kind)
	}
}

func sampleValue(pair [2]any) (float64, error) {
	s, ok := pair[1].(string)
	if !ok {
		return 0, fmt.Errorf("sample value %v is not a string", pair[1])
	}
	return strconv.ParseFloat(s, 64)
}
