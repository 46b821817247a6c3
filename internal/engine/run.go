package engine

import (
	"bytes"
	"context"
	"math"
	"net/netip"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/baseline"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/parse"
	"github.com/vigil-sec/vigil/internal/source"
	"github.com/vigil-sec/vigil/internal/window"
)

const (
	// queueDepth is how many batches may wait for each shard: enough to keep
	// a shard busy while the dispatcher parses, small enough (8 x arenaSize)
	// to bound memory.
	queueDepth = 8
	// batchItems and arenaSize bound one batch: a batch is handed over when
	// either is full, so a shard's work arrives in few channel operations.
	batchItems = 512
	arenaSize  = 256 << 10
	// outDepth buffers the fan-in channel to the merger: one message per
	// shard per chunk, so shards rarely wait for the merger.
	outDepth = 64
)

// mark is a watermark: every line with a sequence number below seq has been
// handed to the shards, and event time has reached t (second sec).
type mark struct {
	seq uint64
	sec int64
	t   time.Time
}

// item is one event queued for a shard; its byte slices point into the
// batch's arena.
type item struct {
	ev  parse.Event
	seq uint64
	sec int64
	t   time.Time
}

// batch carries events, and instructions, from the dispatcher to one shard.
type batch struct {
	items []item
	arena []byte
	mark  mark
	snap  *baseline.Snapshot // non-nil: the baseline in effect from this batch on
	set   *detect.Set        // non-nil: the detectors from this batch on (reload)
	close int64              // non-zero: report the baseline partial of this minute after the items
}

func newBatch() *batch {
	return &batch{items: make([]item, 0, batchItems), arena: make([]byte, 0, arenaSize)}
}

func (b *batch) reset() {
	clear(b.items) // drop references into the arena
	b.items, b.arena = b.items[:0], b.arena[:0]
	b.snap, b.set, b.close = nil, nil, 0
}

func eventSize(ev *parse.Event) int {
	return len(ev.Method) + len(ev.Host) + len(ev.Path) + len(ev.Query) + len(ev.UserAgent) +
		len(ev.Referer) + len(ev.ForwardedFor)
}

// add copies ev into the batch; it reports false when the batch is full.
func (b *batch) add(ev *parse.Event, seq uint64, sec int64, t time.Time) bool {
	if len(b.items) == cap(b.items) || len(b.arena)+eventSize(ev) > cap(b.arena) {
		return false
	}
	b.items = append(b.items, item{ev: *ev, seq: seq, sec: sec, t: t})
	it := &b.items[len(b.items)-1].ev
	it.Method, it.Host, it.Path, it.Query = b.put(ev.Method), b.put(ev.Host), b.put(ev.Path), b.put(ev.Query)
	it.UserAgent, it.Referer, it.ForwardedFor = b.put(ev.UserAgent), b.put(ev.Referer), b.put(ev.ForwardedFor)
	return true
}

func (b *batch) put(s []byte) []byte {
	if len(s) == 0 {
		return nil
	}
	off := len(b.arena)
	b.arena = append(b.arena, s...)
	return b.arena[off:len(b.arena):len(b.arena)]
}

// out is a message from the dispatcher (stream 0) or a shard (1..n) to the
// merger.
type out struct {
	stream   int
	findings []*detect.Finding
	mark     mark
	pos      *source.Position // dispatcher only: chunk fully handed over up to mark.seq
	final    bool
}

