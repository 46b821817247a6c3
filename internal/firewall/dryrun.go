package firewall

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// DryRun is the backend that changes nothing in the kernel: it logs at Info
// what it would do and keeps an in-memory model of what vigil would own, so
// Sync, Snapshot and Bans behave like a real backend's. It validates prefixes
// exactly like the real backends. Timeouts are recorded, never enforced: the
// model holds a ban until Unblock, Sync or Teardown (the caller's unban loop
// lifts expired bans, as with the iptables backend).
//
// DryRun is safe for concurrent use.
type DryRun struct {
	cfg Config
	log *slog.Logger
	m   *metrics

	mu    sync.Mutex // guards the fields below
	ready bool
	bans  map[netip.Prefix]time.Duration
}

// NewDryRun returns the dry-run backend. It needs no binaries and no
// privileges.
func NewDryRun(cfg Config, o Options) (*DryRun, error) {
	cfg.Backend = BackendDryRun
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("firewall config: %w", err)
	}
	m, err := newMetrics(o.Registerer, BackendDryRun, "")
	if err != nil {
		return nil, err
	}
	return &DryRun{
		cfg:  cfg,
		log:  o.logger().With("component", "firewall", "backend", BackendDryRun),
		m:    m,
		bans: make(map[netip.Prefix]time.Duration),
	}, nil
}

// Name implements Backend.
func (d *DryRun) Name() string { return BackendDryRun }

// Setup implements Backend.
func (d *DryRun) Setup(ctx context.Context) (err error) {
	defer d.m.observe(opSetup, time.Now(), &err)
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ready = true
	d.log.Info("dry run: would create chain and jumps", "chain", d.cfg.Chain, "parent_chains", d.cfg.ParentChains, "target", d.cfg.Target, "ipv6", d.cfg.IPv6)
	return nil
}

// Block implements Backend. A ban that is present gets the new timeout.
func (d *DryRun) Block(ctx context.Context, bans []Ban) (err error) {
	defer d.m.observe(opBlock, time.Now(), &err)
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := normalizeBans(bans, d.cfg.IPv6)
	if err != nil {
		return fmt.Errorf("dry-run block: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range entries {
		d.bans[e.prefix] = time.Duration(e.timeout) * time.Second
		d.log.Info("dry run: would block", "client_ip", e.prefix.String(), "ban_ttl", time.Duration(e.timeout)*time.Second)
	}
	d.updateGauges()
	return nil
}

// Unblock implements Backend.
func (d *DryRun) Unblock(ctx context.Context, prefixes []netip.Prefix) (err error) {
	defer d.m.observe(opUnblock, time.Now(), &err)
	if err := ctx.Err(); err != nil {
		return err
	}
	ps, err := normalizePrefixes(prefixes, d.cfg.IPv6)
	if err != nil {
		return fmt.Errorf("dry-run unblock: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range ps {
		if _, ok := d.bans[p]; ok {
			delete(d.bans, p)
			d.log.Info("dry run: would unblock", "client_ip", p.String())
		}
	}
	d.updateGauges()
	return nil
}

// Sync implements Backend.
func (d *DryRun) Sync(ctx context.Context, want []Ban) (res SyncResult, err error) {
	defer d.m.observe(opSync, time.Now(), &err)
	if err := ctx.Err(); err != nil {
		return SyncResult{}, err
	}
	entries, err := normalizeBans(want, d.cfg.IPv6)
	if err != nil {
		return SyncResult{}, fmt.Errorf("dry-run sync: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	wanted := make(map[netip.Prefix]time.Duration, len(entries))
	for _, e := range entries {
		t := time.Duration(e.timeout) * time.Second
		wanted[e.prefix] = t
		if _, ok := d.bans[e.prefix]; !ok {
			res.Added++
			d.log.Info("dry run: would block", "client_ip", e.prefix.String(), "ban_ttl", t)
		}
	}
	for p := range d.bans {
		if _, ok := wanted[p]; !ok {
			res.Removed++
			d.log.Info("dry run: would unblock", "client_ip", p.String())
		}
	}
	d.bans = wanted
	d.updateGauges()
	return res, nil
}

// Snapshot implements Backend: one line per modelled ban, sorted, in the
// form "PREFIX timeout SECONDS".
func (d *DryRun) Snapshot(ctx context.Context) (out []byte, err error) {
	defer d.m.observe(opSnapshot, time.Now(), &err)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# dry-run chain %s target %s\n", d.cfg.Chain, d.cfg.Target)
	for _, ban := range d.Bans() {
		fmt.Fprintf(&b, "%s timeout %d\n", ban.Prefix, ban.Timeout/time.Second)
	}
	return b.Bytes(), nil
}

// Teardown implements Backend: the model is emptied.
func (d *DryRun) Teardown(ctx context.Context) (err error) {
	defer d.m.observe(opTeardown, time.Now(), &err)
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ready = false
	d.bans = make(map[netip.Prefix]time.Duration)
	d.updateGauges()
	d.log.Info("dry run: would remove chain and jumps", "chain", d.cfg.Chain)
	return nil
}

// Bans returns the modelled bans, normalised (timeouts in whole seconds),
// sorted by prefix.
func (d *DryRun) Bans() []Ban {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Ban, 0, len(d.bans))
	for p, t := range d.bans {
		out = append(out, Ban{Prefix: p, Timeout: t})
	}
	slices.SortFunc(out, func(a, b Ban) int { return comparePrefix(a.Prefix, b.Prefix) })
	return out
}

// Ready reports whether Setup has run (and Teardown has not since).
func (d *DryRun) Ready() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ready
}

// updateGauges sets the entries gauges from the model; d.mu must be held.
func (d *DryRun) updateGauges() {
	var n [2]int
	for p := range d.bans {
		n[familyOf(p)]++
	}
	for _, f := range families() {
		d.m.setEntries(f, n[f])
	}
}

// comparePrefix orders prefixes by address, then length.
func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}
