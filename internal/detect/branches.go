package detect

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
)

// Rule patterns are large alternations: one regexp per technique, dozens of
// branches each. Go's regexp runs a pattern with more than 500 instructions
// on its NFA, at several hundred nanoseconds per input byte, and a rule's
// prefilter literal says only that some branch might match. So each pattern
// is split, once at load time, into its branches, and each branch gets the
// literals that any match of it must contain, derived from the pattern. A
// rule that the prefilter admits runs only the branches whose literals occur
// in the view, each a small regexp that runs on the faster backtracker. A
// request matches a rule exactly when it matches one of the rule's branches,
// so this changes the cost of a rule, never its verdict.

// compileBranches splits re into branches (see splitPattern), with the
// literals of each. A pattern that cannot be split is its own single branch.
func compileBranches(re *regexp.Regexp) ([]*regexp.Regexp, [][]string) {
	pats, lits, err := splitPattern(re.String())
	if err != nil {
		return []*regexp.Regexp{re}, [][]string{nil}
	}
	if len(pats) == 1 {
		return []*regexp.Regexp{re}, lits
	}
	out := make([]*regexp.Regexp, len(pats))
	for i, p := range pats {
		b, err := regexp.Compile(p)
		if err != nil {
			return []*regexp.Regexp{re}, [][]string{nil}
		}
		out[i] = b
	}
	return out, lits
}

// ruleBranch is one branch of a rule's pattern.
type ruleBranch struct {
	re *regexp.Regexp
	// lits are ids in signature.blits of literals one of which every match
	// of re contains; empty when the branch has none (it always runs).
	lits []uint32
}

// Limits of the branch split and of literal extraction.
const (
	maxBranches    = 64 // branches per rule
	splitAbove     = 80
	maxExactSet    = 64 // strings in an exact set
	maxExactLen    = 24 // bytes of a string in an exact set
	maxClassExpand = 8  // characters of a class turned into an exact set
)

// splitPattern returns the branches of pattern (a valid regexp), each with
// the literals one of which any match of it contains (nil: none known).
// Joined by "|", the branches match exactly what pattern matches.
func splitPattern(pattern string) ([]string, [][]string, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, nil, err
	}
	parts := splitAlternatives(re.Simplify(), maxBranches)
	pats := make([]string, len(parts))
	lits := make([][]string, len(parts))
	for i, p := range parts {
		pats[i] = writeSyntax(p)
		lits[i] = requiredLiterals(p).any()
	}
	return pats, lits, nil
}

// splitAlternatives returns regexps whose alternation is re: the branches
// of a top-level alternation, and the concatenation distributed over an
// alternation it contains (x(a|b)y as xay, xby), recursively while a branch
// is large and the total stays within limit.
func splitAlternatives(re *syntax.Regexp, limit int) []*syntax.Regexp {
	if progSize(re) <= splitAbove {
		return []*syntax.Regexp{re}
	}
	var parts []*syntax.Regexp
	switch re.Op {
	case syntax.OpAlternate:
		parts = re.Sub
	case syntax.OpCapture:
		return splitAlternatives(re.Sub[0], limit)
	case syntax.OpConcat:
		// Distribute over the alternation child with the most branches.
		best := -1
		for i, sub := range re.Sub {
			if alt := unwrapCapture(sub); alt.Op == syntax.OpAlternate && (best < 0 || len(alt.Sub) > len(unwrapCapture(re.Sub[best]).Sub)) {
				best = i
			}
		}
		if best < 0 {
			return []*syntax.Regexp{re}
		}
		for _, branch := range unwrapCapture(re.Sub[best]).Sub {
			sub := slices.Clone(re.Sub)
			sub[best] = branch
			parts = append(parts, &syntax.Regexp{Op: syntax.OpConcat, Flags: re.Flags, Sub: sub})
		}
	default:
		return []*syntax.Regexp{re}
	}
	if len(parts) > limit {
		return []*syntax.Regexp{re}
	}
	// Split further while the budget allows, largest branches first.
	out := make([]*syntax.Regexp, 0, len(parts))
	budget := limit - len(parts)
	for _, p := range parts {
		sub := splitAlternatives(p, budget+1)
		budget -= len(sub) - 1
		out = append(out, sub...)
	}
	return out
}

