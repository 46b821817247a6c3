package detect

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
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
// literal clauses of each. A pattern that cannot be split is its own single
// branch.
func compileBranches(re *regexp.Regexp) ([]ruleBranch, [][][]string) {
	specs, err := splitPattern(re.String())
	if err != nil {
		return []ruleBranch{{re: re}}, [][][]string{nil}
	}
	out := make([]ruleBranch, len(specs))
	lits := make([][][]string, len(specs))
	for i, sp := range specs {
		b := ruleBranch{re: re}
		if len(specs) > 1 {
			if b.re, err = regexp.Compile(sp.pattern); err != nil {
				return []ruleBranch{{re: re}}, [][][]string{nil}
			}
		}
		if sp.start != nil {
			if b.anchored, err = regexp.Compile(`\A(?:` + sp.pattern + `)`); err == nil {
				b.start = *sp.start
			}
		}
		out[i], lits[i] = b, sp.clauses
	}
	return out, lits
}

// ruleBranch is one branch of a rule's pattern.
type ruleBranch struct {
	re *regexp.Regexp
	// lits are ids of clauses (sets of literals, see
	// signature.clauseBytes): every match of re contains a literal of
	// each; none when nothing is known (it always runs).
	lits []uint32
	// When every match of re starts with a byte of the set start (a bit
	// per byte), anchored is re anchored at the start of its input, and
	// re matches b exactly when anchored matches b[i:] for some i with
	// b[i] in start; nil otherwise.
	anchored *regexp.Regexp
	start    [4]uint64
}

// maxStartTries is how many start positions match tries with anchored
// before it runs re once over the whole input instead.
const maxStartTries = 2

// match reports whether the branch matches b. Where every match starts with
// a byte of a small set, as for [;|&`]... after a shell separator, the
// positions of those bytes are found first: none means no match without
// running the regexp, a few are tried one by one.
func (rb *ruleBranch) match(b []byte) bool {
	if rb.anchored == nil {
		return rb.re.Match(b)
	}
	var pos [maxStartTries]int
	n := 0
	for i, c := range b {
		if rb.start[c>>6]&(1<<(c&63)) != 0 {
			if n == maxStartTries {
				return rb.re.Match(b)
			}
			pos[n] = i
			n++
		}
	}
	for _, i := range pos[:n] {
		if rb.anchored.Match(b[i:]) {
			return true
		}
	}
	return false
}

// Limits of the branch split and of literal extraction.
const (
	maxBranches      = 64  // branches per rule (more where chunking needs them)
	splitAbove       = 80  // instructions: smaller patterns are not split
	chunkProg        = 400 // instructions per chunk of a large alternation
	maxBacktrackProg = 500 // Go's regexp uses its backtracker up to this size
	maxExactSet      = 64  // strings in an exact set
	maxExactLen      = 24  // bytes of a string in an exact set
	maxClassExpand   = 16  // characters of a class turned into an exact set
)

// branchSpec is one branch of a split pattern: its pattern, the literals
// one of which any match of it contains, per clause (none: nothing known),
// and the set of
// bytes every match starts with (nil: unknown).
type branchSpec struct {
	pattern string
	clauses [][]string
	start   *[4]uint64
}

// splitPattern returns the branches of pattern (a valid regexp). Joined by
// "|", they match exactly what pattern matches.
func splitPattern(pattern string) ([]branchSpec, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	re = re.Simplify()
	parts := splitAlternatives(re, maxBranches, progSize(re))
	specs := make([]branchSpec, len(parts))
	memo := map[*syntax.Regexp]litInfo{} // branches share subexpressions
	for i, p := range parts {
		specs[i] = branchSpec{pattern: writeSyntax(p), clauses: requiredLiterals(p, memo).clauses()}
		var set [4]uint64
		if startBytes(p, &set) {
			specs[i].start = &set
		}
	}
	return specs, nil
}

// maxStartBytes bounds the set of first bytes worth testing (see
// ruleBranch.match): letters and digits are too common to help.
const maxStartBytes = 24

