package detect

import "errors"

// litIndex finds every occurrence of a fixed set of literal strings in its
// input, ignoring ASCII case: the prefilter of the content detectors. It
// filters by anchors and verifies exactly:
//
//   - Every byte has a class (1..63): letters, digits and the punctuation
//     of ordinary requests each have their own; the syntax of attacks has
//     the rest, shared with the remaining bytes.
//   - Every literal has an anchor: a one-byte literal its byte, a two-byte
//     literal itself, and a longer one the three-byte window of it that is
//     least frequent in ordinaryText, so that "window." is anchored at "ow."
//     and does not wake up for "Windows".
//   - pairs[c0<<6|c1] is a 64-bit mask over the class c2 of the next byte:
//     bit c2 is set when a literal is anchored at a window of classes (c0,
//     c1, c2) or c2 is the class of a one-byte literal, and bit 0 when a
//     two-byte literal has classes (c0, c1). One load per input byte, from
//     a 32 KiB table, decides whether anything can occur there.
//   - Where the mask says yes, the literals anchored there are compared
//     with the input.
//
// Ordinary text costs about one table load per byte: about 1.5 ns on the
// shared benchmark machine, against 4.5 ns (with a 400 KiB to 900 KiB
// table per field, mostly out of cache) for the Aho-Corasick DFA it
// replaced. A litIndex is immutable after construction and safe for
// concurrent use.
type litIndex struct {
	// class[c] is c's class in bits 0-5; bit 6 is set when c (either case)
	// is a one-byte literal.
	class [256]uint8
	pairs [1 << 12]uint64

	lits []string // lower-cased, by id

	// anchors is an open-addressing table from anchor keys (anchorKey) to
	// the range of anchored holding the literals with that anchor.
	anchors  []anchorSlot
	anchored []anchoredLit
}

// anchorSlot is one entry of litIndex.anchors; key 0 is empty.
type anchorSlot struct{ key, lo, hi uint32 }

// anchoredLit is a literal id and the offset of its anchor in the literal.
type anchoredLit struct{ id, off uint32 }

// classSingle marks one-byte literals in litIndex.class.
const classSingle = 1 << 6

// Kinds of anchor keys; the rest of a key is the byte (one-byte literals)
// or the classes of the window.
const (
	anchorByte = 1 << 20
	anchorPair = 2 << 20
	anchorTri  = 3 << 20
)

// newLitIndex builds an index of lits (matched ignoring ASCII case). Ids are
// indexes into lits. Empty literals are not allowed.
func newLitIndex(lits []string) (*litIndex, error) {
	m := &litIndex{}
	m.assignClasses()
	freq := m.windowFrequencies(ordinaryText)
	byKey := map[uint32][]anchoredLit{}
	var keys []uint32 // in first-seen order, for a deterministic layout
	add := func(key uint32, a anchoredLit) {
		if _, ok := byKey[key]; !ok {
			keys = append(keys, key)
		}
		byKey[key] = append(byKey[key], a)
	}
	for id, l := range lits {
		if l == "" {
			return nil, errors.New("empty literal")
		}
		l = lowerString(l)
		m.lits = append(m.lits, l)
		switch len(l) {
		case 1:
			m.class[l[0]] |= classSingle
			m.class[upperASCII(l[0])] |= classSingle
			for k := range m.pairs {
				m.pairs[k] |= 1 << m.classOf(l[0])
			}
			add(anchorByte|uint32(l[0]), anchoredLit{uint32(id), 0})
		case 2:
			k := m.classOf(l[0])<<6 | m.classOf(l[1])
			m.pairs[k] |= 1
			add(anchorPair|k, anchoredLit{uint32(id), 0})
		default:
			off := m.bestWindow(l, freq)
			k := m.window(l[off], l[off+1], l[off+2])
			m.pairs[k>>6] |= 1 << (k & 63)
			add(anchorTri|k, anchoredLit{uint32(id), uint32(off)})
		}
	}
	size := 16
	for size < 2*len(keys) {
		size *= 2
	}
	m.anchors = make([]anchorSlot, size)
	for _, key := range keys {
		lo := uint32(len(m.anchored))
		m.anchored = append(m.anchored, byKey[key]...)
		i := anchorHash(key, size)
		for m.anchors[i].key != 0 {
			i = (i + 1) & (size - 1)
		}
		m.anchors[i] = anchorSlot{key, lo, uint32(len(m.anchored))}
	}
	return m, nil
}

// lowerString lower-cases the ASCII letters of s.
func lowerString(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerASCII(c)
	}
	return string(b)
}

// upperASCII upper-cases an ASCII letter and leaves every other byte alone.
func upperASCII(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// assignClasses gives letters (either case), digits and the punctuation of
// ordinary requests classes of their own, the syntax of attacks the
// remaining twelve, and lets every other byte share those round-robin.
func (m *litIndex) assignClasses() {
	next := uint8(1)
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyz0123456789 /.-_();,:=&?+%'\"<>$|`{}[]*") {
		m.class[c] = next
		m.class[upperASCII(c)] = next
		next++
	}
	first := next - 12 // the attack-syntax classes
	for c := range 256 {
		if m.class[c] == 0 {
			m.class[c] = first + uint8(c)%12
		}
	}
}

// classOf returns the class of c (without the one-byte-literal flag).
func (m *litIndex) classOf(c byte) uint32 { return uint32(m.class[c] & 63) }

// window returns the 18-bit key of the classes of three bytes.
func (m *litIndex) window(a, b, c byte) uint32 {
	return m.classOf(a)<<12 | m.classOf(b)<<6 | m.classOf(c)
}

