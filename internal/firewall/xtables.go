package firewall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-iptables/iptables"
)

// filterTable is the only table vigil touches.
const filterTable = "filter"

// versionTimeout bounds `iptables --version` at construction.
const versionTimeout = 10 * time.Second

// xtables manages vigil's chain, its jumps and its rules in the filter table
// for each enabled family, through go-iptables for single rules and
// iptables-restore --noflush for batches. It is not safe for concurrent use;
// the backends serialise calls.
type xtables struct {
	cfg     Config
	log     *slog.Logger
	fams    []family
	ipt     [2]*iptables.IPTables
	bin     [2]string // iptables, ip6tables
	restore [2]string // iptables-restore, ip6tables-restore
	mode    string    // "nf_tables", "legacy" or "" if unknown
	version string    // first line of `iptables --version`
}

// newXtables resolves the iptables binaries for the enabled families and
// detects once whether iptables is the nf_tables or the legacy variant.
func newXtables(backend string, cfg Config, log *slog.Logger) (*xtables, error) {
	x := &xtables{cfg: cfg, log: log, fams: []family{v4}}
	if cfg.IPv6 {
		x.fams = append(x.fams, v6)
	}
	for _, f := range x.fams {
		name, restore, proto := "iptables", "iptables-restore", iptables.ProtocolIPv4
		if f == v6 {
			name, restore, proto = "ip6tables", "ip6tables-restore", iptables.ProtocolIPv6
		}
		path, err := lookPath(backend, name)
		if err != nil {
			return nil, err
		}
		if x.restore[f], err = lookPath(backend, restore); err != nil {
			return nil, err
		}
		x.bin[f] = path
		// Never NewWithProtocol: it passes --wait without a timeout, which
		// blocks forever while another program holds the xtables lock.
		ipt, err := iptables.New(iptables.IPFamily(proto), iptables.Timeout(cfg.lockWaitSeconds()), iptables.Path(path))
		if err != nil {
			return nil, fmt.Errorf("firewall backend %q: init %s: %w", backend, name, err)
		}
		x.ipt[f] = ipt
	}
	ctx, cancel := context.WithTimeout(context.Background(), versionTimeout)
	defer cancel()
	out, err := run(ctx, x.bin[v4], []string{"--version"}, nil)
	if err != nil {
		return nil, fmt.Errorf("firewall backend %q: detect iptables variant: %w", backend, err)
	}
	x.version, x.mode = parseVersion(out)
	log.Info("iptables detected", "version", x.version, "iptables_mode", x.mode)
	return x, nil
}

// parseVersion returns the first line of `iptables --version` and the
// variant it names: "nf_tables", "legacy" or "" (old iptables that name none,
// which are legacy).
func parseVersion(out []byte) (version, mode string) {
	line, _, _ := bytes.Cut(out, []byte("\n"))
	version = strings.TrimSpace(string(line))
	switch {
	case strings.Contains(version, "(nf_tables)"):
		mode = "nf_tables"
	case strings.Contains(version, "(legacy)"):
		mode = "legacy"
	}
	return version, mode
}

// call runs one go-iptables call after checking ctx (go-iptables takes no
// context), classifying its error.
func (x *xtables) call(ctx context.Context, what string, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return wrapXT(what, fn())
}

// builtin reports whether chain always exists in the filter table.
func builtin(chain string) bool {
	return chain == "INPUT" || chain == "FORWARD" || chain == "OUTPUT"
}

// chainExists reports whether chain exists in family f's filter table.
func (x *xtables) chainExists(ctx context.Context, f family, chain string) (bool, error) {
	var ok bool
	err := x.call(ctx, fmt.Sprintf("%s: check chain %s", f, chain), func() (err error) {
		ok, err = x.ipt[f].ChainExists(filterTable, chain)
		return err
	})
	return ok, err
}

// list returns the rules of vigil's chain in family f and whether the chain
// exists.
func (x *xtables) list(ctx context.Context, f family) ([]rule, bool, error) {
	var lines []string
	err := x.call(ctx, fmt.Sprintf("%s: list chain %s", f, x.cfg.Chain), func() (err error) {
		lines, err = x.ipt[f].List(filterTable, x.cfg.Chain)
		return err
	})
	if err != nil {
		// A missing chain exits with status 1, with a message that differs
		// between variants (nf_tables without a filter table even calls it
		// "incompatible"); go-iptables' ChainExists relies on the same.
		var ierr *iptables.Error
		if errors.As(err, &ierr) && ierr.ExitStatus() == 1 && !errors.Is(err, ErrLocked) {
			return nil, false, nil
		}
		return nil, false, err
	}
	l, err := parseListing([]byte(strings.Join(lines, "\n")))
	if err != nil {
		return nil, false, err
	}
	rules := l.rules[:0]
	for _, r := range l.rules {
		if r.chain == x.cfg.Chain {
			rules = append(rules, r)
		}
	}
	return rules, true, nil
}

