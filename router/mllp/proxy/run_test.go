package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nerve-rollouts/nerve/router/mllp/mllptest"
)

func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().String()
}

// TestRunStaticTLS runs the whole binary body: static file, plain and TLS
// listeners, metrics endpoint, and drain when the context ends.
func TestRunStaticTLS(t *testing.T) {
	dir := t.TempDir()
	stable := newBackend(t, mllptest.BackendOptions{Name: "stable"})
	cfgFile := filepath.Join(dir, "route.yaml")
	cfg := fmt.Sprintf("service: mllp-listener\nstable: [\"10.244.0.9:2575\"]\nweight: 0\n")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	am, err := ParseAddressMap("10.244.0.9:2575=" + stable.Addr())
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := writeCert(t, dir)
	plain, secure, metrics := freeAddr(t), freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, RunOptions{Listen: plain, TLSListen: secure, TLSCert: certFile, TLSKey: keyFile,
			MetricsAddr: metrics, ConfigFile: cfgFile, AddressMap: am, DrainTimeout: 2 * time.Second,
			Logger: slog.New(slog.DiscardHandler)})
	}()
	var c *mllptest.Client
	waitFor(t, func() bool {
		c, err = mllptest.Dial(secure, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // self-signed test cert
		return err == nil
	}, "TLS listener not up (%d)", func() int64 { return 0 })
	defer func() { _ = c.Close() }()
	if _, code, err := c.Send(msgFor("T1", "F", "ADT^A01", "P1")); err != nil || code != "AA" {
		t.Fatalf("TLS send: %v %s", err, code)
	}
	pc := dial(t, plain)
	if _, _, err := pc.Send(msgFor("T2", "F", "ADT^A01", "P1")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || stable.Count() != 2 {
		t.Fatalf("metrics status %d, stable %d", resp.StatusCode, stable.Count())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
