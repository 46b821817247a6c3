package firewall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// syncTimeoutSlack is how far a set entry's remaining timeout may drift from
// the wanted one before Sync re-adds the entry to refresh it.
const syncTimeoutSlack = 5 // seconds

// IPSet is the backend that bans through two kernel sets of type hash:net,
// SetName+"4" (family inet) and SetName+"6" (family inet6), each matched by
// one rule in vigil's chain (-m set --match-set SET src -m comment --comment
// vigil -j DROP|REJECT). A hash lookup costs the same with 10 or 100,000
// entries, and every entry has its own timeout (0 = permanent), so the
// kernel lifts expired bans even while vigil is not running.
//
// Changes go through `ipset restore -exist` fed on standard input: one exec
// for any number of entries.
//
// IPSet is safe for concurrent use; operations are serialised.
type IPSet struct {
	mu    sync.Mutex // serialises operations on the kernel
	cfg   Config
	log   *slog.Logger
	m     *metrics
	xt    *xtables
	ipset string    // path of the ipset binary
	sets  [2]string // set names per family
}

// NewIPSet returns the ipset backend. It fails when cfg is invalid or
// ipset, iptables or (with IPv6) ip6tables are not in PATH. It changes
// nothing in the kernel; call Setup.
func NewIPSet(cfg Config, o Options) (*IPSet, error) {
	cfg.Backend = BackendIPSet
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("firewall config: %w", err)
	}
	log := o.logger().With("component", "firewall", "backend", BackendIPSet)
	path, err := lookPath(BackendIPSet, "ipset")
	if err != nil {
		return nil, err
	}
	xt, err := newXtables(BackendIPSet, cfg, log)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(o.Registerer, BackendIPSet, xt.mode)
	if err != nil {
		return nil, err
	}
	return &IPSet{
		cfg: cfg, log: log, m: m, xt: xt, ipset: path,
		sets: [2]string{cfg.SetName + "4", cfg.SetName + "6"},
	}, nil
}

// Name implements Backend.
func (b *IPSet) Name() string { return BackendIPSet }

// SetNames returns the names of the IPv4 and IPv6 sets.
func (b *IPSet) SetNames() (ipv4, ipv6 string) { return b.sets[v4], b.sets[v6] }

// ipsetFamily returns the ipset family name of f.
func ipsetFamily(f family) string {
	if f == v6 {
		return "inet6"
	}
	return "inet"
}

// Setup implements Backend. It creates the sets (hash:net, per-entry
// timeouts, maxelem from the configuration), the chain, one match rule per
// family and the jumps. A set that exists with another maxelem is resized in
// place with its entries and their remaining timeouts (built as a temporary
// set, then swapped). Owned per-prefix rules of the iptables backend are
// removed from the chain.
func (b *IPSet) Setup(ctx context.Context) (err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.m.observe(opSetup, time.Now(), &err)
	for _, f := range b.xt.fams {
		if err := b.ensureSet(ctx, f); err != nil {
			return fmt.Errorf("ipset setup: %w", err)
		}
		match := setRuleArgs(b.sets[f], b.cfg.Target, f)
		keep := func(r rule) bool { return r.spec() == joinArgs(match) }
		if _, err := b.xt.setup(ctx, f, keep, match); err != nil {
			return fmt.Errorf("ipset setup: %w", err)
		}
		if h, err := b.header(ctx, b.sets[f]); err == nil {
			b.m.setEntries(f, h.entries)
		}
	}
	b.log.Info("firewall ready", "chain", b.cfg.Chain, "parent_chains", b.cfg.ParentChains,
		"target", b.cfg.Target, "ipv6", b.cfg.IPv6, "set", b.cfg.SetName, "maxelem", b.cfg.MaxElem)
	return nil
}

// createArgs returns the arguments that create set for family f.
func (b *IPSet) createArgs(set string, f family) []string {
	return []string{"create", set, "hash:net", "family", ipsetFamily(f), "timeout", "0", "maxelem", strconv.Itoa(b.cfg.MaxElem), "-exist"}
}

// header returns the header of set, or an error wrapping errSetMissing.
func (b *IPSet) header(ctx context.Context, set string) (setHeader, error) {
	out, err := run(ctx, b.ipset, []string{"list", "-t", set}, nil)
	if err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return setHeader{}, fmt.Errorf("set %s: %w", set, errSetMissing)
		}
		return setHeader{}, err
	}
	return parseTerse(out)
}

// errSetMissing reports that a set does not exist.
var errSetMissing = errors.New("set does not exist")

// ensureSet creates family f's set, or checks and if needed resizes it.
func (b *IPSet) ensureSet(ctx context.Context, f family) error {
	set := b.sets[f]
	h, err := b.header(ctx, set)
	switch {
	case errors.Is(err, errSetMissing):
		if _, err := run(ctx, b.ipset, b.createArgs(set, f), nil); err != nil {
			return fmt.Errorf("create set %s: %w", set, err)
		}
		b.log.Info("set created", "set", set, "maxelem", b.cfg.MaxElem)
		return nil
	case err != nil:
		return fmt.Errorf("inspect set %s: %w", set, err)
	}
	if h.typ != "hash:net" || h.family != ipsetFamily(f) || !h.hasTimeout {
		return fmt.Errorf("set %s exists as %s family %s (timeout support %t), vigil needs hash:net family %s with timeouts: destroy it or choose another firewall.set_name",
			set, h.typ, h.family, h.hasTimeout, ipsetFamily(f))
	}
	if h.maxelem == b.cfg.MaxElem {
		return nil
	}
	return b.resize(ctx, f, h.maxelem)
}