// startBytes adds to set the bytes every match of re starts with, and
// reports whether it could: re must begin by consuming a byte (no leading
// assertion, no optional part) from a small set of ASCII bytes that are not
// letters or digits.
func startBytes(re *syntax.Regexp, set *[4]uint64) bool {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return false
		}
		return addStartRunes(set, re.Rune[0], re.Rune[0])
	case syntax.OpCharClass:
		n := 0
		for i := 0; i+1 < len(re.Rune); i += 2 {
			n += int(re.Rune[i+1]-re.Rune[i]) + 1
			if n > maxStartBytes || !addStartRunes(set, re.Rune[i], re.Rune[i+1]) {
				return false
			}
		}
		return n > 0
	case syntax.OpCapture, syntax.OpPlus:
		return startBytes(re.Sub[0], set)
	case syntax.OpRepeat:
		return re.Min >= 1 && startBytes(re.Sub[0], set)
	case syntax.OpConcat:
		return len(re.Sub) > 0 && startBytes(re.Sub[0], set)
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			if !startBytes(sub, set) {
				return false
			}
		}
		return len(re.Sub) > 0
	}
	return false
}

// addStartRunes adds the bytes lo..hi to set, when they are ASCII and not
// letters or digits.
func addStartRunes(set *[4]uint64, lo, hi rune) bool {
	if hi >= 0x80 {
		return false
	}
	for r := lo; r <= hi; r++ {
		c := byte(r)
		if isLetter(c) || (c >= '0' && c <= '9') {
			return false
		}
		set[c>>6] |= 1 << (c & 63)
	}
	return true
}

// splitAlternatives returns regexps whose alternation is re: the branches
// of a top-level alternation, or the concatenation distributed over an
// alternation it contains (x(a|b)y as xay, xby), split again while they are
// large and there are fewer than limit. Where an alternation has more
// branches than that, consecutive ones stay together in chunks; a pattern
// too large for Go's backtracker (maxBacktrackProg) is chunked even when
// the limit is reached.
//
// size is re's program size (progSize), or an estimate of it.
func splitAlternatives(re *syntax.Regexp, limit, size int) []*syntax.Regexp {
	if size <= splitAbove || (limit <= 1 && size <= maxBacktrackProg) {
		return []*syntax.Regexp{re}
	}
	if re.Op == syntax.OpCapture {
		return splitAlternatives(re.Sub[0], limit, size)
	}
	alts, build := alternatives(re)
	if len(alts) < 2 {
		return []*syntax.Regexp{re}
	}
	k := len(alts)
	if k > limit {
		k = min(k, max(limit, (size+chunkProg-1)/chunkProg, 2))
	}
	parts := make([]*syntax.Regexp, 0, k)
	sizes := make([]int, len(alts))
	total := 0
	for i, a := range alts {
		sizes[i] = progSize(a)
		total += sizes[i]
	}
	// One part per alternative, or chunks of consecutive alternatives of
	// about equal total size.
	var partSizes []int
	lo, acc, chunk := 0, 0, 0
	for i := range alts {
		acc += sizes[i]
		chunk += sizes[i]
		if k == len(alts) || i == len(alts)-1 || acc*k >= total*(len(parts)+1) {
			parts = append(parts, build(alts[lo:i+1]))
			partSizes = append(partSizes, max(size-total+chunk, 1)) // what surrounds the alternation, and the chunk
			lo, chunk = i+1, 0
		}
	}
	if len(parts) < 2 {
		return []*syntax.Regexp{re}
	}
	spare := max(limit-len(parts), 0)
	out := make([]*syntax.Regexp, 0, len(parts))
	for i, p := range parts {
		n := 1 + spare*partSizes[i]/max(size, 1)
		out = append(out, splitAlternatives(p, n, partSizes[i])...)
	}
	return out
}

