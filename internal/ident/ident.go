// Package ident decides which client a request is attributed to. A Set is an
// immutable set of CIDR prefixes (trusted proxies, allow and deny lists); a
// Resolver walks X-Forwarded-For from the right, past trusted proxies, to the
// first address no trusted proxy vouches for.
package ident

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/gaissmai/bart"

	"github.com/vigil-sec/vigil/internal/parse"
)

// Set is an immutable set of IPv4 and IPv6 prefixes. It is safe for
// concurrent use. A nil *Set and the zero Set are valid and contain nothing.
type Set struct {
	t *bart.Lite // nil when the set is empty
	n int
}

// ParseSet builds a Set from CIDRs ("10.0.0.0/8", "2001:db8::/32") and bare
// addresses ("192.0.2.1" is 192.0.2.1/32). Host bits below the prefix length
// are ignored ("10.1.2.3/8" is 10.0.0.0/8); IPv4-mapped IPv6 entries
// ("::ffff:10.0.0.0/104") are stored as IPv4; zones are dropped. Surrounding
// spaces are ignored. The error lists every bad entry by index, e.g.
// `[3]: "10.0.0.300/8" is not a CIDR or address`.
func ParseSet(cidrs []string) (*Set, error) {
	s := &Set{t: new(bart.Lite)}
	var errs []error
	seen := make(map[netip.Prefix]bool, len(cidrs))
	for i, raw := range cidrs {
		p, ok := parsePrefix(strings.TrimSpace(raw))
		if !ok {
			errs = append(errs, fmt.Errorf("[%d]: %q is not a CIDR or address", i, raw))
			continue
		}
		if !seen[p] {
			seen[p] = true
			s.t.Insert(p)
			s.n++
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

func parsePrefix(s string) (netip.Prefix, bool) {
	var p netip.Prefix
	if strings.IndexByte(s, '/') >= 0 {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, false
		}
	} else {
		a, ok := parse.Addr([]byte(s))
		if !ok {
			return netip.Prefix{}, false
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}

// Contains reports whether a is in one of the set's prefixes. IPv4-mapped
// IPv6 addresses match as IPv4. A nil or empty set contains nothing; the
// invalid Addr is in no set. It does not allocate.
func (s *Set) Contains(a netip.Addr) bool {
	if s == nil || s.t == nil {
		return false
	}
	return s.t.Contains(a.Unmap())
}

// Overlaps reports whether p shares at least one address with the set: p
// lies inside one of its prefixes or holds one. IPv4-mapped prefixes match
// as IPv4; an invalid prefix overlaps nothing.
func (s *Set) Overlaps(p netip.Prefix) bool {
	if s == nil || s.t == nil || !p.IsValid() {
		return false
	}
	if a := p.Addr(); a.Is4In6() {
		p = netip.PrefixFrom(a.Unmap(), max(0, p.Bits()-96))
	}
	return s.t.OverlapsPrefix(p.Masked())
}

// Len returns the number of distinct prefixes in the set (0 for nil).
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// Resolver attributes requests to clients behind trusted proxies. It is
// immutable and safe for concurrent use; the zero Resolver trusts no proxy.
type Resolver struct {
	trusted *Set
}

// NewResolver returns a Resolver that trusts the X-Forwarded-For entries
// written by the proxies in trusted. A nil or empty set trusts no proxy: every
// request is attributed to its TCP peer.
func NewResolver(trusted *Set) *Resolver {
	return &Resolver{trusted: trusted}
}

// Client returns the address a request is attributed to. When remote is not a
// trusted proxy, it is remote, and xff (which the client wrote) is ignored.
// When it is, the client is the right-most address in X-Forwarded-For that is
// not itself trusted: the walk goes from the right, skipping trusted
// addresses and empty entries. If that entry does not parse, ok is false,
// because everything left of it was written by an untrusted party. A trusted
// proxy is never the client: if every hop is trusted, or xff is empty, ok is
// false. An invalid remote has no client either. When ok is false, client is
// the zero Addr. It does not allocate.
//
// Entries may be "ip", "ip:port", "[ipv6]", "[ipv6]:port" or any of those in
// double quotes, with spaces or tabs around them; headers joined with ", " are
// one list.
func (r *Resolver) Client(remote netip.Addr, xff []byte) (client netip.Addr, ok bool) {
	remote = remote.Unmap()
	if !remote.IsValid() {
		return netip.Addr{}, false
	}
	if !r.trusted.Contains(remote) {
		return remote, true
	}
	for end := len(xff); end > 0; {
		start := lastIndexByte(xff[:end], ',') + 1
		entry := trimEntry(xff[start:end])
		end = start - 1
		if len(entry) == 0 {
			continue
		}
		a, valid := entryAddr(entry)
		if !valid {
			return netip.Addr{}, false
		}
		if !r.trusted.Contains(a) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func lastIndexByte(b []byte, c byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == c {
			return i
		}
	}
	return -1
}

// trimEntry strips spaces, tabs and one pair of double quotes.
func trimEntry(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	return b
}

// entryAddr parses one X-Forwarded-For entry, dropping brackets and a port.
func entryAddr(b []byte) (netip.Addr, bool) {
	if len(b) > 0 && b[0] == '[' {
		end := -1
		for i, c := range b {
			if c == ']' {
				end = i
				break
			}
		}
		if end < 0 || !(end == len(b)-1 || b[end+1] == ':' && isPort(b[end+2:])) {
			return netip.Addr{}, false
		}
		return parse.Addr(b[1:end])
	}
	// One colon means IPv4 with a port; IPv6 without brackets has several.
	colon, colons := -1, 0
	for i, c := range b {
		if c == ':' {
			colon = i
			colons++
		}
	}
	if colons == 1 {
		if !isPort(b[colon+1:]) {
			return netip.Addr{}, false
		}
		b = b[:colon]
	}
	return parse.Addr(b)
}

// isPort reports whether b is 1 to 5 decimal digits.
func isPort(b []byte) bool {
	if len(b) == 0 || len(b) > 5 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
