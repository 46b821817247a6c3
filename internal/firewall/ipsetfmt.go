package firewall

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// tmpSetSuffix names the temporary set used to resize a set (see
// IPSet.Setup).
const tmpSetSuffix = "-tmp"

// setHeader describes an existing set, from `ipset list -t` (or the create
// line of `ipset list -o save`).
type setHeader struct {
	typ        string // e.g. "hash:net"
	family     string // "inet" or "inet6"
	maxelem    int
	hasTimeout bool
	entries    int // "Number of entries" (terse listing only)
}

// setContent is a parsed `ipset list -o save NAME`.
type setContent struct {
	header setHeader
	// entries maps each element to its remaining timeout in seconds
	// (0 = permanent).
	entries map[netip.Prefix]uint32
}

// parseTerse parses `ipset list -t NAME`.
func parseTerse(out []byte) (setHeader, error) {
	var h setHeader
	sawType := false
	for line := range bytes.Lines(out) {
		k, v, ok := strings.Cut(strings.TrimSpace(string(line)), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Type":
			h.typ, sawType = v, true
		case "Header":
			parseCreateOptions(strings.Fields(v), &h)
		case "Number of entries":
			n, err := strconv.Atoi(v)
			if err != nil {
				return setHeader{}, fmt.Errorf("parse ipset entry count %q: %w", v, err)
			}
			h.entries = n
		}
	}
	if !sawType {
		return setHeader{}, fmt.Errorf("parse ipset listing: no Type line in %q", truncate(out))
	}
	return h, nil
}

// parseCreateOptions reads the options of a create line or a Header line
// ("family inet hashsize 1024 maxelem 65536 timeout 0 ...").
func parseCreateOptions(f []string, h *setHeader) {
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case "family":
			if i+1 < len(f) {
				h.family = f[i+1]
				i++
			}
		case "maxelem":
			if i+1 < len(f) {
				h.maxelem, _ = strconv.Atoi(f[i+1])
				i++
			}
		case "timeout":
			h.hasTimeout = true
			i++
		case "hashsize", "bucketsize", "initval", "netmask", "markmask", "size":
			i++ // options with a value vigil does not need
		}
	}
}

// parseSave parses `ipset list -o save NAME`: the create line and one add
// line per element ("add NAME 192.0.2.1 timeout 599", "add NAME
// 2001:db8::/32 timeout 0"). An element without a /len is a single address.
func parseSave(out []byte, name string) (setContent, error) {
	c := setContent{entries: make(map[netip.Prefix]uint32)}
	sawCreate := false
	for line := range bytes.Lines(out) {
		f := strings.Fields(string(line))
		if len(f) < 3 || f[1] != name {
			continue
		}
		switch f[0] {
		case "create":
			sawCreate = true
			c.header.typ = f[2]
			parseCreateOptions(f[3:], &c.header)
		case "add":
			p, err := parseElem(f[2])
			if err != nil {
				return setContent{}, fmt.Errorf("parse ipset element %q of %s: %w", f[2], name, err)
			}
			var t uint32
			for i := 3; i+1 < len(f); i++ {
				if f[i] == "timeout" {
					n, err := strconv.ParseUint(f[i+1], 10, 32)
					if err != nil {
						return setContent{}, fmt.Errorf("parse ipset timeout %q of %s: %w", f[i+1], name, err)
					}
					t = uint32(n)
				}
			}
			c.entries[p] = t
		}
	}
	if !sawCreate {
		return setContent{}, fmt.Errorf("parse ipset listing: no create line for %s in %q", name, truncate(out))
	}
	c.header.entries = len(c.entries)
	return c, nil
}

// parseElem parses a hash:net element: an address or a prefix.
func parseElem(s string) (netip.Prefix, error) {
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// renderElem renders a normalised prefix as an ipset element. hash:net lists
// a full-length prefix as a bare address; it accepts both forms.
func renderElem(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// ipsetScript accumulates an `ipset restore` script.
type ipsetScript struct {
	b bytes.Buffer
	n int
}

// add appends "add SET ELEM timeout N". With restore -exist, adding an
// element that is present updates its timeout.
func (s *ipsetScript) add(set string, e entry) {
	s.b.WriteString("add ")
	s.b.WriteString(set)
	s.b.WriteByte(' ')
	s.b.WriteString(renderElem(e.prefix))
	s.b.WriteString(" timeout ")
	s.b.WriteString(strconv.FormatUint(uint64(e.timeout), 10))
	s.b.WriteByte('\n')
	s.n++
}

// del appends "del SET ELEM". With restore -exist, deleting an absent
// element is not an error.
func (s *ipsetScript) del(set string, p netip.Prefix) {
	s.b.WriteString("del ")
	s.b.WriteString(set)
	s.b.WriteByte(' ')
	s.b.WriteString(renderElem(p))
	s.b.WriteByte('\n')
	s.n++
}

// bytes returns the script, terminated by COMMIT as ipset restore expects.
func (s *ipsetScript) bytes() []byte {
	return append(s.b.Bytes(), "COMMIT\n"...)
}

// truncate shortens command output for an error message.
func truncate(b []byte) string {
	const max = 200
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