// alternatives returns the branches of the alternation re is, or that it
// concatenates (the one with the most branches), and a function building
// the regexp that matches re restricted to some of them; nil when re has
// no alternation to split on.
func alternatives(re *syntax.Regexp) ([]*syntax.Regexp, func([]*syntax.Regexp) *syntax.Regexp) {
	group := func(subs []*syntax.Regexp) *syntax.Regexp {
		if len(subs) == 1 {
			return subs[0]
		}
		return &syntax.Regexp{Op: syntax.OpAlternate, Flags: re.Flags, Sub: subs}
	}
	switch re.Op {
	case syntax.OpAlternate:
		return re.Sub, group
	case syntax.OpConcat:
		// Concatenations nested in this one (left by distributing over an
		// alternation) are flattened, so that their alternations are seen.
		subs := flattenConcat(re.Sub, nil)
		best := -1
		for i, sub := range subs {
			if alt := unwrapCapture(sub); alt.Op == syntax.OpAlternate && (best < 0 || len(alt.Sub) > len(unwrapCapture(subs[best]).Sub)) {
				best = i
			}
		}
		if best < 0 {
			return nil, nil
		}
		return unwrapCapture(subs[best]).Sub, func(alts []*syntax.Regexp) *syntax.Regexp {
			sub := slices.Clone(subs)
			sub[best] = group(alts)
			return &syntax.Regexp{Op: syntax.OpConcat, Flags: re.Flags, Sub: sub}
		}
	}
	return nil, nil
}

// flattenConcat appends to dst the operands of a concatenation of subs,
// with the operands of nested concatenations (captures unwrapped) in place
// of them.
func flattenConcat(subs, dst []*syntax.Regexp) []*syntax.Regexp {
	for _, sub := range subs {
		if c := unwrapCapture(sub); c.Op == syntax.OpConcat {
			dst = flattenConcat(c.Sub, dst)
			continue
		}
		dst = append(dst, sub)
	}
	return dst
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
			writeRune(b, r)
		}
		b.WriteString(`)`)
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			b.WriteString(`[^\x00-\x{10FFFF}]`)
			return
		}
		b.WriteString(`[`)
		for i := 0; i+1 < len(re.Rune); i += 2 {
			writeRune(b, re.Rune[i])
			b.WriteByte('-')
			writeRune(b, re.Rune[i+1])
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

// writeRune writes r as an escape, \x{hex}.
func writeRune(b *strings.Builder, r rune) {
	b.WriteString(`\x{`)
	b.WriteString(strconv.FormatInt(int64(r), 16))
	b.WriteByte('}')
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
	// req are more sets of which every match contains a literal each (the
	// parts of a concatenation), for gating on two sets at once.
	req [][]string
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
func requiredLiterals(re *syntax.Regexp, memo map[*syntax.Regexp]litInfo) litInfo {
	if li, ok := memo[re]; ok {
		return li
	}
	li := literalsOf(re, memo)
	memo[re] = li
	return li
}

// literalsOf is requiredLiterals without the memo.
func literalsOf(re *syntax.Regexp, memo map[*syntax.Regexp]litInfo) litInfo {
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
		return requiredLiterals(re.Sub[0], memo)
	case syntax.OpQuest:
		sub := requiredLiterals(re.Sub[0], memo)
		if sub.exact && len(sub.strs) < maxExactSet {
			return exactInfo(union(slices.Clone(sub.strs), []string{""})...)
		}
		return litInfo{}
	case syntax.OpPlus:
		sub := requiredLiterals(re.Sub[0], memo)
		return litInfo{prefix: sub.prefix, suffix: sub.suffix, match: sub.any(), req: sub.req}
	case syntax.OpRepeat:
		if re.Min >= 1 {
			sub := requiredLiterals(re.Sub[0], memo)
			return litInfo{prefix: sub.prefix, suffix: sub.suffix, match: sub.any(), req: sub.req}
		}
		return litInfo{}
	case syntax.OpConcat:
		cur := exactInfo("")
		for _, sub := range re.Sub {
			cur = concatInfo(cur, requiredLiterals(sub, memo))
		}
		return cur
	case syntax.OpAlternate:
		subs := make([]litInfo, len(re.Sub))
		exact := true
		for i, sub := range re.Sub {
			subs[i] = requiredLiterals(sub, memo)
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
	li.req = topSets(append(append(slices.Clone(a.req), b.req...), a.any(), b.any()))
	if usable(a.suffix) != nil && usable(b.prefix) != nil {
		for k := max(maxLen(a.suffix), maxLen(b.prefix)); k >= 1; k-- {
			if strs, ok := cross(trimmed(a.suffix, k, true), trimmed(b.prefix, k, false), maxAnySet); ok {
				li.match = best(li.match, usable(strs))
				break
			}
		}
	}
	return li
}

// maxReq bounds litInfo.req.
const maxReq = 6

// topSets returns the distinct non-nil sets of sets, most selective first,
// at most maxReq of them.
func topSets(sets [][]string) [][]string {
	var out [][]string
	for _, s := range sets {
		if s == nil || slices.ContainsFunc(out, func(o []string) bool { return slices.Equal(o, s) }) {
			continue
		}
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b []string) int { return selectivity(b) - selectivity(a) })
	return out[:min(len(out), maxReq)]
}

// clauses returns up to maxClauses sets of literals such that every match
// contains a literal of each: the most selective set, and the next most
// selective of the concatenated parts, so that a branch such as
// on[a-z]+=... needs both "on" and "=" before it runs.
func (li litInfo) clauses() [][]string {
	first := li.any()
	if first == nil {
		return nil
	}
	cs := [][]string{first}
	for _, r := range topSets(li.req) {
		if len(cs) == maxClauses {
			break
		}
		if !slices.ContainsFunc(cs, func(c []string) bool { return overlaps(c, r) }) {
			cs = append(cs, r)
		}
	}
	return cs
}

// maxClauses bounds the literal sets a branch is gated by.
const maxClauses = 2

// overlaps reports whether a and b share a string, or one holds a
// substring of a string of the other (then they are not independent).
func overlaps(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if strings.Contains(x, y) || strings.Contains(y, x) {
				return true
			}
		}
	}
	return false
}

