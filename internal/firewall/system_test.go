package firewall

// System tests: real iptables, ip6tables and ipset, run inside network
// namespaces the tests create and delete. The parent test builds the
// topology (a "server" namespace joined to an "attacker" and a "good" client
// namespace by veth pairs, with a TCP listener in the server) and re-executes
// the test binary inside the server namespace (`ip netns exec`), where the
// child half runs the backend against that namespace's own firewall. The
// machine's own namespace and firewall are never touched.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vigil-sec/vigil/internal/netns"
)

func TestMain(m *testing.M) {
	if code, ok := netns.RunHelper(); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// childEnv carries the topology (JSON) to the in-namespace half of a test.
const childEnv = "VIGIL_FW_CHILD"

// Timeouts of the connection probes: a blocked connect must fail within
// blockedTimeout (DROP makes it hang until then); an allowed one gets much
// longer, so a loaded machine does not turn into a false failure.
const (
	blockedTimeout = time.Second
	allowedTimeout = 10 * time.Second
	listenPort     = "8080"
)

// topology names the namespaces and addresses of a system test.
type topology struct {
	Server, Attacker, Good string
	// Client addresses.
	AttackerV4, AttackerV6, GoodV4, GoodV6 netip.Addr
	// Server addresses facing each client.
	ServerAttackerV4, ServerAttackerV6, ServerGoodV4, ServerGoodV6 netip.Addr
}

// target returns host:port of the listener on a.
func target(a netip.Addr) string { return netip.AddrPortFrom(a, 8080).String() }

// xtBinaries returns the binaries every iptables-based test needs, plus
// extra.
func xtBinaries(extra ...string) []string {
	return append([]string{"iptables", "ip6tables", "iptables-restore", "ip6tables-restore"}, extra...)
}

// runRegexp returns a -test.run pattern that matches exactly the test name.
func runRegexp(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// inServer runs body inside a fresh server namespace. In the parent it
// checks the prerequisites (root, ip and binaries), builds the topology,
// starts the listener and re-executes this very test inside the server
// namespace; in that child it runs body.
func inServer(t *testing.T, binaries []string, body func(t *testing.T, tp topology)) {
	t.Helper()
	if env := os.Getenv(childEnv); env != "" {
		var tp topology
		if err := json.Unmarshal([]byte(env), &tp); err != nil {
			t.Fatalf("decode topology: %v", err)
		}
		body(t, tp)
		return
	}
	netns.Require(t, binaries...)
	p := netip.MustParsePrefix
	server, attacker, good := netns.New(t, "srv"), netns.New(t, "att"), netns.New(t, "good")
	netns.Link(t, server, []netip.Prefix{p("10.77.1.1/24"), p("fd77:1::1/64")}, attacker, []netip.Prefix{p("10.77.1.2/24"), p("fd77:1::2/64")})
	netns.Link(t, server, []netip.Prefix{p("10.77.2.1/24"), p("fd77:2::1/64")}, good, []netip.Prefix{p("10.77.2.2/24"), p("fd77:2::2/64")})
	server.Listen(t, ":"+listenPort)
	a := netip.MustParseAddr
	tp := topology{
		Server: server.Name, Attacker: attacker.Name, Good: good.Name,
		AttackerV4: a("10.77.1.2"), AttackerV6: a("fd77:1::2"), GoodV4: a("10.77.2.2"), GoodV6: a("fd77:2::2"),
		ServerAttackerV4: a("10.77.1.1"), ServerAttackerV6: a("fd77:1::1"), ServerGoodV4: a("10.77.2.1"), ServerGoodV6: a("fd77:2::1"),
	}
	enc, err := json.Marshal(tp)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd, err := server.Self(ctx, []string{childEnv + "=" + string(enc)},
		"-test.run="+runRegexp(t.Name()), "-test.v", "-test.count=1", "-test.timeout=9m")
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.CombinedOutput()
	t.Logf("in-namespace half (%s):\n%s", server.Name, out)
	if err != nil {
		t.Fatalf("in-namespace half failed: %v", err)
	}
	if !bytes.Contains(out, []byte("--- PASS: "+strings.Split(t.Name(), "/")[0])) {
		t.Fatalf("in-namespace half did not run and pass %s", t.Name())
	}
}

// sh runs a command in the current (server) namespace and returns its
// output; it fails the test on error.
func sh(t *testing.T, argv ...string) string {
	t.Helper()
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// filterState returns the whole filter table of both families and the list
// of sets, for before/after comparisons.
func filterState(t *testing.T) string {
	t.Helper()
	return sh(t, "iptables", "-S") + sh(t, "ip6tables", "-S") + sh(t, "ipset", "list", "-n")
}

// probe reports whether a TCP connection from namespace ns to addr works.
func probe(t *testing.T, ns, addr string, expectOK bool) bool {
	t.Helper()
	n := &netns.NS{Name: ns}
	if !expectOK {
		err := n.Dial(context.Background(), addr, blockedTimeout)
		if err != nil && !errors.Is(err, netns.ErrHelper) {
			t.Fatalf("probe %s from %s: %v", addr, ns, err)
		}
		return err == nil
	}
	// An allowed connect may fail fast right after a ban is lifted: while
	// the ban dropped the client's IPv6 neighbour solicitations, its
	// neighbour entry for the server can still be resolving and turn FAILED
	// (EHOSTUNREACH) a moment later. So it is retried until allowedTimeout;
	// a ban still in place fails every attempt.
	deadline := time.Now().Add(allowedTimeout)
	for {
		left := time.Until(deadline)
		err := n.Dial(context.Background(), addr, left)
		if err == nil {
			return true
		}
		if !errors.Is(err, netns.ErrHelper) {
			t.Fatalf("probe %s from %s: %v", addr, ns, err)
		}
		if time.Until(deadline) < 300*time.Millisecond {
			t.Logf("probe %s from %s: %v", addr, ns, err)
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// expectReach checks every client/family pair: attacker reaches the server
// iff attackerOK, the good client always does.
func expectReach(t *testing.T, tp topology, attackerOK bool, step string) {
	t.Helper()
	var wg sync.WaitGroup
	type res struct {
		who, addr string
		want, got bool
	}
	results := make(chan res, 4)
	for _, c := range []struct {
		who, ns string
		srv     netip.Addr
		want    bool
	}{
		{"attacker", tp.Attacker, tp.ServerAttackerV4, attackerOK},
		{"attacker", tp.Attacker, tp.ServerAttackerV6, attackerOK},
		{"good", tp.Good, tp.ServerGoodV4, true},
		{"good", tp.Good, tp.ServerGoodV6, true},
	} {
		wg.Go(func() {
			results <- res{c.who, target(c.srv), c.want, probe(t, c.ns, target(c.srv), c.want)}
		})
	}
	wg.Wait()
	close(results)
	for r := range results {
		if r.got != r.want {
			t.Errorf("%s: %s connecting to %s: connected=%t, want %t", step, r.who, r.addr, r.got, r.want)
		}
	}
}

// newSystemBackend builds a backend for the current namespace.
func newSystemBackend(t *testing.T, c Config) (Backend, *prometheus.Registry, *bytes.Buffer) {
	t.Helper()
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	b, err := New(c, Options{Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug})), Registerer: reg})
	if err != nil {
		t.Fatalf("New(%s): %v", c.Backend, err)
	}
	return b, reg, &logs
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// metricValue returns the value of the gauge or counter name whose labels
// include labels (pairs of name, value).
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue metric
				}
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s%q not found", name, labels)
	return 0
}

// hostPrefix returns a's single-address prefix.
func hostPrefix(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, a.BitLen()) }

func TestSystemBackends(t *testing.T) {
	tests := []struct {
		backend, target string
		binaries        []string
	}{
		{BackendIPTables, TargetReject, xtBinaries("ipset")},
		{BackendIPSet, TargetDrop, xtBinaries("ipset")},
	}
	for _, tc := range tests {
		t.Run(tc.backend, func(t *testing.T) {
			inServer(t, tc.binaries, func(t *testing.T, tp topology) {
				exerciseBackend(t, tp, tc.backend, tc.target)
			})
		})
	}
}

// exerciseBackend is the in-namespace half of TestSystemBackends.
func exerciseBackend(t *testing.T, tp topology, backend, target string) {
	ctx := context.Background()
	// Things vigil does not own, which must survive everything below.
	sh(t, "iptables", "-A", "INPUT", "-s", "203.0.113.51/32", "-j", "DROP")
	sh(t, "ip6tables", "-A", "INPUT", "-s", "2001:db8:ffff::51/128", "-j", "DROP")
	sh(t, "ipset", "create", "other4", "hash:ip", "family", "inet")
	sh(t, "ipset", "add", "other4", "203.0.113.52")
	before := filterState(t)

	c := DefaultConfig()
	c.Backend, c.Target = backend, target
	b, reg, logs := newSystemBackend(t, c)
	t.Cleanup(func() { t.Logf("backend logs:\n%s", logs) })

	expectReach(t, tp, true, "before setup")
	if err := b.Setup(ctx); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	afterSetup := filterState(t)
	if err := b.Setup(ctx); err != nil {
		t.Fatalf("second Setup: %v", err)
	}
	if again := filterState(t); again != afterSetup {
		t.Errorf("Setup is not idempotent:\nfirst:\n%s\nsecond:\n%s", afterSetup, again)
	}
	for _, cmd := range []string{"iptables", "ip6tables"} {
		in := sh(t, cmd, "-S", "INPUT")
		if n := strings.Count(in, "-j VIGIL"); n != 1 {
			t.Errorf("%s INPUT has %d jumps to VIGIL, want 1:\n%s", cmd, n, in)
		}
		if lines := strings.Split(in, "\n"); len(lines) < 2 || !strings.HasSuffix(lines[1], "-j VIGIL") {
			t.Errorf("%s: the jump is not the first rule of INPUT:\n%s", cmd, in)
		}
	}
	expectReach(t, tp, true, "after setup")

	attack := []Ban{{Prefix: hostPrefix(tp.AttackerV4), Timeout: time.Hour}, {Prefix: hostPrefix(tp.AttackerV6), Timeout: time.Hour}}
	if err := b.Block(ctx, attack); err != nil {
		t.Fatalf("Block: %v", err)
	}
	expectReach(t, tp, false, "after block")
	state := filterState(t)
	if err := b.Block(ctx, attack); err != nil {
		t.Fatalf("second Block: %v", err)
	}
	if backend == BackendIPTables { // ipset entries' timeouts tick, rules do not
		if again := filterState(t); again != state {
			t.Errorf("Block is not idempotent:\nfirst:\n%s\nsecond:\n%s", state, again)
		}
	}
	snap, err := b.Snapshot(ctx)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	for _, a := range []netip.Addr{tp.AttackerV4, tp.AttackerV6} {
		if !bytes.Contains(snap, []byte(a.String())) {
			t.Errorf("Snapshot lacks %s:\n%s", a, snap)
		}
	}

	if err := b.Unblock(ctx, []netip.Prefix{hostPrefix(tp.AttackerV4), hostPrefix(tp.AttackerV6)}); err != nil {
		t.Fatalf("Unblock: %v", err)
	}
	expectReach(t, tp, true, "after unblock")
	if err := b.Unblock(ctx, []netip.Prefix{hostPrefix(tp.AttackerV4)}); err != nil {
		t.Errorf("Unblock of an absent entry: %v", err)
	}

	// Sync: a stale entry vigil owns goes, missing ones come, a foreign rule
	// in vigil's own chain stays.
	sh(t, "iptables", "-A", c.Chain, "-s", "203.0.113.50/32", "-j", "ACCEPT")
	stale := netip.MustParsePrefix("198.51.100.0/24")
	if err := b.Block(ctx, []Ban{{Prefix: stale}}); err != nil {
		t.Fatalf("Block stale: %v", err)
	}
	want := append(attack[:2:2], Ban{Prefix: netip.MustParsePrefix("2001:db8::9/128")})
	res, err := b.Sync(ctx, want)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if res != (SyncResult{Added: 3, Removed: 1}) {
		t.Errorf("Sync = %+v, want {Added:3 Removed:1}", res)
	}
	expectReach(t, tp, false, "after sync")
	if !strings.Contains(sh(t, "iptables", "-S", c.Chain), "-s 203.0.113.50/32 -j ACCEPT") {
		t.Errorf("Sync removed a rule vigil does not own")
	}
	if res, err := b.Sync(ctx, want); err != nil || res != (SyncResult{}) {
		t.Errorf("second Sync = %+v, %v; want no changes", res, err)
	}
	if v4, v6 := metricValue(t, reg, "vigil_firewall_entries", "family", "ipv4"), metricValue(t, reg, "vigil_firewall_entries", "family", "ipv6"); v4 != 1 || v6 != 2 {
		t.Errorf("entries gauge = %v (ipv4), %v (ipv6); want 1, 2", v4, v6)
	}

	// Drift: the attacker's entry is deleted by hand; Sync restores it.
	if backend == BackendIPTables {
		sh(t, append([]string{"iptables", "-D", c.Chain}, banRuleArgs(hostPrefix(tp.AttackerV4), target)...)...)
		sh(t, append([]string{"ip6tables", "-D", c.Chain}, banRuleArgs(hostPrefix(tp.AttackerV6), target)...)...)
	} else {
		sh(t, "ipset", "del", c.SetName+"4", tp.AttackerV4.String())
		sh(t, "ipset", "del", c.SetName+"6", tp.AttackerV6.String())
	}
	expectReach(t, tp, true, "after manual deletion")
	if res, err := b.Sync(ctx, want); err != nil || res != (SyncResult{Added: 2}) {
		t.Errorf("Sync after drift = %+v, %v; want {Added:2}", res, err)
	}
	expectReach(t, tp, false, "after drift sync")

	// Teardown leaves the filter table and the sets as they were.
	sh(t, "iptables", "-D", c.Chain, "-s", "203.0.113.50/32", "-j", "ACCEPT")
	if err := b.Teardown(ctx); err != nil {
		t.Fatalf("Teardown: %v", err)
	}
	if after := filterState(t); after != before {
		t.Errorf("Teardown did not restore the firewall:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	expectReach(t, tp, true, "after teardown")
	if n := metricValue(t, reg, "vigil_firewall_operations_total", "op", opBlock, "result", "ok"); n != 3 {
		t.Errorf("block ok counter = %v, want 3", n)
	}
}

func TestSystemTeardownKeepsForeignRules(t *testing.T) {
	inServer(t, xtBinaries(), func(t *testing.T, tp topology) {
		ctx := context.Background()
		c := DefaultConfig()
		c.Backend, c.IPv6 = BackendIPTables, false
		b, _, logs := newSystemBackend(t, c)
		if err := b.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		if err := b.Block(ctx, []Ban{{Prefix: hostPrefix(tp.AttackerV4)}}); err != nil {
			t.Fatal(err)
		}
		sh(t, "iptables", "-A", c.Chain, "-s", "203.0.113.50/32", "-j", "ACCEPT")
		if err := b.Teardown(ctx); err != nil {
			t.Fatal(err)
		}
		got := sh(t, "iptables", "-S", c.Chain)
		if want := "-N VIGIL\n-A VIGIL -s 203.0.113.50/32 -j ACCEPT\n"; got != want {
			t.Errorf("chain after Teardown:\n%s\nwant only the foreign rule:\n%s", got, want)
		}
		if !strings.Contains(sh(t, "iptables", "-S", "INPUT"), "-j VIGIL") {
			t.Error("the jump to a chain that still holds foreign rules was removed")
		}
		if !strings.Contains(logs.String(), "chain kept") {
			t.Errorf("no warning about the kept chain in the logs:\n%s", logs)
		}
		expectReach(t, tp, true, "after teardown")
	})
}

func TestSystemIPSetTimeout(t *testing.T) {
	inServer(t, xtBinaries("ipset"), func(t *testing.T, tp topology) {
		ctx := context.Background()
		c := DefaultConfig()
		c.Backend = BackendIPSet
		b, _, _ := newSystemBackend(t, c)
		if err := b.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Teardown(ctx) })
		if err := b.Block(ctx, []Ban{{Prefix: hostPrefix(tp.AttackerV4), Timeout: 2 * time.Second}, {Prefix: hostPrefix(tp.AttackerV6), Timeout: 2 * time.Second}}); err != nil {
			t.Fatal(err)
		}
		inSet := func() bool {
			return exec.Command("ipset", "test", c.SetName+"4", tp.AttackerV4.String()).Run() == nil ||
				exec.Command("ipset", "test", c.SetName+"6", tp.AttackerV6.String()).Run() == nil
		}
		if !inSet() {
			t.Fatal("the entries are not in the sets right after Block")
		}
		deadline := time.Now().Add(60 * time.Second)
		for inSet() {
			if time.Now().After(deadline) {
				t.Fatalf("entries with a 2 s timeout still present after 60 s:\n%s", sh(t, "ipset", "list"))
			}
			time.Sleep(200 * time.Millisecond)
		}
		expectReach(t, tp, true, "after expiry")
	})
}

func TestSystemIPSetFull(t *testing.T) {
	inServer(t, xtBinaries("ipset"), func(t *testing.T, tp topology) {
		ctx := context.Background()
		c := DefaultConfig()
		c.Backend, c.MaxElem = BackendIPSet, 4
		b, reg, logs := newSystemBackend(t, c)
		if err := b.Setup(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Teardown(ctx) })
		var bans []Ban
		for i := 1; i <= 6; i++ {
			bans = append(bans, Ban{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), 32)})
		}
		err := b.Block(ctx, bans)
		if !errors.Is(err, ErrSetFull) {
			t.Fatalf("Block of 6 into maxelem 4: err = %v, want ErrSetFull", err)
		}
		if n := metricValue(t, reg, "vigil_firewall_set_full_total", "family", "ipv4"); n != 1 {
			t.Errorf("set_full_total{ipv4} = %v, want 1", n)
		}
		if n := metricValue(t, reg, "vigil_firewall_entries", "family", "ipv4"); n != 4 {
			t.Errorf("entries{ipv4} = %v, want 4", n)
		}
		if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "raise firewall.maxelem") {
			t.Errorf("no Error log telling to raise firewall.maxelem:\n%s", logs)
		}
		// Still working: unblocking and blocking within capacity succeed.
		if err := b.Unblock(ctx, []netip.Prefix{bans[0].Prefix}); err != nil {
			t.Fatal(err)
		}
		if err := b.Block(ctx, []Ban{{Prefix: hostPrefix(tp.AttackerV4)}, {Prefix: hostPrefix(tp.AttackerV6)}}); err != nil {
			t.Fatal(err)
		}
		expectReach(t, tp, false, "full set still enforced")

		// Raising maxelem resizes the live set and keeps its entries.
		c.MaxElem = 16
		b2, _, _ := newSystemBackend(t, c)
		if err := b2.Setup(ctx); err != nil {
			t.Fatalf("Setup with a larger maxelem: %v", err)
		}
		list := sh(t, "ipset", "list", "-t", c.SetName+"4")
		if !strings.Contains(list, "maxelem 16") || !strings.Contains(list, "Number of entries: 4") {
			t.Errorf("set after resize:\n%s\nwant maxelem 16 and the 4 entries", list)
		}
		if err := b2.Block(ctx, bans); err != nil {
			t.Errorf("Block after resize: %v", err)
		}
		expectReach(t, tp, false, "after resize")
	})
}

