package proxy

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// AddressMap rewrites endpoint addresses (pod IP or IP:port) to dialable
// ones, e.g. 10.244.0.5:2575=127.0.0.1:41001. When a map is configured,
// endpoints without an entry are left out (never dialled): tests and the
// demo only ever dial 127.0.0.1. An empty map passes addresses through.
type AddressMap map[string]string

// ParseAddressMap parses "from=to" pairs separated by commas, spaces or
// newlines; '#' starts a comment. from is IP or IP:port; to is host:port.
func ParseAddressMap(text string) (AddressMap, error) {
	m := AddressMap{}
	for _, line := range strings.Split(text, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		for _, pair := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			from, to, ok := strings.Cut(pair, "=")
			if !ok || from == "" {
				return nil, fmt.Errorf("address map entry %q: want from=to", pair)
			}
			if _, _, err := net.SplitHostPort(to); err != nil {
				return nil, fmt.Errorf("address map entry %q: target must be host:port", pair)
			}
			m[strings.TrimSpace(from)] = strings.TrimSpace(to)
		}
	}
	return m, nil
}

// LoadAddressMap reads a file in ParseAddressMap's format.
func LoadAddressMap(path string) (AddressMap, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("address map: %w", err)
	}
	return ParseAddressMap(string(b))
}

// Merge returns m with other's entries added (other wins).
func (m AddressMap) Merge(other AddressMap) AddressMap {
	out := AddressMap{}
	for k, v := range m {
		out[k] = v
	}
	for k, v := range other {
		out[k] = v
	}
	return out
}

// Resolve maps ip:port; ok is false when a map is set and has no entry.
func (m AddressMap) Resolve(ip string, port int32) (string, bool) {
	hp := net.JoinHostPort(ip, strconv.Itoa(int(port)))
	if len(m) == 0 {
		return hp, true
	}
	if to, ok := m[hp]; ok {
		return to, true
	}
	to, ok := m[ip]
	return to, ok
}

// ResolveAddr maps a host:port string (static mode).
func (m AddressMap) ResolveAddr(addr string) (string, bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", false
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return "", false
	}
	if len(m) == 0 {
		return addr, true
	}
	return m.Resolve(host, int32(p))
}
