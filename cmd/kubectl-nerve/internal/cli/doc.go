// Package cli is the command tree of `kubectl nerve`: one file per subcommand, each with an
// XOptions struct, NewCmdX(streams, factory), Complete/Validate/Run and AddFlags. The Factory
// carries the kubectl client flags (a RESTClientGetter), the clock and the OS hooks, so tests
// swap in fake clientsets and a fixed time.
package cli
