package detect

import "github.com/vigil-sec/vigil/internal/window"

// State is one client's detector state. It is a fixed-size value owned by the
// engine shard that owns the client (not safe for concurrent use). The zero
// value is a fresh client. The rarely needed behavioural state (score,
// distinct 404s, authentication failures) is allocated on first use and
// recycled through Set.Release.
type State struct {
	// Win counts the client's requests and 4xx/5xx errors over the last 60 s.
	Win window.Window[uint16]
	// FlaggedUntil is the Unix second until which the client counts as
	// flagged: its traffic does not feed the baseline.
	FlaggedUntil int64

	rateAt int64 // second of the last rate finding (0 = none)
	surge  bool  // error surge in progress: thresholds tightened
	beh    *behaviour
}

// Flagged reports whether the client is flagged at second sec.
func (s *State) Flagged(sec int64) bool { return s.FlaggedUntil >= sec }

// behaviour is the lazily allocated part of State.
type behaviour struct {
	score    buckets // content score points per second (60 s)
	auth     buckets // authentication failures (findtime, 60 buckets)
	notFound distinct
	enumAt   int64 // second of the last enumeration finding
}

// buckets is a ring of 60 saturating uint8 counters of width seconds each,
// covering the last 60*width seconds.
type buckets struct {
	last int64 // index (sec/width) of the newest bucket; 0 = empty
	sum  uint32
	b    [60]uint8
}

func (r *buckets) advance(idx int64) {
	if idx <= r.last {
		return
	}
	if r.last == 0 || idx-r.last >= int64(len(r.b)) {
		*r = buckets{last: idx}
		return
	}
	for i := r.last + 1; i <= idx; i++ {
		j := i % int64(len(r.b))
		r.sum -= uint32(r.b[j])
		r.b[j] = 0
	}
	r.last = idx
}

// add adds n at second sec (bucket width w seconds) and returns the total.
func (r *buckets) add(sec, w int64, n int) int {
	r.advance(sec / w)
	j := r.last % int64(len(r.b))
	v := int(r.b[j]) + n
	if v > 255 {
		n -= v - 255
		v = 255
	}
	r.b[j] = uint8(v)
	r.sum += uint32(n)
	return int(r.sum)
}

// total returns the sum over the window ending at second sec.
func (r *buckets) total(sec, w int64) int {
	r.advance(sec / w)
	return int(r.sum)
}

func (r *buckets) reset() { *r = buckets{} }

// distinct remembers recent distinct items (by 32-bit hash) with the second
// each was first seen, to count distinct items in a window.
type distinct struct {
	next int
	h    [64]uint32
	at   [64]uint32
}

// distinctCap is the most distinct items a window can count.
const distinctCap = 64

// add records item h at second sec and returns how many distinct items were
// seen in (sec-window, sec].
func (d *distinct) add(h uint32, sec, window int64) int {
	from := sec - window
	seen := false
	n := 0
	for i := range d.h {
		if d.at[i] == 0 || int64(d.at[i]) <= from {
			continue
		}
		if d.h[i] == h {
			seen = true
			d.at[i] = uint32(sec) // seen again: keep it in the window
		}
		n++
	}
	if !seen {
		d.h[d.next] = h
		d.at[d.next] = uint32(sec)
		d.next = (d.next + 1) % len(d.h)
		n++
	}
	return min(n, distinctCap)
}

// since returns the sum of the last span buckets (width 1 s) ending at sec.
func (r *buckets) since(sec, span int64) int {
	r.advance(sec)
	if span >= int64(len(r.b)) {
		return int(r.sum)
	}
	n := 0
	for i := r.last - span + 1; i <= r.last; i++ {
		if i > 0 {
			n += int(r.b[i%int64(len(r.b))])
		}
	}
	return n
}
