// Package proxy is nerve's MLLP message-level weighted proxy.
//
// Each client connection is served by one goroutine that decodes frames with
// router/mllp/codec and keeps at most one message in flight: pipelined frames
// wait in the decoder's buffer and are processed strictly FIFO. For every
// message the proxy picks stable or canary (match rules first, then a
// monotone hash of the sticky key against the weight), forwards the original
// bytes over that client's persistent upstream connection to the chosen
// backend, waits for the ACK (ack timeout), checks MSA-2 == MSH-10 and relays
// the backend's ACK verbatim (enhanced mode: the accept ACK and then the
// application ACK). It never synthesises an AA. If the chosen backend cannot
// be connected to (nothing sent), the message goes to the other backend and
// a fallback is counted; once bytes were sent it is never re-routed: on
// upstream failure, timeout or mismatch the error is counted and the client
// connection closed so that the sender resends (at-least-once).
//
// The hot path is built for a small box where senders, proxy and backends
// share the cores: per message one session goroutine reads the frame, picks
// the backend, writes upstream, reads the ACK and writes it to the client,
// with no channel hand-off. Sockets are read and written with raw read(2)/
// write(2) inside the Go poller's wait loop (rawconn_linux.go), which skips
// entersyscall and keeps the runtime's sysmon thread asleep; the session
// yields before a read that will almost certainly find no data yet, saving
// the EAGAIN system call when other sessions can run first; the ACK deadline
// is re-armed only every 1/8 ACK timeout; buffers start sized to HL7
// messages (8 KiB client, 2 KiB upstream) and grow for larger frames. A
// message costs no allocation (BenchmarkProxyMessage: 0 allocs/op).
//
// Routing state (weights, match rules, mirror, backend addresses) is an
// immutable snapshot swapped atomically, so a change applies to the next
// routing decision. Snapshots come from a static file (StaticSource, polled)
// or from an MLLPRoute plus EndpointSlices (WatchSource, package api), where
// each replica also reports its status. The package imports no plugin code.
//
// Metrics (client_golang): mllp_messages_received_total, mllp_errors_total
// {reason}, mllp_ack_latency_seconds, mllp_acks_total{code}, all labelled
// service and backend and initialised to 0, plus gauges for in-flight
// messages, open connections and the applied weight. Neither logs nor
// labels ever contain PHI (MSH-10, PID-3, names) or facility strings.
package proxy
