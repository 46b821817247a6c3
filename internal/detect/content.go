package detect

import (
	"errors"
	"fmt"

	"github.com/vigil-sec/vigil/internal/parse"
)

// Detector names of the content detectors, as they appear in Match.Detector.
const (
	DetectorSignature = "signature"
	DetectorUserAgent = "useragent"
	DetectorProbe     = "probe"
)

// ContentConfig configures the stateless content detectors. Its keys live
// under "detect." in vigil's configuration (e.g. detect.signature.mode).
type ContentConfig struct {
	// Signature configures the payload signatures (SQLi, XSS, traversal,
	// command injection, ...).
	Signature SignatureConfig `koanf:"signature"`
	// UserAgent configures the User-Agent checks (attack tools, empty or
	// malformed agents).
	UserAgent UserAgentConfig `koanf:"useragent"`
	// Probe configures the sensitive-file and admin-path probe checks.
	Probe ProbeConfig `koanf:"probe"`
}

// DefaultContentConfig returns the default content configuration: every
// detector enforcing, the built-in rules only.
func DefaultContentConfig() ContentConfig {
	return ContentConfig{
		Signature: DefaultSignatureConfig(),
		UserAgent: DefaultUserAgentConfig(),
		Probe:     DefaultProbeConfig(),
	}
}

// Validate reports every problem in c, joined. Messages start with the key
// path relative to the detect section ("signature.", "useragent.", "probe.").
// It compiles the rules, so it also reads signature.rules_file.
func (c ContentConfig) Validate() error {
	return errors.Join(c.Signature.Validate(), c.UserAgent.Validate(), c.Probe.Validate())
}

// Content runs the stateless content detectors (signature, user agent,
// probe) over one request. The configuration is compiled once by NewContent;
// Inspect allocates nothing for clean requests.
//
// One Content per engine shard: it is not safe for concurrent use (it owns
// scratch buffers). Several Contents built from the same configuration are
// independent.
type Content struct {
	sig   *signature // nil when signature.mode is off
	ua    *userAgent // nil when useragent.mode is off
	probe *probe     // nil when probe.mode is off

	// Per-request scratch, reused.
	norm requestViews
}

// NewContent compiles cfg into a Content. It returns the same errors as
// cfg.Validate.
func NewContent(cfg ContentConfig) (*Content, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Content{}
	var err error
	if cfg.Signature.Mode != ModeOff {
		if c.sig, err = newSignature(cfg.Signature); err != nil {
			return nil, err
		}
	}
	if cfg.UserAgent.Mode != ModeOff {
		if c.ua, err = newUserAgent(cfg.UserAgent); err != nil {
			return nil, err
		}
	}
	if cfg.Probe.Mode != ModeOff {
		if c.probe, err = newProbe(cfg.Probe); err != nil {
			return nil, err
		}
	}
	c.norm.init()
	return c, nil
}

// Inspect appends every content match for ev to dst and returns it. Within
// each detector the most specific match comes first. ev is only read; its
// byte slices are not retained.
func (c *Content) Inspect(ev *parse.Event, dst []Match) []Match {
	v := &c.norm
	v.reset(ev)
	if c.sig != nil {
		dst = c.sig.inspect(v, dst)
	}
	if c.probe != nil {
		dst = c.probe.inspect(v, ev.Status, dst)
	}
	if c.ua != nil {
		dst = c.ua.inspect(ev.UserAgent, dst)
	}
	return dst
}

// ModeOf returns the mode that applies to m: the per-rule override from
// signature.override when there is one, otherwise the mode of m's detector.
// It returns ModeOff for a match this Content cannot have produced.
func (c *Content) ModeOf(m Match) Mode {
	switch m.Detector {
	case DetectorSignature:
		if c.sig != nil {
			return c.sig.modeOf(m.Rule)
		}
	case DetectorUserAgent:
		if c.ua != nil {
			return c.ua.mode
		}
	case DetectorProbe:
		if c.probe != nil {
			return c.probe.mode
		}
	}
	return ModeOff
}

// validMode returns an error naming key when m is not a defined mode.
func validMode(key string, m Mode) error {
	if m.Valid() {
		return nil
	}
	return fmt.Errorf("%s: must be one of enforce, alert, off (got %q)", key, string(m))
}

// litMatcher finds every occurrence of a fixed set of literal strings in one
// pass over its input, ignoring ASCII case: an Aho-Corasick automaton compiled
// to a DFA over byte classes (bytes that occur in no literal share one class,
// which keeps the table small). It also ORs together per-byte feature bits
// from a caller-supplied table during the same pass. It is immutable after
// construction and safe for concurrent use.
//
// Layout for speed: states that end a literal are numbered last, so "did a
// literal end here" is one comparison against firstOut.
type litMatcher struct {
	class  [256]uint8
	nclass int
	// next[state*nclass+class] is the next state (states are few enough for
	// 16 bits, which halves the table's cache footprint).
	next []uint16
	// firstOut is the first state that ends a literal.
	firstOut uint16
	// outs[outStart[i]:outStart[i+1]] are the literal ids that end at the
	// i-th output state (i = (row-firstOut)/nclass).
	outStart []uint32
	outs     []uint32
	n        int // number of literals
}

