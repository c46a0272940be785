// Package view renders the shared read-side model (github.com/nerve-rollouts/nerve/view) for the
// terminal: the `get rollout` header and tree, padded tables, ANSI colours and the tree's kind
// icons. It holds only what a terminal needs; what the data is and how it is fetched live in the
// shared package, which the web dashboard uses too.
package view
