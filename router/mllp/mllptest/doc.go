// Package mllptest is nerve's one HL7 v2 / MLLP test toolkit, for unit
// tests, e2e tests, benchmarks and the demo:
//
//   - synthetic messages: a deterministic Generator of ADT^A01/A04/A08/A03
//     and ORU^R01 messages (Next draws type, facility and patient; Render
//     takes them from the caller), Frame for MLLP framing, AppendACK for an
//     original-mode ACK and Key, the opaque hash that logs and records carry
//     instead of a control or patient id;
//   - a Client (one synchronous MLLP connection that checks MSA-2 against
//     MSH-10) and RunSenders (several closed-loop senders that count
//     sent/acked messages and measure ACK latency);
//   - a Backend: an MLLP listener on 127.0.0.1 that answers real HL7 ACKs,
//     AA with MSA-2 = MSH-10, optionally delayed or with an error rate, and
//     records what it received.
//
// Every name and identifier is synthetic, and nothing here logs a patient
// id or name: records and logs hold Key hashes only. Framing and header
// parsing are nerve's own (router/mllp/codec).
//
// Typical use:
//
//	b, _ := mllptest.NewBackend(mllptest.BackendOptions{Name: "stable", Record: true})
//	defer b.Close()
//	res, _ := mllptest.RunSenders(ctx, mllptest.SenderOptions{Addr: b.Addr(), Senders: 4, Messages: 100})
//	// res.Acked == 400; b.Records() lists control ids, key hashes and sequence numbers.
package mllptest
