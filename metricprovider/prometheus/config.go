package prometheus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/nerve-rollouts/nerve/api/v1alpha1"
)

// DefaultName is the plugin name (config key) the provider answers to by default.
const DefaultName = "nerve/prometheus"

// EnvAddress is Argo's fallback for an empty address.
const EnvAddress = "ARGO_ROLLOUTS_PROMETHEUS_ADDRESS"

// DefaultTimeout is Argo's default query timeout.
const DefaultTimeout = 30 * time.Second

// ResultPolicy says what an empty or NaN result turns into.
type ResultPolicy string

// Result policies. PolicyConditions (the empty string) is Argo's behaviour: the conditions decide.
const (
	PolicyConditions   ResultPolicy = ""
	PolicyInconclusive ResultPolicy = "inconclusive"
	PolicyFailed       ResultPolicy = "failed"
	PolicyError        ResultPolicy = "error"
)

// Phase returns the measurement phase the policy forces; ok is false for PolicyConditions.
func (p ResultPolicy) Phase() (phase v1alpha1.AnalysisPhase, ok bool) {
	switch p {
	case PolicyInconclusive:
		return v1alpha1.AnalysisPhaseInconclusive, true
	case PolicyFailed:
		return v1alpha1.AnalysisPhaseFailed, true
	case PolicyError:
		return v1alpha1.AnalysisPhaseError, true
	}
	return "", false
}

func (p ResultPolicy) validate(field string) error {
	switch p {
	case PolicyConditions, PolicyInconclusive, PolicyFailed, PolicyError:
		return nil
	}
	return fmt.Errorf("%s: %q is not one of inconclusive, failed, error", field, string(p))
}

// Config is the provider's config: Argo's provider.prometheus shape plus nerve's extras (see the
// package documentation for every field).
type Config struct {
	Address        string         `json:"address,omitempty"`
	Query          string         `json:"query,omitempty"`
	Timeout        *int64         `json:"timeout,omitempty"`
	Insecure       bool           `json:"insecure,omitempty"`
	Headers        []Header       `json:"headers,omitempty"`
	Authentication Authentication `json:"authentication,omitempty"`
	RangeQuery     *RangeQuery    `json:"rangeQuery,omitempty"`
	EmptyResult    ResultPolicy   `json:"emptyResult,omitempty"`
	NaNResult      ResultPolicy   `json:"nanResult,omitempty"`
}

// Header is one extra HTTP header; the value comes from exactly one of value, valueFile, valueEnv.
type Header struct {
	Key       string `json:"key"`
	Value     string `json:"value,omitempty"`
	ValueFile string `json:"valueFile,omitempty"`
	ValueEnv  string `json:"valueEnv,omitempty"`
}

// Authentication holds at most one authentication method.
type Authentication struct {
	BasicAuth BasicAuth `json:"basicAuth,omitempty"`
	OAuth2    OAuth2    `json:"oauth2,omitempty"`
	Bearer    Bearer    `json:"bearer,omitempty"`
	Sigv4     Sigv4     `json:"sigv4,omitempty"`
}

// BasicAuth is HTTP basic authentication.
type BasicAuth struct {
	Username     string `json:"username,omitempty"`
	UsernameFile string `json:"usernameFile,omitempty"`
	UsernameEnv  string `json:"usernameEnv,omitempty"`
	Password     string `json:"password,omitempty"`
	PasswordFile string `json:"passwordFile,omitempty"`
	PasswordEnv  string `json:"passwordEnv,omitempty"`
}

func (b BasicAuth) set() bool {
	return b.Username != "" || b.UsernameFile != "" || b.UsernameEnv != "" ||
		b.Password != "" || b.PasswordFile != "" || b.PasswordEnv != ""
}

// OAuth2 is the OAuth2 client-credentials flow.
type OAuth2 struct {
	TokenURL         string   `json:"tokenUrl,omitempty"`
	ClientID         string   `json:"clientId,omitempty"`
	ClientSecret     string   `json:"clientSecret,omitempty"`
	ClientSecretFile string   `json:"clientSecretFile,omitempty"`
	ClientSecretEnv  string   `json:"clientSecretEnv,omitempty"`
	Scopes           []string `json:"scopes,omitempty"`
}

func (o OAuth2) set() bool {
	return o.TokenURL != "" || o.ClientID != "" || o.ClientSecret != "" ||
		o.ClientSecretFile != "" || o.ClientSecretEnv != "" || len(o.Scopes) > 0
}

// Bearer is a static bearer token (nerve only).
type Bearer struct {
	Token     string `json:"token,omitempty"`
	TokenFile string `json:"tokenFile,omitempty"`
	TokenEnv  string `json:"tokenEnv,omitempty"`
}

func (b Bearer) set() bool { return b.Token != "" || b.TokenFile != "" || b.TokenEnv != "" }

