package simulate

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// This file holds the normal traffic: browser sessions, API pollers,
// crawlers and uptime monitors.

// Product catalogue: ids productLow..productHigh exist; crawlers and bots
// also ask for retired ids above it (404).
const (
	productLow  = 1000
	productHigh = 8999
	productOld  = 9299
)

// sessionSource starts browser sessions as a Poisson process whose rate
// follows the diurnal curve (by thinning a process at the peak rate).
type sessionSource struct {
	rate float64 // sessions per second at diurnal factor 1
}

func (s *sessionSource) step(g *Generator, now int64, _ *Record) (bool, int64) {
	peak := 1 + g.amp
	if g.rng.Float64()*peak < g.diurnal(now) {
		g.startSession(now)
	}
	return false, now + expGap(g.rng, s.rate*peak)
}

// startSession starts a browser session at now for a client that is not
// already browsing (if one is found in a few tries).
func (g *Generator) startSession(now int64) {
	var c *client
	for range 4 {
		c = g.browsers[g.rng.IntN(len(g.browsers))]
		if !c.busy {
			break
		}
	}
	c.busy = true
	var s *session
	if n := len(g.pool); n > 0 {
		s = g.pool[n-1]
		g.pool = g.pool[:n-1]
	} else {
		s = newSession()
	}
	s.begin(g, g.rng, c, 0)
	g.schedule(s, now)
}

// Session states.
const (
	stPage      = iota // next: an HTML page
	stAsset            // next: an asset of the current page
	stLoginPost        // next: POST /login
)

// pageKind is what an HTML page is.
type pageKind uint8

const (
	pageHome pageKind = iota
	pageCategory
	pageProduct
	pageSearch
	pageBlog
	pageCart
	pageAccount
	pageLogin
	pageInfo
	pageCheckout
	pageBroken
)

// session is one browser visit: a few pages, each an HTML request followed
// within a second by a burst of asset requests, with think time between
// pages; sometimes a login. An attacker's browsing cover is a looping
// session that starts a new visit after each one until a deadline.
type session struct {
	rng       *rand.Rand
	c         *client
	state     int
	pagesLeft int
	assetN    int
	assetI    int
	pageAt    int64
	firstPage bool
	cached    bool // assets of this page come from the browser cache (304)
	loginNext bool // after this page's assets, POST /login
	typoDone  bool
	forceAcct bool  // next page is /account (after a login)
	until     int64 // looping session: stop at this event time (0: no loop)
	cur, prev []byte
	uri       []byte
}

func newSession() *session {
	return &session{
		cur:  make([]byte, 0, 256),
		prev: make([]byte, 0, 256),
		uri:  make([]byte, 0, 256),
	}
}

// begin resets s for a new visit by c.
func (s *session) begin(g *Generator, rng *rand.Rand, c *client, until int64) {
	s.rng, s.c, s.until = rng, c, until
	s.state = stPage
	s.pagesLeft = 1 + rng.IntN(maxPages)
	s.firstPage = true
	s.typoDone, s.forceAcct, s.loginNext = false, false, false
	s.cur = s.cur[:0]
	s.prev = s.prev[:0]
	switch p := rng.Float64(); {
	case p < 0.35:
		s.cur = append(s.cur, "https://www.google.com/"...)
	case p < 0.40:
		s.cur = append(s.cur, "https://www.bing.com/"...)
	case p < 0.44:
		s.cur = append(s.cur, "https://duckduckgo.com/"...)
	case p < 0.48:
		s.cur = append(s.cur, "https://l.facebook.com/"...)
	case p < 0.50:
		s.cur = append(s.cur, "android-app://com.google.android.gm/"...)
	}
}

