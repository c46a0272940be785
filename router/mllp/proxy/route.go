package proxy

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/nerve-rollouts/nerve/router/mllp/api"
	"github.com/nerve-rollouts/nerve/router/mllp/codec"
)

// RouteConfig is the source-independent desired routing, built from a static
// file or from an MLLPRoute plus EndpointSlices.
type RouteConfig struct {
	Generation int64
	Service    string
	Weight     int32
	MaxWeight  int32
	StickyKey  api.StickyKey
	Matches    []api.Match
	// Stable and Canary are dialable addresses (host:port, after the address map).
	Stable, Canary []string
	Mirror         *MirrorConfig
	// Problems are reasons the replica is not Ready (never PHI).
	Problems []string
}

// MirrorConfig copies Percentage % of messages to Targets. Shadow must be
// true (the target is flagged no-commit) or the mirror is refused.
type MirrorConfig struct {
	Percentage int32
	Targets    []string
	Shadow     bool
}

// backendSet is one backend's endpoint addresses.
type backendSet struct {
	addrs []string
}

func (b *backendSet) has(addr string) bool { return slices.Contains(b.addrs, addr) }

// routeState is the compiled, immutable routing snapshot.
type routeState struct {
	cfg       RouteConfig
	threshold uint32
	needPID   bool
	matches   []matcher
	sets      [2]*backendSet // idxStable, idxCanary
	mirror    *backendSet
	mirrorPct uint64
	m         *svcMetrics
	problems  []string
}

// compile validates cfg and builds a snapshot. Invalid match rules or a
// non-shadow mirror are refused: they are left out and reported as problems.
func compile(cfg RouteConfig, m *Metrics) (*routeState, error) {
	if cfg.Service == "" {
		return nil, fmt.Errorf("route has no service name")
	}
	if cfg.StickyKey == "" {
		cfg.StickyKey = api.StickyPID3
	}
	rs := &routeState{
		cfg:       cfg,
		threshold: api.WeightThreshold(cfg.Weight, cfg.MaxWeight),
		needPID:   cfg.StickyKey == api.StickyPID3,
		sets:      [2]*backendSet{{addrs: cfg.Stable}, {addrs: cfg.Canary}},
		m:         m.forService(cfg.Service),
		problems:  append([]string(nil), cfg.Problems...),
	}
	for i, mt := range cfg.Matches {
		c, err := compileMatch(mt)
		if err != nil {
			rs.problems = append(rs.problems, fmt.Sprintf("match %d refused: %v", i, err))
			continue
		}
		rs.matches = append(rs.matches, c)
	}
	rs.compileMirror(cfg.Mirror)
	return rs, nil
}

func (rs *routeState) compileMirror(mc *MirrorConfig) {
	switch {
	case mc == nil || mc.Percentage <= 0:
	case !mc.Shadow:
		rs.problems = append(rs.problems, "mirror refused: target is not flagged shadow")
	case len(mc.Targets) == 0:
		rs.problems = append(rs.problems, "mirror target has no endpoints")
	default:
		rs.mirror = &backendSet{addrs: mc.Targets}
		rs.mirrorPct = uint64(min(mc.Percentage, 100))
	}
}

// ready reports whether the snapshot applies the desired route fully.
func (rs *routeState) ready() bool { return len(rs.problems) == 0 && len(rs.cfg.Stable) > 0 }

// keyHash returns the FNV-1a state of the message's sticky key.
func (rs *routeState) keyHash(h *codec.Header, connHash uint64) uint64 {
	switch rs.cfg.StickyKey {
	case api.StickyConnection:
		return connHash
	case api.StickyMessage:
		return hashAdd(fnvOffset, h.ControlID)
	case api.StickyPID3:
		if h.HasPID {
			return hashAdd(hashByte(hashAdd(fnvOffset, h.PatientID), 0), h.PatientIDAuth)
		}
	}
	return hashAdd(hashByte(hashAdd(fnvOffset, h.SendingFacility), 0), h.SendingApp)
}

