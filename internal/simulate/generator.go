// Package simulate generates realistic Nginx access-log traffic, optionally
// with attacks, for vigil's demo, benchmarks and scenario tests.
//
// A Generator is a discrete-event simulation: a population of clients
// (browsers loading pages and their assets, API pollers, search-engine
// crawlers, uptime monitors) plus configured attackers, each scheduled in
// event time. Next hands out requests in event-time order; WriteJSON and
// WriteCombined format them as Nginx would, without allocating. Run writes
// as fast as possible; RunLive paces the output against a clock.Clock.
//
// Output is deterministic: the same Config (Seed included) yields the same
// lines. Background traffic does not depend on the configured attacks, so a
// log with an attack differs from the same log without it only by the
// attackers' lines.
package simulate

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"time"
)

// Random streams: each part of the simulation draws from its own PCG stream,
// so adding an attack does not perturb the background traffic.
const (
	streamPopulation = 0x706f70756c617469 // "populati"
	streamBackground = 0x6261636b67726f75 // "backgrou"
	streamAttack     = 0x61747461636b0000 // "attack" + index
)

// warmup is how long the browser sessions run before the start, so the log
// begins in a steady state rather than with an empty site.
const warmup = 10 * time.Minute

// done is returned by an actor's step when it has nothing more to do.
const done = math.MinInt64

// Traffic shares of the mean rate.
const (
	apiShare     = 0.20 // steady API polling
	crawlerShare = 0.05 // search-engine crawlers
)

// Browser session shape. The mean number of requests per session follows
// from these and sets the session arrival rate (see sessionRequests).
const (
	maxPages   = 7    // pages per session, uniform 1..maxPages
	minAssets  = 5    // assets per page, uniform minAssets..maxAssets
	maxAssets  = 40   //
	pLogin     = 0.05 // chance a chosen page is the login page
	pLoginTypo = 0.12 // chance a login starts with a mistyped password (401)
)

// sessionRequests is the expected number of requests in a browser session.
func sessionRequests() float64 {
	pages := float64(1+maxPages) / 2
	assets := float64(minAssets+maxAssets) / 2
	return pages*(1+assets) + pages*pLogin*(1+pLoginTypo)
}

// actor is anything scheduled in event time. step produces at most one
// request at event time now (offset from the simulation start, ns) into r
// and returns whether it did and when the actor next wants to run (done to
// retire it). Actors never run concurrently.
type actor interface {
	step(g *Generator, now int64, r *Record) (emitted bool, next int64)
}

type item struct {
	at int64 // event time, ns since the start
	id uint64
	a  actor
}

// client is one simulated network client.
type client struct {
	addr   netip.Addr
	ua     string
	proto  string
	mobile bool
	busy   bool   // a browser currently in a session
	xff    string // X-Forwarded-For its forward proxy adds ("" if none)
}

// Generator produces simulated requests in event-time order. It is not safe
// for concurrent use. Create it with New; the zero value is not usable.
type Generator struct {
	cfg      Config
	v        *vocab
	start    time.Time
	end      int64 // stop before this event time (ns since start)
	maxLines int64 // 0: no limit
	lines    int64
	dayPhase int64   // ns since local midnight at the start
	amp      float64 // diurnal amplitude of browser traffic

	rng     *rand.Rand // background traffic
	heap    []item
	pending []item // scheduled during a step, pushed after it
	seq     uint64

	hostURL  []byte // "https://" + host
	browsers []*client
	pool     []*session
	attacks  []AttackInfo
}

// AttackInfo is one configured attack as the generator resolved it: defaults
// filled in, absolute times and the attacker addresses.
type AttackInfo struct {
	// Attack is the attack with its defaults filled in.
	Attack Attack
	// From and Until bound the attack in event time: [From, Until).
	From, Until time.Time
	// Addrs are the attacker's addresses (many for ddos, one otherwise).
	Addrs []netip.Addr
}

