package codec

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

type chunkReader struct {
	data  []byte
	chunk int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), c.chunk, len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

type result struct {
	payloads [][]byte
	err      error
}

func decodeFuzz(data []byte, chunk int, lenient bool) result {
	d := NewDecoder(&chunkReader{data: data, chunk: chunk}, Options{Lenient: lenient, MaxFrame: 1 << 12})
	var r result
	for {
		f, err := d.Next()
		if err != nil {
			if err != io.EOF {
				r.err = err
			}
			return r
		}
		r.payloads = append(r.payloads, bytes.Clone(f.Payload))
	}
}

// FuzzDecoder checks that framing never panics, never returns framing bytes
// inside a payload, and is independent of how the input is split into reads.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte("\x0bMSH|^~\\&|A\r\x1c\r"), uint8(1), false)
	f.Add([]byte("\x00\n\x0bA\x1c\r\n\x0bB\x1c\r"), uint8(3), false)
	f.Add([]byte("\x0bA\x1c\x0bB\x1c"), uint8(2), true)
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8, lenient bool) {
		whole := decodeFuzz(data, len(data)+1, lenient)
		split := decodeFuzz(data, int(chunk%16)+1, lenient)
		total := 0
		for _, p := range whole.payloads {
			if bytes.IndexByte(p, SB) >= 0 || bytes.IndexByte(p, EB) >= 0 {
				t.Fatalf("framing byte inside payload %q", p)
			}
			total += len(p) + 2
		}
		if total > len(data) {
			t.Fatalf("payload bytes %d exceed input %d", total, len(data))
		}
		if len(whole.payloads) != len(split.payloads) {
			t.Fatalf("frames whole %d split %d", len(whole.payloads), len(split.payloads))
		}
		for i := range whole.payloads {
			if !bytes.Equal(whole.payloads[i], split.payloads[i]) {
				t.Fatalf("frame %d differs: %q vs %q", i, whole.payloads[i], split.payloads[i])
			}
		}
		if (whole.err == nil) != (split.err == nil) {
			t.Fatalf("errors differ: %v vs %v", whole.err, split.err)
		}
	})
}

// FuzzParseHeader checks the extractor never panics and returns sub-slices
// free of separators and segment ends.
func FuzzParseHeader(f *testing.F) {
	f.Add([]byte("MSH|^~\\&|A|F|R|RF|T||ADT^A01|C1|P|2.5\rPID|1||P1^^^AU\r"))
	f.Add([]byte("MSH#@*!%#A#F#R#RF#T##ADT@A01#77\nPID#1##Q9\n"))
	f.Add([]byte("MSH|^~\\&|R|RF|A|F|T||ACK|X|P|2.5\r\nMSA|AA|C1\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseHeader(data, true)
		if err == nil {
			for _, v := range [][]byte{h.SendingApp, h.SendingFacility, h.MessageType, h.ControlID, h.PatientID} {
				if bytes.IndexByte(v, h.FieldSep) >= 0 || bytes.ContainsAny(v, "\r\n") {
					t.Fatalf("field %q contains a separator", v)
				}
			}
		} else if !errors.Is(err, ErrNotHL7) {
			t.Fatalf("unexpected error %v", err)
		}
		code, id, err := ParseACK(data)
		if err == nil && (bytes.ContainsAny(code, "\r\n") || bytes.ContainsAny(id, "\r\n")) {
			t.Fatalf("ACK fields contain segment ends")
		}
	})
}
