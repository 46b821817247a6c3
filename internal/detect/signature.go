package detect

import (
	"bytes"
	"errors"
	"math/bits"
	"strings"
	"unsafe"

	"github.com/corazawaf/libinjection-go"
)

// SignatureConfig configures the signature detector: payload rules (SQLi,
// XSS, traversal and file inclusion, command injection, template and
// expression injection, Log4Shell, Shellshock, SSRF, ...) matched on the
// normalised request.
type SignatureConfig struct {
	// Mode is enforce, alert or off.
	Mode Mode `koanf:"mode"`
	// RulesFile names an optional YAML file of extra rules, in the format of
	// the built-in rules.yaml.
	RulesFile string `koanf:"rules_file"`
	// Rules are extra rules written inline.
	Rules []SignatureRule `koanf:"rules"`
	// Disable lists rule ids to turn off. Unknown ids are an error.
	Disable []string `koanf:"disable"`
	// Override changes the severity or mode of individual rules, by id.
	Override map[string]RuleOverride `koanf:"override"`
}

// RuleOverride changes one rule's severity or mode. Empty fields keep the
// rule's own value.
type RuleOverride struct {
	// Severity is notice, warning, error or critical.
	Severity string `koanf:"severity"`
	// Mode is enforce, alert or off; it takes precedence over
	// signature.mode for this rule.
	Mode Mode `koanf:"mode"`
}

// DefaultSignatureConfig returns the default: enforcing, built-in rules only.
func DefaultSignatureConfig() SignatureConfig {
	return SignatureConfig{Mode: ModeEnforce}
}

// Validate reports every problem in c (messages start with "signature.").
// It compiles the rules, reading RulesFile if set.
func (c SignatureConfig) Validate() error {
	_, err := c.compile()
	return err
}

// compile validates c and returns its rule set (nil when the detector is
// off).
func (c SignatureConfig) compile() (*ruleSet, error) {
	if err := validMode("signature.mode", c.Mode); err != nil {
		return nil, err
	}
	if c.Mode == ModeOff {
		return nil, nil
	}
	return compileRuleSet(c)
}

// Prefilter features of a byte (see litIndex.scan). The raw scan uses
// them to decide whether the text view differs from the lower-cased field;
// the text scan to decide whether the command-line view is worth building.
const (
	featDecode uint16 = 1 << iota // % + NUL, bytes ≥ 0xc0, & (entities), \ (escapes), * (comments), \v \f
	featShell                     // shell syntax: ; | & ` $ ( ) { } < > \n ' " \ ^
)

// fieldPrefilter is the literal prefilter of one field.
type fieldPrefilter struct {
	lits    *litIndex
	litText [][]uint16 // per literal id: text-view rules it admits
	litCmd  [][]uint16 // per literal id: command-line-view rules it admits
}

// signature is the compiled signature detector.
type signature struct {
	mode  Mode
	rules []compiledRule
	modes map[string]Mode // per-rule mode, for ModeOf

	// fields[f] is the literal prefilter of field f: an automaton of the
	// contains literals of the rules that apply to f (one per field keeps
	// each table small), and per literal id the rules it admits, by view.
	fields [numFields]fieldPrefilter
	// always[f] lists rules without a prefilter that apply to field f.
	always [numFields][]uint16
	// hasCmd[f] reports whether any command-line rule applies to field f.
	hasCmd [numFields]bool
	// commented[f] lists the libinjection SQLi rules for field f: they are
	// candidates whenever the field held a /* comment, which the text view
	// (and so the literal prefilter) no longer shows.
	commented [numFields][]uint16

	// uaBase is the id of the first User-Agent detector literal in the
	// User-Agent field's index.
	uaBase uint32

	featRaw  [numFields][256]uint16 // features for the raw scan, per field
	featText [256]uint16            // features for the text scan

	// branches[i] are rule i's branches; their literals are clauses (see
	// ruleBranch.lits). byteClauses[c] lists the clauses with the one-byte
	// literal c; blits indexes the longer literals, and blitClauses[id]
	// lists the clauses literal id belongs to.
	branches    [][]ruleBranch
	byteClauses [256][]uint32
	blits       *litIndex
	blitClauses [][]uint32

	// Scratch, reused per request.
	hits, hitsCmd []uint64
	cand          []uint64 // candidate rules of the current field
	matched       []uint64 // rules already reported for this request
	order         []uint16 // rule index of each match appended by this request
	// satisfied[f*2+view] has the bit of every clause with a literal in
	// that view of field f, valid when bit f*2+view of bscanned is set
	// (cleared per request); bhits is scratch for the scan.
	satisfied [numFields * 2][]uint64
	bhits     []uint64
	bscanned  uint32

	// alone has the bit of every field inspected in this request before
	// any rule matched: its matches (or their absence) do not depend on
	// the other fields (see Content.Inspect).
	alone fieldMask
}