// New validates cfg and builds a Generator: the client population, the
// attackers and their schedules. It starts nothing; call Next, Run or
// RunLive.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid simulation config: %w", err)
	}
	g := &Generator{
		cfg:      cfg,
		v:        newVocab(),
		start:    cfg.Start,
		end:      math.MaxInt64,
		maxLines: cfg.Lines,
		rng:      rand.New(rand.NewPCG(cfg.Seed, streamBackground)),
		hostURL:  append([]byte("https://"), cfg.Host...),
	}
	if cfg.Duration > 0 {
		g.end = int64(cfg.Duration)
	}
	_, off := cfg.Start.Zone()
	local := cfg.Start.Unix() + int64(off)
	g.dayPhase = ((local%86400+86400)%86400)*int64(time.Second) + int64(cfg.Start.Nanosecond())

	pop := rand.New(rand.NewPCG(cfg.Seed, streamPopulation))
	used := make(map[netip.Addr]struct{}, cfg.Clients+len(cfg.Attacks)*8)
	if err := g.buildPopulation(pop, used); err != nil {
		return nil, err
	}
	for i, a := range cfg.Attacks {
		if err := g.addAttack(i, a, used); err != nil {
			return nil, err
		}
	}
	g.pushPending()
	return g, nil
}

// Attacks returns the configured attacks as resolved, in configuration order.
func (g *Generator) Attacks() []AttackInfo { return g.attacks }

// Start returns the event time at which the simulation starts.
func (g *Generator) Start() time.Time { return g.start }

// Lines returns the number of records Next has produced so far.
func (g *Generator) Lines() int64 { return g.lines }

// Next fills r with the next request in event-time order and reports
// whether there was one: it returns false once Config.Duration of event time
// or Config.Lines records have been produced (never, if neither is set).
// Next does not allocate in steady state.
func (g *Generator) Next(r *Record) bool {
	for {
		if g.maxLines > 0 && g.lines >= g.maxLines {
			return false
		}
		if len(g.heap) == 0 {
			return false
		}
		top := &g.heap[0]
		now := top.at
		if now >= g.end {
			return false
		}
		*r = Record{}
		emitted, next := top.a.step(g, now, r)
		if next == done {
			g.popRoot()
		} else {
			if next < now {
				next = now
			}
			top.at = next
			g.down(0)
		}
		g.pushPending()
		if emitted && now >= 0 {
			r.Time = g.start.Add(time.Duration(now))
			r.Host = g.cfg.Host
			g.lines++
			return true
		}
	}
}

// schedule queues a for its first step at event time at. It is safe to call
// from within a step.
func (g *Generator) schedule(a actor, at int64) {
	g.seq++
	g.pending = append(g.pending, item{at: at, id: g.seq, a: a})
}

// pushPending moves the actors scheduled by schedule into the heap.
func (g *Generator) pushPending() {
	for _, p := range g.pending {
		g.push(p)
	}
	clear(g.pending)
	g.pending = g.pending[:0]
}

// Heap of scheduled actors, ordered by (at, id).

func (g *Generator) less(i, j int) bool {
	a, b := &g.heap[i], &g.heap[j]
	return a.at < b.at || (a.at == b.at && a.id < b.id)
}

func (g *Generator) push(it item) {
	g.heap = append(g.heap, it)
	i := len(g.heap) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !g.less(i, p) {
			break
		}
		g.heap[i], g.heap[p] = g.heap[p], g.heap[i]
		i = p
	}
}

func (g *Generator) popRoot() {
	n := len(g.heap) - 1
	g.heap[0] = g.heap[n]
	g.heap[n] = item{}
	g.heap = g.heap[:n]
	if n > 0 {
		g.down(0)
	}
}

func (g *Generator) down(i int) {
	n := len(g.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && g.less(r, l) {
			m = r
		}
		if !g.less(m, i) {
			return
		}
		g.heap[i], g.heap[m] = g.heap[m], g.heap[i]
		i = m
	}
}

// diurnal returns the browser traffic multiplier at event time now: 1 on
// average over a day, highest at 15:00 and lowest at 03:00 local time.
func (g *Generator) diurnal(now int64) float64 {
	const day = int64(24 * time.Hour)
	phase := (g.dayPhase + now) % day
	if phase < 0 {
		phase += day
	}
	h := float64(phase) / float64(time.Hour)
	return 1 + g.amp*math.Cos(2*math.Pi*(h-15)/24)
}

