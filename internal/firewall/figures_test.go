package firewall

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/netns"
)

// TestFirewallFigures measures the figures docs/FIREWALL.md reports. It is
// a system test (root, network namespaces) that only runs with
// VIGIL_FW_FIGURES=1, and prints a table:
//
//	VIGIL_FW_FIGURES=1 go test -run '^TestFirewallFigures$' -v ./internal/firewall
//
// It checks what it measures (entry counts, that each ban is in place) but
// asserts no timing: the numbers depend on the machine.
func TestFirewallFigures(t *testing.T) {
	if os.Getenv("VIGIL_FW_FIGURES") != "1" && os.Getenv(childEnv) == "" {
		t.Skip("set VIGIL_FW_FIGURES=1 to measure the firewall figures")
	}
	inServer(t, xtBinaries("ipset"), func(t *testing.T, tp topology) {
		measureFigures(t, tp)
	})
}

// figureBans returns n distinct /32 bans from 100.64.0.0/10 (shared address
// space, never one of the test's own addresses), starting at offset.
func figureBans(offset, n int, timeout time.Duration) []Ban {
	out := make([]Ban, n)
	for i := range out {
		v := uint32(100)<<24 | uint32(64)<<16 + uint32(offset+i+1)
		a := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		out[i] = Ban{Prefix: netip.PrefixFrom(a, 32), Timeout: timeout}
	}
	return out
}

// percentile returns the p-th percentile (0..100) of sorted ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	i := int(float64(len(ds)-1) * p / 100)
	return ds[i]
}

// connectCost returns the median per-connection time of rounds runs of n
// sequential TCP connections from the good client to the server.
func connectCost(t *testing.T, tp topology, n, rounds int) time.Duration {
	t.Helper()
	good := &netns.NS{Name: tp.Good}
	var per []time.Duration
	for range rounds {
		d, err := good.DialLoop(context.Background(), target(tp.ServerGoodV4), n, allowedTimeout)
		if err != nil {
			t.Fatal(err)
		}
		per = append(per, d/time.Duration(n))
	}
	slices.Sort(per)
	return per[len(per)/2]
}

// banLatency blocks n new addresses one at a time and returns the sorted
// durations of the Block call and of Block plus the kernel confirming the
// entry (confirm runs `ipset test` or `iptables -C`).
func banLatency(t *testing.T, b Backend, offset, n int, confirm func(Ban) *exec.Cmd) (block, confirmed []time.Duration) {
	t.Helper()
	ctx := context.Background()
	for _, ban := range figureBans(offset, n, time.Hour) {
		start := time.Now()
		if err := b.Block(ctx, []Ban{ban}); err != nil {
			t.Fatal(err)
		}
		d := time.Since(start)
		if out, err := confirm(ban).CombinedOutput(); err != nil {
			t.Fatalf("ban of %s not confirmed: %v: %s", ban.Prefix, err, out)
		}
		block = append(block, d)
		confirmed = append(confirmed, time.Since(start))
	}
	slices.Sort(block)
	slices.Sort(confirmed)
	return block, confirmed
}