// newSignature builds the detector of the rule set rs of cfg. uaLits are the User-Agent detector's literals
// (nil without it): they join the User-Agent field's index, so one scan of
// the agent serves both detectors (see requestViews.shareUAScan).
func newSignature(cfg SignatureConfig, rs *ruleSet, uaLits []string) (*signature, error) {
	var err error
	if len(rs.rules) > 1<<16 {
		return nil, errors.New("signature: too many rules")
	}
	s := &signature{mode: cfg.Mode, rules: rs.rules, modes: map[string]Mode{}}
	for i, r := range s.rules {
		if r.mode != "" {
			s.modes[r.id] = r.mode
		}
		for f := range numFields {
			if r.fields&(1<<f) == 0 {
				continue
			}
			if len(r.contains) == 0 {
				s.always[f] = append(s.always[f], uint16(i))
			}
			if r.view == viewCmdline {
				s.hasCmd[f] = true
			}
			if r.engine == engineSQLi {
				s.commented[f] = append(s.commented[f], uint16(i))
			}
		}
	}
	words := 1
	for f := range numFields {
		fp := &s.fields[f]
		litID := map[string]int{}
		var lits []string
		for i, r := range s.rules {
			if r.fields&(1<<f) == 0 {
				continue
			}
			for _, l := range r.contains {
				id, ok := litID[l]
				if !ok {
					id = len(lits)
					litID[l] = id
					lits = append(lits, l)
					fp.litText = append(fp.litText, nil)
					fp.litCmd = append(fp.litCmd, nil)
				}
				if r.view == viewCmdline {
					fp.litCmd[id] = appendUnique(fp.litCmd[id], uint16(i))
				} else {
					fp.litText[id] = appendUnique(fp.litText[id], uint16(i))
				}
			}
		}
		if f == fiUserAgent {
			s.uaBase = uint32(len(lits))
			for _, l := range uaLits {
				lits = append(lits, l)
				fp.litText = append(fp.litText, nil)
				fp.litCmd = append(fp.litCmd, nil)
			}
		}
		if len(lits) == 0 {
			lits = []string{"\x00"} // an index needs one literal; NUL never survives decoding
			fp.litText = append(fp.litText, nil)
			fp.litCmd = append(fp.litCmd, nil)
		}
		if fp.lits, err = newLitIndex(lits); err != nil {
			return nil, err
		}
		words = max(words, fp.lits.words())
	}
	for f := range numFields {
		decodes := "%&\\*\v\f\x00" // percent-escapes, entities, \x escapes, comments, NUL
		if f == fiQuery || f == fiReferer {
			decodes += "+" // form encoding
		}
		for _, c := range []byte(decodes) {
			s.featRaw[f][c] |= featDecode
		}
		for c := 0xc0; c < 0x100; c++ {
			s.featRaw[f][c] |= featDecode
		}
	}
	setUAFeatures(&s.featRaw[fiUserAgent])
	for _, c := range []byte(";|&`$(){}<>\n'\"\\^") {
		s.featText[c] |= featShell
	}
	blitID := map[string]uint32{}
	clauseID := map[string]uint32{}
	var blits []string
	s.branches = make([][]ruleBranch, len(s.rules))
	for i, r := range s.rules {
		if r.re == nil {
			continue
		}
		res, lits := compileBranches(r.re)
		for k, b := range res {
			for _, clause := range lits[k] {
				key := strings.Join(clause, "\x00")
				cid, ok := clauseID[key]
				if !ok {
					cid = uint32(len(clauseID))
					clauseID[key] = cid
					for _, l := range clause {
						if len(l) == 1 {
							s.byteClauses[l[0]] = append(s.byteClauses[l[0]], cid)
							continue
						}
						id, ok := blitID[l]
						if !ok {
							id = uint32(len(blits))
							blitID[l] = id
							blits = append(blits, l)
							s.blitClauses = append(s.blitClauses, nil)
						}
						s.blitClauses[id] = append(s.blitClauses[id], cid)
					}
				}
				b.lits = append(b.lits, cid)
			}
			s.branches[i] = append(s.branches[i], b)
		}
	}
	if len(blits) == 0 {
		blits = []string{"\x00"}
		s.blitClauses = append(s.blitClauses, nil)
	}
	if s.blits, err = newLitIndex(blits); err != nil {
		return nil, err
	}
	s.newScratch(words, (len(clauseID)+63)/64)
	return s, nil
}

