package codec

import (
	"bytes"
	"errors"
)

// ErrNotHL7 is returned when a payload does not start with a valid MSH segment.
var ErrNotHL7 = errors.New("hl7: payload does not start with MSH")

// ErrNoMSA is returned by ParseACK when the payload has no MSA segment.
var ErrNoMSA = errors.New("hl7: no MSA segment")

// Header holds the routing-relevant fields of one message. All slices alias
// the payload. They may carry PHI (PID3, ControlID): never log or label them.
type Header struct {
	FieldSep, ComponentSep, RepetitionSep byte
	SendingApp                            []byte // MSH-3
	SendingFacility                       []byte // MSH-4
	MessageType                           []byte // MSH-9 (whole field, components separated by ComponentSep)
	ControlID                             []byte // MSH-10
	AcceptAckType                         []byte // MSH-15
	AppAckType                            []byte // MSH-16
	PatientID                             []byte // PID-3 first repetition, CX.1
	PatientIDAuth                         []byte // PID-3 first repetition, CX.4 (assigning authority)
	HasPID                                bool
}

// Enhanced reports whether MSH-15 or MSH-16 selects enhanced acknowledgement mode.
func (h *Header) Enhanced() bool { return len(h.AcceptAckType) > 0 || len(h.AppAckType) > 0 }

// FacilityHD1 returns the first component of MSH-4 (namespace id).
func (h *Header) FacilityHD1() []byte { return component(h.SendingFacility, h.ComponentSep, 0) }

// ParseHeader extracts the MSH fields and, when withPID, the first PID-3
// repetition. It does not allocate.
func ParseHeader(p []byte, withPID bool) (Header, error) {
	var h Header
	if len(p) < 8 || p[0] != 'M' || p[1] != 'S' || p[2] != 'H' {
		return h, ErrNotHL7
	}
	h.FieldSep = p[3]
	if isSegEnd(h.FieldSep) {
		return h, ErrNotHL7
	}
	var f [17][]byte // f[i] is MSH-(i+1) for i >= 1
	seg := splitFields(p, h.FieldSep, f[:])
	enc := f[1]
	if len(enc) < 2 || h.FieldSep == enc[0] {
		return h, ErrNotHL7
	}
	h.ComponentSep, h.RepetitionSep = enc[0], enc[1]
	h.SendingApp, h.SendingFacility = f[2], f[3]
	h.MessageType, h.ControlID = f[8], f[9]
	h.AcceptAckType, h.AppAckType = f[14], f[15]
	if withPID {
		h.parsePID(p[len(seg):])
	}
	return h, nil
}

func (h *Header) parsePID(rest []byte) {
	pid := findSegment(rest, 'P', 'I', 'D', h.FieldSep)
	if pid == nil {
		return
	}
	f := field(pid, h.FieldSep, 3)
	if i := bytes.IndexByte(f, h.RepetitionSep); i >= 0 {
		f = f[:i]
	}
	h.PatientID = component(f, h.ComponentSep, 0)
	h.PatientIDAuth = component(f, h.ComponentSep, 3)
	h.HasPID = len(h.PatientID) > 0
}

// ParseACK returns MSA-1 (acknowledgement code) and MSA-2 (the acknowledged
// control id) of an ACK payload. It does not allocate.
func ParseACK(p []byte) (code, controlID []byte, err error) {
	if len(p) < 8 || p[0] != 'M' || p[1] != 'S' || p[2] != 'H' {
		return nil, nil, ErrNotHL7
	}
	sep := p[3]
	if isSegEnd(sep) {
		return nil, nil, ErrNotHL7
	}
	msa := findSegment(p, 'M', 'S', 'A', sep)
	if msa == nil {
		return nil, nil, ErrNoMSA
	}
	return field(msa, sep, 1), field(msa, sep, 2), nil
}

// splitFields splits the first segment of p into out (out[0] = segment name)
// in one pass and returns the segment.
func splitFields(p []byte, sep byte, out [][]byte) []byte {
	start, n := 0, 0
	for i, b := range p {
		switch {
		case b == sep:
			if n < len(out) {
				out[n] = p[start:i]
			}
			n++
			start = i + 1
		case b == '\r' || b == '\n':
			if n < len(out) {
				out[n] = p[start:i]
			}
			return p[:i]
		}
	}
	if n < len(out) {
		out[n] = p[start:]
	}
	return p
}

// nextSegEnd returns the index of the first CR or LF in p, or -1.
func nextSegEnd(p []byte) int {
	i := bytes.IndexByte(p, '\r')
	lim := p
	if i >= 0 {
		lim = p[:i]
	}
	if j := bytes.IndexByte(lim, '\n'); j >= 0 {
		return j
	}
	return i
}

func isSegEnd(b byte) bool { return b == '\r' || b == '\n' }

// segment returns p up to (not including) the first CR or LF.
func segment(p []byte) []byte {
	for i, b := range p {
		if isSegEnd(b) {
			return p[:i]
		}
	}
	return p
}

// findSegment returns the first segment (after the first) named a b c followed by sep.
func findSegment(p []byte, a, b, c, sep byte) []byte {
	for len(p) > 0 {
		i := nextSegEnd(p)
		if i < 0 {
			return nil
		}
		for i < len(p) && isSegEnd(p[i]) {
			i++
		}
		p = p[i:]
		if len(p) >= 4 && p[0] == a && p[1] == b && p[2] == c && p[3] == sep {
			return segment(p)
		}
	}
	return nil
}

// field returns the n-th sep-separated element of seg (0 = segment name).
func field(seg []byte, sep byte, n int) []byte {
	for ; n > 0; n-- {
		i := bytes.IndexByte(seg, sep)
		if i < 0 {
			return nil
		}
		seg = seg[i+1:]
	}
	if i := bytes.IndexByte(seg, sep); i >= 0 {
		return seg[:i]
	}
	return seg
}

// component returns the n-th component of a field (0-based).
func component(f []byte, sep byte, n int) []byte { return field(f, sep, n) }