// writeSyntax returns a pattern equivalent to re. (syntax.Regexp.String
// would do, but it checks every rune of a class for case folding, which
// takes about a second for a rule's worth of [^=] classes.) Every
// operand is grouped, classes are written as ranges of code points, and
// captures become plain groups: rules only ask whether a pattern matches.
func writeSyntax(re *syntax.Regexp) string {
	var b strings.Builder
	writeNode(&b, re)
	return b.String()
}

func writeNode(b *strings.Builder, re *syntax.Regexp) {
	switch re.Op {
	case syntax.OpNoMatch:
		b.WriteString(`[^\x00-\x{10FFFF}]`)
	case syntax.OpEmptyMatch:
		b.WriteString(`(?:)`)
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			b.WriteString(`(?i:`)
		} else {
			b.WriteString(`(?:`)
		}
		for _, r := range re.Rune {
			fmt.Fprintf(b, `\x{%x}`, r)
		}
		b.WriteString(`)`)
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			b.WriteString(`[^\x00-\x{10FFFF}]`)
			return
		}
		b.WriteString(`[`)
		for i := 0; i+1 < len(re.Rune); i += 2 {
			fmt.Fprintf(b, `\x{%x}-\x{%x}`, re.Rune[i], re.Rune[i+1])
		}
		b.WriteString(`]`)
	case syntax.OpAnyCharNotNL:
		b.WriteString(`(?-s:.)`)
	case syntax.OpAnyChar:
		b.WriteString(`(?s:.)`)
	case syntax.OpBeginLine:
		b.WriteString(`(?m:^)`)
	case syntax.OpEndLine:
		b.WriteString(`(?m:$)`)
	case syntax.OpBeginText:
		b.WriteString(`\A`)
	case syntax.OpEndText:
		if re.Flags&syntax.WasDollar != 0 {
			b.WriteString(`(?-m:$)`)
		} else {
			b.WriteString(`\z`)
		}
	case syntax.OpWordBoundary:
		b.WriteString(`\b`)
	case syntax.OpNoWordBoundary:
		b.WriteString(`\B`)
	case syntax.OpCapture:
		writeNode(b, re.Sub[0])
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		b.WriteString(`(?:`)
		writeNode(b, re.Sub[0])
		b.WriteString(`)`)
		switch re.Op {
		case syntax.OpStar:
			b.WriteString(`*`)
		case syntax.OpPlus:
			b.WriteString(`+`)
		case syntax.OpQuest:
			b.WriteString(`?`)
		case syntax.OpRepeat:
			if re.Max < 0 {
				fmt.Fprintf(b, `{%d,}`, re.Min)
			} else {
				fmt.Fprintf(b, `{%d,%d}`, re.Min, re.Max)
			}
		}
		if re.Flags&syntax.NonGreedy != 0 {
			b.WriteString(`?`)
		}
	case syntax.OpConcat:
		b.WriteString(`(?:`)
		for _, sub := range re.Sub {
			writeNode(b, sub)
		}
		b.WriteString(`)`)
	case syntax.OpAlternate:
		b.WriteString(`(?:`)
		for i, sub := range re.Sub {
			if i > 0 {
				b.WriteString(`|`)
			}
			writeNode(b, sub)
		}
		b.WriteString(`)`)
	}
}

// unwrapCapture returns re without enclosing capture groups.
func unwrapCapture(re *syntax.Regexp) *syntax.Regexp {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	return re
}

// progSize is the number of instructions re compiles to (large on error, so
// that it is not split further).
func progSize(re *syntax.Regexp) int {
	p, err := syntax.Compile(re)
	if err != nil {
		return 0
	}
	return len(p.Inst)
}

