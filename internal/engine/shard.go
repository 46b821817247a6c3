package engine

import (
	"github.com/vigil-sec/vigil/internal/baseline"
	"github.com/vigil-sec/vigil/internal/detect"
)

// shard owns a slice of the client space: their state, and the detector Set
// that updates it. Everything here runs on the shard's goroutine.
type shard struct {
	id       int
	set      *detect.Set
	tab      *table
	snap     *baseline.Snapshot
	idle     int64 // seconds after which an idle client is forgotten
	findings []*detect.Finding
	evicted  uint64
	emitFn   func(*detect.Finding)
	evictFn  func(*client)
	m        *metrics
	env      detect.Env
}

func newShard(e *Engine, id int, set *detect.Set, maxClients int) *shard {
	s := &shard{id: id, set: set, tab: newTable(maxClients), idle: int64(e.cfg.IdleTimeout.Seconds()), m: e.metrics}
	s.emitFn = s.emit
	s.evictFn = s.evict
	return s
}

func (s *shard) emit(f *detect.Finding) { s.findings = append(s.findings, f) }

func (s *shard) evict(c *client) {
	s.evicted++
	s.set.Release(&c.st)
}

// run processes batches until in is closed, reporting to the merger after
// each batch and the baseline partial when a batch closes a minute.
func (s *shard) run(in <-chan *batch, free chan<- *batch, outc chan<- out, partials chan<- *baseline.Partial) {
	for b := range in {
		if b.snap != nil {
			s.snap = b.snap
		}
		if b.set != nil {
			s.set = b.set
		}
		for i := range b.items {
			s.observe(&b.items[i])
		}
		if b.close != 0 {
			partials <- s.closeMinute(b.close)
		}
		s.expire(b.mark.sec)
		mk := b.mark
		fs := s.findings
		s.findings = nil
		b.reset()
		free <- b
		s.m.tracked(s.id, s.tab.n)
		outc <- out{stream: s.id, findings: fs, mark: mk}
	}
	outc <- out{stream: s.id, final: true}
}

func (s *shard) observe(it *item) {
	_, c := s.tab.get(keyOf(it.ev.Client), s.evictFn)
	s.env = detect.Env{Time: it.t, Sec: it.sec, Seq: it.seq, Baseline: s.snap}
	s.set.Observe(&s.env, &it.ev, &c.st, s.emitFn)
}

// expire forgets clients not seen for the idle timeout.
func (s *shard) expire(now int64) {
	cutoff := now - s.idle
	for s.tab.tail != nilIdx {
		i := s.tab.tail
		c := s.tab.at(i)
		if c.st.Win.Last() >= cutoff {
			return
		}
		s.set.Release(&c.st)
		s.tab.drop(i, c)
	}
}

// closeMinute adds up what this shard's unflagged clients did in minute m.
// Clients are visited from the most recently seen, stopping at the first one
// idle since before the minute.
func (s *shard) closeMinute(m int64) *baseline.Partial {
	p := &baseline.Partial{Minute: m}
	start, end := m*60, m*60+59
	for i := s.tab.head; i != nilIdx; {
		c := s.tab.at(i)
		i = c.next
		last := c.st.Win.Last()
		if last < start {
			break
		}
		if c.st.Flagged(start) {
			continue
		}
		var total uint64
		for sec := start; sec <= min(last, end); sec++ {
			req, errs := c.st.Win.At(sec)
			p.Req[sec-start] += uint32(req)
			p.Err[sec-start] += uint32(errs)
			total += uint64(req)
		}
		p.AddClient(total)
	}
	return p
}
