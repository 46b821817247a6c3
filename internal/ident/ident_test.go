package ident

import (
	"net/netip"
	"regexp"
	"strings"
	"testing"
)

func mustSet(t testing.TB, cidrs ...string) *Set {
	t.Helper()
	s, err := ParseSet(cidrs)
	if err != nil {
		t.Fatalf("ParseSet(%q): %v", cidrs, err)
	}
	return s
}

func TestParseSet(t *testing.T) {
	s := mustSet(t, "10.0.0.0/8", " 192.0.2.1 ", "2001:db8::/32", "fe80::1%eth0", "172.16.5.4/12", "::ffff:198.51.100.0/120", "10.0.0.0/8")
	if s.Len() != 6 {
		t.Errorf("Len() = %d, want 6 (the duplicate counted once)", s.Len())
	}
	tests := []struct {
		addr string
		want bool
	}{
		{"10.255.0.1", true},
		{"11.0.0.1", false},
		{"192.0.2.1", true},
		{"192.0.2.2", false},
		{"2001:db8:ffff::1", true},
		{"2001:db9::1", false},
		{"fe80::1", true},
		{"fe80::1%eth1", true},     // zones do not matter
		{"172.31.255.255", true},   // host bits of 172.16.5.4/12 ignored
		{"198.51.100.77", true},    // ::ffff:198.51.100.0/120 stored as 198.51.100.0/24
		{"::ffff:10.1.2.3", true},  // mapped lookups match IPv4 prefixes
		{"::ffff:11.1.2.3", false}, //
		{"::a00:1", false},         // IPv4-compatible is not IPv4
	}
	for _, tc := range tests {
		if got := s.Contains(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("Contains(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
	if s.Contains(netip.Addr{}) {
		t.Error("the invalid Addr is in the set")
	}
}

func TestParseSetErrors(t *testing.T) {
	_, err := ParseSet([]string{"10.0.0.0/8", "", "10.0.0.0/33", "10.0.0.300/8", "example.com", "2001:db8::/129", "1.2.3.4/8/9"})
	if err == nil {
		t.Fatal("ParseSet accepted bad entries")
	}
	want := []string{
		`[1]: "" is not a CIDR or address`,
		`[2]: "10.0.0.0/33" is not a CIDR or address`,
		`[3]: "10.0.0.300/8" is not a CIDR or address`,
		`[4]: "example.com" is not a CIDR or address`,
		`[5]: "2001:db8::/129" is not a CIDR or address`,
		`[6]: "1.2.3.4/8/9" is not a CIDR or address`,
	}
	if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%v\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}

func TestEmptySets(t *testing.T) {
	var nilSet *Set
	empty := mustSet(t)
	a := netip.MustParseAddr("10.0.0.1")
	if nilSet.Contains(a) || empty.Contains(a) || nilSet.Len() != 0 || empty.Len() != 0 {
		t.Error("a nil or empty set must contain nothing and have length 0")
	}
	if everything := mustSet(t, "0.0.0.0/0", "::/0"); !everything.Contains(a) || !everything.Contains(netip.MustParseAddr("2001:db8::1")) {
		t.Error("0.0.0.0/0 and ::/0 must contain every address")
	}
}

func TestResolverClient(t *testing.T) {
	// A site behind a CDN (198.51.100.0/24, 2001:db8:cd::/48) and its own
	// load balancers (10.0.0.0/8).
	r := NewResolver(mustSet(t, "10.0.0.0/8", "198.51.100.0/24", "2001:db8:cd::/48"))
	tests := []struct {
		name, remote, xff string
		want              string // "" = ok false
	}{
		{"direct client, no header", "203.0.113.5", "", "203.0.113.5"},
		{"spoofing: untrusted peer's header is ignored", "203.0.113.5", "1.1.1.1, 10.0.0.3", "203.0.113.5"},
		{"spoofing: untrusted peer claims a trusted address", "203.0.113.5", "10.0.0.1", "203.0.113.5"},
		{"one proxy", "10.0.0.2", "203.0.113.5", "203.0.113.5"},
		{"client-supplied prefix is skipped", "10.0.0.2", "6.6.6.6, 203.0.113.5", "203.0.113.5"},
		{"client claims a trusted address", "10.0.0.2", "10.9.9.9, 203.0.113.5", "203.0.113.5"},
		{"CDN then load balancer", "10.0.0.2", "203.0.113.5, 198.51.100.7", "203.0.113.5"},
		{"CDN over IPv6", "10.0.0.2", "2001:db8:beef::5, 2001:db8:cd::9", "2001:db8:beef::5"},
		{"IPv6 peer", "2001:db8:cd::1", "203.0.113.5", "203.0.113.5"},
		{"IPv4-mapped peer", "::ffff:10.0.0.2", "203.0.113.5", "203.0.113.5"},
		{"IPv4-mapped entry", "10.0.0.2", "::ffff:203.0.113.5", "203.0.113.5"},
		{"entry with port", "10.0.0.2", "203.0.113.5:51234", "203.0.113.5"},
		{"bracketed IPv6 with port", "10.0.0.2", "[2001:db8:beef::5]:443", "2001:db8:beef::5"},
		{"bracketed IPv6", "10.0.0.2", "[2001:db8:beef::5]", "2001:db8:beef::5"},
		{"quoted entries", "10.0.0.2", `"203.0.113.5", "10.0.0.7"`, "203.0.113.5"},
		{"headers joined, spaces and tabs", "10.0.0.2", "6.6.6.6 ,\t203.0.113.5 , 10.0.0.9", "203.0.113.5"},
		{"empty entries are skipped", "10.0.0.2", "203.0.113.5,, ,", "203.0.113.5"},
		{"zone dropped", "10.0.0.2", "fe80::5%eth0", "fe80::5"},
		{"garbage left of the client does not matter", "10.0.0.2", "<script>, 203.0.113.5", "203.0.113.5"},
		{"garbage as right-most untrusted entry", "10.0.0.2", "203.0.113.5, unknown", ""},
		{"garbage behind a trusted hop", "10.0.0.2", "203.0.113.5, not-an-ip, 10.0.0.5", ""},
		{"bad port", "10.0.0.2", "203.0.113.5:http", ""},
		{"bracket not closed", "10.0.0.2", "[2001:db8::5", ""},
		{"junk after bracket", "10.0.0.2", "[2001:db8::5]x", ""},
		{"every hop trusted", "10.0.0.2", "10.0.0.3, 198.51.100.9", ""},
		{"trusted peer, no header", "10.0.0.2", "", ""},
		{"trusted peer, blank header", "10.0.0.2", " , ", ""},
		{"invalid remote", "", "203.0.113.5", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var remote netip.Addr
			if tc.remote != "" {
				remote = netip.MustParseAddr(tc.remote)
			}
			got, ok := r.Client(remote, []byte(tc.xff))
			if tc.want == "" {
				if ok || got.IsValid() {
					t.Fatalf("Client = %v, %v; want the zero Addr, false", got, ok)
				}
				return
			}
			if want := netip.MustParseAddr(tc.want); !ok || got != want {
				t.Fatalf("Client = %v, %v; want %v, true", got, ok, want)
			}
		})
	}
}

func TestResolverTrustsNobody(t *testing.T) {
	for _, r := range []*Resolver{NewResolver(nil), NewResolver(mustSet(t))} {
		remote := netip.MustParseAddr("10.0.0.2")
		if got, ok := r.Client(remote, []byte("203.0.113.5")); !ok || got != remote {
			t.Errorf("Client = %v, %v; want the peer %v", got, ok, remote)
		}
	}
}

func TestAllocs(t *testing.T) {
	s := mustSet(t, "10.0.0.0/8", "2001:db8:cd::/48")
	r := NewResolver(s)
	v4, v6, mapped := netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("2001:db8:cd::1"), netip.MustParseAddr("::ffff:10.1.2.3")
	xff := []byte(`"6.6.6.6", [2001:db8:beef::5]:443, 203.0.113.5:1234, 10.0.0.7, 2001:db8:cd::2`)
	if n := testing.AllocsPerRun(200, func() { s.Contains(v4); s.Contains(v6); s.Contains(mapped) }); n > 0 {
		t.Errorf("Contains: %v allocs, want 0", n)
	}
	if n := testing.AllocsPerRun(200, func() { r.Client(v4, xff) }); n > 0 {
		t.Errorf("Client: %v allocs, want 0", n)
	}
}

// FuzzClient compares the resolver with an oracle written independently
// (regular expressions and netip.ParseAddr) on arbitrary headers, and checks
// its guarantees: a client is never trusted, mapped or zoned; an untrusted
// peer is its own client.
func FuzzClient(f *testing.F) {
	f.Add([]byte{10, 0, 0, 2}, []byte("203.0.113.5, 10.0.0.3"))
	f.Add([]byte{10, 0, 0, 2}, []byte(`"[2001:db8::5]:443", ::ffff:10.0.0.1, 198.51.100.1:80`))
	f.Add([]byte{203, 0, 113, 5}, []byte("10.0.0.1"))
	f.Add([]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0xcd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, []byte("fe80::1%x, ,,\t"))
	trusted := mustSet(f, "10.0.0.0/8", "198.51.100.0/24", "2001:db8:cd::/48")
	r := NewResolver(trusted)
	f.Fuzz(func(t *testing.T, remoteBytes, xff []byte) {
		remote, ok := netip.AddrFromSlice(remoteBytes)
		if !ok {
			return
		}
		client, ok := r.Client(remote, xff)
		want, wantOK := oracleClient(trusted, remote, string(xff))
		if client != want || ok != wantOK {
			t.Fatalf("Client(%v, %q) = %v, %v; oracle %v, %v", remote, xff, client, ok, want, wantOK)
		}
		if ok && (trusted.Contains(client) || client.Is4In6() || client.Zone() != "") {
			t.Fatalf("client %v is trusted, mapped or zoned", client)
		}
		if !trusted.Contains(remote) && (!ok || client != remote.Unmap()) {
			t.Fatalf("untrusted peer %v attributed to %v, %v", remote, client, ok)
		}
	})
}

var (
	bracketRE = regexp.MustCompile(`^\[([^\]]*)\](?::([0-9]{1,5}))?$`)
	hostPort  = regexp.MustCompile(`^([^:]*):[0-9]{1,5}$`)
)

func oracleClient(trusted *Set, remote netip.Addr, xff string) (netip.Addr, bool) {
	remote = remote.Unmap()
	if !trusted.Contains(remote) {
		return remote, true
	}
	entries := strings.Split(xff, ",")
	for i := len(entries) - 1; i >= 0; i-- {
		e := strings.Trim(entries[i], " \t")
		if len(e) >= 2 && e[0] == '"' && e[len(e)-1] == '"' {
			e = e[1 : len(e)-1]
		}
		if e == "" {
			continue
		}
		if m := bracketRE.FindStringSubmatch(e); m != nil {
			e = m[1]
		} else if strings.HasPrefix(e, "[") {
			return netip.Addr{}, false
		} else if m := hostPort.FindStringSubmatch(e); m != nil {
			e = m[1]
		} else if strings.Count(e, ":") == 1 {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(e)
		if err != nil {
			return netip.Addr{}, false
		}
		if a = a.WithZone("").Unmap(); !trusted.Contains(a) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func BenchmarkContains(b *testing.B) {
	s := mustSet(b, "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "198.51.100.0/24", "2001:db8:cd::/48")
	a := netip.MustParseAddr("203.0.113.5")
	b.ReportAllocs()
	for b.Loop() {
		s.Contains(a)
	}
}

func BenchmarkClient(b *testing.B) {
	r := NewResolver(mustSet(b, "10.0.0.0/8", "198.51.100.0/24"))
	remote := netip.MustParseAddr("10.0.0.2")
	xff := []byte("203.0.113.5, 198.51.100.7")
	b.ReportAllocs()
	for b.Loop() {
		r.Client(remote, xff)
	}
}