func (s *session) step(g *Generator, now int64, r *Record) (bool, int64) {
	if s.until != 0 && now >= s.until {
		return false, done
	}
	rng := s.rng
	c := s.c
	r.Addr, r.UserAgent, r.Proto, r.ForwardedFor = c.addr, c.ua, c.proto, c.xff
	switch s.state {
	case stPage:
		s.prev, s.cur = s.cur, s.prev[:0]
		var kind pageKind
		if s.forceAcct {
			s.uri = append(s.uri[:0], "/account"...)
			kind, s.forceAcct = pageAccount, false
		} else {
			s.uri, kind = g.appendPage(s.uri[:0], rng, s.firstPage)
		}
		s.cur = append(append(s.cur, g.hostURL...), s.uri...)
		r.Method, r.URI, r.Referer = "GET", s.uri, s.prev
		r.Status = 200
		r.Bytes = int64(logNormal(rng, 24000, 0.5))
		rt := logNormal(rng, 45, 0.7)
		switch kind {
		case pageSearch:
			rt = logNormal(rng, 140, 0.6)
			r.Bytes = int64(logNormal(rng, 38000, 0.4))
		case pageBroken:
			r.Status, r.Bytes, rt = 404, 3120+int64(rng.IntN(200)), logNormal(rng, 12, 0.4)
		case pageCheckout, pageAccount:
			rt = logNormal(rng, 90, 0.5)
		}
		r.RequestTime = msDuration(rt)
		if rng.IntN(2000) == 0 {
			// The backend is down: a bare error page, no assets; the
			// visitor moves on.
			r.Status, r.Bytes, r.RequestTime = 502, 552, msDuration(uniform(rng, 1000, 30000))
			s.pagesLeft--
			if s.pagesLeft > 0 {
				return true, now + int64(r.RequestTime) + thinkTime(rng)
			}
			return true, s.end(g, now+int64(r.RequestTime))
		}
		s.loginNext = kind == pageLogin
		s.cached = !s.firstPage && rng.Float64() < 0.7
		s.assetN = minAssets + rng.IntN(maxAssets-minAssets+1)
		s.assetI = 0
		s.pageAt = now
		s.state = stAsset
		// The browser fetches assets as soon as the head of the page
		// arrives, and all of them within a second.
		first := min(int64(r.RequestTime), seconds(0.25)) + seconds(uniform(rng, 0.02, 0.12))
		return true, now + first

	case stAsset:
		v := g.v
		i := s.assetI
		s.assetI++
		var path string
		var idx int
		switch {
		case i < len(v.coreAssets):
			idx = i
			path = v.coreAssets[i]
		default:
			idx = len(v.coreAssets) + rng.IntN(len(v.imageAssets))
			path = v.imageAssets[idx-len(v.coreAssets)]
		}
		r.Method, r.Referer = "GET", s.cur
		r.Status, r.Bytes = 200, assetBytes(idx)
		r.RequestTime = msDuration(float64(rng.IntN(4)))
		if s.cached && i < len(v.coreAssets) {
			r.Status, r.Bytes, r.RequestTime = 304, 0, 0
		}
		if s.firstPage && s.assetI == s.assetN {
			// The last asset of a visit's first page is the site icon;
			// phones also look for an Apple touch icon the site lacks.
			path, r.Status, r.Bytes = "/favicon.ico", 200, 15086
			if c.mobile && rng.IntN(2) == 0 {
				path, r.Status, r.Bytes = "/apple-touch-icon-precomposed.png", 404, 153
			}
		}
		s.uri = append(s.uri[:0], path...)
		r.URI = s.uri
		if s.assetI < s.assetN {
			gap := seconds(uniform(rng, 0.001, 1.6*0.8/float64(s.assetN)))
			next := min(now+gap, s.pageAt+seconds(0.99))
			return true, max(next, now)
		}
		// Page complete.
		s.firstPage = false
		s.pagesLeft--
		if s.loginNext {
			s.state = stLoginPost
			return true, now + seconds(uniform(rng, 4, 20))
		}
		if s.pagesLeft > 0 {
			s.state = stPage
			return true, now + thinkTime(rng)
		}
		return true, s.end(g, now)

	case stLoginPost:
		s.uri = append(s.uri[:0], "/login"...)
		r.Method, r.URI, r.Referer = "POST", s.uri, s.cur
		if !s.typoDone && rng.Float64() < pLoginTypo {
			s.typoDone = true
			r.Status, r.Bytes, r.RequestTime = 401, 1480+int64(rng.IntN(40)), msDuration(logNormal(rng, 210, 0.2))
			return true, now + seconds(uniform(rng, 3, 9))
		}
		r.Status, r.Bytes, r.RequestTime = 302, 0, msDuration(logNormal(rng, 230, 0.2))
		s.loginNext = false
		if s.pagesLeft > 0 {
			s.forceAcct = true
			s.state = stPage
			return true, now + int64(r.RequestTime) + seconds(uniform(rng, 0.03, 0.2))
		}
		return true, s.end(g, now)
	}
	return false, done
}

// end finishes a visit: a looping session starts another after a pause,
// a normal one frees its client and returns to the pool.
func (s *session) end(g *Generator, now int64) int64 {
	if s.until != 0 {
		next := now + seconds(uniform(s.rng, 20, 120))
		if next >= s.until {
			return done
		}
		s.begin(g, s.rng, s.c, s.until)
		return next
	}
	s.c.busy = false
	g.pool = append(g.pool, s)
	return done
}

