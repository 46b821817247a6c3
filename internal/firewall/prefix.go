package firewall

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Shortest prefixes vigil bans. A wider ban would cut off a large share of
// the internet and is far more likely a bug than an intent.
const (
	minBits4 = 8
	minBits6 = 16
)

// maxIPSetTimeout is the longest per-entry timeout ipset accepts, in seconds
// (IPSET_MAX_TIMEOUT: (2^32-1)/2/1000 s, about 24.8 days).
const maxIPSetTimeout = 2147483

// family is an address family: IPv4 or IPv6.
type family uint8

const (
	v4 family = iota
	v6
)

// families lists both families in a fixed order.
func families() [2]family { return [2]family{v4, v6} }

// String returns "ipv4" or "ipv6", the value of the metrics' family label.
func (f family) String() string {
	if f == v6 {
		return "ipv6"
	}
	return "ipv4"
}

// familyOf returns the family of a normalised prefix.
func familyOf(p netip.Prefix) family {
	if p.Addr().Is4() {
		return v4
	}
	return v6
}

// Normalize validates p and returns the form vigil puts in the kernel:
// masked to its network address, with an IPv4-mapped IPv6 prefix
// (::ffff:a.b.c.d/n, n ≥ 96) converted to its IPv4 form.
//
// It rejects (ErrInvalidPrefix) a zero or invalid prefix, the unspecified
// network (0.0.0.0/n, ::/n), loopback and multicast prefixes (no remote
// client sends from them), an IPv4-mapped prefix shorter than /96, and
// prefixes wider than /8 (IPv4) or /16 (IPv6).
func Normalize(p netip.Prefix) (netip.Prefix, error) {
	if !p.IsValid() {
		return netip.Prefix{}, fmt.Errorf("%w: %q is not a valid prefix", ErrInvalidPrefix, p.String())
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("%w: %s mixes an IPv4-mapped address with a prefix shorter than /96", ErrInvalidPrefix, p)
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	p = p.Masked()
	a := p.Addr()
	min := minBits4
	if a.Is6() {
		min = minBits6
	}
	switch {
	case p.Bits() < min:
		return netip.Prefix{}, fmt.Errorf("%w: %s is wider than /%d", ErrInvalidPrefix, p, min)
	case a.IsUnspecified():
		return netip.Prefix{}, fmt.Errorf("%w: %s is the unspecified network", ErrInvalidPrefix, p)
	case a.IsLoopback():
		return netip.Prefix{}, fmt.Errorf("%w: %s is a loopback prefix", ErrInvalidPrefix, p)
	case a.IsMulticast():
		return netip.Prefix{}, fmt.Errorf("%w: %s is a multicast prefix", ErrInvalidPrefix, p)
	}
	return p, nil
}

// entry is a ban in normalised form: the prefix as it goes to the kernel and
// the timeout in whole seconds (0 = permanent).
type entry struct {
	prefix  netip.Prefix
	timeout uint32
}

// timeoutSeconds converts a ban timeout to ipset seconds: 0 stays permanent,
// anything else is rounded up to a whole second (so a short ban never turns
// into timeout 0, which means permanent) and capped at maxIPSetTimeout.
func timeoutSeconds(d time.Duration) (uint32, error) {
	switch {
	case d < 0:
		return 0, fmt.Errorf("%w: negative timeout %s", ErrInvalidPrefix, d)
	case d == 0:
		return 0, nil
	}
	s := (d + time.Second - 1) / time.Second
	if s > maxIPSetTimeout {
		s = maxIPSetTimeout
	}
	return uint32(s), nil
}

// normalizeBans validates and normalises bans. If the same prefix appears
// more than once, the longest timeout wins (permanent beats any timeout). An
// invalid ban, or an IPv6 ban when ipv6 is false, fails the whole call.
func normalizeBans(bans []Ban, ipv6 bool) ([]entry, error) {
	out := make([]entry, 0, len(bans))
	idx := make(map[netip.Prefix]int, len(bans))
	var errs []error
	for _, b := range bans {
		p, err := Normalize(b.Prefix)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ipv6 && familyOf(p) == v6 {
			errs = append(errs, fmt.Errorf("%w: cannot ban %s", ErrIPv6Disabled, p))
			continue
		}
		t, err := timeoutSeconds(b.Timeout)
		if err != nil {
			errs = append(errs, fmt.Errorf("ban %s: %w", p, err))
			continue
		}
		if i, ok := idx[p]; ok {
			if old := out[i].timeout; old != 0 && (t == 0 || t > old) {
				out[i].timeout = t
			}
			continue
		}
		idx[p] = len(out)
		out = append(out, entry{prefix: p, timeout: t})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// normalizePrefixes validates and normalises prefixes for Unblock, dropping
// duplicates. An IPv6 prefix when ipv6 is false is rejected like in
// normalizeBans, to surface the mistake.
func normalizePrefixes(ps []netip.Prefix, ipv6 bool) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(ps))
	seen := make(map[netip.Prefix]bool, len(ps))
	var errs []error
	for _, p := range ps {
		n, err := Normalize(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ipv6 && familyOf(n) == v6 {
			errs = append(errs, fmt.Errorf("%w: cannot unban %s", ErrIPv6Disabled, n))
			continue
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