// apply deletes dels and appends adds in vigil's chain of family f in one
// iptables-restore --noflush transaction.
func (x *xtables) apply(ctx context.Context, f family, dels, adds [][]string) error {
	if len(dels) == 0 && len(adds) == 0 {
		return nil
	}
	script := restoreScript(x.cfg.Chain, dels, adds)
	args := []string{"--noflush", "--wait", strconv.Itoa(x.cfg.lockWaitSeconds())}
	if _, err := run(ctx, x.restore[f], args, script); err != nil {
		return fmt.Errorf("%s: apply %d deletions and %d additions to chain %s: %w", f, len(dels), len(adds), x.cfg.Chain, err)
	}
	return nil
}

// setup makes vigil's chain exist in family f, deletes the owned rules that
// keep rejects (left over from another backend or target), appends match
// when it is not nil and missing, and inserts the jumps from every parent
// chain at position 1. It returns how many owned rules it kept.
func (x *xtables) setup(ctx context.Context, f family, keep func(rule) bool, match []string) (kept int, err error) {
	chain := x.cfg.Chain
	rules, exists, err := x.list(ctx, f)
	if err != nil {
		return 0, err
	}
	if !exists {
		if err := x.call(ctx, fmt.Sprintf("%s: create chain %s", f, chain), func() error {
			return x.ipt[f].NewChain(filterTable, chain)
		}); err != nil {
			return 0, err
		}
		x.log.Info("chain created", "family", f.String(), "chain", chain)
	}
	var dels [][]string
	for _, r := range rules {
		switch {
		case !r.owned():
		case keep(r):
			kept++
		default:
			dels = append(dels, r.args)
		}
	}
	if len(dels) > 0 {
		if err := x.apply(ctx, f, dels, nil); err != nil {
			return 0, err
		}
		x.log.Info("stale rules removed", "family", f.String(), "chain", chain, "rules", len(dels))
	}
	if match != nil {
		if err := x.call(ctx, fmt.Sprintf("%s: add match rule to %s", f, chain), func() error {
			return x.ipt[f].AppendUnique(filterTable, chain, match...)
		}); err != nil {
			return 0, err
		}
	}
	jumped := 0
	for _, parent := range x.cfg.ParentChains {
		if !builtin(parent) {
			ok, err := x.chainExists(ctx, f, parent)
			if err != nil {
				return 0, err
			}
			if !ok {
				x.log.Warn("parent chain missing: bans do not apply to its traffic", "family", f.String(), "chain", parent)
				continue
			}
		}
		if err := x.call(ctx, fmt.Sprintf("%s: jump from %s to %s", f, parent, chain), func() error {
			return x.ipt[f].InsertUnique(filterTable, parent, 1, jumpArgs(chain)...)
		}); err != nil {
			return 0, err
		}
		jumped++
	}
	if jumped == 0 {
		return 0, fmt.Errorf("%s: none of the parent chains %v exists: bans would have no effect", f, x.cfg.ParentChains)
	}
	return kept, nil
}

// teardown removes vigil's rules from its chain in family f, and the jumps
// and the chain itself unless the chain still holds rules vigil does not own
// (those are kept, with the jumps that make them effective, and logged).
func (x *xtables) teardown(ctx context.Context, f family) error {
	chain := x.cfg.Chain
	rules, exists, err := x.list(ctx, f)
	if err != nil || !exists {
		return err
	}
	var dels [][]string
	foreign := 0
	for _, r := range rules {
		if r.owned() {
			dels = append(dels, r.args)
		} else {
			foreign++
		}
	}
	if err := x.apply(ctx, f, dels, nil); err != nil {
		return err
	}
	if foreign > 0 {
		x.log.Warn("chain kept: it holds rules vigil does not own", "family", f.String(), "chain", chain, "rules", foreign)
		return nil
	}
	for _, parent := range x.cfg.ParentChains {
		if !builtin(parent) {
			ok, err := x.chainExists(ctx, f, parent)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		if err := x.call(ctx, fmt.Sprintf("%s: remove jump from %s", f, parent), func() error {
			return x.ipt[f].DeleteIfExists(filterTable, parent, jumpArgs(chain)...)
		}); err != nil {
			return err
		}
	}
	return x.call(ctx, fmt.Sprintf("%s: delete chain %s", f, chain), func() error {
		return x.ipt[f].DeleteChain(filterTable, chain)
	})
}

// snapshot returns `iptables -S CHAIN` of family f, or a comment line when
// the chain does not exist.
func (x *xtables) snapshot(ctx context.Context, f family) ([]byte, error) {
	name := "iptables"
	if f == v6 {
		name = "ip6tables"
	}
	args := []string{"--wait", strconv.Itoa(x.cfg.lockWaitSeconds()), "-t", filterTable, "-S", x.cfg.Chain}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s -t filter -S %s\n", name, x.cfg.Chain)
	out, err := run(ctx, x.bin[f], args, nil)
	if err != nil {
		ok, cerr := x.chainExists(ctx, f, x.cfg.Chain)
		if cerr != nil || ok {
			return nil, fmt.Errorf("%s: snapshot chain %s: %w", f, x.cfg.Chain, err)
		}
		b.WriteString("# chain does not exist\n")
		return b.Bytes(), nil
	}
	b.Write(out)
	return b.Bytes(), nil
}