func TestSystemLocked(t *testing.T) {
	legacy := []string{"iptables-legacy", "ip6tables-legacy", "iptables-legacy-restore", "ip6tables-legacy-restore"}
	inServer(t, legacy, func(t *testing.T, tp topology) {
		// Use the legacy variant (nf_tables ignores the xtables lock) with a
		// private lock file (XTABLES_LOCKFILE), so that holding the lock
		// never stalls other iptables users of this machine: /run is shared
		// with the host even inside `ip netns exec`.
		bin := t.TempDir()
		for name, to := range map[string]string{
			"iptables": "iptables-legacy", "ip6tables": "ip6tables-legacy",
			"iptables-restore": "iptables-legacy-restore", "ip6tables-restore": "ip6tables-legacy-restore",
		} {
			p, err := exec.LookPath(to)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(p, filepath.Join(bin, name)); err != nil {
				t.Fatal(err)
			}
		}
		t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		lockPath := filepath.Join(t.TempDir(), "xtables.lock")
		t.Setenv("XTABLES_LOCKFILE", lockPath)
		lock, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Close()

		c := DefaultConfig()
		c.Backend, c.LockWait = BackendIPTables, time.Second
		b, _, logs := newSystemBackend(t, c)
		if !strings.Contains(logs.String(), "iptables_mode=legacy") {
			t.Errorf("the legacy variant was not detected and logged:\n%s", logs)
		}
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- b.Setup(context.Background()) }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrLocked) {
				t.Errorf("Setup while the lock is held: err = %v, want ErrLocked", err)
			}
		case <-time.After(2 * time.Minute):
			t.Fatal("Setup hung while the xtables lock was held")
		}
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_UN); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := b.Setup(ctx); err != nil {
			t.Fatalf("Setup after the lock was released: %v", err)
		}
		if err := b.Block(ctx, []Ban{{Prefix: hostPrefix(tp.AttackerV4)}, {Prefix: hostPrefix(tp.AttackerV6)}}); err != nil {
			t.Fatal(err)
		}
		expectReach(t, tp, false, "legacy iptables ban")
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
			t.Fatal(err)
		}
		if err := b.Block(ctx, []Ban{{Prefix: netip.MustParsePrefix("198.51.100.1/32")}}); !errors.Is(err, ErrLocked) {
			t.Errorf("Block while the lock is held: err = %v, want ErrLocked", err)
		}
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_UN); err != nil {
			t.Fatal(err)
		}
		if err := b.Teardown(ctx); err != nil {
			t.Fatal(err)
		}
		expectReach(t, tp, true, "after teardown")
	})
}