// windowFrequencies counts the three-byte windows (by class) of text.
func (m *litIndex) windowFrequencies(text string) map[uint32]int {
	freq := map[uint32]int{}
	for i := 0; i+3 <= len(text); i++ {
		freq[m.window(text[i], text[i+1], text[i+2])]++
	}
	return freq
}

// bestWindow returns the offset of the three-byte window of l that is least
// frequent in ordinary text; on a tie the one with fewer letters, digits
// and common punctuation (anchorCost), then the last (the end of a literal
// is more specific than its start, as in "https:1").
func (m *litIndex) bestWindow(l string, freq map[uint32]int) int {
	best, bestFreq, bestCost := 0, -1, 0
	for i := 0; i+3 <= len(l); i++ {
		f := freq[m.window(l[i], l[i+1], l[i+2])]
		cost := anchorCost(l[i]) + anchorCost(l[i+1]) + anchorCost(l[i+2])
		if bestFreq < 0 || f < bestFreq || (f == bestFreq && cost <= bestCost) {
			best, bestFreq, bestCost = i, f, cost
		}
	}
	return best
}

// anchorCost rates how common byte c is in ordinary requests: letters and
// digits most, then the punctuation of URLs and User-Agents; the syntax of
// attacks is rare.
func anchorCost(c byte) int {
	switch {
	case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		return 4
	case c == ' ', c == '/', c == '.', c == '-', c == '_':
		return 3
	case c == '(', c == ')', c == ';', c == ',', c == ':', c == '=', c == '&', c == '?', c == '+', c == '%':
		return 2
	}
	return 0
}

// anchorHash is the first slot of key in a table of size n (a power of two).
func anchorHash(key uint32, n int) int { return int((key*0x9E3779B1)>>7) & (n - 1) }

// words returns the number of uint64 words a hit set of m needs.
func (m *litIndex) words() int { return (len(m.lits) + 63) / 64 }

// scan sets in hits (m.words() words, not cleared) the bit of every literal
// that occurs in b, and returns the OR of feat[c] over the bytes c of b and
// whether any literal occurred.
func (m *litIndex) scan(b []byte, feat *[256]uint16, hits []uint64) (features uint16, any bool) {
	var c0, c1 uint32 // classes of the two bytes before b[j]; 0 before the start
	found := false
	for j := 0; ; j++ {
		j, c0, c1 = m.skip(b, j, c0, c1)
		if j == len(b) {
			break
		}
		t := uint32(m.class[b[j]])
		c2 := t & 63
		found = m.verify(b, j, c0, c1, c2, t&classSingle != 0, hits) || found
		c0, c1 = c1, c2
	}
	// A padding position (class 0) tests the last two bytes for a two-byte
	// literal.
	if m.pairs[c0<<6|c1]&1 != 0 {
		found = m.verify(b, len(b), c0, c1, 0, false, hits) || found
	}
	return featureOf(b, feat), found
}

// skip is scan's fast loop: from b[j] on, it returns at the first byte that
// ends a window worth verifying (or at len(b)), with the classes of the two
// bytes before it. It makes no calls, so its state stays in registers.
func (m *litIndex) skip(b []byte, j int, c0, c1 uint32) (int, uint32, uint32) {
	class, pairs := &m.class, &m.pairs
	for ; j < len(b); j++ {
		c2 := uint32(class[b[j]]) & 63
		if pairs[(c0<<6|c1)&(1<<12-1)]&(1|1<<c2) != 0 {
			return j, c0, c1
		}
		c0, c1 = c1, c2
	}
	return j, c0, c1
}

// featureOf ORs the features of the bytes of b.
func featureOf(b []byte, feat *[256]uint16) uint16 {
	var f0, f1, f2, f3 uint16
	for len(b) >= 4 {
		f0 |= feat[b[0]]
		f1 |= feat[b[1]]
		f2 |= feat[b[2]]
		f3 |= feat[b[3]]
		b = b[4:]
	}
	for _, c := range b {
		f0 |= feat[c]
	}
	return f0 | f1 | f2 | f3
}

// verify checks the literals anchored at the window of classes (c0, c1, c2)
// that ends with b[j] (a padding byte when j == len(b)): two-byte literals
// at b[j-2:j], longer ones around b[j-2:j+1], and the one-byte literal b[j]
// when single is set. It sets their hit bits and reports whether any
// occurred.
func (m *litIndex) verify(b []byte, j int, c0, c1, c2 uint32, single bool, hits []uint64) bool {
	found := false
	check := func(key uint32, start int) {
		s := m.lookup(key)
		for _, a := range m.anchored[s.lo:s.hi] {
			l := m.lits[a.id]
			p := start - int(a.off)
			if p >= 0 && p+len(l) <= len(b) && asciiEqualFold(b[p:p+len(l)], l) {
				hits[a.id>>6] |= 1 << (a.id & 63)
				found = true
			}
		}
	}
	if single {
		check(anchorByte|uint32(lowerASCII(b[j])), j)
	}
	if j >= 2 {
		e := m.pairs[c0<<6|c1]
		if e&1 != 0 {
			check(anchorPair|c0<<6|c1, j-2)
		}
		if c2 != 0 && e&(1<<c2) != 0 {
			check(anchorTri|c0<<12|c1<<6|c2, j-2)
		}
	}
	return found
}

// lookup returns the slot of key, or an empty one.
func (m *litIndex) lookup(key uint32) anchorSlot {
	n := len(m.anchors)
	for i := anchorHash(key, n); m.anchors[i].key != 0; i = (i + 1) & (n - 1) {
		if m.anchors[i].key == key {
			return m.anchors[i]
		}
	}
	return anchorSlot{}
}
