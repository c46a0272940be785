// Package codec is nerve's MLLP framing codec and HL7 v2 header extractor.
//
// Decoder is an incremental state machine over one long-lived reader per
// connection: it is byte-transparent (the payload is returned exactly as
// sent), tolerates split reads and pipelined frames, skips and counts bytes
// outside frames (NULs, LF of a FS CR LF trailer, junk), resynchronises on a
// start block inside an open frame, caps the frame size, recognises MLLP
// release 2 commit ACK/NAK blocks and, in lenient mode, accepts an end block
// that is not followed by CR. Frame payloads alias the decoder's buffer and
// are valid until the next call, so steady-state decoding does not allocate.
//
// The extractor (ParseHeader, ParseACK) reads MSH-3/4/9/10/15/16, the first
// PID-3 repetition and MSA-1/2 honouring the message's own MSH-1/MSH-2
// separators and CR, LF or CRLF segment ends, without allocating.
package codec
