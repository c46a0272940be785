// Package dashboard is the server of `kubectl nerve dashboard`: an overview of the Rollouts of
// every namespace in scope, a page per rollout (steps, revision tree, each router's live weights,
// analysis measurements as inline SVG charts, events) kept live over Server-Sent Events, and the
// rollout actions, each offered only when a SelfSubjectAccessReview allows it.
//
// Security: the server is meant for loopback. Every request needs a session cookie, which the
// random per-start token of the printed URL buys once; every action needs the session's CSRF
// token and a same-origin Origin; the Host header must name the server (DNS rebinding). Pages
// carry counts and shares only, never message content (no PHI).
//
// What the pages show comes from a Source (reads) and a Patcher (actions), so the package does
// not depend on how kubectl nerve fetches objects.
package dashboard
