// Package plugins is nerve's side of the Argo Rollouts plugin protocol: the wire contract
// (wire.go — handshake, dispense keys, gob names, method names, argument and response structs),
// the Go interfaces a traffic router and a metric provider implement (ctx in, error out), the
// net/rpc shims that flatten errors to RpcError only at the wire, and the helpers plugin mains
// call to serve. It knows no implementation: routers and providers import it, never the reverse.
package plugins