// litInfo describes the strings a regexp matches. When exact, a match is
// one of strs. Otherwise a match starts with one of prefix, ends with one of
// suffix and contains one of match; a nil set (or one holding "") says
// nothing.
type litInfo struct {
	exact                 bool
	strs                  []string
	prefix, suffix, match []string
}

// exactInfo is the litInfo of a regexp that matches exactly one of strs.
func exactInfo(strs ...string) litInfo {
	return litInfo{exact: true, strs: strs, prefix: strs, suffix: strs, match: strs}
}

// any returns the most selective set of literals one of which every match
// contains, or nil.
func (li litInfo) any() []string {
	return best(best(usable(li.match), usable(li.prefix)), usable(li.suffix))
}

// usable returns strs, or nil when it says nothing (it is too large or holds
// the empty string).
func usable(strs []string) []string {
	if len(strs) > maxAnySet || slices.Contains(strs, "") {
		return nil
	}
	return strs
}

// best returns the more selective of two literal sets (nil: none).
func best(a, b []string) []string {
	if a == nil || (b != nil && selectivity(b) > selectivity(a)) {
		return b
	}
	return a
}

// requiredLiterals derives what re's matches must contain. It follows
// "Regular Expression Matching with a Trigram Index" (Russ Cox) in a reduced
// form: exact sets of short strings are kept through concatenation and
// alternation, prefixes and suffixes across the rest, and the most
// selective set survives.
func requiredLiterals(re *syntax.Regexp) litInfo {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 && !foldSafe(re.Rune) {
			return litInfo{}
		}
		return exactInfo(lowerString(string(re.Rune)))
	case syntax.OpCharClass:
		var strs []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi >= 0x80 || hi-lo >= maxClassExpand {
				return litInfo{}
			}
			for r := lo; r <= hi; r++ {
				strs = union(strs, []string{lowerString(string(r))})
			}
			if len(strs) > maxClassExpand {
				return litInfo{}
			}
		}
		if len(strs) == 0 {
			return litInfo{}
		}
		return exactInfo(strs...)
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return exactInfo("")
	case syntax.OpCapture:
		return requiredLiterals(re.Sub[0])
	case syntax.OpQuest:
		sub := requiredLiterals(re.Sub[0])
		if sub.exact && len(sub.strs) < maxExactSet {
			return exactInfo(union(slices.Clone(sub.strs), []string{""})...)
		}
		return litInfo{}
	case syntax.OpPlus:
		sub := requiredLiterals(re.Sub[0])
		return litInfo{prefix: sub.prefix, suffix: sub.suffix, match: sub.any()}
	case syntax.OpRepeat:
		if re.Min >= 1 {
			sub := requiredLiterals(re.Sub[0])
			return litInfo{prefix: sub.prefix, suffix: sub.suffix, match: sub.any()}
		}
		return litInfo{}
	case syntax.OpConcat:
		cur := exactInfo("")
		for _, sub := range re.Sub {
			cur = concatInfo(cur, requiredLiterals(sub))
		}
		return cur
	case syntax.OpAlternate:
		subs := make([]litInfo, len(re.Sub))
		exact := true
		for i, sub := range re.Sub {
			subs[i] = requiredLiterals(sub)
			exact = exact && subs[i].exact
		}
		if exact {
			var strs []string
			for _, sub := range subs {
				strs = union(strs, sub.strs)
			}
			if len(strs) <= maxExactSet {
				return exactInfo(strs...)
			}
		}
		var li litInfo
		for i, sub := range subs {
			m := sub.any()
			if i == 0 {
				li = litInfo{prefix: slices.Clone(sub.prefix), suffix: slices.Clone(sub.suffix), match: slices.Clone(m)}
				continue
			}
			li.prefix = unionOrNil(li.prefix, sub.prefix)
			li.suffix = unionOrNil(li.suffix, sub.suffix)
			li.match = unionOrNil(li.match, m)
		}
		return li
	}
	return litInfo{} // any character, star, ...
}