// newScratch allocates the per-request scratch: words is the size of the
// largest field's hit set, clauseWords that of a set of branch clauses.
func (s *signature) newScratch(words, clauseWords int) {
	s.hits = make([]uint64, words)
	s.hitsCmd = make([]uint64, words)
	rw := (len(s.rules) + 63) / 64
	s.cand = make([]uint64, rw)
	s.matched = make([]uint64, rw)
	s.order = make([]uint16, 0, 16)
	s.bhits = make([]uint64, s.blits.words())
	for i := range s.satisfied {
		s.satisfied[i] = make([]uint64, clauseWords)
	}
	s.bscanned, s.alone = 0, 0
}

// clone returns a detector sharing s's compiled parts (read-only after
// newSignature) with scratch of its own.
func (s *signature) clone() *signature {
	n := *s
	n.newScratch(len(s.hits), len(s.satisfied[0]))
	return &n
}

// appendUnique appends v to s unless it is already the last element.
func appendUnique(s []uint16, v uint16) []uint16 {
	if len(s) > 0 && s[len(s)-1] == v {
		return s
	}
	return append(s, v)
}

// modeOf returns the mode of the rule with the given id.
func (s *signature) modeOf(id string) Mode {
	if m, ok := s.modes[id]; ok {
		return m
	}
	return s.mode
}

// inspect appends the signature matches of the request in v to dst, most
// specific (earliest rule) first.
func (s *signature) inspect(v *requestViews, dst []Match) []Match {
	start := len(dst)
	clear(s.matched)
	s.order = s.order[:0]
	s.bscanned = 0
	s.alone = 0
	for f := range numFields {
		raw := v.raw(f)
		if len(raw) == 0 || v.skip&(1<<f) != 0 {
			continue
		}
		if len(dst) == start {
			// No rule has matched yet, so none is skipped as already
			// reported: this field's verdict is its own.
			s.alone |= 1 << f
		}
		fp := &s.fields[f]
		hits := s.hits[:fp.lits.words()]
		clear(hits)
		feat, any := fp.lits.scan(raw, &s.featRaw[f], hits)
		if f == fiUserAgent {
			v.shareUAScan(hits, feat)
		}
		if !any && feat&featDecode == 0 && len(s.always[f]) == 0 {
			continue // clean: no prefilter literal of this field, nothing to decode
		}
		text := v.text(f)
		var shell uint16
		if feat&featDecode != 0 {
			// Decoding changed the field: the raw hits do not count.
			clear(hits)
			shell, any = fp.lits.scan(text, &s.featText, hits)
		} else {
			shell = featureOf(text, &s.featText)
		}
		comment := feat&featDecode != 0 && len(s.commented[f]) > 0 && v.hadComment(f)
		if !any && !comment && len(s.always[f]) == 0 {
			continue
		}
		clear(s.cand)
		for _, i := range s.always[f] {
			s.cand[i>>6] |= 1 << (i & 63)
		}
		if comment {
			for _, i := range s.commented[f] {
				s.cand[i>>6] |= 1 << (i & 63)
			}
		}
		cmdHits := hits
		if s.hasCmd[f] && shell&featShell != 0 {
			cmdHits = s.hitsCmd[:len(hits)]
			clear(cmdHits)
			fp.lits.scan(v.cmdline(f), &s.featText, cmdHits)
		}
		s.addCandidates(hits, fp.litText)
		s.addCandidates(cmdHits, fp.litCmd)
		dst = s.evaluate(v, f, dst)
	}
	sortMatches(dst[start:], s.order)
	return dst
}

// addCandidates marks as candidates the rules admitted by the literals in hits.
func (s *signature) addCandidates(hits []uint64, admit [][]uint16) {
	for w, word := range hits {
		for word != 0 {
			bit := bits.TrailingZeros64(word)
			word &= word - 1
			for _, i := range admit[w*64+bit] {
				s.cand[i>>6] |= 1 << (i & 63)
			}
		}
	}
}

