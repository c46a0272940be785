package launcher

import (
	"fmt"
	"net"
	"strings"
)

// PortPlan gives every pod IP of the fake nodes' pod CIDR a fixed 127.0.0.1
// port, so the proxy's address map can be written once, before any pod
// exists (nerve-mllp-proxy reads its --address-map file at start). Pod IPs
// are unique in the cluster, so two launchers (the demo and an e2e run) never
// pick the same port. The plan covers Prefix.0.0 – Prefix.(Blocks-1).255.
type PortPlan struct {
	// Prefix is the first two octets of the pod CIDR, e.g. "10.244".
	Prefix string
	// Base is the port of Prefix.0.0.
	Base int
	// Blocks is the number of /24 blocks covered (default 8).
	Blocks int
}

func (p PortPlan) blocks() int {
	if p.Blocks <= 0 {
		return 8
	}
	return p.Blocks
}

// Port returns the planned port of a pod IP.
func (p PortPlan) Port(ip string) (int, error) {
	v4 := net.ParseIP(ip).To4()
	if v4 == nil || fmt.Sprintf("%d.%d", v4[0], v4[1]) != p.Prefix {
		return 0, fmt.Errorf("pod IP %s is outside %s.0.0/16", ip, p.Prefix)
	}
	if int(v4[2]) >= p.blocks() {
		return 0, fmt.Errorf("pod IP %s is beyond the %d /24 blocks the port plan covers", ip, p.blocks())
	}
	return p.Base + int(v4[2])*256 + int(v4[3]), nil
}

// WriteAddressMap writes the whole plan in nerve-mllp-proxy's address map
// format ("<pod IP>=127.0.0.1:<port>", one per line), atomically.
func (p PortPlan) WriteAddressMap(path string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# nerve demo port plan: pod IP %s.c.d -> 127.0.0.1:%d+c*256+d\n", p.Prefix, p.Base)
	for c := range p.blocks() {
		for d := range 256 {
			fmt.Fprintf(&b, "%s.%d.%d=127.0.0.1:%d\n", p.Prefix, c, d, p.Base+c*256+d)
		}
	}
	return writeFileAtomic(path, []byte(b.String()))
}
