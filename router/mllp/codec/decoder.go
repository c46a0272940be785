package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// MLLP framing bytes.
const (
	SB = 0x0B // start block
	EB = 0x1C // end block (FS)
	CR = 0x0D // carriage return after EB
	// ACK and NAK are the single-byte payloads of MLLP release 2 commit blocks.
	ACK = 0x06
	NAK = 0x15
)

// DefaultMaxFrame is the default payload cap (4 MiB).
const DefaultMaxFrame = 4 << 20

const initialBuffer = 32 << 10

// Kind classifies a frame's payload.
type Kind uint8

// Frame kinds.
const (
	KindMessage   Kind = iota // HL7 content (not checked to start with MSH)
	KindEmpty                 // zero-length payload
	KindCommitACK             // MLLP R2 commit acknowledgement <SB><ACK><EB><CR>
	KindCommitNAK             // MLLP R2 negative commit acknowledgement
)

// Frame is one decoded frame. Payload aliases the decoder's buffer and is
// valid until the next call to Next.
type Frame struct {
	Payload []byte
	Kind    Kind
	// Skipped counts bytes dropped before this frame: out-of-frame bytes and
	// the bytes of partial frames abandoned by a resync.
	Skipped int
	// Resyncs counts start blocks found inside an open frame before this one.
	Resyncs int
	// MissingCR is set when the end block was not followed by CR (lenient mode only).
	MissingCR bool
	// Raw is the whole well-formed frame <SB> payload <EB><CR> as received
	// (aliasing the buffer), or nil when the frame ended without CR.
	Raw []byte
}

// Errors returned by Next. All of them are fatal for the connection: the
// caller should count them and close it. Reader errors between frames
// (io.EOF, deadline) are returned unchanged.
var (
	ErrOversize   = errors.New("mllp: frame exceeds the size cap")
	ErrMissingCR  = errors.New("mllp: end block not followed by CR")
	ErrIncomplete = errors.New("mllp: connection ended inside a frame")
	// ErrWouldBlock is what a non-blocking reader returns when no data is
	// available yet. It is the one reader error that is not fatal: Next
	// returns it unchanged, keeps any partial frame, and may be called again
	// once the connection is readable.
	ErrWouldBlock = errors.New("mllp: no data available yet")
)

// Options configure a Decoder.
type Options struct {
	// MaxFrame caps the payload size (0: DefaultMaxFrame).
	MaxFrame int
	// Lenient accepts an end block without the trailing CR.
	Lenient bool
	// FrameTimeout bounds how long a started frame may take to complete when
	// the reader supports SetReadDeadline (0: no limit).
	FrameTimeout time.Duration
	// BufferSize is the initial buffer (0: 32 KiB); it grows by doubling up
	// to MaxFrame, so size it to the frames the connection usually carries.
	BufferSize int
}

type deadliner interface{ SetReadDeadline(time.Time) error }

// Decoder reads MLLP frames from one reader.
type Decoder struct {
	r         io.Reader
	dl        deadliner
	opts      Options
	buf       []byte
	rd, wr    int // unread data is buf[rd:wr]
	inFrame   bool
	scan      int // in frame: bytes buf[rd:scan] hold no EB
	deadline  bool
	pendingCR bool // lenient: a frame ended at EB; a following CR is not junk
	skipped   int
	resyncs   int
	err       error
}

// NewDecoder returns a decoder reading from r.
func NewDecoder(r io.Reader, opts Options) *Decoder {
	if opts.MaxFrame <= 0 {
		opts.MaxFrame = DefaultMaxFrame
	}
	size := opts.BufferSize
	if size <= 0 {
		size = initialBuffer
	}
	d := &Decoder{r: r, opts: opts, buf: make([]byte, min(size, opts.MaxFrame+2))}
	if dl, ok := r.(deadliner); ok && opts.FrameTimeout > 0 {
		d.dl = dl
	}
	return d
}

// Buffered returns the number of unread bytes already buffered (pipelined data).
func (d *Decoder) Buffered() int { return d.wr - d.rd }

// Skipped returns out-of-frame bytes seen since the last returned frame
// (useful after Next returned an error).
func (d *Decoder) Skipped() int { return d.skipped }

// InFrame reports whether a started frame is waiting for more data (a
// caller with non-blocking reads uses it to apply the frame timeout).
func (d *Decoder) InFrame() bool { return d.inFrame }

// Next returns the next frame.
func (d *Decoder) Next() (Frame, error) {
	if d.err != nil {
		return Frame{}, d.err
	}
	for {
		if !d.inFrame && !d.findStart() {
			if err := d.fill(); err != nil {
				return Frame{}, d.fail(err)
			}
			continue
		}
		f, done, err := d.findEnd()
		if err != nil {
			return Frame{}, d.fail(err)
		}
		if done {
			return f, nil
		}
		if err := d.fill(); err != nil {
			return Frame{}, d.fail(err)
		}
	}
}