// resize rebuilds family f's set with the configured maxelem, keeping its
// entries and their remaining timeouts: it fills a temporary set, swaps it
// with the live one (the match rule follows the name) and destroys the old.
func (b *IPSet) resize(ctx context.Context, f family, old int) error {
	set, tmp := b.sets[f], b.sets[f]+tmpSetSuffix
	cur, err := b.listSet(ctx, set)
	if err != nil {
		return err
	}
	_, _ = run(ctx, b.ipset, []string{"destroy", tmp}, nil) // left over by an interrupted resize
	if _, err := run(ctx, b.ipset, b.createArgs(tmp, f), nil); err != nil {
		return fmt.Errorf("resize set %s: create %s: %w", set, tmp, err)
	}
	var s ipsetScript
	for p, t := range cur.entries {
		s.add(tmp, entry{prefix: p, timeout: t})
	}
	if err := b.restore(ctx, f, &s); err != nil {
		_, _ = run(ctx, b.ipset, []string{"destroy", tmp}, nil)
		return fmt.Errorf("resize set %s: copy entries: %w", set, err)
	}
	if _, err := run(ctx, b.ipset, []string{"swap", tmp, set}, nil); err != nil {
		_, _ = run(ctx, b.ipset, []string{"destroy", tmp}, nil)
		return fmt.Errorf("resize set %s: swap: %w", set, err)
	}
	if _, err := run(ctx, b.ipset, []string{"destroy", tmp}, nil); err != nil {
		return fmt.Errorf("resize set %s: destroy old set: %w", set, err)
	}
	b.log.Info("set resized", "set", set, "old_maxelem", old, "maxelem", b.cfg.MaxElem, "entries", len(cur.entries))
	return nil
}

// listSet returns the content of set.
func (b *IPSet) listSet(ctx context.Context, set string) (setContent, error) {
	out, err := run(ctx, b.ipset, []string{"list", "-o", "save", set}, nil)
	if err != nil {
		return setContent{}, fmt.Errorf("list set %s: %w", set, err)
	}
	return parseSave(out, set)
}

// restore feeds s to `ipset restore -exist`. A full set is reported with
// ErrSetFull, counted and logged at Error, since an operator must raise
// firewall.maxelem.
func (b *IPSet) restore(ctx context.Context, f family, s *ipsetScript) error {
	if s.n == 0 {
		return nil
	}
	_, err := run(ctx, b.ipset, []string{"restore", "-exist"}, s.bytes())
	if errors.Is(err, ErrSetFull) {
		b.m.setFull.WithLabelValues(f.String()).Inc()
		b.log.Error("ipset full: raise firewall.maxelem", "set", b.sets[f], "maxelem", b.cfg.MaxElem, "err", err)
	}
	return err
}

// refreshCount sets the entries gauge of family f from the kernel.
func (b *IPSet) refreshCount(ctx context.Context, f family) {
	h, err := b.header(ctx, b.sets[f])
	if err != nil {
		b.log.Warn("count set entries", "set", b.sets[f], "err", err)
		return
	}
	b.m.setEntries(f, h.entries)
}

// Block implements Backend. Re-adding an entry sets its timeout to the new
// one.
func (b *IPSet) Block(ctx context.Context, bans []Ban) (err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.m.observe(opBlock, time.Now(), &err)
	entries, err := normalizeBans(bans, b.cfg.IPv6)
	if err != nil {
		return fmt.Errorf("ipset block: %w", err)
	}
	for f, es := range splitEntries(entries) {
		if len(es) == 0 {
			continue
		}
		var s ipsetScript
		for _, e := range es {
			s.add(b.sets[f], e)
		}
		err := b.restore(ctx, family(f), &s)
		b.refreshCount(ctx, family(f))
		if err != nil {
			return fmt.Errorf("ipset block: add %d entries to %s: %w", len(es), b.sets[f], err)
		}
		if b.log.Enabled(ctx, slog.LevelDebug) {
			b.log.Debug("set entries added", "set", b.sets[f], "entries", len(es))
		}
	}
	return nil
}

// Unblock implements Backend.
func (b *IPSet) Unblock(ctx context.Context, prefixes []netip.Prefix) (err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.m.observe(opUnblock, time.Now(), &err)
	ps, err := normalizePrefixes(prefixes, b.cfg.IPv6)
	if err != nil {
		return fmt.Errorf("ipset unblock: %w", err)
	}
	var scripts [2]ipsetScript
	for _, p := range ps {
		f := familyOf(p)
		scripts[f].del(b.sets[f], p)
	}
	for _, f := range b.xt.fams {
		if scripts[f].n == 0 {
			continue
		}
		err := b.restore(ctx, f, &scripts[f])
		b.refreshCount(ctx, f)
		if err != nil {
			return fmt.Errorf("ipset unblock: remove %d entries from %s: %w", scripts[f].n, b.sets[f], err)
		}
		if b.log.Enabled(ctx, slog.LevelDebug) {
			b.log.Debug("set entries removed", "set", b.sets[f], "entries", scripts[f].n)
		}
	}
	return nil
}

