package firewall

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
)

// ownerComment tags every rule vigil creates (-m comment --comment vigil),
// which is how vigil recognises what it owns.
const ownerComment = "vigil"

// rule is one rule of an `iptables -S` listing: the chain it is in and its
// arguments after "-A CHAIN".
type rule struct {
	chain string
	args  []string
}

// value returns the argument after flag, or "".
func (r rule) value(flag string) string {
	for i := 0; i+1 < len(r.args); i++ {
		if r.args[i] == flag {
			return r.args[i+1]
		}
	}
	return ""
}

// owned reports whether vigil created the rule: it carries the comment
// "vigil".
func (r rule) owned() bool { return r.value("--comment") == ownerComment }

// matchSet returns the set name of a "-m set --match-set NAME src" rule.
func (r rule) matchSet() string { return r.value("--match-set") }

// source returns the rule's -s prefix.
func (r rule) source() (netip.Prefix, bool) {
	s := r.value("-s")
	if s == "" {
		return netip.Prefix{}, false
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil {
			return netip.Prefix{}, false
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	return p, true
}

// spec returns the rule's arguments as one string, for comparisons.
func (r rule) spec() string { return strings.Join(r.args, " ") }

// listing is a parsed `iptables -S [CHAIN]` output.
type listing struct {
	chains []string // from -N and -P lines
	rules  []rule
}

// parseListing parses `iptables -S` output. Warning lines ("# Warning:
// iptables-legacy tables present ...") and unknown lines are skipped.
func parseListing(out []byte) (listing, error) {
	var l listing
	for line := range bytes.Lines(out) {
		s := strings.TrimSpace(string(line))
		if s == "" || s[0] == '#' {
			continue
		}
		f, err := splitArgs(s)
		if err != nil {
			return listing{}, fmt.Errorf("parse iptables listing line %q: %w", s, err)
		}
		switch {
		case len(f) >= 2 && (f[0] == "-N" || f[0] == "-P"):
			l.chains = append(l.chains, f[1])
		case len(f) >= 2 && f[0] == "-A":
			l.rules = append(l.rules, rule{chain: f[1], args: f[2:]})
		}
	}
	return l, nil
}

// splitArgs splits a line of iptables -S output into arguments. iptables
// double-quotes an argument that contains spaces or quotes and escapes '"'
// and '\' inside it with a backslash.
func splitArgs(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inArg, quoted := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case quoted && c == '"':
			quoted = false
		case quoted:
			cur.WriteByte(c)
		case c == '"':
			quoted, inArg = true, true
		case c == ' ' || c == '\t':
			if inArg {
				out = append(out, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote")
	}
	if inArg {
		out = append(out, cur.String())
	}
	return out, nil
}

// quoteArg renders one argument for an iptables-restore script, quoting it
// the way iptables -S does when it holds spaces, quotes or backslashes.
func quoteArg(a string) string {
	if a != "" && !strings.ContainsAny(a, " \t\"\\'") {
		return a
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(a); i++ {
		if a[i] == '"' || a[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(a[i])
	}
	b.WriteByte('"')
	return b.String()
}

// targetArgs returns the -j arguments for target in family f. REJECT answers
// with ICMP "administratively prohibited", valid for every protocol.
func targetArgs(target string, f family) []string {
	if target != TargetReject {
		return []string{"-j", TargetDrop}
	}
	if f == v6 {
		return []string{"-j", TargetReject, "--reject-with", "icmp6-adm-prohibited"}
	}
	return []string{"-j", TargetReject, "--reject-with", "icmp-admin-prohibited"}
}

// banRuleArgs returns the arguments of the iptables backend's rule for one
// banned prefix, in the order iptables -S lists them.
func banRuleArgs(p netip.Prefix, target string) []string {
	f := familyOf(p)
	return append([]string{"-s", p.String(), "-m", "comment", "--comment", ownerComment}, targetArgs(target, f)...)
}

// setRuleArgs returns the arguments of the ipset backend's match rule.
func setRuleArgs(set, target string, f family) []string {
	return append([]string{"-m", "set", "--match-set", set, "src", "-m", "comment", "--comment", ownerComment}, targetArgs(target, f)...)
}

// jumpArgs returns the arguments of the rule that jumps from a parent chain
// to vigil's chain.
func jumpArgs(chain string) []string {
	return []string{"-m", "comment", "--comment", ownerComment, "-j", chain}
}

// restoreScript renders an iptables-restore --noflush script for the filter
// table that deletes dels and then appends adds, all in chain, as one
// transaction.
func restoreScript(chain string, dels, adds [][]string) []byte {
	var b bytes.Buffer
	b.WriteString("*filter\n")
	write := func(op string, args []string) {
		b.WriteString(op)
		b.WriteByte(' ')
		b.WriteString(chain)
		for _, a := range args {
			b.WriteByte(' ')
			b.WriteString(quoteArg(a))
		}
		b.WriteByte('\n')
	}
	for _, a := range dels {
		write("-D", a)
	}
	for _, a := range adds {
		write("-A", a)
	}
	b.WriteString("COMMIT\n")
	return b.Bytes()
}
