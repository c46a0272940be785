package prometheus

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Env reads secrets from the process environment and files; tests replace it.
type Env struct {
	// LookupEnv is os.LookupEnv by default.
	LookupEnv func(string) (string, bool)
	// ReadFile is os.ReadFile by default.
	ReadFile func(string) ([]byte, error)
}

func (e Env) withDefaults() Env {
	if e.LookupEnv == nil {
		e.LookupEnv = os.LookupEnv
	}
	if e.ReadFile == nil {
		e.ReadFile = os.ReadFile
	}
	return e
}

// secret resolves a value given inline, as a file path or as an environment variable name (at
// most one is set; validate checked that). field names the config field for errors.
func (e Env) secret(field, inline, file, env string) (string, error) {
	switch {
	case file != "":
		b, err := e.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%sFile: %w", field, err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("%sFile: %s is empty", field, file)
		}
		return v, nil
	case env != "":
		v, ok := e.LookupEnv(env)
		if !ok || v == "" {
			return "", fmt.Errorf("%sEnv: environment variable %s is not set", field, env)
		}
		return v, nil
	}
	return inline, nil
}

func newTransport(insecure bool) *http.Transport {
	return &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: insecure}, //nolint:gosec // opt-in "insecure", as in Argo
	}
}

// headerRoundTripper sets fixed headers on every request.
type headerRoundTripper struct {
	headers http.Header
	next    http.RoundTripper
}

func (h headerRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	for k, vs := range h.headers {
		req.Header[k] = append([]string(nil), vs...)
	}
	return h.next.RoundTrip(req)
}

// buildHeaders resolves the configured headers and the basic/bearer credentials into headers.
func (e Env) buildHeaders(cfg Config) (http.Header, error) {
	h := http.Header{}
	for i, hd := range cfg.Headers {
		v, err := e.secret(fmt.Sprintf("headers[%d].value", i), hd.Value, hd.ValueFile, hd.ValueEnv)
		if err != nil {
			return nil, err
		}
		h.Set(hd.Key, v)
	}
	auth, err := e.authorization(cfg.Authentication)
	if err != nil {
		return nil, err
	}
	if auth != "" {
		h.Set("Authorization", auth)
	}
	return h, nil
}

// authorization returns the Authorization header value for basic or bearer auth ("" for none).
func (e Env) authorization(a Authentication) (string, error) {
	if a.Bearer.set() {
		tok, err := e.secret("authentication.bearer.token", a.Bearer.Token, a.Bearer.TokenFile, a.Bearer.TokenEnv)
		if err != nil {
			return "", err
		}
		if tok == "" {
			return "", fmt.Errorf("authentication.bearer.token: must not be empty")
		}
		return "Bearer " + tok, nil
	}
	if !a.BasicAuth.set() {
		return "", nil
	}
	b := a.BasicAuth
	user, err := e.secret("authentication.basicAuth.username", b.Username, b.UsernameFile, b.UsernameEnv)
	if err != nil {
		return "", err
	}
	pass, err := e.secret("authentication.basicAuth.password", b.Password, b.PasswordFile, b.PasswordEnv)
	if err != nil {
		return "", err
	}
	if user == "" {
		return "", fmt.Errorf("authentication.basicAuth.username: missing (basic auth needs username and password)")
	}
	if pass == "" {
		return "", fmt.Errorf("authentication.basicAuth.password: missing (basic auth needs username and password)")
	}
	req := http.Request{Header: http.Header{}}
	req.SetBasicAuth(user, pass)
	return req.Header.Get("Authorization"), nil
}

// httpClient builds the HTTP client of one measurement on top of the shared transport base.
// ctx bounds the OAuth2 token request.
func (e Env) httpClient(ctx context.Context, cfg Config, base http.RoundTripper) (*http.Client, error) {
	headers, err := e.buildHeaders(cfg)
	if err != nil {
		return nil, err
	}
	var rt = base
	if len(headers) > 0 {
		rt = headerRoundTripper{headers: headers, next: base}
	}
	client := &http.Client{Transport: rt}
	if !cfg.Authentication.OAuth2.set() {
		return client, nil
	}
	o := cfg.Authentication.OAuth2
	secret, err := e.secret("authentication.oauth2.clientSecret", o.ClientSecret, o.ClientSecretFile, o.ClientSecretEnv)
	if err != nil {
		return nil, err
	}
	cc := &clientcredentials.Config{ClientID: o.ClientID, ClientSecret: secret, TokenURL: o.TokenURL, Scopes: o.Scopes}
	return cc.Client(context.WithValue(ctx, oauth2.HTTPClient, client)), nil
}

// newAPI returns a Prometheus v1 API client for address.
func newAPI(address string, client *http.Client) (promv1.API, error) {
	c, err := api.NewClient(api.Config{Address: address, Client: client})
	if err != nil {
		return nil, fmt.Errorf("address: %w", err)
	}
	return promv1.NewAPI(c), nil
}
