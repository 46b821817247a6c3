package simulate

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"time"
)

// ddosBots is how many addresses a ddos attack comes from.
const ddosBots = 300

// payloadStartRate is the payload rate (requests/s) sqli, xss and traversal
// attackers start at before ramping up to their configured rate: a few per
// minute.
const payloadStartRate = 3.0 / 60

// addAttack resolves attack i's defaults, gives it addresses distinct from
// every other client and schedules its actors.
func (g *Generator) addAttack(i int, a Attack, used map[netip.Addr]struct{}) error {
	_, dur, rate, _ := kindDefaults(a.Kind)
	if a.Duration == 0 {
		a.Duration = dur
	}
	if a.Rate == 0 {
		a.Rate = rate
		if a.Kind == KindDDoS {
			a.Rate = ddosRateFactor * g.cfg.Rate
		}
	}
	rng := rand.New(rand.NewPCG(g.cfg.Seed, streamAttack+uint64(i)))
	from, until := int64(a.Start), int64(a.Start+a.Duration)
	info := AttackInfo{Attack: a, From: g.start.Add(a.Start), Until: g.start.Add(a.Start + a.Duration)}

	at := &attacker{kind: a.Kind, rng: rng, rate: a.Rate, from: from, until: until, uri: make([]byte, 0, 256)}
	if a.Kind == KindDDoS {
		at.bots = make([]client, ddosBots)
		for j := range at.bots {
			addr, err := attackAddr(rng, used, true, g.cfg.IPv6Share)
			if err != nil {
				return fmt.Errorf("attack %d (%s): %w", i, a.Kind, err)
			}
			ua := pick(rng, g.v.browserUAs)
			at.bots[j] = client{addr: addr, ua: ua, proto: "HTTP/1.1"}
			info.Addrs = append(info.Addrs, addr)
		}
	} else {
		addr, err := attackAddr(rng, used, false, g.cfg.IPv6Share)
		if err != nil {
			return fmt.Errorf("attack %d (%s): %w", i, a.Kind, err)
		}
		c := &client{addr: addr, ua: pickFront(rng, g.v.browserUAs), proto: "HTTP/2.0"}
		c.mobile = isMobileUA(c.ua)
		switch a.Kind {
		case KindScanner:
			c.ua, c.proto = pick(rng, g.v.scannerUAs), "HTTP/1.1"
			at.perm = rng.Perm(len(g.v.probePaths))
		case KindFlood, KindBadbot, KindEnumeration:
			c.proto = "HTTP/1.1"
		}
		at.c = c
		info.Addrs = []netip.Addr{addr}
		switch a.Kind {
		case KindSQLi, KindXSS, KindTraversal:
			// Cover traffic: the attacker browses the site like anyone.
			s := newSession()
			s.begin(g, rng, c, until)
			g.schedule(s, from)
		}
	}
	g.attacks = append(g.attacks, info)
	g.schedule(at, from+at.gap(from))
	return nil
}

// attackAddr returns an unused attacker address: IPv6 from 2001:db8:bad::/48
// (single attackers) or 2001:db8:dd05::/48 (ddos bots) with probability
// v6share, otherwise IPv4 from 198.51.100.0/24 or 198.18.0.0/15. Normal
// clients never use these networks.
func attackAddr(rng *rand.Rand, used map[netip.Addr]struct{}, bot bool, v6share float64) (netip.Addr, error) {
	for range 10000 {
		var a netip.Addr
		if rng.Float64() < v6share {
			var b [16]byte
			b[0], b[1], b[2], b[3], b[4], b[5] = 0x20, 0x01, 0x0d, 0xb8, 0x0b, 0xad
			if bot {
				b[4], b[5] = 0xdd, 0x05
			}
			putRandom(rng, b[6:])
			a = netip.AddrFrom16(b)
		} else if bot {
			a = netip.AddrFrom4([4]byte{198, 18 + byte(rng.IntN(2)), byte(rng.IntN(256)), byte(1 + rng.IntN(254))})
		} else {
			a = netip.AddrFrom4([4]byte{198, 51, 100, byte(2 + rng.IntN(253))})
		}
		if _, ok := used[a]; !ok {
			used[a] = struct{}{}
			return a, nil
		}
	}
	return netip.Addr{}, errAddrSpace
}

// attacker produces an attack's malicious requests during [from, until).
type attacker struct {
	kind        string
	rng         *rand.Rand
	c           *client  // single attackers
	bots        []client // ddos
	rate        float64
	from, until int64
	n           int   // requests sent
	perm        []int // scanner: probe order
	uri         []byte
	ref         []byte
}