// measureFigures is the in-namespace half of TestFirewallFigures.
func measureFigures(t *testing.T, tp topology) {
	ctx := context.Background()
	const (
		setBans    = 100_000
		ruleBans   = 10_000
		latencyN   = 200
		connects   = 2000
		rounds     = 3
		figureTTL  = time.Hour
		ruleSample = 1_000
	)
	var report strings.Builder
	row := func(format string, args ...any) { fmt.Fprintf(&report, format+"\n", args...) }
	timeIt := func(f func() error) time.Duration {
		start := time.Now()
		if err := f(); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}

	baseline := connectCost(t, tp, connects, rounds)

	// ipset.
	c := DefaultConfig()
	c.Backend, c.IPv6 = BackendIPSet, false
	ipsetB, _, _ := newSystemBackend(t, c)
	if err := ipsetB.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	emptySet := connectCost(t, tp, connects, rounds)
	bans := figureBans(0, setBans, figureTTL)
	var res SyncResult
	syncEmpty := timeIt(func() (err error) { res, err = ipsetB.Sync(ctx, bans); return err })
	if res.Added != setBans {
		t.Fatalf("Sync added %d, want %d", res.Added, setBans)
	}
	if out := sh(t, "ipset", "list", "-t", "vigil4"); !strings.Contains(out, fmt.Sprintf("Number of entries: %d", setBans)) {
		t.Fatalf("set after Sync:\n%s", out)
	}
	syncFull := timeIt(func() (err error) { res, err = ipsetB.Sync(ctx, bans); return err })
	if res != (SyncResult{}) {
		t.Fatalf("re-Sync changed %+v", res)
	}
	setLatency, setConfirmed := banLatency(t, ipsetB, setBans, latencyN, func(b Ban) *exec.Cmd {
		return exec.Command("ipset", "test", "vigil4", b.Prefix.Addr().String())
	})
	fullSet := connectCost(t, tp, connects, rounds)
	setTeardown := timeIt(func() error { return ipsetB.Teardown(ctx) })

	// iptables.
	c.Backend = BackendIPTables
	iptB, _, _ := newSystemBackend(t, c)
	if err := iptB.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	sample := timeIt(func() (err error) { res, err = iptB.Sync(ctx, bans[:ruleSample]); return err })
	ruleSync := timeIt(func() (err error) { res, err = iptB.Sync(ctx, bans[:ruleBans]); return err })
	if res.Added != ruleBans-ruleSample {
		t.Fatalf("iptables Sync added %d, want %d", res.Added, ruleBans-ruleSample)
	}
	ruleResync := timeIt(func() (err error) { res, err = iptB.Sync(ctx, bans[:ruleBans]); return err })
	if res != (SyncResult{}) {
		t.Fatalf("iptables re-Sync changed %+v", res)
	}
	ruleLatency, ruleConfirmed := banLatency(t, iptB, setBans+latencyN, latencyN/4, func(b Ban) *exec.Cmd {
		return exec.Command("iptables", append([]string{"-C", "VIGIL"}, banRuleArgs(b.Prefix, TargetDrop)...)...)
	})
	rules := connectCost(t, tp, connects, rounds)
	ruleTeardown := timeIt(func() error { return iptB.Teardown(ctx) })
	emptyLatency := func() []time.Duration {
		if err := iptB.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := iptB.Teardown(ctx); err != nil {
				t.Fatal(err)
			}
		}()
		l, _ := banLatency(t, iptB, setBans+2*latencyN, latencyN/4, func(b Ban) *exec.Cmd {
			return exec.Command("iptables", append([]string{"-C", "VIGIL"}, banRuleArgs(b.Prefix, TargetDrop)...)...)
		})
		return l
	}()

	row("| figure | ipset (hash:net) | iptables (rule per ban) |")
	row("|---|---:|---:|")
	row("| start-up Sync into an empty kernel | %d bans: %s | %d bans: %s (%d bans: %s) |",
		setBans, syncEmpty.Round(time.Millisecond), ruleBans, ruleSync.Round(time.Millisecond)+sample.Round(time.Millisecond), ruleSample, sample.Round(time.Millisecond))
	row("| re-Sync, nothing to change | %d bans: %s | %d bans: %s |", setBans, syncFull.Round(time.Millisecond), ruleBans, ruleResync.Round(time.Millisecond))
	row("| Block of one address, p50 / p99 | %s / %s (set holds %d) | %s / %s (chain holds %d; %s p50 with an empty chain) |",
		percentile(setLatency, 50).Round(10*time.Microsecond), percentile(setLatency, 99).Round(10*time.Microsecond), setBans,
		percentile(ruleLatency, 50).Round(10*time.Microsecond), percentile(ruleLatency, 99).Round(10*time.Microsecond), ruleBans,
		percentile(emptyLatency, 50).Round(10*time.Microsecond))
	row("| Block + kernel confirms (ipset test / iptables -C), p50 / p99 | %s / %s | %s / %s |",
		percentile(setConfirmed, 50).Round(10*time.Microsecond), percentile(setConfirmed, 99).Round(10*time.Microsecond),
		percentile(ruleConfirmed, 50).Round(10*time.Microsecond), percentile(ruleConfirmed, 99).Round(10*time.Microsecond))
	row("| TCP connect from a client that is not banned (median of %d×%d) | %s with 0 entries, %s with %d | %s with %d rules |",
		rounds, connects, emptySet.Round(time.Microsecond), fullSet.Round(time.Microsecond), setBans, rules.Round(time.Microsecond), ruleBans)
	row("| Teardown | %s (%d entries) | %s (%d rules) |", setTeardown.Round(time.Millisecond), setBans+latencyN, ruleTeardown.Round(time.Millisecond), ruleBans+latencyN/4)
	row("")
	row("TCP connect without any vigil rule: %s", baseline.Round(time.Microsecond))
	t.Logf("firewall figures (%s):\n%s", sh(t, "iptables", "--version"), report.String())
}