// thinkTime is the pause between two pages: 3 s to 3 min, log-uniform.
func thinkTime(rng *rand.Rand) int64 {
	return seconds(3 * math.Exp(rng.Float64()*math.Log(60)))
}

// assetBytes is the (fixed) size of static asset idx.
func assetBytes(idx int) int64 {
	return 2400 + int64(uint32(idx+1)*2654435761%180000)
}

// productID returns a product id, popular ones more often.
func productID(rng *rand.Rand) int {
	span := float64(productHigh - productLow + 1)
	return productLow + int(math.Exp(rng.Float64()*math.Log(span))) - 1
}

// appendProduct appends a product page path for id.
func (g *Generator) appendProduct(dst []byte, id int) []byte {
	dst = append(dst, "/products/"...)
	dst = strconv.AppendInt(dst, int64(id), 10)
	dst = append(dst, '/')
	return append(dst, g.v.productSlugs[id%len(g.v.productSlugs)]...)
}

// appendPage appends the path (and query) of a page a browser visits.
func (g *Generator) appendPage(dst []byte, rng *rand.Rand, first bool) ([]byte, pageKind) {
	v := g.v
	p := rng.Float64()
	if first && p < 0.3 {
		return append(dst, '/'), pageHome
	}
	switch {
	case p < 0.08:
		return append(dst, '/'), pageHome
	case p < 0.23:
		dst = append(dst, "/category/"...)
		dst = append(dst, pick(rng, v.categories)...)
		if rng.IntN(3) == 0 {
			dst = append(dst, "?page="...)
			dst = strconv.AppendInt(dst, int64(2+rng.IntN(8)), 10)
			if rng.IntN(2) == 0 {
				dst = append(dst, "&sort=price_asc"...)
			}
		}
		return dst, pageCategory
	case p < 0.55:
		return g.appendProduct(dst, productID(rng)), pageProduct
	case p < 0.67:
		dst = append(dst, "/search?q="...)
		dst = appendFormEscaped(dst, pick(rng, v.searchQueries))
		if rng.IntN(5) == 0 {
			dst = append(dst, "&page=2"...)
		}
		return dst, pageSearch
	case p < 0.73:
		dst = append(dst, "/blog/"...)
		return append(dst, pick(rng, v.blogSlugs)...), pageBlog
	case p < 0.78:
		return append(dst, "/cart"...), pageCart
	case p < 0.82:
		if rng.IntN(2) == 0 {
			return append(dst, "/account/orders"...), pageAccount
		}
		return append(dst, "/account"...), pageAccount
	case p < 0.82+pLogin:
		return append(dst, "/login"...), pageLogin
	case p < 0.92:
		dst = append(dst, "/help/"...)
		return append(dst, pick(rng, v.helpTopics)...), pageInfo
	case p < 0.97:
		return append(dst, "/checkout"...), pageCheckout
	case p < 0.985:
		return append(dst, "/about"...), pageInfo
	default:
		// A broken link: a retired product or a mistyped blog post.
		if rng.IntN(2) == 0 {
			return g.appendProduct(dst, productHigh+1+rng.IntN(productOld-productHigh)), pageBroken
		}
		dst = append(dst, "/blog/"...)
		dst = append(dst, pick(rng, v.blogSlugs)...)
		return append(dst, "-2"...), pageBroken
	}
}

// appendFormEscaped appends s encoded as an HTML form value, the way
// browsers submit a search box: spaces become '+', everything but
// letters, digits and "-._*" is percent-encoded.
func appendFormEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '*':
			dst = append(dst, c)
		case c == ' ':
			dst = append(dst, '+')
		default:
			dst = append(dst, '%', hexUpper[c>>4], hexUpper[c&0xf])
		}
	}
	return dst
}

// apiClient polls the JSON API at a steady rate.
type apiClient struct {
	c        *client
	every    float64 // seconds between requests
	endpoint int     // index of its usual endpoint
	cursor   int64
	uri      []byte
}