// unixAt returns the Unix time in seconds of event time now.
func (g *Generator) unixAt(now int64) int64 {
	return g.start.Unix() + (int64(g.start.Nanosecond())+now)/int64(time.Second)
}

// Random helpers.

// seconds converts seconds to nanoseconds.
func seconds(s float64) int64 { return int64(s * float64(time.Second)) }

// expGap returns an exponentially distributed gap (ns) for a Poisson
// process of the given rate (events per second).
func expGap(rng *rand.Rand, rate float64) int64 { return seconds(rng.ExpFloat64() / rate) }

// uniform returns a uniformly distributed value in [lo, hi).
func uniform(rng *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }

// logNormal returns a log-normal value with the given median and shape.
func logNormal(rng *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*rng.NormFloat64())
}

// msDuration returns a duration of the given milliseconds (fractional).
func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// pick returns a random element of s.
func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

// pickFront returns a random element of s, favouring the front.
func pickFront[T any](rng *rand.Rand, s []T) T {
	u := rng.Float64()
	return s[int(u*u*float64(len(s)))]
}

// Population.

// buildPopulation creates the normal clients and schedules them.
func (g *Generator) buildPopulation(pop *rand.Rand, used map[netip.Addr]struct{}) error {
	cfg := g.cfg
	nMon := clamp(cfg.Clients/400, 1, len(g.v.monitorUAs))
	nCrawl := clamp(cfg.Clients/250, 1, 12)

	// API pollers: a few busy ones, then regular ones until the API share
	// of the rate is used up (or the population cap is reached).
	budget := apiShare * cfg.Rate
	nBusy := clamp(1+int(budget/25), 1, 5)
	busy := make([]float64, nBusy)
	var busySum float64
	for i := range busy {
		busy[i] = uniform(pop, 2, 5)
		busySum += busy[i]
	}
	if limit := budget / 2; busySum > limit {
		for i := range busy {
			busy[i] *= limit / busySum
		}
		busySum = limit
	}
	rest := budget - busySum
	maxRegular := max(1, cfg.Clients/10)
	var regular []float64
	var regSum float64
	for len(regular) < maxRegular && regSum < rest {
		r := min(uniform(pop, 0.2, 1.0), rest-regSum)
		if r < 0.05 && len(regular) > 0 {
			regular[len(regular)-1] += r
			regSum += r
			break
		}
		regular = append(regular, r)
		regSum += r
	}
	if regSum > 0 && regSum < rest {
		for i := range regular {
			regular[i] *= rest / regSum
		}
	}
	nBrowsers := cfg.Clients - nMon - nCrawl - nBusy - len(regular)
	if nBrowsers < 1 {
		return fmt.Errorf("clients: %d is too few for a rate of %g requests/s", cfg.Clients, cfg.Rate)
	}

	// Monitors: fixed intervals of 30-60 s.
	var monRate float64
	for i := range nMon {
		c := &client{addr: g.normalAddr(pop, used, false), ua: g.v.monitorUAs[i], proto: "HTTP/1.1"}
		every := uniform(pop, 30, 60)
		monRate += 1 / every
		m := &monitor{c: c, every: seconds(every)}
		g.schedule(m, seconds(pop.Float64()*every))
	}

	// Crawlers share crawlerShare of the rate.
	weights := make([]float64, nCrawl)
	var wsum float64
	for i := range weights {
		weights[i] = uniform(pop, 0.5, 1.5)
		wsum += weights[i]
	}
	for i := range nCrawl {
		cr := g.v.crawlers[i%len(g.v.crawlers)]
		c := &client{ua: cr.ua, proto: "HTTP/1.1"}
		c.addr = g.crawlerAddr(pop, used, cr)
		rate := crawlerShare * cfg.Rate * weights[i] / wsum
		g.schedule(&crawlerBot{c: c, rate: rate}, expGap(pop, rate))
	}

	// API clients.
	for _, rate := range append(busy, regular...) {
		c := &client{addr: g.normalAddr(pop, used, false), ua: pick(pop, g.v.apiUAs), proto: "HTTP/1.1"}
		if pop.IntN(4) == 0 {
			c.proto = "HTTP/2.0"
		}
		a := &apiClient{c: c, every: 1 / rate, endpoint: pop.IntN(len(g.v.apiEndpoints))}
		g.schedule(a, seconds(pop.Float64()/rate))
	}

	// Browsers, and the process that starts their sessions.
	g.browsers = make([]*client, nBrowsers)
	for i := range g.browsers {
		ua := pickFront(pop, g.v.browserUAs)
		c := &client{addr: g.normalAddr(pop, used, true), ua: ua, proto: "HTTP/2.0", mobile: isMobileUA(ua)}
		if pop.IntN(7) == 0 {
			c.proto = "HTTP/1.1"
		}
		if pop.IntN(40) == 0 {
			// Behind a corporate or ISP forward proxy that reports the
			// client's private address.
			c.xff = netip.AddrFrom4([4]byte{192, 168, byte(pop.IntN(256)), byte(2 + pop.IntN(250))}).String()
		}
		g.browsers[i] = c
	}
	browserRate := cfg.Rate*(1-apiShare-crawlerShare) - monRate
	browserRate = max(browserRate, 0.1*cfg.Rate)
	g.amp = min(1, cfg.Diurnal*cfg.Rate/browserRate)
	src := &sessionSource{rate: browserRate / sessionRequests()}
	g.schedule(src, -int64(warmup))
	g.pool = make([]*session, 0, 64)
	for range 64 {
		g.pool = append(g.pool, newSession())
	}
	return nil
}