// unionOrNil is the union of a and b, or nil when either says nothing.
func unionOrNil(a, b []string) []string {
	if a == nil || b == nil {
		return nil
	}
	u := union(a, b)
	if len(u) > maxAnySet {
		return nil
	}
	return u
}

// foldSafe reports whether a case-folded literal of these runes matches
// only ASCII case variants (k and s also fold to the Kelvin sign and the
// long s, which the literal index would not see).
func foldSafe(rs []rune) bool {
	for _, r := range rs {
		switch {
		case r >= 0x80, r == 'k', r == 'K', r == 's', r == 'S':
			return false
		}
	}
	return true
}

// concatInfo is the litInfo of a match of a followed by a match of b.
func concatInfo(a, b litInfo) litInfo {
	if a.exact && b.exact {
		if strs, ok := cross(a.strs, b.strs, maxExactSet); ok {
			return exactInfo(strs...)
		}
	}
	var li litInfo
	// A match starts with a's prefix, extended by b's when a is exact; it
	// ends likewise; and where a and b meet it contains an end of a
	// followed by a start of b (as "on" + "load" in [\s/]on(?:load|...)).
	li.prefix = a.prefix
	if a.exact {
		li.prefix = a.strs
		if p := joinTrim(a.strs, usable(b.prefix), true); p != nil {
			li.prefix = p
		}
	}
	li.suffix = b.suffix
	if b.exact {
		li.suffix = b.strs
		if s := joinTrim(usable(a.suffix), b.strs, false); s != nil {
			li.suffix = s
		}
	}
	li.match = best(a.any(), b.any())
	if usable(a.suffix) != nil && usable(b.prefix) != nil {
		for k := maxExactLen; k >= 1; k-- {
			if strs, ok := cross(trimmed(a.suffix, k, true), trimmed(b.prefix, k, false), maxAnySet); ok {
				li.match = best(li.match, usable(strs))
				break
			}
		}
	}
	return li
}

// joinTrim returns every string of a followed by one of b, cut to its first
// (keepStart) or last maxExactLen bytes; nil when either is nil or there
// would be too many.
func joinTrim(a, b []string, keepStart bool) []string {
	if a == nil || b == nil || len(a)*len(b) > maxAnySet {
		return nil
	}
	var out []string
	for _, x := range a {
		for _, y := range b {
			s := x + y
			if len(s) > maxExactLen {
				if keepStart {
					s = s[:maxExactLen]
				} else {
					s = s[len(s)-maxExactLen:]
				}
			}
			out = union(out, []string{s})
		}
	}
	return out
}

// maxAnySet bounds the alternatives of a set of required literals.
const maxAnySet = 256

// cross returns every string of a followed by one of b, or false when there
// would be more than limit or one longer than maxExactLen.
func cross(a, b []string, limit int) ([]string, bool) {
	if len(a)*len(b) > limit {
		return nil, false
	}
	strs := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			s := x + y
			if len(s) > maxExactLen {
				return nil, false
			}
			if !slices.Contains(strs, s) {
				strs = append(strs, s)
			}
		}
	}
	return strs, true
}

// trimmed returns the distinct last (end) or first k bytes of strs.
func trimmed(strs []string, k int, end bool) []string {
	var out []string
	for _, s := range strs {
		if len(s) > k {
			if end {
				s = s[len(s)-k:]
			} else {
				s = s[:k]
			}
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// selectivity rates a set of alternative literals: the shortest one counts
// most (a one-byte literal occurs everywhere), then fewer alternatives.
func selectivity(strs []string) int {
	short := maxExactLen
	for _, s := range strs {
		short = min(short, len(s))
	}
	return short*1000 - len(strs)
}

// union returns a with the strings of b it lacks appended.
func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}
