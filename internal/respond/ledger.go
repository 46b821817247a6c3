package respond

import (
	"container/heap"
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
)

// Ban is an active ban.
type Ban struct {
	// Prefix is the banned address (as /32 or /128) or network.
	Prefix netip.Prefix `json:"prefix"`
	// Since is when the ban started; Until when it ends (zero: permanent).
	Since time.Time `json:"since"`
	Until time.Time `json:"until,omitzero"`
	// Offense is the offense count that chose the ladder step.
	Offense int `json:"offense"`
	// Detector, Rule, Class and Reason explain the ban.
	Detector string       `json:"detector"`
	Rule     string       `json:"rule,omitempty"`
	Class    detect.Class `json:"class,omitempty"`
	Reason   string       `json:"reason"`
	// Manual reports an operator's ban.
	Manual bool `json:"manual,omitempty"`
	// Shadow reports a would-be ban (shadow mode): never enforced.
	Shadow bool `json:"shadow,omitempty"`
	// Evidence and Request are what the ban was based on.
	Evidence detect.Evidence `json:"evidence"`
	Request  *detect.Request `json:"request,omitempty"`
}

// Permanent reports whether the ban never expires.
func (b *Ban) Permanent() bool { return b.Until.IsZero() }

// Active reports whether the ban is in force at now.
func (b *Ban) Active(now time.Time) bool { return b.Permanent() || now.Before(b.Until) }

// Record is what the ledger knows about one address or prefix: its offense
// history and its active ban, if any.
type Record struct {
	Prefix netip.Prefix `json:"prefix"`
	// Offenses counts offenses not yet forgiven; LastOffense is the latest.
	Offenses    int       `json:"offenses"`
	LastOffense time.Time `json:"last_offense,omitzero"`
	// Ban is the active ban, or nil.
	Ban *Ban `json:"ban,omitempty"`
}

// Store persists ledger records. The Ledger calls it before anything is
// enforced, so a crash between the two is repaired by reconciling the
// firewall with the stored records.
type Store interface {
	// Put durably saves r, replacing the record for r.Prefix.
	Put(r *Record) error
	// Delete forgets the record for p (absent is not an error).
	Delete(p netip.Prefix) error
	// Load returns every stored record.
	Load() ([]*Record, error)
}

// MemStore is a Store that keeps records in memory (replay, tests). The zero
// value is ready; it is not safe for concurrent use (the Ledger serialises
// calls).
type MemStore struct{ m map[netip.Prefix]Record }

var _ Store = (*MemStore)(nil)

// Put implements Store.
func (s *MemStore) Put(r *Record) error {
	if s.m == nil {
		s.m = map[netip.Prefix]Record{}
	}
	s.m[r.Prefix] = *r
	return nil
}

// Delete implements Store.
func (s *MemStore) Delete(p netip.Prefix) error { delete(s.m, p); return nil }

// Load implements Store.
func (s *MemStore) Load() ([]*Record, error) {
	out := make([]*Record, 0, len(s.m))
	for _, r := range s.m {
		out = append(out, &r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Prefix.Addr().Less(out[j].Prefix.Addr()) })
	return out, nil
}

// Ledger is the set of records with an expiry schedule, written through to
// a Store. It is not safe for concurrent use (the Responder guards it).
type Ledger struct {
	store Store
	recs  map[netip.Prefix]*Record
	exp   expiries
}

// NewLedger loads every record from store.
func NewLedger(store Store) (*Ledger, error) {
	if store == nil {
		store = &MemStore{}
	}
	l := &Ledger{store: store, recs: map[netip.Prefix]*Record{}}
	recs, err := store.Load()
	if err != nil {
		return nil, fmt.Errorf("load ban ledger: %w", err)
	}
	for _, r := range recs {
		l.recs[r.Prefix] = r
		l.schedule(r)
	}
	return l, nil
}

// Get returns the record for p, or nil.
func (l *Ledger) Get(p netip.Prefix) *Record { return l.recs[p] }

// Put saves r (durably, through the Store) and schedules its expiry.
func (l *Ledger) Put(r *Record) error {
	if err := l.store.Put(r); err != nil {
		return fmt.Errorf("save ban record %s: %w", r.Prefix, err)
	}
	l.recs[r.Prefix] = r
	l.schedule(r)
	return nil
}

// Delete forgets the record for p.
func (l *Ledger) Delete(p netip.Prefix) error {
	if err := l.store.Delete(p); err != nil {
		return fmt.Errorf("delete ban record %s: %w", p, err)
	}
	delete(l.recs, p)
	return nil
}

func (l *Ledger) schedule(r *Record) {
	if r.Ban != nil && !r.Ban.Permanent() {
		heap.Push(&l.exp, expiry{until: r.Ban.Until, prefix: r.Prefix})
	}
}

// Due pops the records whose ban expired at or before now, earliest first.
func (l *Ledger) Due(now time.Time) []*Record {
	var out []*Record
	for len(l.exp) > 0 && !l.exp[0].until.After(now) {
		e := heap.Pop(&l.exp).(expiry)
		r := l.recs[e.prefix]
		// The schedule may hold stale entries (ban lifted or replaced).
		if r == nil || r.Ban == nil || r.Ban.Permanent() || !r.Ban.Until.Equal(e.until) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// Bans returns the active bans (shadow ones included), ordered by start.
func (l *Ledger) Bans() []Ban {
	var out []Ban
	for _, r := range l.recs {
		if r.Ban != nil {
			out = append(out, *r.Ban)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Since.Equal(out[j].Since) {
			return out[i].Since.Before(out[j].Since)
		}
		return out[i].Prefix.Addr().Less(out[j].Prefix.Addr())
	})
	return out
}

// Len returns the number of records.
func (l *Ledger) Len() int { return len(l.recs) }

// Records calls fn for every record (in no particular order).
func (l *Ledger) Records(fn func(*Record)) {
	for _, r := range l.recs {
		fn(r)
	}
}

type expiry struct {
	until  time.Time
	prefix netip.Prefix
}

type expiries []expiry

func (h expiries) Len() int { return len(h) }
func (h expiries) Less(i, j int) bool {
	if !h[i].until.Equal(h[j].until) {
		return h[i].until.Before(h[j].until)
	}
	return h[i].prefix.Addr().Less(h[j].prefix.Addr())
}
func (h expiries) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *expiries) Push(x any)   { *h = append(*h, x.(expiry)) }
func (h *expiries) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