// evaluate runs the candidate rules of field f in priority order and appends
// a match for each that fires and was not reported for this request yet.
func (s *signature) evaluate(v *requestViews, f int, dst []Match) []Match {
	for w, word := range s.cand {
		word &^= s.matched[w]
		for word != 0 {
			bit := bits.TrailingZeros64(word)
			word &= word - 1
			i := w*64 + bit
			r := &s.rules[i]
			if r.fields&(1<<f) == 0 || !s.fires(i, v, f) {
				continue
			}
			s.matched[w] |= 1 << bit
			s.order = append(s.order, uint16(i))
			dst = append(dst, Match{
				Detector: DetectorSignature,
				Rule:     r.id,
				Class:    r.class,
				Severity: r.severity,
				Field:    fieldOf(f),
			})
		}
	}
	return dst
}

// fires reports whether rule i matches field f of the request.
func (s *signature) fires(i int, v *requestViews, f int) bool {
	r := &s.rules[i]
	switch r.engine {
	case engineSQLi:
		return v.eachDecoded(f, isSQLi)
	case engineXSS:
		return v.eachDecoded(f, isXSS)
	}
	for k := range s.branches[i] {
		b := &s.branches[i][k]
		if !s.admitted(v, f, r.view, b.lits) {
			continue
		}
		if v.matchView(b, f, r.view) {
			return true
		}
	}
	return false
}

// admitted reports whether each clause has a literal in the view of field
// f (see ruleBranch.lits).
func (s *signature) admitted(v *requestViews, f int, view ruleView, clauses []uint32) bool {
	if len(clauses) == 0 {
		return true
	}
	k := f*2 + int(view)
	sat := s.satisfied[k]
	if s.bscanned&(1<<k) == 0 {
		// First use of this view in this request: find the clauses it
		// satisfies.
		s.bscanned |= 1 << k
		b := v.text(f)
		if view == viewCmdline {
			b = v.cmdline(f)
		}
		s.satisfy(b, sat)
	}
	for _, c := range clauses {
		if sat[c>>6]&(1<<(c&63)) == 0 {
			return false
		}
	}
	return true
}

// satisfy sets in sat the bit of every clause with a literal in b.
func (s *signature) satisfy(b []byte, sat []uint64) {
	clear(sat)
	present := byteSet(b)
	for w, word := range present {
		for word != 0 {
			c := w<<6 + bits.TrailingZeros64(word)
			word &= word - 1
			for _, cl := range s.byteClauses[c] {
				sat[cl>>6] |= 1 << (cl & 63)
			}
		}
	}
	clear(s.bhits)
	s.blits.scan(b, &s.featText, s.bhits)
	for w, word := range s.bhits {
		for word != 0 {
			id := w<<6 + bits.TrailingZeros64(word)
			word &= word - 1
			for _, c := range s.blitClauses[id] {
				sat[c>>6] |= 1 << (c & 63)
			}
		}
	}
}

// byteSet returns the set of bytes of b, a bit per byte value.
func byteSet(b []byte) [4]uint64 {
	var set [4]uint64
	for _, c := range b {
		set[c>>6] |= 1 << (c & 63)
	}
	return set
}

// bytesString views b as a string without copying. The string must not
// outlive b's next modification; libinjection does not retain its input.
func bytesString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// isSQLi runs libinjection's SQLi classifier on b and then discards two
// known classes of false positive:
//   - input without any character SQL injection needs to break out of a
//     literal, end a statement or comment out the rest (quote, ; ( ) = < > |
//     & # -- /*): libinjection flags plain phrases such as "80% wool and 20%
//     cotton" or "select x from y where"; UNION and keyword-only injections
//     are covered by the rules;
//   - a short "string operator string" fingerprint from double-quoted words
//     only (no single quote or backtick), which is how search boxes quote
//     phrases: "NOT" STUFFER, "LIKE" STAMP.
func isSQLi(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	ok, fp := libinjection.IsSQLi(bytesString(b))
	if !ok {
		return false
	}
	if !containsAnyByte(b, "'\"`;()=<>|&#") && !bytes.Contains(b, []byte("--")) && !bytes.Contains(b, []byte("/*")) {
		return false
	}
	if len(fp) <= 3 && fp[0] == 's' && !containsAnyByte(b, "'`") {
		return false
	}
	return true
}

// isXSS runs libinjection's XSS classifier on b.
func isXSS(b []byte) bool {
	return len(b) > 0 && libinjection.IsXSS(bytesString(b))
}

// containsAnyByte reports whether b contains any byte of set.
func containsAnyByte(b []byte, set string) bool {
	for _, c := range b {
		for i := range len(set) {
			if c == set[i] {
				return true
			}
		}
	}
	return false
}

// sortMatches orders ms by rule priority; order[i] is the rule index of
// ms[i]. Insertion sort: a request only ever has a few matches.
func sortMatches(ms []Match, order []uint16) {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && order[j] < order[j-1]; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
}
