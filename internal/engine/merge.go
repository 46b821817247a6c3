package engine

import (
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/source"
)

// merger restores log order: it holds each stream's findings until every
// stream's watermark has passed them, then delivers them by sequence number
// (the dispatcher's stream first on ties), so the Handler sees the same
// sequence whatever the number of shards.
type merger struct {
	e        *Engine
	h        Handler
	streams  int
	queues   [][]*detect.Finding
	marks    []mark
	pending  []pendingPos
	findings map[string]uint64
	last     time.Time
}

type pendingPos struct {
	seq uint64
	pos source.Position
}

func (m *merger) run(outc <-chan out) {
	m.queues = make([][]*detect.Finding, m.streams)
	m.marks = make([]mark, m.streams)
	m.findings = map[string]uint64{}
	remaining := m.streams
	for remaining > 0 {
		o := <-outc
		if o.final {
			remaining--
			m.marks[o.stream].seq = maxSeq
		} else {
			m.queues[o.stream] = append(m.queues[o.stream], o.findings...)
			if o.mark.seq >= m.marks[o.stream].seq {
				m.marks[o.stream] = o.mark
			}
			if o.pos != nil {
				m.pending = append(m.pending, pendingPos{seq: o.mark.seq, pos: *o.pos})
			}
		}
		m.release()
	}
}

// release delivers every finding below the lowest watermark, in order.
func (m *merger) release() {
	low := uint64(maxSeq)
	var now time.Time
	for _, mk := range m.marks {
		if mk.seq < low {
			low, now = mk.seq, mk.t
		}
	}
	for {
		best := -1
		var bestSeq uint64
		for i, q := range m.queues {
			if len(q) > 0 && q[0].Seq < low && (best < 0 || q[0].Seq < bestSeq) {
				best, bestSeq = i, q[0].Seq
			}
		}
		if best < 0 {
			break
		}
		f := m.queues[best][0]
		m.queues[best][0] = nil
		m.queues[best] = m.queues[best][1:]
		m.findings[f.Detector]++
		m.e.metrics.finding(f)
		m.h.Finding(f)
	}
	if low == maxSeq {
		for _, mk := range m.marks {
			if mk.t.After(now) {
				now = mk.t
			}
		}
	}
	if now.After(m.last) {
		m.last = now
		m.h.Advance(now)
	}
	if m.e.o.Committer != nil {
		n := 0
		for n < len(m.pending) && m.pending[n].seq <= low {
			n++
		}
		if n > 0 {
			m.e.o.Committer.Commit(m.pending[n-1].pos)
			m.pending = append(m.pending[:0], m.pending[n:]...)
		}
	}
}
