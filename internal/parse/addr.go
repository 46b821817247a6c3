package parse

import "net/netip"

// Addr parses an IPv4 or IPv6 address from b without allocating. It accepts
// exactly what netip.ParseAddr accepts, except that an IPv6 zone ("%eth0") is
// parsed and dropped, and that an IPv4-mapped IPv6 address (::ffff:192.0.2.1)
// is returned as the IPv4 address. It reports false when b is not an address.
//
// netip.ParseAddr(string(b)) allocates whenever b is longer than 32 bytes or
// the compiler cannot prove the string does not escape; Addr never does.
func Addr(b []byte) (netip.Addr, bool) {
	for i, c := range b {
		switch c {
		case '.':
			a, ok := parseIPv4(b)
			return a, ok
		case ':':
			a, ok := parseIPv6(b[:zoneStart(b, i)])
			return a.Unmap(), ok
		}
	}
	return netip.Addr{}, false
}

// zoneStart returns the index of the '%' starting an IPv6 zone in b, or len(b).
// An empty zone is invalid (netip rejects it); zoneStart then returns 0 so
// that the parse fails.
func zoneStart(b []byte, from int) int {
	for i := from; i < len(b); i++ {
		if b[i] == '%' {
			if i == len(b)-1 {
				return 0
			}
			return i
		}
	}
	return len(b)
}

// parseIPv4 parses a dotted-quad with no leading zeros.
func parseIPv4(b []byte) (netip.Addr, bool) {
	var out [4]byte
	if !parseIPv4Into(b, &out) {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(out), true
}

func parseIPv4Into(b []byte, out *[4]byte) bool {
	pos, val, digits := 0, 0, 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if digits == 1 && val == 0 {
				return false // leading zero
			}
			val = val*10 + int(c-'0')
			digits++
			if val > 255 {
				return false
			}
		case c == '.':
			if digits == 0 || pos == 3 {
				return false
			}
			out[pos] = byte(val)
			pos++
			val, digits = 0, 0
		default:
			return false
		}
	}
	if pos != 3 || digits == 0 {
		return false
	}
	out[3] = byte(val)
	return true
}

// parseIPv6 parses an IPv6 address without zone, including the forms with
// "::" and with an embedded dotted-quad in the last 32 bits.
func parseIPv6(b []byte) (netip.Addr, bool) {
	var ip [16]byte
	ellipsis := -1 // byte index in ip where "::" was
	i := 0

	if len(b) >= 2 && b[0] == ':' && b[1] == ':' {
		ellipsis = 0
		b = b[2:]
		if len(b) == 0 {
			return netip.IPv6Unspecified(), true
		}
	}

	for i < 16 {
		// One hex group of 1..4 digits.
		off, acc := 0, 0
		for off < len(b) && off < 5 {
			v, ok := hexVal(b[off])
			if !ok {
				break
			}
			acc = acc<<4 | int(v)
			off++
		}
		if off == 0 || off > 4 {
			return netip.Addr{}, false
		}

		// An embedded IPv4 address ends the address.
		if off < len(b) && b[off] == '.' {
			if ellipsis < 0 && i != 12 || i+4 > 16 {
				return netip.Addr{}, false
			}
			var v4 [4]byte
			if !parseIPv4Into(b, &v4) {
				return netip.Addr{}, false
			}
			copy(ip[i:], v4[:])
			i += 4
			b = nil
			break
		}

		ip[i] = byte(acc >> 8)
		ip[i+1] = byte(acc)
		i += 2
		b = b[off:]
		if len(b) == 0 {
			break
		}
		if b[0] != ':' || len(b) == 1 {
			return netip.Addr{}, false
		}
		b = b[1:]
		if b[0] == ':' {
			if ellipsis >= 0 {
				return netip.Addr{}, false
			}
			ellipsis = i
			b = b[1:]
			if len(b) == 0 {
				break
			}
		}
	}

	if len(b) != 0 {
		return netip.Addr{}, false
	}
	if i < 16 {
		if ellipsis < 0 {
			return netip.Addr{}, false
		}
		n := 16 - i
		for j := i - 1; j >= ellipsis; j-- {
			ip[j+n] = ip[j]
		}
		clear(ip[ellipsis : ellipsis+n])
	} else if ellipsis >= 0 {
		return netip.Addr{}, false // "::" must stand for at least one group
	}
	return netip.AddrFrom16(ip), true
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