func clamp(v, lo, hi int) int { return max(lo, min(hi, v)) }

// normalAddr returns an unused address for a normal client: mostly
// public-looking ISP space, some documentation space, and (for browsers) a
// small office share in 10.12.0.0/16.
func (g *Generator) normalAddr(rng *rand.Rand, used map[netip.Addr]struct{}, browser bool) netip.Addr {
	for {
		var a netip.Addr
		if rng.Float64() < g.cfg.IPv6Share {
			var b [16]byte
			if rng.IntN(4) == 0 {
				// 2001:db8:1xxx::/36 (documentation; attackers use other /48s).
				b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
				b[4] = 0x10 | byte(rng.IntN(16))
				b[5] = byte(rng.IntN(256))
			} else {
				n := pick(rng, g.v.publicNets6)
				copy(b[:4], n[:])
				b[4], b[5] = byte(rng.IntN(256)), byte(rng.IntN(256))
			}
			b[6], b[7] = byte(rng.IntN(256)), byte(rng.IntN(256))
			putRandom(rng, b[8:])
			a = netip.AddrFrom16(b)
		} else {
			x, y := byte(rng.IntN(256)), byte(1+rng.IntN(254))
			switch p := rng.Float64(); {
			case browser && p < 0.01:
				a = netip.AddrFrom4([4]byte{10, 12, x, y})
			case p < 0.06:
				a = netip.AddrFrom4([4]byte{192, 0, 2, y})
			case p < 0.10:
				a = netip.AddrFrom4([4]byte{203, 0, 113, y})
			default:
				n := pick(rng, g.v.publicNets4)
				a = netip.AddrFrom4([4]byte{n[0], n[1], x, y})
			}
		}
		if _, ok := used[a]; !ok {
			used[a] = struct{}{}
			return a
		}
	}
}

// crawlerAddr returns an unused address in a crawler's own network.
func (g *Generator) crawlerAddr(rng *rand.Rand, used map[netip.Addr]struct{}, cr crawler) netip.Addr {
	for {
		var a netip.Addr
		if rng.Float64() < g.cfg.IPv6Share {
			var b [16]byte
			copy(b[:6], cr.net6[:])
			b[15] = byte(1 + rng.IntN(254))
			b[14] = byte(rng.IntN(4))
			a = netip.AddrFrom16(b)
		} else {
			a = netip.AddrFrom4([4]byte{cr.net4[0], cr.net4[1], cr.net4[2], byte(1 + rng.IntN(254))})
		}
		if _, ok := used[a]; !ok {
			used[a] = struct{}{}
			return a
		}
	}
}

// putRandom fills b with random bytes.
func putRandom(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

// errAddrSpace is returned when attacker address space runs out.
var errAddrSpace = errors.New("attacker address space exhausted")
