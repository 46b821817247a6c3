package firewall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Ban is one prefix to block. Prefix may be a single address (/32, /128) or a
// network; it is normalised with Normalize before it reaches the kernel.
type Ban struct {
	// Prefix is the source address or network to block.
	Prefix netip.Prefix
	// Timeout is how long the kernel keeps the ban; 0 means permanent. The
	// ipset backend stores it per entry (rounded up to whole seconds, capped
	// at about 24.8 days); the iptables and dry-run backends ignore it and
	// rely on the caller's Unblock.
	Timeout time.Duration
}

// SyncResult counts what Sync changed in the kernel.
type SyncResult struct {
	// Added is the number of wanted entries that were missing.
	Added int
	// Removed is the number of entries vigil owned that were not wanted.
	Removed int
}

// Backend is a kernel firewall that vigil owns a part of. Implementations are
// safe for concurrent use; calls are serialised. Every call that carries
// prefixes validates all of them first and changes nothing if one is
// invalid.
type Backend interface {
	// Setup creates what vigil needs in the kernel (chain, sets, the jumps
	// from every parent chain, the match rules), for IPv4 and, when enabled,
	// IPv6. It is idempotent.
	Setup(ctx context.Context) error
	// Block adds bans. Re-adding a ban is not an error; with ipset it
	// updates the timeout.
	Block(ctx context.Context, bans []Ban) error
	// Unblock removes bans. Removing an absent entry is not an error.
	Unblock(ctx context.Context, prefixes []netip.Prefix) error
	// Sync makes what vigil owns in the kernel equal want, in bulk: it adds
	// missing entries and removes owned entries that want lacks. It never
	// touches anything vigil does not own.
	Sync(ctx context.Context, want []Ban) (SyncResult, error)
	// Snapshot returns the chain and sets as the kernel has them now, as
	// text, for the audit snapshots.
	Snapshot(ctx context.Context) ([]byte, error)
	// Teardown removes the jumps, rules, chain and sets vigil created.
	Teardown(ctx context.Context) error
	// Name returns the backend's name: "iptables", "ipset" or "dry-run".
	Name() string
}

// Compile-time guards.
var (
	_ Backend = (*IPTables)(nil)
	_ Backend = (*IPSet)(nil)
	_ Backend = (*DryRun)(nil)
)

// Options holds the shared dependencies of a backend.
type Options struct {
	// Logger receives the backend's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the backend's metrics; nil leaves them
	// unregistered.
	Registerer prometheus.Registerer
}

// Sentinel errors, checked with errors.Is.
var (
	// ErrLocked is returned when an iptables call gave up waiting for the
	// xtables lock after Config.LockWait (another program holds it).
	ErrLocked = errors.New("xtables lock held by another process")
	// ErrSetFull is returned when an ipset reached its maxelem; raise
	// firewall.maxelem.
	ErrSetFull = errors.New("ipset is full (raise firewall.maxelem)")
	// ErrIPv6Disabled is returned for an IPv6 ban while firewall.ipv6 is
	// false.
	ErrIPv6Disabled = errors.New("ipv6 is disabled (firewall.ipv6: false)")
	// ErrInvalidPrefix is returned for a prefix Normalize rejects.
	ErrInvalidPrefix = errors.New("invalid ban prefix")
)

// New validates cfg and returns the configured backend. It fails with an
// error naming the binary when a command the backend needs is not in PATH.
func New(cfg Config, o Options) (Backend, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("firewall config: %w", err)
	}
	switch cfg.Backend {
	case BackendIPTables:
		return NewIPTables(cfg, o)
	case BackendIPSet:
		return NewIPSet(cfg, o)
	default:
		return NewDryRun(cfg, o)
	}
}

// logger returns o.Logger, or a logger that discards everything.
func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}
