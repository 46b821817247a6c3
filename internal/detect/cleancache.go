package detect

import (
	"bytes"
	"hash/maphash"
)

// Most requests repeat a User-Agent and a Referer that recent requests
// already carried: a site sees a few hundred browsers and links to its own
// pages. A cleanCache remembers such values that produced no content match,
// so that the next request with the same value skips them (see
// Content.Inspect). It stores the whole value and compares it, so a hit is
// exact: it changes the cost of a request, never its verdict. A value that
// matched anything is not remembered, and an attacker who varies the value
// only pays the ordinary cost (and can evict entries, which costs the site
// a scan, nothing more).
//
// The table is direct-mapped: each value has one slot, chosen by a hash
// with a per-cache random seed, and a newer value takes the slot over.

// Sizes of a cleanCache.
const (
	cleanSlots  = 512 // a power of two
	cleanMaxLen = 256 // longer values are not remembered
)

// cleanCache is a set of field values known to be clean. Not safe for
// concurrent use.
type cleanCache struct {
	seed  maphash.Seed
	slots []cleanSlot
}

// cleanSlot holds one remembered value; n == 0 is empty.
type cleanSlot struct {
	hash uint64
	n    uint16
	val  [cleanMaxLen]byte
}

// newCleanCache returns an empty cache.
func newCleanCache() *cleanCache {
	return &cleanCache{seed: maphash.MakeSeed(), slots: make([]cleanSlot, cleanSlots)}
}

// lookup reports whether b is remembered, and returns its hash for add.
func (c *cleanCache) lookup(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > cleanMaxLen {
		return 0, false
	}
	h := maphash.Bytes(c.seed, b)
	s := &c.slots[h&(cleanSlots-1)]
	return h, s.hash == h && int(s.n) == len(b) && bytes.Equal(s.val[:s.n], b)
}

// add remembers b, whose hash lookup returned.
func (c *cleanCache) add(b []byte, h uint64) {
	if len(b) == 0 || len(b) > cleanMaxLen {
		return
	}
	s := &c.slots[h&(cleanSlots-1)]
	s.hash, s.n = h, uint16(len(b))
	copy(s.val[:], b)
}
