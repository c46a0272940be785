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
// share the cores. By default every client connection is served by one
// goroutine per session that reads the frame, picks the backend, writes
// upstream, reads the ACK and writes it to the client synchronously, with
// raw read(2)/write(2) inside the Go poller's wait loop (rawconn_linux.go)
// and a yield before a read that will almost certainly find no data yet.
//
// With Options.EventLoops > 0 (--event-loops), plain-TCP client connections
// on Linux are served instead by that many event loops of nerve's own
// (loop_linux.go, evsession_linux.go): an epoll instance watches the client
// and upstream sockets edge-triggered, each connection is a small state
// machine (read frame → route → write upstream → read ACK(s) → write
// client), and the loop blocks in Go's poller on the epoll descriptor
// itself, so waiting costs neither entersyscall (which wakes the runtime's
// sysmon) nor a thread wake-up. A message costs exactly one read(2) and one
// write(2) per side: an edge says data is there, and a short read proves the
// socket is empty, so the read that would return EAGAIN is not made (the
// goroutine session cannot avoid it: Go's poller resets its readiness before
// every wait). Per batch of events the loop adds one epoll_wait(0).
// Dialling, which may block, runs on a goroutine and reports back to the
// loop; ACK and frame timeouts are checked every 1/8 of the shorter timeout
// (a backend gets between 1 and 1.125 ACK timeouts); writes the kernel takes
// only in part continue on the next EPOLLOUT edge. The loops use less CPU
// and fewer system calls per message; on 2 cores the goroutine engine
// carried more messages per second at one sender and as many at 8-32
// (same-run A/B, README), so it stays the default.
//
// TLS connections (and every connection off Linux) always use the goroutine
// engine. Both engines share the routing, dialling, fallback, ACK checks,
// metrics and mirror code (core in session.go); the mirror always runs on
// its own goroutine per session. The ACK deadline is re-armed lazily;
// buffers start sized to HL7 messages (8 KiB client, 2 KiB upstream) and
// grow for larger frames. A message costs no allocation
// (BenchmarkProxyMessage: 0 allocs/op).
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