// gap returns the pause before the attacker's next request at now.
func (a *attacker) gap(now int64) int64 {
	rng := a.rng
	switch a.kind {
	case KindBruteforce:
		// Low and slow, but regular: every 3-6 s at the default rate.
		return seconds(uniform(rng, 2.0/3, 4.0/3) / a.rate)
	case KindScanner, KindEnumeration, KindBadbot:
		// Tools with fixed concurrency: regular with jitter.
		return seconds(uniform(rng, 0.5, 1.5) / a.rate)
	case KindSQLi, KindXSS, KindTraversal:
		// A few payloads a minute at first, then faster.
		f := float64(now-a.from) / float64(a.until-a.from)
		f = min(max(f, 0), 1)
		lo := min(payloadStartRate, a.rate)
		return expGap(rng, lo+(a.rate-lo)*f)
	}
	return expGap(rng, a.rate)
}

func (a *attacker) step(g *Generator, now int64, r *Record) (bool, int64) {
	if now >= a.until {
		return false, done
	}
	rng := a.rng
	v := g.v
	c := a.c
	if a.kind == KindDDoS {
		c = &a.bots[rng.IntN(len(a.bots))]
	}
	r.Addr, r.UserAgent, r.Proto = c.addr, c.ua, c.proto
	r.Method, r.Status = "GET", 200
	r.Bytes = int64(logNormal(rng, 24000, 0.5))
	r.RequestTime = msDuration(logNormal(rng, 45, 0.7))
	a.uri = a.uri[:0]
	a.ref = a.ref[:0]
	switch a.kind {
	case KindFlood:
		// Hammering pages and the API with a normal-looking browser UA.
		switch p := rng.IntN(10); {
		case p < 5:
			a.uri, _ = g.appendPage(a.uri, rng, false)
		case p < 8:
			a.uri = append(a.uri, "/api/v1/products?per_page=100&page="...)
			a.uri = strconv.AppendInt(a.uri, int64(1+rng.IntN(40)), 10)
			r.Bytes = int64(logNormal(rng, 9000, 0.4))
		default:
			a.uri = append(a.uri, '/')
		}
		if a.n%2 == 0 {
			a.ref = append(append(a.ref, g.hostURL...), '/')
		}
	case KindDDoS:
		// Cache-busting page loads from many addresses; the origin strains.
		switch p := rng.IntN(10); {
		case p < 4:
			a.uri = append(a.uri, '/')
		case p < 7:
			a.uri = append(a.uri, "/search?q="...)
			a.uri = appendFormEscaped(a.uri, pick(rng, v.searchQueries))
			a.uri = append(a.uri, "&_="...)
			a.uri = strconv.AppendUint(a.uri, uint64(rng.Uint32()), 10)
		default:
			a.uri = g.appendProduct(a.uri, productID(rng))
		}
		f := float64(now-a.from) / float64(a.until-a.from)
		r.RequestTime = msDuration(logNormal(rng, 45+900*f, 0.8))
		if rng.Float64() < 0.15*f {
			r.Status, r.Bytes = 503, 197
		}
	case KindScanner:
		i := a.n % len(v.probePaths)
		path := v.probePaths[a.perm[i]]
		a.uri = append(a.uri, path...)
		if a.n >= len(v.probePaths) {
			// Later passes add payloads to the parameters.
			if bytes.IndexByte(a.uri, '?') >= 0 {
				a.uri = append(a.uri, "&id="...)
			} else {
				a.uri = append(a.uri, "?id="...)
			}
			a.uri = appendPayload(a.uri, rng, pick(rng, v.sqliPayloads))
		}
		r.Status, r.Bytes = probeStatus(path), 153
		if r.Status == 200 {
			r.Bytes = int64(200 + rng.IntN(4000))
		}
		r.RequestTime = msDuration(float64(rng.IntN(20)))
	case KindBruteforce:
		a.uri = append(a.uri, "/login"...)
		a.ref = append(append(a.ref, g.hostURL...), "/login"...)
		r.Method, r.Status, r.Bytes = "POST", 401, 1480+int64(rng.IntN(40))
		r.RequestTime = msDuration(logNormal(rng, 210, 0.2))
	case KindSQLi:
		switch rng.IntN(4) {
		case 0:
			a.uri = append(a.uri, "/search?q="...)
		case 1:
			a.uri = append(a.uri, "/category/shoes?sort="...)
		case 2:
			a.uri = append(a.uri, "/api/v1/products?id="...)
		default:
			a.uri = append(a.uri, "/account/orders?id="...)
		}
		a.uri = appendPayload(a.uri, rng, pick(rng, v.sqliPayloads))
		a.ref = append(append(a.ref, g.hostURL...), '/')
		switch p := rng.IntN(10); {
		case p < 3:
			r.Status, r.Bytes = 500, 612
		case p < 4:
			r.Status, r.Bytes = 400, 166
		}
		r.RequestTime = msDuration(logNormal(rng, 120, 1.0))
	case KindXSS:
		switch rng.IntN(3) {
		case 0:
			a.uri = append(a.uri, "/search?q="...)
		case 1:
			a.uri = append(a.uri, "/contact?name=visitor&message="...)
		default:
			a.uri = append(a.uri, "/login?next="...)
		}
		a.uri = appendPayload(a.uri, rng, pick(rng, v.xssPayloads))
		a.ref = append(append(a.ref, g.hostURL...), '/')
		if rng.IntN(5) == 0 {
			r.Status, r.Bytes = 400, 166
		}
	case KindTraversal:
		a.uri = append(a.uri, pick(rng, v.traversalTargets)...)
		a.uri = appendPayload(a.uri, rng, pick(rng, v.traversalPayloads))
		switch p := rng.IntN(10); {
		case p < 4:
			r.Status, r.Bytes = 400, 166
		case p < 8:
			r.Status, r.Bytes = 404, 153
		default:
			r.Status, r.Bytes = 403, 153
		}
	case KindEnumeration:
		a.uri = appendEnumPath(a.uri, v, a.n)
		r.Status, r.Bytes = 404, 153
		switch p := rng.IntN(100); {
		case p < 3:
			r.Status = 403
		case p < 6:
			r.Status, r.Bytes = 301, 169
		}
		r.RequestTime = msDuration(float64(rng.IntN(6)))
	case KindBadbot:
		if rng.IntN(2) == 0 {
			r.UserAgent = ""
		} else {
			r.UserAgent = pick(rng, v.badbotUAs)
		}
		switch p := rng.IntN(20); {
		case p == 0:
			a.uri = append(a.uri, "/account/orders?id="...)
			a.uri = strconv.AppendInt(a.uri, int64(10000+a.n), 10)
			r.Status, r.Bytes = 302, 0
		case p == 1:
			a.uri = append(a.uri, "/admin/"...)
			r.Status, r.Bytes = 403, 153
		case p < 6:
			a.uri = append(a.uri, "/category/"...)
			a.uri = append(a.uri, pick(rng, v.categories)...)
			a.uri = append(a.uri, "?page="...)
			a.uri = strconv.AppendInt(a.uri, int64(1+a.n%50), 10)
		default:
			// Walks the catalogue in order, retired products included.
			id := productLow + a.n%(productOld-productLow+1)
			a.uri = g.appendProduct(a.uri, id)
			if id > productHigh {
				r.Status, r.Bytes = 404, 3120
			}
		}
	}
	a.n++
	r.URI, r.Referer = a.uri, a.ref
	return true, now + a.gap(now)
}