// newLitMatcher builds a matcher for lits (matched ignoring ASCII case). Ids
// are indexes into lits. Empty literals are not allowed.
func newLitMatcher(lits []string) (*litMatcher, error) {
	m := &litMatcher{n: len(lits)}
	// Byte classes: class 0 is "in no literal".
	m.nclass = 1
	for _, l := range lits {
		if l == "" {
			return nil, errors.New("empty literal")
		}
		for i := range len(l) {
			c := lowerASCII(l[i])
			if m.class[c] == 0 {
				if m.nclass == 256 {
					return nil, errors.New("too many distinct bytes in literals")
				}
				m.class[c] = uint8(m.nclass)
				m.nclass++
			}
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		m.class[c] = m.class[c+'a'-'A']
	}
	// Trie with dense transitions; none marks "no edge" until the failure
	// links fill it in.
	const none = ^uint32(0)
	nc := m.nclass
	next := make([]uint32, nc)
	for i := range next {
		next[i] = none
	}
	own := [][]uint32{nil}
	for id, l := range lits {
		s := uint32(0)
		for i := range len(l) {
			cl := uint32(m.class[lowerASCII(l[i])])
			t := next[int(s)*nc+int(cl)]
			if t == none {
				t = uint32(len(own))
				next[int(s)*nc+int(cl)] = t
				for range nc {
					next = append(next, none)
				}
				own = append(own, nil)
			}
			s = t
		}
		own[s] = append(own[s], uint32(id))
	}
	states := len(own)
	fail := make([]uint32, states)
	out := make([][]uint32, states)
	out[0] = own[0]
	queue := make([]uint32, 0, states)
	for cl := range nc {
		t := next[cl]
		if t == none {
			next[cl] = 0
			continue
		}
		fail[t] = 0
		queue = append(queue, t)
	}
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		out[s] = append(append([]uint32(nil), own[s]...), out[fail[s]]...)
		for cl := range nc {
			t := next[int(s)*nc+cl]
			f := next[int(fail[s])*nc+cl]
			if t == none {
				next[int(s)*nc+cl] = f
				continue
			}
			fail[t] = f
			queue = append(queue, t)
		}
	}
	// Renumber: the start state first, states without output, then states
	// with output; store row offsets.
	order := make([]uint32, 0, states) // new index → old state
	order = append(order, 0)
	for s := 1; s < states; s++ {
		if len(out[s]) == 0 {
			order = append(order, uint32(s))
		}
	}
	firstOutIndex := len(order)
	if len(out[0]) > 0 {
		return nil, errors.New("empty literal")
	}
	for s := 1; s < states; s++ {
		if len(out[s]) > 0 {
			order = append(order, uint32(s))
		}
	}
	if states > 1<<16 {
		return nil, errors.New("too many literals")
	}
	newIndex := make([]uint16, states)
	for i, s := range order {
		newIndex[s] = uint16(i)
	}
	m.next = make([]uint16, states*nc)
	for i, s := range order {
		for cl := range nc {
			m.next[i*nc+cl] = newIndex[next[int(s)*nc+cl]]
		}
	}
	m.firstOut = uint16(firstOutIndex)
	m.outStart = make([]uint32, states-firstOutIndex+1)
	for i, s := range order[firstOutIndex:] {
		m.outStart[i+1] = m.outStart[i] + uint32(len(out[s]))
		m.outs = append(m.outs, out[s]...)
	}
	return m, nil
}

// words returns the number of uint64 words a hit set of m needs.
func (m *litMatcher) words() int { return (m.n + 63) / 64 }

// scan runs the automaton over b, setting the bit of every literal that occurs
// in b in hits (which must have m.words() words; it is not cleared), and
// returns the OR of feat[c] over the bytes c of b and whether any literal
// occurred.
func (m *litMatcher) scan(b []byte, feat *[256]uint16, hits []uint64) (features uint16, any bool) {
	state := uint16(0)
	next, firstOut, nc := m.next, m.firstOut, uint(m.nclass)
	class := &m.class
	for _, c := range b {
		features |= feat[c]
		state = next[uint(state)*nc+uint(class[c])]
		if state >= firstOut {
			any = true
			i := state - firstOut
			for _, id := range m.outs[m.outStart[i]:m.outStart[i+1]] {
				hits[id>>6] |= 1 << (id & 63)
			}
		}
	}
	return features, any
}