// Run processes chunks from in until in is closed (replay) or ctx is done
// (live), delivering findings to h in log order. It returns nil when the
// input ends or ctx is cancelled; Stats is valid afterwards. Run must be
// called once.
func (e *Engine) Run(ctx context.Context, in <-chan *source.Chunk, h Handler) error {
	n := e.shards
	outc := make(chan out, outDepth)
	partials := make(chan *baseline.Partial, n)
	d := &dispatcher{e: e, parser: e.parsers[0], model: e.o.Baseline, global: detect.NewGlobal(e.o.Detect.Global),
		outc: outc, partials: partials, reasons: parse.Reasons()}
	d.rejected = make([]uint64, len(d.reasons)+1)
	shards := make([]*shard, n)
	var wg sync.WaitGroup
	for i := range n {
		s := newShard(e, i+1, e.sets[i], max(1, (e.cfg.MaxClients+n-1)/n))
		shards[i] = s
		in := make(chan *batch, queueDepth)
		free := make(chan *batch, queueDepth+2)
		for range queueDepth + 2 {
			free <- newBatch()
		}
		d.inputs = append(d.inputs, in)
		d.frees = append(d.frees, free)
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.run(in, free, outc, partials)
		}()
	}
	m := &merger{e: e, h: h, streams: n + 1}
	mergeDone := make(chan struct{})
	go func() {
		defer close(mergeDone)
		m.run(outc)
	}()

	d.run(ctx, in)
	close(e.stopped)
	d.publish(e.o.Clock.Now())

	for _, c := range d.inputs {
		close(c)
	}
	wg.Wait()
	outc <- out{stream: 0, final: true}
	<-mergeDone

	// Collect statistics; every goroutine has finished.
	st := &e.stats
	st.Lines, st.Events, st.Truncated, st.Late, st.Future = d.lines, d.events, d.truncated, d.late, d.future
	st.Rejected = map[string]uint64{}
	for i, r := range parse.Reasons() {
		if d.rejected[i] > 0 {
			st.Rejected[r.Reason] = d.rejected[i]
		}
	}
	if v := d.rejected[len(parse.Reasons())]; v > 0 {
		st.Rejected["no_client"] = v
	}
	st.Findings = m.findings
	for _, s := range shards {
		st.Evicted += s.evicted
	}
	st.First, st.Last = d.first, d.now
	st.Baseline = d.model.Snapshot(d.now)
	st.Alerts = d.global.Stats()
	if e.o.BaselinePath != "" && d.sec != 0 {
		if err := d.model.SaveFile(e.o.BaselinePath); err != nil {
			e.log.Error("save baseline", "err", err)
			return err
		}
	}
	return nil
}

// dispatcher parses lines and routes events to shards. It owns the global
// detector and the baseline model.
type dispatcher struct {
	e        *Engine
	parser   *parse.Parser
	ev       parse.Event
	model    *baseline.Model
	snap     *baseline.Snapshot
	global   *detect.Global
	inputs   []chan *batch
	frees    []chan *batch
	cur      []*batch
	outc     chan<- out
	partials chan *baseline.Partial
	pending  int64 // minute whose partials are outstanding; 0 = none
	newSnap  []bool
	newSets  []*detect.Set // after a reload: handed to each shard with its next batch
	gf       []*detect.Finding

	seq, lines, events, truncated, late, future uint64
	reasons                                     []*parse.Error
	rejected                                    []uint64
	sec                                         int64 // event clock (whole seconds); 0 before the first event
	now, first                                  time.Time
	published                                   time.Time // wall time of the last Snapshot
}

func (d *dispatcher) run(ctx context.Context, in <-chan *source.Chunk) {
	n := len(d.inputs)
	d.cur = make([]*batch, n)
	d.newSnap = make([]bool, n)
	for i := range n {
		d.cur[i] = <-d.frees[i]
	}
	var tick <-chan time.Time
	if d.e.o.Live {
		t := d.e.o.Clock.NewTicker(time.Second)
		defer t.Stop()
		tick = t.C()
	}
	for {
		d.e.beat.Store(d.e.o.Clock.Now().UnixNano())
		select {
		case <-ctx.Done():
			return
		case c, ok := <-in:
			if !ok {
				d.finish(ctx)
				return
			}
			d.chunk(c)
			pos := c.Pos
			c.Release()
			if !d.flushAll(ctx, &pos) {
				return
			}
		case <-tick:
			if d.idle() && !d.flushAll(ctx, nil) {
				return
			}
		case r := <-d.e.reloads:
			d.reload(r)
		}
	}
}

