package firewall

import (
	"errors"
	"maps"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestParseSave(t *testing.T) {
	p := netip.MustParsePrefix
	tests := []struct {
		file, set string
		header    setHeader
		entries   map[netip.Prefix]uint32
	}{
		{"ipset-save-vigil4.txt", "vigil4",
			setHeader{typ: "hash:net", family: "inet", maxelem: 262144, hasTimeout: true, entries: 3},
			map[netip.Prefix]uint32{p("192.0.2.10/32"): 0, p("198.51.100.0/24"): 597, p("203.0.113.9/32"): 3}},
		{"ipset-save-vigil6.txt", "vigil6",
			setHeader{typ: "hash:net", family: "inet6", maxelem: 262144, hasTimeout: true, entries: 2},
			map[netip.Prefix]uint32{p("2001:db8::1/128"): 0, p("2001:db8:1::/48"): 7199}},
	}
	for _, tc := range tests {
		t.Run(tc.set, func(t *testing.T) {
			c, err := parseSave(fixture(t, tc.file), tc.set)
			if err != nil {
				t.Fatal(err)
			}
			if c.header != tc.header {
				t.Errorf("header = %+v, want %+v", c.header, tc.header)
			}
			if !maps.Equal(c.entries, tc.entries) {
				t.Errorf("entries = %v, want %v", c.entries, tc.entries)
			}
		})
	}
	if _, err := parseSave(fixture(t, "ipset-save-vigil4.txt"), "other"); err == nil {
		t.Error("parseSave of another set's listing: want error (no create line)")
	}
	if _, err := parseSave([]byte("create s hash:net family inet timeout 0\nadd s 300.1.1.1 timeout 1\n"), "s"); err == nil {
		t.Error("parseSave with a bad element: want error")
	}
}

func TestParseTerse(t *testing.T) {
	h, err := parseTerse(fixture(t, "ipset-list-t-vigil4.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := setHeader{typ: "hash:net", family: "inet", maxelem: 262144, hasTimeout: true, entries: 3}
	if h != want {
		t.Errorf("parseTerse = %+v, want %+v", h, want)
	}
	if _, err := parseTerse([]byte("garbage\n")); err == nil {
		t.Error("parseTerse(garbage): want error")
	}
	noTimeout, err := parseTerse([]byte("Name: x\nType: hash:ip\nHeader: family inet hashsize 1024 maxelem 65536 bucketsize 12\nNumber of entries: 0\n"))
	if err != nil || noTimeout.hasTimeout || noTimeout.maxelem != 65536 || noTimeout.typ != "hash:ip" {
		t.Errorf("parseTerse without timeout = %+v, %v", noTimeout, err)
	}
}

func TestIPSetScript(t *testing.T) {
	p := netip.MustParsePrefix
	var s ipsetScript
	s.add("vigil4", entry{p("192.0.2.1/32"), 600})
	s.add("vigil4", entry{p("198.51.100.0/24"), 0})
	s.add("vigil6", entry{p("2001:db8::/32"), 1})
	s.del("vigil6", p("2001:db8::7/128"))
	want := "add vigil4 192.0.2.1 timeout 600\n" +
		"add vigil4 198.51.100.0/24 timeout 0\n" +
		"add vigil6 2001:db8::/32 timeout 1\n" +
		"del vigil6 2001:db8::7\n" +
		"COMMIT\n"
	if got := string(s.bytes()); got != want || s.n != 4 {
		t.Errorf("script (n=%d):\n%s\nwant:\n%s", s.n, got, want)
	}
}

func TestPlanSet(t *testing.T) {
	p := netip.MustParsePrefix
	cur := map[netip.Prefix]uint32{
		p("192.0.2.1/32"):    100, // wanted, close enough
		p("192.0.2.2/32"):    100, // wanted with a much longer timeout
		p("192.0.2.3/32"):    0,   // wanted with a timeout: no longer permanent
		p("192.0.2.4/32"):    50,  // stale
		p("198.51.100.0/24"): 0,   // wanted permanent
	}
	want := []entry{
		{p("192.0.2.1/32"), 103},
		{p("192.0.2.2/32"), 3600},
		{p("192.0.2.3/32"), 60},
		{p("198.51.100.0/24"), 0},
		{p("203.0.113.5/32"), 10}, // missing
	}
	got := planSet(cur, want)
	var adds []string
	for _, e := range got.adds {
		adds = append(adds, e.prefix.String())
	}
	slices.Sort(adds)
	if w := []string{"192.0.2.2/32", "192.0.2.3/32", "203.0.113.5/32"}; !slices.Equal(adds, w) {
		t.Errorf("adds = %q, want %q", adds, w)
	}
	if len(got.dels) != 1 || got.dels[0] != p("192.0.2.4/32") {
		t.Errorf("dels = %v, want [192.0.2.4/32]", got.dels)
	}
	if got.added != 1 {
		t.Errorf("added = %d, want 1 (only the missing entry)", got.added)
	}
}

func TestRenderParseElemRoundTrip(t *testing.T) {
	for _, s := range []string{"192.0.2.1/32", "198.51.100.0/24", "2001:db8::1/128", "2001:db8::/32"} {
		in := netip.MustParsePrefix(s)
		out, err := parseElem(renderElem(in))
		if err != nil || out != in {
			t.Errorf("parseElem(renderElem(%s)) = %s, %v", in, out, err)
		}
	}
}

func TestCommandErrorSentinels(t *testing.T) {
	base := errors.New("exit status 1")
	tests := []struct {
		stderr string
		want   error
	}{
		{"Another app is currently holding the xtables lock. Stopped waiting after 1s.", ErrLocked},
		{"ipset v7.17: Error in line 4: Hash is full, cannot add more elements", ErrSetFull},
		{"ipset v7.17: The set with the given name does not exist", nil},
	}
	for _, tc := range tests {
		err := commandError("ipset restore -exist", base, tc.stderr)
		if !errors.Is(err, base) {
			t.Errorf("commandError(%q) = %v, does not wrap the exec error", tc.stderr, err)
		}
		if !strings.Contains(err.Error(), tc.stderr) {
			t.Errorf("commandError(%q) = %v, lacks standard error", tc.stderr, err)
		}
		for _, s := range []error{ErrLocked, ErrSetFull} {
			if errors.Is(err, s) != (s == tc.want) {
				t.Errorf("commandError(%q): errors.Is(%v) = %t", tc.stderr, s, errors.Is(err, s))
			}
		}
	}
	if got := wrapXT("list", errors.New("running [iptables -S]: exit status 4: Another app is currently holding the xtables lock.")); !errors.Is(got, ErrLocked) {
		t.Errorf("wrapXT of a lock error = %v, want ErrLocked", got)
	}
}

func TestMissingBinaries(t *testing.T) {
	tests := []struct {
		backend, binary string
		ipv6            bool
	}{
		{BackendIPTables, "iptables", true},
		{BackendIPSet, "ipset", true},
	}
	for _, tc := range tests {
		t.Run(tc.backend, func(t *testing.T) {
			t.Setenv("PATH", t.TempDir()) // an empty directory: nothing is found
			c := DefaultConfig()
			c.Backend, c.IPv6 = tc.backend, tc.ipv6
			_, err := New(c, Options{})
			if err == nil {
				t.Fatal("New with an empty PATH succeeded")
			}
			if !errors.Is(err, exec.ErrNotFound) {
				t.Errorf("err = %v, want exec.ErrNotFound", err)
			}
			for _, w := range []string{`"` + tc.backend + `"`, `"` + tc.binary + `"`} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to name %s", err, w)
				}
			}
		})
	}
	t.Run("dry-run needs nothing", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		c := DefaultConfig()
		c.Backend = BackendDryRun
		b, err := New(c, Options{})
		if err != nil || b.Name() != BackendDryRun {
			t.Fatalf("New(dry-run) = %v, %v", b, err)
		}
	})
}
