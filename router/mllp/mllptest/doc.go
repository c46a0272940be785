// Package mllptest provides real MLLP endpoints for tests, benchmarks and the
// demo: a Backend (an MLLP listener on 127.0.0.1 that answers real HL7 ACKs,
// AA with MSA-2 = MSH-10, optionally delayed or with an error rate, and
// records what it received without keeping PHI), a Client (one synchronous
// MLLP connection) and RunSenders (several closed-loop senders that count
// sent/acked messages and measure ACK latency).
//
// Typical use:
//
//	b, _ := mllptest.NewBackend(mllptest.BackendOptions{Name: "stable", Record: true})
//	defer b.Close()
//	res, _ := mllptest.RunSenders(ctx, mllptest.SenderOptions{Addr: b.Addr(), Senders: 4, Messages: 100})
//	// res.Acked == 400; b.Records() lists control ids, key hashes and sequence numbers.
package mllptest