// pick returns idxStable or idxCanary, and the key hash for the mirror draw.
func (rs *routeState) pick(h *codec.Header, connHash uint64) (int, uint64) {
	kh := rs.keyHash(h, connHash)
	if len(rs.cfg.Canary) == 0 {
		return idxStable, kh
	}
	for i := range rs.matches {
		if rs.matches[i].match(h) {
			return idxCanary, kh
		}
	}
	if rs.threshold > 0 && bucket(kh, api.Buckets) < rs.threshold {
		return idxCanary, kh
	}
	return idxStable, kh
}

// mirrored draws whether a message with key hash kh is mirrored.
func (rs *routeState) mirrored(kh uint64) bool {
	return rs.mirror != nil && fmix64(kh^mirrorSalt)%100 < rs.mirrorPct
}

// matcher is a compiled api.Match.
type matcher struct {
	field  api.MatchField
	exact  []byte
	prefix []byte
	re     *regexp.Regexp
}

func compileMatch(m api.Match) (matcher, error) {
	c := matcher{field: m.Field}
	if m.Field != api.FieldMSH4 && m.Field != api.FieldMSH9 {
		return c, fmt.Errorf("field %q must be MSH-4 or MSH-9", m.Field)
	}
	switch {
	case m.Exact != "":
		c.exact = []byte(m.Exact)
	case m.Prefix != "":
		c.prefix = []byte(m.Prefix)
	case m.Regex != "":
		re, err := regexp.Compile(m.Regex)
		if err != nil {
			return c, fmt.Errorf("regex: %w", err)
		}
		c.re = re
	default:
		return c, fmt.Errorf("one of exact, prefix, regex is required")
	}
	return c, nil
}

// match tests the whole field and its short form: HD.1 of MSH-4, or the first
// two components of MSH-9 joined by '^' (so "ADT^A01" matches ADT^A01^ADT_A01).
func (c *matcher) match(h *codec.Header) bool {
	var full, short []byte
	var buf [64]byte
	if c.field == api.FieldMSH4 {
		full, short = h.SendingFacility, h.FacilityHD1()
	} else {
		full, short = h.MessageType, msh9Short(h.MessageType, h.ComponentSep, buf[:0])
	}
	return c.test(full) || c.test(short)
}

func (c *matcher) test(v []byte) bool {
	switch {
	case c.exact != nil:
		return bytes.Equal(v, c.exact)
	case c.prefix != nil:
		return bytes.HasPrefix(v, c.prefix)
	default:
		return c.re.Match(v)
	}
}

// msh9Short returns "TYPE^EVENT" of an MSH-9 value, normalising the component separator.
func msh9Short(v []byte, sep byte, buf []byte) []byte {
	first := bytes.IndexByte(v, sep)
	if first < 0 {
		return v
	}
	end := len(v)
	if second := bytes.IndexByte(v[first+1:], sep); second >= 0 {
		end = first + 1 + second
	}
	if sep == '^' {
		return v[:end]
	}
	buf = append(buf, v[:end]...)
	buf[first] = '^'
	return buf
}

// describe summarises a route for logs (no PHI; facility strings excluded).
func (rs *routeState) describe() string {
	return fmt.Sprintf("service=%s generation=%d weight=%d/%d key=%s stable=%d canary=%d matches=%d mirror=%v problems=[%s]",
		rs.cfg.Service, rs.cfg.Generation, rs.cfg.Weight, maxWeight(rs.cfg.MaxWeight), rs.cfg.StickyKey,
		len(rs.cfg.Stable), len(rs.cfg.Canary), len(rs.matches), rs.mirror != nil, strings.Join(rs.problems, "; "))
}

func maxWeight(w int32) int32 {
	if w <= 0 {
		return api.DefaultMaxWeight
	}
	return w
}
