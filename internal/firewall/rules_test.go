package firewall

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fixture reads testdata/firewall/name from the repository root.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "firewall", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"-A VIGIL -s 1.2.3.4/32 -j DROP", []string{"-A", "VIGIL", "-s", "1.2.3.4/32", "-j", "DROP"}},
		{`-m comment --comment "two words"`, []string{"-m", "comment", "--comment", "two words"}},
		{`--comment "say \"hi\" \\ ok"  -j  X`, []string{"--comment", `say "hi" \ ok`, "-j", "X"}},
		{`--comment ""`, []string{"--comment", ""}},
	}
	for _, tc := range tests {
		got, err := splitArgs(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := splitArgs(`--comment "open`); err == nil {
		t.Error("splitArgs with an unterminated quote: want error")
	}
}

func TestQuoteArgRoundTrip(t *testing.T) {
	for _, a := range []string{"plain", "two words", `q"uote`, `back\slash`, "", "it's"} {
		got, err := splitArgs("-x " + quoteArg(a))
		if err != nil || len(got) != 2 || got[1] != a {
			t.Errorf("quoteArg(%q) = %q does not split back: %q, %v", a, quoteArg(a), got, err)
		}
	}
}

func TestParseListing(t *testing.T) {
	l, err := parseListing(fixture(t, "iptables-S-VIGIL.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(l.chains, []string{"VIGIL"}) {
		t.Errorf("chains = %q, want [VIGIL]", l.chains)
	}
	if len(l.rules) != 7 {
		t.Fatalf("got %d rules, want 7: %q", len(l.rules), l.rules)
	}
	type summary struct {
		owned  bool
		src    string
		set    string
		target string
	}
	var got []summary
	for _, r := range l.rules {
		src, _ := r.source()
		s := ""
		if src.IsValid() {
			s = src.String()
		}
		got = append(got, summary{r.owned(), s, r.matchSet(), r.value("-j")})
	}
	want := []summary{
		{true, "192.0.2.10/32", "", "DROP"},
		{true, "198.51.100.0/24", "", "REJECT"},
		{false, "203.0.113.7/32", "", "ACCEPT"},
		{false, "203.0.113.8/32", "", "DROP"},
		{true, "", "vigil4", "DROP"},
		{true, "192.0.2.10/32", "", "DROP"},
		{true, "", "", "DROP"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("rules:\n got %+v\nwant %+v", got, want)
	}
	if c := l.rules[2].value("--comment"); c != `office "vpn" exit` {
		t.Errorf("quoted comment = %q", c)
	}
}

func TestRuleArgsMatchListing(t *testing.T) {
	// What vigil writes must read back identically from iptables -S, or
	// Sync would rewrite its own rules forever.
	l4, err := parseListing(fixture(t, "iptables-S-VIGIL.txt"))
	if err != nil {
		t.Fatal(err)
	}
	l6, err := parseListing(fixture(t, "ip6tables-S-VIGIL.txt"))
	if err != nil {
		t.Fatal(err)
	}
	p := netip.MustParsePrefix
	checks := []struct {
		r    rule
		want []string
	}{
		{l4.rules[0], banRuleArgs(p("192.0.2.10/32"), TargetDrop)},
		{l4.rules[1], banRuleArgs(p("198.51.100.0/24"), TargetReject)},
		{l4.rules[4], setRuleArgs("vigil4", TargetDrop, v4)},
		{l6.rules[0], banRuleArgs(p("2001:db8::1/128"), TargetDrop)},
		{l6.rules[1], banRuleArgs(p("2001:db8:1::/48"), TargetReject)},
	}
	for _, c := range checks {
		if c.r.spec() != joinArgs(c.want) {
			t.Errorf("listed %q, vigil renders %q", c.r.spec(), joinArgs(c.want))
		}
	}
}

func TestPlanRules(t *testing.T) {
	l, err := parseListing(fixture(t, "iptables-S-VIGIL.txt"))
	if err != nil {
		t.Fatal(err)
	}
	p := netip.MustParsePrefix
	e := func(s string) entry { return entry{prefix: p(s)} }
	tests := []struct {
		name        string
		target      string
		add         []entry
		del         []netip.Prefix
		exact       bool
		wantDels    []string // rule specs
		wantAdds    []string
		wantAdded   int
		wantRemoved int
		wantAfter   int
	}{
		{
			name: "block present and new", target: TargetDrop,
			add:      []entry{e("192.0.2.10/32"), e("192.0.2.11/32")},
			wantDels: []string{"-s 192.0.2.10/32 -m comment --comment vigil -j DROP"}, // the duplicate
			wantAdds: []string{"-s 192.0.2.11/32 -m comment --comment vigil -j DROP"}, wantAdded: 1, wantAfter: 3,
		},
		{
			name: "block with changed target replaces", target: TargetReject,
			add:       []entry{e("192.0.2.10/32")},
			wantDels:  []string{"-s 192.0.2.10/32 -m comment --comment vigil -j DROP", "-s 192.0.2.10/32 -m comment --comment vigil -j DROP"},
			wantAdds:  []string{"-s 192.0.2.10/32 -m comment --comment vigil -j REJECT --reject-with icmp-admin-prohibited"},
			wantAdded: 1, wantAfter: 2,
		},
		{
			name: "unblock present, absent and foreign", target: TargetDrop,
			del:       []netip.Prefix{p("198.51.100.0/24"), p("192.0.2.99/32"), p("203.0.113.8/32")},
			wantDels:  []string{"-s 198.51.100.0/24 -m comment --comment vigil -j REJECT --reject-with icmp-admin-prohibited"},
			wantAfter: 1,
		},
		{
			name: "sync", target: TargetDrop, exact: true,
			add: []entry{e("192.0.2.10/32"), e("192.0.2.12/32")},
			wantDels: []string{
				"-p tcp -m comment --comment vigil -j DROP", // owned junk
				"-s 192.0.2.10/32 -m comment --comment vigil -j DROP",
				"-s 198.51.100.0/24 -m comment --comment vigil -j REJECT --reject-with icmp-admin-prohibited",
			},
			wantAdds:  []string{"-s 192.0.2.12/32 -m comment --comment vigil -j DROP"},
			wantAdded: 1, wantRemoved: 1, wantAfter: 2,
		},
		{
			name: "sync to nothing", target: TargetDrop, exact: true,
			wantDels: []string{
				"-p tcp -m comment --comment vigil -j DROP",
				"-s 192.0.2.10/32 -m comment --comment vigil -j DROP",
				"-s 192.0.2.10/32 -m comment --comment vigil -j DROP",
				"-s 198.51.100.0/24 -m comment --comment vigil -j REJECT --reject-with icmp-admin-prohibited",
			},
			wantRemoved: 2, wantAfter: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := planRules(l.rules, tc.target, tc.add, tc.del, tc.exact)
			specs := func(a [][]string) []string {
				var out []string
				for _, x := range a {
					out = append(out, joinArgs(x))
				}
				slices.Sort(out)
				return out
			}
			slices.Sort(tc.wantDels)
			if d := specs(got.dels); !slices.Equal(d, tc.wantDels) {
				t.Errorf("dels:\n got %q\nwant %q", d, tc.wantDels)
			}
			if a := specs(got.adds); !slices.Equal(a, tc.wantAdds) {
				t.Errorf("adds:\n got %q\nwant %q", a, tc.wantAdds)
			}
			if got.added != tc.wantAdded || got.removed != tc.wantRemoved || got.after != tc.wantAfter {
				t.Errorf("added, removed, after = %d, %d, %d; want %d, %d, %d", got.added, got.removed, got.after, tc.wantAdded, tc.wantRemoved, tc.wantAfter)
			}
			for _, d := range got.dels {
				if !(rule{args: d}).owned() {
					t.Errorf("plan deletes a rule vigil does not own: %q", d)
				}
			}
		})
	}
}

func TestRestoreScript(t *testing.T) {
	p := netip.MustParsePrefix
	got := string(restoreScript("VIGIL",
		[][]string{{"-s", "192.0.2.1/32", "-m", "comment", "--comment", "a b", "-j", "DROP"}},
		[][]string{banRuleArgs(p("2001:db8::/32"), TargetReject)}))
	want := "*filter\n" +
		"-D VIGIL -s 192.0.2.1/32 -m comment --comment \"a b\" -j DROP\n" +
		"-A VIGIL -s 2001:db8::/32 -m comment --comment vigil -j REJECT --reject-with icmp6-adm-prohibited\n" +
		"COMMIT\n"
	if got != want {
		t.Errorf("restoreScript:\n%s\nwant:\n%s", got, want)
	}
}

func TestJumpAndTargetArgs(t *testing.T) {
	if got := joinArgs(jumpArgs("VIGIL")); got != "-m comment --comment vigil -j VIGIL" {
		t.Errorf("jumpArgs = %q", got)
	}
	if got := joinArgs(targetArgs(TargetDrop, v6)); got != "-j DROP" {
		t.Errorf("targetArgs(DROP) = %q", got)
	}
	if got := joinArgs(setRuleArgs("vigil6", TargetReject, v6)); !strings.HasSuffix(got, "-j REJECT --reject-with icmp6-adm-prohibited") || !strings.Contains(got, "--match-set vigil6 src") {
		t.Errorf("setRuleArgs = %q", got)
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct{ in, version, mode string }{
		{"iptables v1.8.9 (nf_tables)\n", "iptables v1.8.9 (nf_tables)", "nf_tables"},
		{"iptables v1.8.9 (legacy)\n", "iptables v1.8.9 (legacy)", "legacy"},
		{"iptables v1.4.21\n", "iptables v1.4.21", ""},
	}
	for _, tc := range tests {
		v, m := parseVersion([]byte(tc.in))
		if v != tc.version || m != tc.mode {
			t.Errorf("parseVersion(%q) = %q, %q; want %q, %q", tc.in, v, m, tc.version, tc.mode)
		}
	}
}
