package api

import (
	"sync"

	"github.com/vigil-sec/vigil/internal/detect"
)

// FindingLog keeps the most recent findings in a bounded ring, for
// GET /api/v1/findings. It is safe for concurrent use; Add does not allocate.
// A nil *FindingLog holds nothing.
type FindingLog struct {
	mu   sync.Mutex // guards the fields below
	ring []*detect.Finding
	next int // index the next Add writes
	full bool
}

// NewFindingLog returns a log that keeps the last n findings (n < 1 keeps 1).
func NewFindingLog(n int) *FindingLog {
	return &FindingLog{ring: make([]*detect.Finding, max(n, 1))}
}

// Add records f, dropping the oldest finding when the log is full. f must
// not be modified afterwards (the engine hands findings over, see
// engine.Handler).
func (l *FindingLog) Add(f *detect.Finding) {
	if l == nil || f == nil {
		return
	}
	l.mu.Lock()
	l.ring[l.next] = f
	l.next++
	if l.next == len(l.ring) {
		l.next, l.full = 0, true
	}
	l.mu.Unlock()
}

// Recent returns up to limit findings, newest first (limit < 1: all kept).
func (l *FindingLog) Recent(limit int) []*detect.Finding {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.next
	if l.full {
		n = len(l.ring)
	}
	if limit > 0 && limit < n {
		n = limit
	}
	out := make([]*detect.Finding, n)
	for i := range out {
		out[i] = l.ring[(l.next-1-i+len(l.ring))%len(l.ring)]
	}
	return out
}

// Len returns the number of findings kept.
func (l *FindingLog) Len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.full {
		return len(l.ring)
	}
	return l.next
}