// joinTrim returns every string of a followed by one of b, cut to its first
// (keepStart) or last maxExactLen bytes; nil when either is nil or there
// would be too many.
func joinTrim(a, b []string, keepStart bool) []string {
	if a == nil || b == nil || len(a)*len(b) > maxAnySet {
		return nil
	}
	out := make([]string, 0, len(a)*len(b))
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
			out = append(out, s)
		}
	}
	return dedupe(out)
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
			if len(x)+len(y) > maxExactLen {
				return nil, false
			}
			strs = append(strs, x+y)
		}
	}
	return dedupe(strs), true
}

// trimmed returns the distinct last (end) or first k bytes of strs.
func trimmed(strs []string, k int, end bool) []string {
	out := make([]string, 0, len(strs))
	for _, s := range strs {
		if len(s) > k {
			if end {
				s = s[len(s)-k:]
			} else {
				s = s[:k]
			}
		}
		out = append(out, s)
	}
	return dedupe(out)
}

// maxLen returns the length of the longest string of strs.
func maxLen(strs []string) int {
	n := 0
	for _, s := range strs {
		n = max(n, len(s))
	}
	return n
}

// selectivity rates a set of alternative literals: the shortest one counts
// most (a one-byte literal occurs everywhere), then whether one is made of
// letters, digits and the punctuation of ordinary text only, then fewer
// alternatives.
func selectivity(strs []string) int {
	short, common := maxExactLen, false
	for _, s := range strs {
		short = min(short, len(s))
		plain := true
		for _, c := range []byte(s) {
			plain = plain && anchorCost(c) >= 3
		}
		common = common || plain
	}
	score := short*1000 - len(strs)
	if common {
		score -= 500
	}
	return score
}

// union returns the strings of a and then those of b that a lacks.
func union(a, b []string) []string {
	return dedupe(append(slices.Clone(a), b...))
}

// dedupe removes repeated strings from strs in place, keeping the first of
// each.
func dedupe(strs []string) []string {
	if len(strs) < 2 {
		return strs
	}
	seen := make(map[string]bool, len(strs))
	out := strs[:0]
	for _, s := range strs {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