// reload installs new detector settings for the lines that follow.
func (d *dispatcher) reload(r *reload) {
	d.global.SetConfig(r.global)
	d.e.o.Resolver = r.resolver
	d.newSets = r.sets
	close(r.done)
}

// chunk dispatches every line of c.
func (d *dispatcher) chunk(c *source.Chunk) {
	d.lines += uint64(c.Skipped)
	d.seq += uint64(c.Skipped)
	d.rejected[reasonIndex(d.reasons, parse.ErrLineTooLong)] += uint64(c.Skipped)
	data := c.Data
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		d.line(line)
	}
	d.e.metrics.flushDispatcher(d)
}

func (d *dispatcher) line(line []byte) {
	d.lines++
	seq := d.seq
	d.seq++
	if err := d.parser.Parse(line, &d.ev); err != nil {
		d.rejected[reasonIndex(d.reasons, err)]++
		return
	}
	ev := &d.ev
	client, ok := d.e.o.Resolver.Client(ev.Remote, ev.ForwardedFor)
	if !ok {
		d.rejected[len(d.rejected)-1]++
		return
	}
	ev.Client = client
	d.events++
	if ev.Truncated {
		d.truncated++
	}
	t := ev.Time
	if d.e.o.Live {
		wall := d.e.o.Clock.Now()
		if t.After(wall.Add(d.e.cfg.MaxFuture)) {
			t = wall
			d.future++
		}
		d.e.metrics.lag.Set(wall.Sub(t).Seconds())
	}
	sec := t.Unix()
	switch {
	case d.sec == 0:
		d.start(sec, t)
	case sec < d.sec:
		d.late++
		sec, t = d.sec, d.now
	case sec > d.sec:
		d.advance(sec)
	}
	if t.After(d.now) {
		d.now = t
	}
	d.global.Add(sec, ev.IsError())
	i := shardOf(client, len(d.inputs))
	b := d.cur[i]
	if !b.add(ev, seq, sec, t) {
		d.send(i, mark{seq: seq, sec: d.sec, t: d.now})
		d.cur[i].add(ev, seq, sec, t)
	}
}

// start initialises the event clock at the first event.
func (d *dispatcher) start(sec int64, t time.Time) {
	d.sec, d.now, d.first = sec, t, t
	d.snap = d.model.Snapshot(t)
	for i := range d.newSnap {
		d.newSnap[i] = true
	}
	d.e.metrics.baseline(d.snap)
}

// advance moves the event clock to second to, closing every second before it
// (global detector) and every minute boundary crossed (baseline). Long
// silences are skipped: nothing happens in them beyond the global
// detector's recovery and the baseline's idle minutes, which the model fills
// in itself.
func (d *dispatcher) advance(to int64) {
	margin := 2*int64(window.Size) + int64(d.e.o.Detect.Global.RecoverAfter/time.Second)
	for d.sec < to {
		s := d.sec
		if d.pending != 0 && s >= (d.pending+1)*60+applyDelay {
			d.applyPending(s)
		}
		if f := d.global.Tick(s, time.Unix(s+1, 0), d.seq, d.snap); f != nil {
			d.gf = append(d.gf, f)
		}
		next := s + 1
		if next%60 == 0 {
			d.closeMinute(s / 60)
			if to-next > margin+60 {
				next = (to - margin) / 60 * 60
			}
		}
		d.sec = next
	}
}

// idle closes seconds by the wall clock when no lines arrive (live mode).
func (d *dispatcher) idle() bool {
	if d.sec == 0 {
		return false
	}
	target := d.e.o.Clock.Now().Add(-d.e.cfg.IdleDelay)
	if target.Unix() <= d.sec {
		return false
	}
	d.advance(target.Unix())
	if target.After(d.now) {
		d.now = target
	}
	return true
}

