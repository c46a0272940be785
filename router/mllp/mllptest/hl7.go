package mllptest

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/nerve-rollouts/nerve/router/mllp/codec"
)

// Frame wraps a payload in MLLP framing (<SB> payload <EB><CR>).
func Frame(payload []byte) []byte {
	return append(append(append(make([]byte, 0, len(payload)+3), codec.SB), payload...), codec.EB, codec.CR)
}

// Key hashes an identifier (a message control id or a patient id) to a short
// opaque key that logs and records carry instead of the identifier itself.
func Key(id string) string {
	sum := sha256.Sum256([]byte("nerve-demo:" + id))
	return hex.EncodeToString(sum[:8])
}

// AppendACK appends one framed original-mode ACK for the message with header
// h: sending and receiving application/facility swapped, MSA-1 = code,
// MSA-2 = controlID, MSH-10 = "A<ackSeq>".
func AppendACK(out []byte, h codec.Header, controlID []byte, code string, ackSeq uint64) []byte {
	out = append(out, codec.SB)
	out = append(out, "MSH|^~\\&|RECV|HOSP|"...)
	out = append(out, h.SendingApp...)
	out = append(out, '|')
	out = append(out, h.SendingFacility...)
	out = append(out, "|20260101000000||ACK|A"...)
	out = strconv.AppendUint(out, ackSeq, 10)
	out = append(out, "|P|2.5\rMSA|"...)
	out = append(out, code...)
	out = append(out, '|')
	out = append(out, controlID...)
	return append(out, '\r', codec.EB, codec.CR)
}