// Sigv4 is Argo's AWS SigV4 block; nerve rejects it when set.
type Sigv4 struct {
	Region  string `json:"region,omitempty"`
	Profile string `json:"profile,omitempty"`
	RoleARN string `json:"roleArn,omitempty"`
}

// RangeQuery turns the query into a range query.
type RangeQuery struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
	Step  string `json:"step,omitempty"`
}

// ParseConfig reads and validates the config of metric m for the plugin called name.
func ParseConfig(name string, m v1alpha1.Metric) (Config, error) {
	raw, source, err := m.Provider.PluginConfig(m.Name, name, "prometheus")
	if err != nil {
		return Config{}, err
	}
	cfg, err := decodeConfig(raw)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", source, err)
	}
	if err := cfg.validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", source, err)
	}
	return cfg, nil
}

func decodeConfig(raw []byte) (Config, error) {
	var cfg Config
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return cfg, errors.New("config is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("invalid config: %w", err)
	}
	return cfg, nil
}

func (c Config) validate() error {
	if strings.TrimSpace(c.Query) == "" {
		return errors.New("query: must not be empty")
	}
	if c.Timeout != nil && *c.Timeout < 0 {
		return fmt.Errorf("timeout: %d must not be negative (seconds)", *c.Timeout)
	}
	if c.Address != "" && !isURL(c.Address) {
		return fmt.Errorf("address: %q is not a URL (want http(s)://host:port)", c.Address)
	}
	if err := c.EmptyResult.validate("emptyResult"); err != nil {
		return err
	}
	if err := c.NaNResult.validate("nanResult"); err != nil {
		return err
	}
	if err := c.validateHeaders(); err != nil {
		return err
	}
	if err := c.validateRange(); err != nil {
		return err
	}
	return c.Authentication.validate()
}

func (c Config) validateHeaders() error {
	for i, h := range c.Headers {
		if strings.TrimSpace(h.Key) == "" {
			return fmt.Errorf("headers[%d].key: must not be empty", i)
		}
		if n := countSet(h.Value, h.ValueFile, h.ValueEnv); n > 1 {
			return fmt.Errorf("headers[%d]: set only one of value, valueFile, valueEnv", i)
		}
	}
	return nil
}

func (c Config) validateRange() error {
	if c.RangeQuery == nil {
		return nil
	}
	if c.RangeQuery.Start == "" || c.RangeQuery.End == "" {
		return errors.New("rangeQuery: start and end are required")
	}
	d, err := time.ParseDuration(c.RangeQuery.Step)
	if err != nil {
		return fmt.Errorf("rangeQuery.step: %w", err)
	}
	if d <= 0 {
		return fmt.Errorf("rangeQuery.step: %s must be positive", c.RangeQuery.Step)
	}
	return nil
}

func (a Authentication) validate() error {
	if a.Sigv4 != (Sigv4{}) {
		return errors.New("authentication.sigv4: AWS SigV4 signing is not supported by nerve-prometheus")
	}
	if countTrue(a.BasicAuth.set(), a.OAuth2.set(), a.Bearer.set()) > 1 {
		return errors.New("authentication: set only one of basicAuth, oauth2, bearer")
	}
	b := a.BasicAuth
	if countSet(b.Username, b.UsernameFile, b.UsernameEnv) > 1 {
		return errors.New("authentication.basicAuth: set only one of username, usernameFile, usernameEnv")
	}
	if countSet(b.Password, b.PasswordFile, b.PasswordEnv) > 1 {
		return errors.New("authentication.basicAuth: set only one of password, passwordFile, passwordEnv")
	}
	o := a.OAuth2
	if o.set() && (o.TokenURL == "" || o.ClientID == "") {
		return errors.New("authentication.oauth2: tokenUrl and clientId are required")
	}
	if o.set() && countSet(o.ClientSecret, o.ClientSecretFile, o.ClientSecretEnv) != 1 {
		return errors.New("authentication.oauth2: set exactly one of clientSecret, clientSecretFile, clientSecretEnv")
	}
	if o.TokenURL != "" && !isURL(o.TokenURL) {
		return fmt.Errorf("authentication.oauth2.tokenUrl: %q is not a URL", o.TokenURL)
	}
	if countSet(a.Bearer.Token, a.Bearer.TokenFile, a.Bearer.TokenEnv) > 1 {
		return errors.New("authentication.bearer: set only one of token, tokenFile, tokenEnv")
	}
	return nil
}

// timeout returns the query timeout (0 and unset mean DefaultTimeout).
func (c Config) timeout() time.Duration {
	if c.Timeout == nil || *c.Timeout == 0 {
		return DefaultTimeout
	}
	return time.Duration(*c.Timeout) * time.Second
}

func isURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func countSet(vals ...string) int {
	n := 0
	for _, v := range vals {
		if v != "" {
			n++
		}
	}
	return n
}

func countTrue(vals ...bool) int {
	n := 0
	for _, v := range vals {
		if v {
			n++
		}
	}
	return n
}
