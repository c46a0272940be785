package codec

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

const msg = "MSH|^~\\&|APP|FAC|R|RF|20260101||ADT^A01^ADT_A01|C123|P|2.5\rPID|1||P1^^^AUTH^MR~X2||DOE\r"

func fr(s string) string { return "\x0b" + s + "\x1c\r" }

type want struct {
	payloads []string
	skipped  int
	resyncs  int
	err      error
}

func decodeAll(t *testing.T, in io.Reader, opts Options) ([]string, int, int, error) {
	t.Helper()
	d := NewDecoder(in, opts)
	var out []string
	skipped, resyncs := 0, 0
	for {
		f, err := d.Next()
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return out, skipped + d.Skipped(), resyncs, err
		}
		out = append(out, string(f.Payload))
		if f.Raw != nil && string(f.Raw) != "\x0b"+string(f.Payload)+"\x1c\r" {
			t.Fatalf("raw %q does not frame payload %q", f.Raw, f.Payload)
		}
		skipped += f.Skipped
		resyncs += f.Resyncs
	}
}

func TestDecoder(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		lenient bool
		max     int
		want    want
	}{
		{"single", fr(msg), false, 0, want{payloads: []string{msg}}},
		{"pipelined", fr("A") + fr("B") + fr("C"), false, 0, want{payloads: []string{"A", "B", "C"}}},
		{"junk before", "\x00\x00\nxx" + fr("A"), false, 0, want{payloads: []string{"A"}, skipped: 5}},
		{"CRLF trailer", fr("A") + "\n" + fr("B") + "\n", false, 0, want{payloads: []string{"A", "B"}, skipped: 2}},
		{"SB inside frame", "\x0bpartial" + fr("B"), false, 0, want{payloads: []string{"B"}, skipped: 8, resyncs: 1}},
		{"empty frame", fr(""), false, 0, want{payloads: []string{""}}},
		{"R2 commit", fr("\x06") + fr("\x15"), false, 0, want{payloads: []string{"\x06", "\x15"}}},
		{"missing CR strict", "\x0bA\x1cX", false, 0, want{err: ErrMissingCR}},
		{"missing CR lenient", "\x0bA\x1c\x0bB\x1c", true, 0, want{payloads: []string{"A", "B"}}},
		{"lenient then CR", "\x0bA\x1c" + "\r" + fr("B"), true, 0, want{payloads: []string{"A", "B"}}},
		{"truncated", "\x0bABC", false, 0, want{err: ErrIncomplete}},
		{"truncated after EB strict", "\x0bABC\x1c", false, 0, want{err: ErrIncomplete}},
		{"oversize", fr(strings.Repeat("x", 100)), false, 50, want{err: ErrOversize}},
		{"at cap", fr(strings.Repeat("x", 50)), false, 50, want{payloads: []string{strings.Repeat("x", 50)}}},
		{"LF segments", fr("MSH|^~\\&|A\nPID|1\n"), false, 0, want{payloads: []string{"MSH|^~\\&|A\nPID|1\n"}}},
		{"non-ascii", fr("MSH|^~\\&|Ä\xff"), false, 0, want{payloads: []string{"MSH|^~\\&|Ä\xff"}}},
		{"only junk", "hello", false, 0, want{skipped: 5}},
	}
	for _, tc := range tests {
		for _, mode := range []string{"whole", "onebyte", "half", "tinybuffer"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				opts := Options{Lenient: tc.lenient, MaxFrame: tc.max}
				var r io.Reader = strings.NewReader(tc.in)
				switch mode {
				case "onebyte":
					r = iotest.OneByteReader(r)
				case "half":
					r = iotest.HalfReader(r)
				case "tinybuffer": // the buffer must grow and compact around every frame
					opts.BufferSize = 3
				}
				got, skipped, resyncs, err := decodeAll(t, r, opts)
				if !errors.Is(err, tc.want.err) {
					t.Fatalf("err %v want %v", err, tc.want.err)
				}
				if tc.want.err != nil {
					return
				}
				if strings.Join(got, "|") != strings.Join(tc.want.payloads, "|") || len(got) != len(tc.want.payloads) {
					t.Fatalf("payloads %q want %q", got, tc.want.payloads)
				}
				if skipped != tc.want.skipped || resyncs != tc.want.resyncs {
					t.Fatalf("skipped %d resyncs %d, want %d %d", skipped, resyncs, tc.want.skipped, tc.want.resyncs)
				}
			})
		}
	}
}

func TestDecoderKinds(t *testing.T) {
	d := NewDecoder(strings.NewReader(fr("")+fr("\x06")+fr("\x15")+fr(msg)), Options{})
	for _, k := range []Kind{KindEmpty, KindCommitACK, KindCommitNAK, KindMessage} {
		f, err := d.Next()
		if err != nil || f.Kind != k {
			t.Fatalf("kind %v err %v want %v", f.Kind, err, k)
		}
	}
}

func TestDecoderLargeGrowth(t *testing.T) {
	big := strings.Repeat("y", 200<<10)
	got, _, _, err := decodeAll(t, strings.NewReader(fr("a")+fr(big)+fr("b")), Options{})
	if err != nil || len(got) != 3 || got[1] != big {
		t.Fatalf("err %v n %d", err, len(got))
	}
}

