// Package mllpmsg is the demo's small HL7 v2 / MLLP toolkit: MLLP framing
// (read and write), synthetic HL7 messages, ACK building and the few field
// reads the demo needs (MSH-4, MSH-10, PID-3, MSA-1, MSA-2). It is
// deliberately tiny and independent of nerve's proxy codec, so the demo's
// listeners and senders check the proxy from the outside.
package mllpmsg

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// MLLP framing bytes.
const (
	StartBlock = 0x0b
	EndBlock   = 0x1c
	CR         = 0x0d
)

// MaxFrame caps one frame read by ReadFrame.
const MaxFrame = 1 << 20

// WriteFrame writes msg as one MLLP frame.
func WriteFrame(w io.Writer, msg []byte) error {
	buf := make([]byte, 0, len(msg)+3)
	buf = append(buf, StartBlock)
	buf = append(buf, msg...)
	buf = append(buf, EndBlock, CR)
	_, err := w.Write(buf)
	return err
}

// ReadFrame reads the next MLLP frame's payload, skipping bytes outside frames.
func ReadFrame(r *bufio.Reader) ([]byte, error) {
	for {
		b, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		if b == StartBlock {
			break
		}
	}
	var out []byte
	for {
		chunk, err := r.ReadSlice(EndBlock)
		out = append(out, chunk...)
		if len(out) > MaxFrame {
			return nil, fmt.Errorf("mllp frame larger than %d bytes", MaxFrame)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	out = out[:len(out)-1]
	if next, err := r.Peek(1); err == nil && next[0] == CR {
		_, _ = r.ReadByte()
	}
	return out, nil
}

// Segments splits an HL7 message into segments (CR, LF or CRLF ends).
func Segments(msg []byte) []string {
	s := strings.ReplaceAll(string(msg), "\r\n", "\r")
	s = strings.ReplaceAll(s, "\n", "\r")
	var out []string
	for _, seg := range strings.Split(s, "\r") {
		if seg != "" {
			out = append(out, seg)
		}
	}
	return out
}

// Field returns field n (HL7 numbering) of the first segment named seg, or "".
// For MSH, field 1 is the field separator itself, as HL7 counts.
func Field(msg []byte, seg string, n int) string {
	for _, s := range Segments(msg) {
		if len(s) < 4 || s[:3] != seg {
			continue
		}
		sep := string(s[3])
		parts := strings.Split(s, sep)
		idx := n
		if seg == "MSH" {
			if n == 1 {
				return sep
			}
			idx = n - 1
		}
		if idx < len(parts) {
			return parts[idx]
		}
		return ""
	}
	return ""
}

// FirstComponent returns the first component (before '^') of a field.
func FirstComponent(field string) string {
	if i := strings.IndexByte(field, '^'); i >= 0 {
		return field[:i]
	}
	return field
}

// Key hashes an identifier (a message control id or a patient id) to a short
// opaque key that logs can carry instead of the identifier itself.
func Key(id string) string {
	sum := sha256.Sum256([]byte("nerve-demo:" + id))
	return hex.EncodeToString(sum[:8])
}

// Message is one synthetic HL7 v2 message the demo's senders send.
type Message struct {
	SendingFacility string
	ControlID       string
	PatientID       string
	Type            string // e.g. "ADT^A01"
	Time            time.Time
}

// Bytes renders the message (segments ended by CR).
func (m Message) Bytes() []byte {
	ts := m.Time.UTC().Format("20060102150405")
	event := m.Type
	if i := strings.IndexByte(event, '^'); i >= 0 {
		event = event[i+1:]
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "MSH|^~\\&|NERVE-DEMO|%s|MLLP-LISTENER|NERVE|%s||%s|%s|P|2.5.1\r", m.SendingFacility, ts, m.Type, m.ControlID)
	fmt.Fprintf(&b, "EVN|%s|%s\r", event, ts)
	fmt.Fprintf(&b, "PID|1||%s^^^NERVE-DEMO^MR||SYNTHETIC^PATIENT||19700101|U\r", m.PatientID)
	fmt.Fprintf(&b, "PV1|1|I|DEMO^1^1\r")
	if strings.HasPrefix(m.Type, "ORU") {
		fmt.Fprintf(&b, "OBR|1|||DEMO^Synthetic panel\rOBX|1|NM|DEMO^Synthetic value||42|1|||||F\r")
	}
	return b.Bytes()
}

// Ack builds the ACK for msg with the given code (AA, AE, AR): MSA-2 echoes MSH-10.
func Ack(msg []byte, code string, now time.Time) []byte {
	ts := now.UTC().Format("20060102150405")
	id := Field(msg, "MSH", 10)
	trigger := ""
	if t := strings.Split(Field(msg, "MSH", 9), "^"); len(t) > 1 {
		trigger = t[1]
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "MSH|^~\\&|%s|%s|%s|%s|%s||ACK^%s^ACK|ACK%s|P|2.5.1\r",
		Field(msg, "MSH", 5), Field(msg, "MSH", 6), Field(msg, "MSH", 3), Field(msg, "MSH", 4), ts, trigger, id)
	fmt.Fprintf(&b, "MSA|%s|%s\r", code, id)
	return b.Bytes()
}
