package dashboard

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// CookieName is the session cookie.
const CookieName = "nerve_dashboard"

// csrfField is the form field (and csrfHeader the header) that carries the CSRF token.
const (
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
)

// auth holds the secrets of one server start: the token of the printed URL and the key that
// signs session cookies and derives their CSRF tokens (so no session table is kept).
type auth struct {
	token  string
	key    []byte
	secure bool
	hosts  map[string]bool // allowed Host headers; nil: any
}

// newAuth draws a fresh token and key. hosts are the Host headers the server answers to (nil:
// any, for a TLS server bound to every interface); secure marks the cookie Secure (TLS).
func newAuth(hosts []string, secure bool) (*auth, error) {
	token, err := randomString(32)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	a := &auth{token: token, key: key, secure: secure}
	if hosts != nil {
		a.hosts = map[string]bool{}
		for _, h := range hosts {
			a.hosts[strings.ToLower(h)] = true
		}
	}
	return a, nil
}

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// LoopbackHosts are the Host headers a server listening on the loopback address addr answers
// to: 127.0.0.1, localhost and [::1] with addr's port.
func LoopbackHosts(addr string) []string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return []string{addr}
	}
	return []string{net.JoinHostPort("127.0.0.1", port), net.JoinHostPort("localhost", port), net.JoinHostPort("::1", port)}
}

func (a *auth) mac(purpose, sid string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(purpose + ":" + sid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newSession returns a cookie value: a random session id and its signature.
func (a *auth) newSession() (string, error) {
	sid, err := randomString(16)
	if err != nil {
		return "", err
	}
	return sid + "." + a.mac("session", sid), nil
}

// session returns the session id of r's cookie when the signature holds.
func (a *auth) session(r *http.Request) (string, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return "", false
	}
	sid, sig, ok := strings.Cut(c.Value, ".")
	if !ok || sid == "" {
		return "", false
	}
	return sid, hmac.Equal([]byte(sig), []byte(a.mac("session", sid)))
}

// csrf is the CSRF token of session sid.
func (a *auth) csrf(sid string) string { return a.mac("csrf", sid) }

// checkCSRF reports whether r carries sid's CSRF token (form field or header), compared in
// constant time.
func (a *auth) checkCSRF(r *http.Request, sid string) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	return got != "" && hmac.Equal([]byte(got), []byte(a.csrf(sid)))
}

// sameOrigin reports whether a state-changing request comes from the dashboard's own pages:
// its Origin (or, without one, its Referer) names the host it was sent to, and Sec-Fetch-Site,
// when the browser sends it, says same-origin.
func sameOrigin(r *http.Request, scheme string) bool {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		ref, err := url.Parse(r.Header.Get("Referer"))
		if err != nil || ref.Host == "" {
			return false
		}
		origin = ref.Scheme + "://" + ref.Host
	}
	return strings.EqualFold(origin, scheme+"://"+r.Host)
}

// tokenOK compares a URL token with the start's token in constant time.
func (a *auth) tokenOK(tok string) bool { return hmac.Equal([]byte(tok), []byte(a.token)) }

// hostOK reports whether r's Host header names the server.
func (a *auth) hostOK(r *http.Request) bool {
	return a.hosts == nil || a.hosts[strings.ToLower(r.Host)]
}

// middleware wraps next with the security headers, the Host check, the token exchange, the
// session check and, for every method but GET and HEAD, the Origin and CSRF checks.
func (a *auth) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		if !a.hostOK(r) {
			http.Error(w, "unexpected Host header", http.StatusMisdirectedRequest)
			return
		}
		if tok := r.URL.Query().Get("token"); tok != "" {
			a.exchange(w, r, tok)
			return
		}
		sid, ok := a.session(r)
		if !ok {
			http.Error(w, "not signed in: open the URL `kubectl nerve dashboard` printed (it carries a token)", http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !sameOrigin(r, a.scheme()) {
				http.Error(w, "cross-origin request refused", http.StatusForbidden)
				return
			}
			if !a.checkCSRF(r, sid) {
				http.Error(w, "missing or bad CSRF token", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(withSession(r.Context(), sid)))
	})
}

func (a *auth) scheme() string {
	if a.secure {
		return "https"
	}
	return "http"
}

// exchange trades a valid URL token for a session cookie and redirects to the same URL without
// the token (so it leaves the address bar and the history).
func (a *auth) exchange(w http.ResponseWriter, r *http.Request, tok string) {
	if r.Method != http.MethodGet || !a.tokenOK(tok) {
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	}
	value, err := a.newSession()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: value, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: a.secure})
	u := *r.URL
	q := u.Query()
	q.Del("token")
	u.RawQuery = q.Encode()
	u.Scheme, u.Host = "", ""
	http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
}

// securityHeaders forbid framing, inline scripts, sniffing, caching and cross-origin referrers.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// same-origin, not no-referrer: with no-referrer a form POST carries "Origin: null".
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

type sessionKey struct{}

func withSession(ctx context.Context, sid string) context.Context {
	return context.WithValue(ctx, sessionKey{}, sid)
}

// sessionOf returns the session id the middleware put into ctx.
func sessionOf(ctx context.Context) string {
	sid, _ := ctx.Value(sessionKey{}).(string)
	return sid
}