func TestParseHeader(t *testing.T) {
	h, err := ParseHeader([]byte(msg), true)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string][]byte{"APP": h.SendingApp, "FAC": h.SendingFacility, "ADT^A01^ADT_A01": h.MessageType,
		"C123": h.ControlID, "P1": h.PatientID, "AUTH": h.PatientIDAuth}
	for want, got := range checks {
		if string(got) != want {
			t.Errorf("got %q want %q", got, want)
		}
	}
	if h.Enhanced() {
		t.Error("original mode expected")
	}
}

func TestParseHeaderVariants(t *testing.T) {
	tests := []struct {
		name, in         string
		err              error
		ctl, pid, fac1   string
		enhanced, hasPID bool
	}{
		{"custom separators", "MSH#@*!%#A#F@X#R#RF#T##ADT@A01#77#P#2.5\nPID#1##Q9@@@AU\n", nil, "77", "Q9", "F", false, true},
		{"CRLF", "MSH|^~\\&|A|F|R|RF|T||ORU^R01|9|P|2.5\r\nPID|1||Z^^^A\r\n", nil, "9", "Z", "F", false, true},
		{"enhanced", "MSH|^~\\&|A|F|R|RF|T||ORU^R01|9|P|2.5|||AL|NE\r", nil, "9", "", "F", true, false},
		{"no PID", "MSH|^~\\&|A|F^X^Y|R|RF|T||ADT^A01|5|P|2.5\rEVN|A01\r", nil, "5", "", "F", false, false},
		{"short MSH", "MSH|^~\\&|A\r", nil, "", "", "", false, false},
		{"not MSH", "PID|1||x\r", ErrNotHL7, "", "", "", false, false},
		{"CR as separator", "MSH\r^~\\&\r", ErrNotHL7, "", "", "", false, false},
		{"too short", "MSH|", ErrNotHL7, "", "", "", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseHeader([]byte(tc.in), true)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if string(h.ControlID) != tc.ctl || string(h.PatientID) != tc.pid || string(h.FacilityHD1()) != tc.fac1 ||
				h.Enhanced() != tc.enhanced || h.HasPID != tc.hasPID {
				t.Fatalf("got ctl=%q pid=%q fac=%q enh=%v hasPID=%v", h.ControlID, h.PatientID, h.FacilityHD1(), h.Enhanced(), h.HasPID)
			}
		})
	}
}

func TestParseACK(t *testing.T) {
	code, id, err := ParseACK([]byte("MSH|^~\\&|R|RF|A|F|T||ACK|X|P|2.5\rMSA|AE|C123|oops\rERR|x\r"))
	if err != nil || string(code) != "AE" || string(id) != "C123" {
		t.Fatalf("%q %q %v", code, id, err)
	}
	if _, _, err := ParseACK([]byte("MSH|^~\\&|R\r")); !errors.Is(err, ErrNoMSA) {
		t.Fatalf("err %v", err)
	}
}

type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.data[l.off:])
	l.off = (l.off + n) % len(l.data)
	return n, nil
}

func oneKBFrame() []byte {
	p := msg
	for len(p) < 1000 {
		p += "NTE|1||XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\r"
	}
	return []byte(fr(p))
}

func BenchmarkDecode1KB(b *testing.B) {
	f := oneKBFrame()
	r := &loopReader{data: bytes.Repeat(f, 64)}
	d := NewDecoder(r, Options{})
	b.SetBytes(int64(len(f)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := d.Next(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseHeader1KB(b *testing.B) {
	f := oneKBFrame()
	p := f[1 : len(f)-2]
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseHeader(p, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseACK(b *testing.B) {
	p := []byte("MSH|^~\\&|RECV|HOSP|APP|FAC|20260101000000||ACK|A123|P|2.5\rMSA|AA|C123\r")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseACK(p); err != nil {
			b.Fatal(err)
		}
	}
}

// wouldBlockReader returns its chunks one per Read, with ErrWouldBlock
// before each (a non-blocking socket that has no data yet).
type wouldBlockReader struct {
	chunks []string
	ready  bool
}

func (r *wouldBlockReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	if !r.ready {
		r.ready = true
		return 0, ErrWouldBlock
	}
	r.ready = false
	n := copy(p, r.chunks[0])
	if r.chunks[0] = r.chunks[0][n:]; r.chunks[0] == "" {
		r.chunks = r.chunks[1:]
	}
	return n, nil
}

func TestDecoderWouldBlockKeepsState(t *testing.T) {
	in := "\x00" + fr("AB") + fr("CD")
	r := &wouldBlockReader{chunks: []string{in[:1], in[1:3], in[3:6], in[6:8], in[8:]}}
	d := NewDecoder(r, Options{})
	var got []string
	blocks, inFrame := 0, false
	for {
		f, err := d.Next()
		if errors.Is(err, ErrWouldBlock) {
			blocks++
			inFrame = inFrame || d.InFrame()
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		got = append(got, string(f.Payload)+"/"+strings.Repeat("s", f.Skipped))
	}
	if strings.Join(got, ",") != "AB/s,CD/" {
		t.Fatalf("frames %q", got)
	}
	if blocks < 5 || !inFrame {
		t.Fatalf("%d would-block returns, in frame seen %v", blocks, inFrame)
	}
}