func (a *apiClient) step(g *Generator, now int64, r *Record) (bool, int64) {
	rng := g.rng
	r.Addr, r.UserAgent, r.Proto = a.c.addr, a.c.ua, a.c.proto
	r.Method, r.Status = "GET", 200
	r.Bytes = int64(logNormal(rng, 2400, 0.9))
	r.RequestTime = msDuration(logNormal(rng, 18, 0.6))
	e := a.endpoint
	if rng.IntN(7) == 0 {
		e = rng.IntN(len(g.v.apiEndpoints))
	}
	base := g.v.apiEndpoints[e]
	a.uri = append(a.uri[:0], base...)
	switch e {
	case 0, 7: // since / updated_after: a Unix time a minute back
		a.uri = strconv.AppendInt(a.uri, g.unixAt(now)-60, 10)
	case 1:
		a.uri = strconv.AppendInt(a.uri, int64(1+rng.IntN(40)), 10)
	case 2:
		a.uri = strconv.AppendInt(a.uri, int64(productID(rng)), 10)
		if rng.IntN(100) == 0 {
			r.Status, r.Bytes = 404, 61
		}
	case 3:
		for i := range 3 {
			if i > 0 {
				a.uri = append(a.uri, "%2C"...)
			}
			a.uri = strconv.AppendInt(a.uri, int64(productID(rng)), 10)
		}
	case 4:
		a.cursor += int64(rng.IntN(3))
		a.uri = strconv.AppendInt(a.uri, 880000+a.cursor, 10)
	case 5:
		a.uri = strconv.AppendUint(a.uri, uint64(rng.Uint32()), 16)
	}
	switch p := rng.IntN(1000); {
	case p < 40:
		a.uri = append(a.uri[:0], "/api/v1/events"...)
		r.Method, r.Status, r.Bytes = "POST", 202, 0
	case p < 60:
		r.Status, r.Bytes = 304, 0
	case p < 62:
		r.Status, r.Bytes, r.RequestTime = 500, 85, msDuration(uniform(rng, 50, 2000))
	}
	r.URI = a.uri
	gap := a.every * uniform(rng, 0.9, 1.1)
	return true, now + seconds(gap)
}

// crawlerBot is a search-engine crawler: robots.txt first, then many
// distinct pages at a modest, irregular pace, never private paths.
type crawlerBot struct {
	c       *client
	rate    float64
	started bool
	uri     []byte
}

func (b *crawlerBot) step(g *Generator, now int64, r *Record) (bool, int64) {
	rng := g.rng
	r.Addr, r.UserAgent, r.Proto = b.c.addr, b.c.ua, b.c.proto
	r.Method, r.Status = "GET", 200
	r.Bytes = int64(logNormal(rng, 24000, 0.5))
	r.RequestTime = msDuration(logNormal(rng, 50, 0.6))
	switch p := rng.Float64(); {
	case !b.started || p < 0.01:
		b.started = true
		b.uri = append(b.uri[:0], "/robots.txt"...)
		r.Bytes, r.RequestTime = 212, time.Millisecond
	case p < 0.03:
		b.uri = append(b.uri[:0], "/sitemap.xml"...)
		r.Bytes = 48210
	case p < 0.05:
		b.uri = append(b.uri[:0], '/')
	case p < 0.20:
		b.uri = append(b.uri[:0], "/category/"...)
		b.uri = append(b.uri, pick(rng, g.v.categories)...)
		b.uri = append(b.uri, "?page="...)
		b.uri = strconv.AppendInt(b.uri, int64(1+rng.IntN(20)), 10)
	case p < 0.30:
		b.uri = append(b.uri[:0], "/blog/"...)
		b.uri = append(b.uri, pick(rng, g.v.blogSlugs)...)
	default:
		id := productLow + rng.IntN(productOld-productLow+1)
		b.uri = g.appendProduct(b.uri[:0], id)
		if id > productHigh {
			r.Status, r.Bytes = 404, 3120
		} else if rng.IntN(100) == 0 {
			r.Status, r.Bytes = 301, 162
		}
	}
	r.URI = b.uri
	return true, now + expGap(rng, b.rate)
}

// monitor is an uptime check: GET /healthz at a fixed interval.
type monitor struct {
	c     *client
	every int64
	uri   [len("/healthz")]byte
}

func (m *monitor) step(g *Generator, now int64, r *Record) (bool, int64) {
	rng := g.rng
	copy(m.uri[:], "/healthz")
	r.Addr, r.UserAgent, r.Proto = m.c.addr, m.c.ua, m.c.proto
	r.Method, r.URI, r.Status, r.Bytes = "GET", m.uri[:], 200, 2
	r.RequestTime = msDuration(float64(rng.IntN(3)))
	return true, now + m.every + seconds(uniform(rng, -0.3, 0.3))
}
