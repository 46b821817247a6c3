package api

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/respond"
)

// Shortest prefixes a manual ban may cover: anything broader is almost
// certainly a typo that would lock out a large part of the Internet, the
// operator included.
const (
	minBits4 = 8
	minBits6 = 16
)

// ErrBadRequest marks errors in what a caller sent: an invalid address,
// duration or body (errors.Is). The error's own message says what was wrong.
var ErrBadRequest = errors.New("bad request")

// requestError is an error in what a caller sent; it matches ErrBadRequest.
type requestError struct{ msg string }

func (e *requestError) Error() string        { return e.msg }
func (e *requestError) Is(target error) bool { return target == ErrBadRequest }

func badRequest(format string, a ...any) error { return &requestError{msg: fmt.Sprintf(format, a...)} }

// ParseTarget parses a ban or unban target: a bare address ("203.0.113.7"
// is 203.0.113.7/32, "2001:db8::1" is /128) or a prefix ("2001:db8::/64").
// IPv4-mapped IPv6 forms become IPv4. It refuses zones, non-unicast
// addresses, prefixes with host bits set and prefixes shorter than /8 (IPv4)
// or /16 (IPv6). Errors match ErrBadRequest and name the input.
func ParseTarget(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Prefix{}, badRequest("ip: missing address")
	}
	var p netip.Prefix
	if strings.IndexByte(s, '/') >= 0 {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, badRequest("ip: %q is not an IP address or CIDR prefix", s)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, badRequest("ip: %q is not an IP address or CIDR prefix", s)
		}
		if a.Zone() != "" {
			return netip.Prefix{}, badRequest("ip: %q has an IPv6 zone; give the address without %%zone", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	a := p.Addr()
	if a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, badRequest("ip: %q mixes IPv4-mapped and IPv6 space", s)
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		a = p.Addr()
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, badRequest("ip: %q has host bits set; did you mean %s?", s, m)
	}
	if p.IsSingleIP() && (a.IsUnspecified() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255})) {
		return netip.Prefix{}, badRequest("ip: %q is not a unicast address", s)
	}
	if least := minBits(a); p.Bits() < least {
		return netip.Prefix{}, badRequest("ip: %q is too broad; the shortest prefix vigil bans is /%d", s, least)
	}
	return p, nil
}

func minBits(a netip.Addr) int {
	if a.Is4() {
		return minBits4
	}
	return minBits6
}

// ParseBanDuration parses a ban duration: a Go duration of at least one
// second ("90s", "1h", "72h") or "permanent" (returned as 0). Errors match
// ErrBadRequest.
func ParseBanDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, respond.Permanent) {
		return 0, nil
	}
	if s == "" {
		return 0, badRequest("duration: missing; give a duration such as \"1h\" or %q", respond.Permanent)
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Second {
		return 0, badRequest("duration: must be a duration of at least 1s, such as \"1h\", or %q (got %q)",
			respond.Permanent, s)
	}
	return d, nil
}

// formatBanDuration is ParseBanDuration's inverse.
func formatBanDuration(d time.Duration) string {
	if d == 0 {
		return respond.Permanent
	}
	return d.String()
}