// probeStatus is how the site answers a scanner's probe.
func probeStatus(path string) int {
	switch path {
	case "/robots.txt", "/sitemap.xml", "/.well-known/security.txt":
		return 200
	case "/admin/", "/server-status", "/.git/config", "/.git/HEAD":
		return 403
	case "/wp-admin/":
		return 302
	}
	return 404
}

// appendEnumPath appends the n-th path of a content-discovery word list:
// every word with every extension, then again under numbered prefixes, so
// no path repeats.
func appendEnumPath(dst []byte, v *vocab, n int) []byte {
	w, e := len(v.enumWords), len(v.enumExts)
	dst = append(dst, '/')
	if round := n / (w * e); round > 0 {
		dst = append(dst, v.enumWords[(round-1)%w]...)
		dst = strconv.AppendInt(dst, int64(round), 10)
		dst = append(dst, '/')
	}
	dst = append(dst, v.enumWords[n%w]...)
	return append(dst, v.enumExts[(n/w)%e]...)
}

// appendPayload appends an attack payload as a query value, encoded the
// way a tool or a hand-crafted request would send it: form-encoded, with
// only spaces encoded (quotes, angle brackets and backslashes raw), or
// double-encoded.
func appendPayload(dst []byte, rng *rand.Rand, p string) []byte {
	switch rng.IntN(5) {
	case 0, 1:
		return appendFormEscaped(dst, p)
	case 2, 3:
		for i := 0; i < len(p); i++ {
			switch c := p[i]; c {
			case ' ':
				dst = append(dst, "%20"...)
			case '#':
				dst = append(dst, "%23"...)
			case '&':
				dst = append(dst, "%26"...)
			default:
				dst = append(dst, c)
			}
		}
		return dst
	default:
		for i := 0; i < len(p); i++ {
			c := p[i]
			if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
				dst = append(dst, c)
				continue
			}
			dst = append(dst, '%', '2', '5', hexUpper[c>>4], hexUpper[c&0xf])
		}
		return dst
	}
}

// Label is the ground truth for one attacker address, as written by
// WriteLabels: {"ip":"198.51.100.23","kind":"flood","start":"…","end":"…"}.
type Label struct {
	// IP is the attacker's address.
	IP netip.Addr `json:"ip"`
	// Kind is the attack kind.
	Kind string `json:"kind"`
	// Start and End bound the attack window in event time.
	Start time.Time `json:"start"`
	// End is the end of the attack window (exclusive).
	End time.Time `json:"end"`
}

// Labels returns one Label per attacker address, in attack order.
func (g *Generator) Labels() []Label {
	var out []Label
	for _, a := range g.attacks {
		for _, ip := range a.Addrs {
			out = append(out, Label{IP: ip, Kind: a.Attack.Kind, Start: a.From, End: a.Until})
		}
	}
	return out
}