// Sync implements Backend. For each family it lists the set once, then adds
// the missing entries, re-adds entries whose remaining timeout differs from
// the wanted one by more than a few seconds (or whose permanence differs),
// and deletes the entries want lacks, all in one `ipset restore`. Every
// entry of vigil's sets is vigil's; other sets are never touched.
func (b *IPSet) Sync(ctx context.Context, want []Ban) (res SyncResult, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.m.observe(opSync, time.Now(), &err)
	entries, err := normalizeBans(want, b.cfg.IPv6)
	if err != nil {
		return SyncResult{}, fmt.Errorf("ipset sync: %w", err)
	}
	byFam := splitEntries(entries)
	refreshed := 0
	for _, f := range b.xt.fams {
		cur, err := b.listSet(ctx, b.sets[f])
		if err != nil {
			return res, fmt.Errorf("ipset sync: %w", err)
		}
		var s ipsetScript
		p := planSet(cur.entries, byFam[f])
		for _, e := range p.adds {
			s.add(b.sets[f], e)
		}
		for _, d := range p.dels {
			s.del(b.sets[f], d)
		}
		err = b.restore(ctx, f, &s)
		if err != nil {
			b.refreshCount(ctx, f)
			return res, fmt.Errorf("ipset sync: apply %d changes to %s: %w", s.n, b.sets[f], err)
		}
		b.m.setEntries(f, len(byFam[f]))
		res.Added += p.added
		res.Removed += len(p.dels)
		refreshed += len(p.adds) - p.added
	}
	if res.Added > 0 || res.Removed > 0 || refreshed > 0 {
		b.log.Info("firewall synced", "added", res.Added, "removed", res.Removed, "refreshed", refreshed)
	}
	return res, nil
}

// setPlan is what Sync changes in one set.
type setPlan struct {
	adds  []entry        // missing entries and entries to refresh
	dels  []netip.Prefix // entries want lacks
	added int            // how many of adds were missing
}

// planSet diffs a set's entries (element → remaining seconds) against want.
func planSet(cur map[netip.Prefix]uint32, want []entry) setPlan {
	var p setPlan
	wanted := make(map[netip.Prefix]bool, len(want))
	for _, e := range want {
		wanted[e.prefix] = true
		t, ok := cur[e.prefix]
		switch {
		case !ok:
			p.adds = append(p.adds, e)
			p.added++
		case (t == 0) != (e.timeout == 0), absDiff(t, e.timeout) > syncTimeoutSlack:
			p.adds = append(p.adds, e)
		}
	}
	for c := range cur {
		if !wanted[c] {
			p.dels = append(p.dels, c)
		}
	}
	return p
}

// absDiff returns |a-b|.
func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// Snapshot implements Backend: `ipset list -o save` of both sets followed by
// `iptables -S CHAIN` of both families.
func (b *IPSet) Snapshot(ctx context.Context) (out []byte, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.m.observe(opSnapshot, time.Now(), &err)
	var buf bytes.Buffer
	for _, f := range b.xt.fams {
		fmt.Fprintf(&buf, "# ipset list -o save %s\n", b.sets[f])
		o, err := run(ctx, b.ipset, []string{"list", "-o", "save", b.sets[f]}, nil)
		if err != nil {
			if !strings.Contains(err.Error(), "does not exist") {
				return nil, fmt.Errorf("ipset snapshot: %w", err)
			}
			buf.WriteString("# set does not exist\n")
		}
		buf.Write(o)
	}
	for _, f := range b.xt.fams {
		s, err := b.xt.snapshot(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("ipset snapshot: %w", err)
		}
		buf.Write(s)
	}
	return buf.Bytes(), nil
}

// Teardown implements Backend: it removes the jumps, the match rules and the
// chain, then destroys the sets. A set that something else still references
// is kept and logged.
func (b *IPSet) Teardown(ctx context.Context) (err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.m.observe(opTeardown, time.Now(), &err)
	for _, f := range b.xt.fams {
		if err := b.xt.teardown(ctx, f); err != nil {
			return fmt.Errorf("ipset teardown: %w", err)
		}
		set := b.sets[f]
		if _, err := b.header(ctx, set); errors.Is(err, errSetMissing) {
			continue
		}
		if _, err := run(ctx, b.ipset, []string{"destroy", set}, nil); err != nil {
			if strings.Contains(err.Error(), "in use") {
				b.log.Warn("set kept: still referenced by rules vigil does not own", "set", set)
				continue
			}
			return fmt.Errorf("ipset teardown: destroy %s: %w", set, err)
		}
		b.m.setEntries(f, 0)
	}
	b.log.Info("firewall removed", "chain", b.cfg.Chain, "set", b.cfg.SetName)
	return nil
}
