package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"k8s.io/client-go/util/jsonpath"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// DefaultName is the plugin name (config key) the provider answers to by default.
const DefaultName = "nerve/web"

// DefaultTimeout is Argo's request timeout when timeoutSeconds is 0 or negative.
const DefaultTimeout = 10 * time.Second

// DefaultJSONPath selects the whole document (Argo's default).
const DefaultJSONPath = "{$}"

// HTTP methods Argo's WebMetric allows.
const (
	MethodGet  = "GET"
	MethodPost = "POST"
	MethodPut  = "PUT"
)

// Config is Argo's provider.web block, unchanged.
type Config = v1alpha1.WebMetric

// ParseConfig reads and validates the config of metric m for the plugin called name.
func ParseConfig(name string, m v1alpha1.Metric) (Config, error) {
	raw, source, err := m.Provider.PluginConfig(m.Name, name, "web")
	if err != nil {
		return Config{}, err
	}
	cfg, err := decodeConfig(raw)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", source, err)
	}
	if err := validate(cfg); err != nil {
		return Config{}, fmt.Errorf("%s: %w", source, err)
	}
	return cfg, nil
}

func decodeConfig(raw []byte) (Config, error) {
	var cfg Config
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return cfg, errors.New("config is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("invalid config: %w", err)
	}
	if string(bytes.TrimSpace(cfg.JSONBody)) == "null" {
		cfg.JSONBody = nil
	}
	return cfg, nil
}

// validate checks the config with Argo's messages where Argo has one.
func validate(c Config) error {
	if c.URL == "" {
		return errors.New("url: must not be empty")
	}
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url: %q is not an http(s) URL", c.URL)
	}
	switch method(c) {
	case MethodGet, MethodPost, MethodPut:
	default:
		return fmt.Errorf("method: %q is not one of GET, POST, PUT", c.Method)
	}
	if c.Body != "" && c.JSONBody != nil {
		return errors.New("use either Body or JSONBody; both cannot exists for WebMetric payload")
	}
	if (c.Body != "" || c.JSONBody != nil) && method(c) == MethodGet {
		return errors.New("Body/JSONBody can only be used with POST or PUT WebMetric Method types")
	}
	if c.JSONBody != nil && !json.Valid(c.JSONBody) {
		return errors.New("jsonBody: not valid JSON")
	}
	for i, h := range c.Headers {
		if h.Key == "" {
			return fmt.Errorf("headers[%d].key: must not be empty", i)
		}
	}
	if _, err := parseJSONPath(c.JSONPath); err != nil {
		return err
	}
	return validateAuth(c.Authentication)
}

func validateAuth(a v1alpha1.Authentication) error {
	if a.BasicAuth != (v1alpha1.BasicAuthConfig{}) {
		return errors.New("authentication.basicAuth: not supported by the web provider (Argo's web provider ignores it); use headers or oauth2")
	}
	if a.Sigv4 != (v1alpha1.Sigv4Config{}) {
		return errors.New("authentication.sigv4: not supported by the web provider")
	}
	o := a.OAuth2
	if o.TokenURL == "" {
		if o.ClientID != "" || o.ClientSecret != "" || len(o.Scopes) > 0 {
			return errors.New("authentication.oauth2.tokenUrl: must be set when clientId, clientSecret or scopes are")
		}
		return nil
	}
	if o.ClientID == "" || o.ClientSecret == "" {
		return errors.New("missing mandatory parameter in metric for OAuth2 setup (authentication.oauth2: clientId and clientSecret are required with tokenUrl)")
	}
	return nil
}

// method returns the request method (GET when unset).
func method(c Config) string {
	if c.Method == "" {
		return MethodGet
	}
	return c.Method
}

// timeout returns the request timeout (Argo: 0 or negative is 10 seconds).
func timeout(c Config) time.Duration {
	if c.TimeoutSeconds <= 0 {
		return DefaultTimeout
	}
	return time.Duration(c.TimeoutSeconds) * time.Second
}

// parseJSONPath compiles the JSONPath template ("" = DefaultJSONPath).
func parseJSONPath(expr string) (*jsonpath.JSONPath, error) {
	if expr == "" {
		expr = DefaultJSONPath
	}
	jp := jsonpath.New("metrics")
	if err := jp.Parse(expr); err != nil {
		return nil, fmt.Errorf("jsonPath: %q: %w", expr, err)
	}
	return jp, nil
}