// findStart skips to the next SB; it reports whether one was found.
func (d *Decoder) findStart() bool {
	if d.pendingCR && d.rd < d.wr {
		d.pendingCR = false
		if d.buf[d.rd] == CR {
			d.rd++
		}
	}
	i := bytes.IndexByte(d.buf[d.rd:d.wr], SB)
	if i < 0 {
		d.skipped += d.wr - d.rd
		d.rd, d.wr = 0, 0
		return false
	}
	d.skipped += i
	d.rd += i + 1
	d.scan = d.rd
	d.inFrame = true
	return true
}

// findEnd looks for EB in the open frame. done reports a complete frame.
func (d *Decoder) findEnd() (f Frame, done bool, err error) {
	for {
		k := bytes.IndexByte(d.buf[d.scan:d.wr], EB)
		end := d.wr
		if k >= 0 {
			end = d.scan + k
		}
		if sb := bytes.IndexByte(d.buf[d.scan:end], SB); sb >= 0 {
			d.resync(d.scan + sb)
			continue
		}
		if end-d.rd > d.opts.MaxFrame {
			return Frame{}, false, ErrOversize
		}
		if k < 0 {
			d.scan = d.wr
			return Frame{}, false, nil
		}
		if end+1 >= d.wr {
			if d.opts.Lenient {
				return d.completeAtEnd(end) // the sender may be waiting for our ACK
			}
			d.scan = end // need the byte after EB
			return Frame{}, false, nil
		}
		return d.complete(end)
	}
}

// completeAtEnd (lenient) returns a frame whose EB is the last buffered byte;
// a CR arriving next is then dropped silently.
func (d *Decoder) completeAtEnd(end int) (Frame, bool, error) {
	f := Frame{Payload: d.buf[d.rd:end:end], Skipped: d.skipped, Resyncs: d.resyncs}
	f.Kind = classify(f.Payload)
	d.rd = end + 1
	d.inFrame, d.skipped, d.resyncs, d.pendingCR = false, 0, 0, true
	d.clearDeadline()
	return f, true, nil
}

// resync abandons the open frame at a new SB at index i.
func (d *Decoder) resync(i int) {
	d.skipped += i - d.rd + 1
	d.resyncs++
	d.rd = i + 1
	d.scan = d.rd
}

// complete returns the frame ending with EB at index end (buf[end+1] exists).
func (d *Decoder) complete(end int) (Frame, bool, error) {
	missing := d.buf[end+1] != CR
	if missing && !d.opts.Lenient {
		return Frame{}, false, ErrMissingCR
	}
	f := Frame{Payload: d.buf[d.rd:end:end], Skipped: d.skipped, Resyncs: d.resyncs, MissingCR: missing}
	f.Kind = classify(f.Payload)
	if !missing {
		f.Raw = d.buf[d.rd-1 : end+2 : end+2]
	}
	d.rd = end + 2
	if missing {
		d.rd = end + 1
	}
	d.inFrame, d.skipped, d.resyncs = false, 0, 0
	d.clearDeadline()
	return f, true, nil
}

func classify(p []byte) Kind {
	switch {
	case len(p) == 0:
		return KindEmpty
	case len(p) == 1 && p[0] == ACK:
		return KindCommitACK
	case len(p) == 1 && p[0] == NAK:
		return KindCommitNAK
	}
	return KindMessage
}

// fill reads more data, compacting or growing the buffer as needed.
func (d *Decoder) fill() error {
	if d.inFrame {
		d.armDeadline()
	}
	if d.wr == len(d.buf) {
		d.makeRoom()
	}
	n, err := d.r.Read(d.buf[d.wr:])
	d.wr += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return d.readError(err)
}

// readError maps a reader error; inside a frame it is ErrIncomplete.
func (d *Decoder) readError(err error) error {
	if !d.inFrame {
		return err
	}
	return fmt.Errorf("%w: %w", ErrIncomplete, err)
}

func (d *Decoder) makeRoom() {
	from := d.rd
	if d.inFrame {
		from-- // keep the SB so that Frame.Raw stays contiguous
	}
	if from > 0 {
		n := copy(d.buf, d.buf[from:d.wr])
		d.scan -= from
		d.rd, d.wr = d.rd-from, n
		if d.wr < len(d.buf) {
			return
		}
	}
	nb := make([]byte, min(2*len(d.buf), d.opts.MaxFrame+2))
	if len(nb) <= len(d.buf) {
		nb = make([]byte, len(d.buf)+1) // cannot happen: oversize is caught first
	}
	copy(nb, d.buf[:d.wr])
	d.buf = nb
}

func (d *Decoder) armDeadline() {
	if d.dl == nil || d.deadline {
		return
	}
	d.deadline = true
	_ = d.dl.SetReadDeadline(time.Now().Add(d.opts.FrameTimeout))
}

func (d *Decoder) clearDeadline() {
	if d.deadline {
		d.deadline = false
		_ = d.dl.SetReadDeadline(time.Time{})
	}
}

// fail records a fatal error; later calls return it again (ErrWouldBlock
// is returned without being recorded).
func (d *Decoder) fail(err error) error {
	if errors.Is(err, ErrWouldBlock) {
		return ErrWouldBlock
	}
	d.err = err
	return err
}
