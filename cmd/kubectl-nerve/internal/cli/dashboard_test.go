package cli

import "testing"

func TestDashboardRefusesNonLoopbackWithoutTLS(t *testing.T) {
	for _, tc := range []struct {
		addr, cert, key string
		ok              bool
	}{
		{"127.0.0.1:3100", "", "", true},
		{"localhost:0", "", "", true},
		{"[::1]:3100", "", "", true},
		{"0.0.0.0:3100", "", "", false},
		{"10.0.0.5:3100", "", "", false},
		{"0.0.0.0:3100", "c.pem", "k.pem", true},
		{"127.0.0.1:3100", "c.pem", "", false},
		{"no-port", "", "", false},
	} {
		o := &DashboardOptions{Address: tc.addr, TLSCert: tc.cert, TLSKey: tc.key}
		if err := o.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s cert=%q key=%q: err %v, want ok=%v", tc.addr, tc.cert, tc.key, err, tc.ok)
		}
	}
}