// applyDelay is how long (seconds of event time) after a minute ends its
// baseline partials are applied: long enough for live shards to be done with
// the minute, short enough to keep the baseline current. The dispatcher
// waits for the shards at that instant if it must, so when a new baseline
// takes effect does not depend on how busy the shards are.
const applyDelay = 5

// applyPending merges the shards' partials of the pending minute into the
// model and publishes the new baseline, in effect from second at on.
func (d *dispatcher) applyPending(at int64) {
	merged := &baseline.Partial{Minute: d.pending}
	for range d.inputs {
		merged.Merge(<-d.partials)
	}
	d.pending = 0
	d.model.Close(merged)
	d.snap = d.model.Snapshot(time.Unix(at, 0))
	for i := range d.newSnap {
		d.newSnap[i] = true
	}
	d.e.metrics.baseline(d.snap)
	if d.e.o.Live && d.e.o.BaselinePath != "" {
		if err := d.model.SaveFile(d.e.o.BaselinePath); err != nil {
			d.e.log.Warn("save baseline", "err", err)
		}
	}
}

// closeMinute asks every shard for its baseline partial of minute m (applied
// applyDelay seconds later).
func (d *dispatcher) closeMinute(m int64) {
	if m == d.first.Unix()/60 && d.first.Unix()%60 != 0 {
		// The first minute is partial: its seconds before the first event
		// were not observed, so they must not count as idle traffic.
		return
	}
	if d.pending != 0 {
		d.applyPending(m*60 + 59)
	}
	mk := mark{seq: d.seq, sec: m*60 + 59, t: d.now}
	for i := range d.inputs {
		d.cur[i].close = m
		d.send(i, mk)
	}
	d.pending = m
}

// send hands shard i its current batch and takes a fresh one.
func (d *dispatcher) send(i int, mk mark) {
	b := d.cur[i]
	b.mark = mk
	if d.newSnap[i] {
		b.snap, d.newSnap[i] = d.snap, false
	}
	if d.newSets != nil {
		b.set, d.newSets[i] = d.newSets[i], nil
		if i == len(d.inputs)-1 {
			d.newSets = nil
		}
	}
	d.inputs[i] <- b // shards never stop before their input is closed
	d.cur[i] = <-d.frees[i]
}

// flushAll hands every shard its batch with the current watermark and tells
// the merger (with the global findings and the source position).
func (d *dispatcher) flushAll(ctx context.Context, pos *source.Position) bool {
	if d.sec == 0 && pos == nil {
		return true
	}
	mk := mark{seq: d.seq, sec: d.sec, t: d.now}
	for i := range d.inputs {
		d.send(i, mk)
	}
	if d.e.o.Live {
		if wall := d.e.o.Clock.Now(); wall.Sub(d.published) >= snapshotEvery {
			d.publish(wall)
		}
	}
	o := out{stream: 0, findings: d.gf, mark: mk, pos: pos}
	d.gf = nil
	select {
	case d.outc <- o:
		return true
	case <-ctx.Done():
		return false
	}
}

// finish flushes everything at the end of the input and applies the last
// complete minute to the baseline.
func (d *dispatcher) finish(ctx context.Context) {
	d.flushAll(ctx, nil)
	if d.pending != 0 {
		d.applyPending(d.sec)
	}
}

// reasonIndex returns the index of err in reasons (parse.Reasons()),
// counting unknown errors as syntax errors.
func reasonIndex(reasons []*parse.Error, err error) int {
	for i, r := range reasons {
		if err == error(r) {
			return i
		}
	}
	return reasonIndex(reasons, parse.ErrSyntax)
}

// shardOf picks the shard owning a client.
func shardOf(key netip.Addr, n int) int {
	if n == 1 {
		return 0
	}
	k := key.As16()
	h := uint64(14695981039346656037)
	for _, c := range k {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return int(h % uint64(n))
}

// maxSeq marks a finished stream.
const maxSeq = math.MaxUint64
