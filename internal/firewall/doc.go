// Package firewall applies vigil's bans in the kernel firewall. It is the only
// package in vigil that runs external commands, and it never runs them through
// a shell: every argument is rendered from a typed value (a netip.Prefix, a
// validated chain or set name), never taken from a user string.
//
// Three backends implement Backend:
//
//   - IPTables: a dedicated chain (default "VIGIL") in the filter table,
//     jumped to from each parent chain, with one rule per banned prefix.
//     Per-packet cost grows linearly with the number of bans; use it for a
//     few hundred bans at most.
//   - IPSet: two kernel sets of type hash:net (one per family) matched by one
//     rule each in the same chain. Per-packet cost is constant and every
//     entry carries its own timeout, so bans expire even if vigil is dead.
//   - DryRun: logs what it would do and keeps an in-memory model. It is the
//     default when vigil is not root, the backend for replay and the fake
//     firewall in tests.
//
// Everything vigil creates is recognisable: rules carry the comment "vigil",
// and the chain and sets carry the configured names. Sync and Teardown never
// touch anything else. docs/FIREWALL.md describes the kernel objects, how to
// inspect them and how to recover by hand.
package firewall
