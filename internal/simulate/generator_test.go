package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// testConfig returns the default config lasting d, with the given attacks.
func testConfig(t testing.TB, d time.Duration, attacks ...string) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Duration = d
	for _, spec := range attacks {
		a, err := ParseAttack(spec)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Attacks = append(cfg.Attacks, a)
	}
	return cfg
}

// generate runs a generator for cfg to the end, calling fn for each record.
func generate(t testing.TB, cfg Config, fn func(r *Record)) *Generator {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var r Record
	for g.Next(&r) {
		fn(&r)
	}
	return g
}

// render runs cfg through Run and returns the output.
func render(t testing.TB, cfg Config, format string) []byte {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := Run(context.Background(), g, &buf, format)
	if err != nil {
		t.Fatal(err)
	}
	if got := int64(bytes.Count(buf.Bytes(), []byte("\n"))); got != n {
		t.Fatalf("Run reported %d lines, wrote %d", n, got)
	}
	return buf.Bytes()
}

// allAttacks has one attack of every kind, in short windows of a 15-minute run.
var allAttacks = []string{
	"flood@1m+1m:40", "ddos@2m+1m", "scanner@3m+1m", "bruteforce@1m+5m", "sqli@4m+3m:1",
	"xss@5m+3m:1", "traversal@6m+3m:1", "enumeration@7m+1m", "badbot@8m+1m",
}

func TestDeterminism(t *testing.T) {
	cfg := testConfig(t, 10*time.Minute, allAttacks...)
	for _, format := range []string{FormatJSON, FormatCombined} {
		a, b := render(t, cfg, format), render(t, cfg, format)
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Fatalf("%s: two runs with seed %d differ (%d and %d bytes)", format, cfg.Seed, len(a), len(b))
		}
		other := cfg
		other.Seed++
		if c := render(t, other, format); bytes.Equal(a, c) {
			t.Fatalf("%s: seeds %d and %d give the same output", format, cfg.Seed, other.Seed)
		}
	}
}

func TestBackgroundIndependentOfAttacks(t *testing.T) {
	plain := testConfig(t, 10*time.Minute)
	attacked := testConfig(t, 10*time.Minute, allAttacks...)
	g, err := New(attacked)
	if err != nil {
		t.Fatal(err)
	}
	attackers := map[netip.Addr]bool{}
	for _, l := range g.Labels() {
		attackers[l.IP] = true
	}
	var without, with [][]byte
	generate(t, plain, func(r *Record) { without = append(without, WriteJSON(nil, r)) })
	var nAttack int
	generate(t, attacked, func(r *Record) {
		if attackers[r.Addr] {
			nAttack++
			return
		}
		with = append(with, WriteJSON(nil, r))
	})
	if nAttack == 0 {
		t.Fatal("no attack traffic")
	}
	if len(with) != len(without) {
		t.Fatalf("background has %d lines with attacks, %d without", len(with), len(without))
	}
	for i := range with {
		if !bytes.Equal(with[i], without[i]) {
			t.Fatalf("background line %d differs:\n%s\n%s", i, with[i], without[i])
		}
	}
}

func TestJSONOutputDecodes(t *testing.T) {
	cfg := testConfig(t, 10*time.Minute, allAttacks...)
	var n int
	escapes := map[string]int{}
	generate(t, cfg, func(r *Record) {
		line := WriteJSON(nil, r)
		checkJSONLine(t, line, r)
		n++
		for _, e := range []string{`\"`, `\\`, `\u00`, `\t`} {
			if bytes.Contains(line, []byte(e)) {
				escapes[e]++
			}
		}
	})
	if n < 10000 {
		t.Fatalf("only %d lines", n)
	}
	for _, e := range []string{`\"`, `\\`, `\u00`, `\t`} {
		if escapes[e] == 0 {
			t.Errorf("no line exercises the %s escape", e)
		}
	}
}

func TestCombinedOutputMatches(t *testing.T) {
	cfg := testConfig(t, 10*time.Minute, allAttacks...)
	var n, hostile int
	generate(t, cfg, func(r *Record) {
		line := WriteCombined(nil, r)
		m := combinedRE.FindSubmatch(bytes.TrimSuffix(line, []byte("\n")))
		if m == nil {
			t.Fatalf("line does not match the combined format: %q", line)
		}
		if string(m[1]) != r.Addr.String() || string(m[5]) != itoa(r.Status) || string(m[6]) != itoa(int(r.Bytes)) {
			t.Fatalf("fields of %q do not match %+v", line, r)
		}
		if bytes.Contains(line, []byte(`\x`)) {
			hostile++
		}
		n++
	})
	if n < 10000 || hostile == 0 {
		t.Fatalf("%d lines, %d with escapes; want many and some", n, hostile)
	}
}

func itoa(v int) string { return string(appendInt(nil, v)) }

func appendInt(b []byte, v int) []byte {
	if v >= 10 {
		b = appendInt(b, v/10)
	}
	return append(b, byte('0'+v%10))
}

func TestRate(t *testing.T) {
	tests := []struct {
		name    string
		rate    float64
		clients int
		diurnal float64
		dur     time.Duration
	}{
		{"default shape, one day", 10, 2000, 0.3, 24 * time.Hour},
		{"flat, two hours", 50, 2000, 0, 2 * time.Hour},
		{"small site, strong cycle", 5, 200, 0.8, 48 * time.Hour},
		{"busy site", 300, 20000, 0.3, time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Rate, cfg.Clients, cfg.Diurnal, cfg.Duration = tc.rate, tc.clients, tc.diurnal, tc.dur
			// A short run measures the rate at the time of day it covers.
			cfg.Start = DefaultStart().Add(9 * time.Hour)
			want := tc.rate * tc.dur.Seconds()
			if tc.dur < 24*time.Hour {
				want = 0
				for s := time.Duration(0); s < tc.dur; s += time.Minute {
					want += 60 * expectedRate(cfg, cfg.Start.Add(s))
				}
			}
			var n float64
			generate(t, cfg, func(*Record) { n++ })
			if math.Abs(n-want)/want > 0.05 {
				t.Fatalf("%.0f requests, want %.0f ± 5%% (mean rate %.2f/s, want %.2f/s)", n, want, n/tc.dur.Seconds(), want/tc.dur.Seconds())
			}
		})
	}
}

// expectedRate is the mean request rate at time t from the model's shares:
// browsers follow the diurnal curve, the rest is flat.
func expectedRate(cfg Config, t time.Time) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	flat := (apiShare + crawlerShare) * cfg.Rate
	browsers := cfg.Rate - flat
	amp := min(1, cfg.Diurnal*cfg.Rate/browsers)
	return flat + browsers*(1+amp*math.Cos(2*math.Pi*(h-15)/24))
}

func TestDiurnal(t *testing.T) {
	for _, amp := range []float64{0, 0.5} {
		cfg := DefaultConfig()
		cfg.Rate, cfg.Diurnal, cfg.Duration = 8, amp, 24*time.Hour
		var perHour [24]float64
		generate(t, cfg, func(r *Record) { perHour[r.Time.Hour()]++ })
		night := (perHour[2] + perHour[3] + perHour[4]) / 3
		day := (perHour[14] + perHour[15] + perHour[16]) / 3
		peak := slices.Index(perHour[:], slices.Max(perHour[:]))
		trough := slices.Index(perHour[:], slices.Min(perHour[:]))
		t.Logf("diurnal %.1f: night %.0f/h, day %.0f/h, peak at %02d:00, trough at %02d:00", amp, night, day, peak, trough)
		if amp == 0 {
			if r := night / day; r < 0.8 || r > 1.2 {
				t.Errorf("flat traffic: night/day = %.2f, want about 1", r)
			}
			continue
		}
		if night >= 0.6*day {
			t.Errorf("night %.0f/h is not well below day %.0f/h", night, day)
		}
		if peak < 12 || peak > 18 || trough > 6 {
			t.Errorf("peak at %02d:00 (want afternoon), trough at %02d:00 (want night)", peak, trough)
		}
	}
}

// req is a copy of the fields of a Record the tests look at.
type req struct {
	at                   time.Time
	addr                 netip.Addr
	method, uri, ref, ua string
	xff                  string
	status               int
}

func collect(t testing.TB, cfg Config) ([]req, *Generator) {
	var out []req
	g := generate(t, cfg, func(r *Record) {
		out = append(out, req{r.Time, r.Addr, r.Method, string(r.URI), string(r.Referer), r.UserAgent, r.ForwardedFor, r.Status})
	})
	return out, g
}

func isAsset(uri string) bool {
	return strings.HasPrefix(uri, "/static/") || uri == "/favicon.ico" || strings.HasPrefix(uri, "/apple-touch-icon")
}

func TestPageLoadBursts(t *testing.T) {
	cfg := testConfig(t, 30*time.Minute)
	reqs, g := collect(t, cfg)
	browserUA := map[string]bool{}
	for _, ua := range g.v.browserUAs {
		browserUA[ua] = true
	}
	end := cfg.Start.Add(cfg.Duration - 2*time.Second)
	var pages, assets int
	for i, p := range reqs {
		if p.method != "GET" || !browserUA[p.ua] || isAsset(p.uri) || p.at.After(end) || p.status == 502 {
			continue
		}
		pages++
		ref := "https://" + cfg.Host + p.uri
		n := 0
		for _, q := range reqs[i+1:] {
			if q.at.Sub(p.at) > time.Second {
				break
			}
			if q.addr == p.addr && q.ref == ref && isAsset(q.uri) {
				n++
			}
		}
		if n < minAssets {
			t.Fatalf("page %s from %s at %s: %d assets within 1 s, want >= %d", p.uri, p.addr, p.at.Format(time.TimeOnly), n, minAssets)
		}
		assets += n
	}
	if pages < 1000 {
		t.Fatalf("only %d page loads in 30 minutes", pages)
	}
	if mean := float64(assets) / float64(pages); mean < 15 || mean > 30 {
		t.Errorf("mean assets per page %.1f, want about %d", mean, (minAssets+maxAssets)/2)
	}
}

func TestBackgroundVariety(t *testing.T) {
	reqs, _ := collect(t, testConfig(t, 2*time.Hour))
	has := func(name string, f func(q req) bool) {
		t.Helper()
		for _, q := range reqs {
			if f(q) {
				return
			}
		}
		t.Errorf("no request with %s", name)
	}
	has("an apostrophe search", func(q req) bool { return strings.Contains(q.uri, "q=O%27Brien") })
	has("'select' in a search", func(q req) bool { return strings.HasPrefix(q.uri, "/search?q=select+") })
	has("'union' in a search", func(q req) bool { return strings.HasPrefix(q.uri, "/search?q=union+") })
	has("'order by price'", func(q req) bool { return strings.Contains(q.uri, "q=order+by+price") })
	has("a login", func(q req) bool { return q.method == "POST" && q.uri == "/login" && q.status == 302 })
	has("a mistyped password", func(q req) bool { return q.method == "POST" && q.uri == "/login" && q.status == 401 })
	has("a 304", func(q req) bool { return q.status == 304 })
	has("a missing touch icon", func(q req) bool { return strings.HasPrefix(q.uri, "/apple-touch-icon") && q.status == 404 })
	has("a broken link", func(q req) bool { return !isAsset(q.uri) && q.status == 404 && q.ref != "" })
	has("an API poll", func(q req) bool { return strings.HasPrefix(q.uri, "/api/v1/") && !strings.HasPrefix(q.ua, "Mozilla/") })
	has("a backend error", func(q req) bool { return q.status == 502 })
	has("a health check", func(q req) bool { return q.uri == "/healthz" })
	has("a crawler", func(q req) bool { return strings.Contains(q.ua, "Googlebot") || strings.Contains(q.ua, "bingbot") })
	has("an office address", func(q req) bool { return netip.MustParsePrefix("10.12.0.0/16").Contains(q.addr) })
	has("a forwarded-for header", func(q req) bool { return strings.HasPrefix(q.xff, "192.168.") })
	has("a documentation address", func(q req) bool { return netip.MustParsePrefix("203.0.113.0/24").Contains(q.addr) })
	for _, q := range reqs {
		if q.addr.IsLoopback() || (q.addr.IsPrivate() && !netip.MustParsePrefix("10.12.0.0/16").Contains(q.addr)) {
			t.Fatalf("request from %s: loopback or private address outside the office range", q.addr)
		}
	}
}

func TestSteadyBusyClient(t *testing.T) {
	cfg := testConfig(t, time.Hour)
	perMinute := map[netip.Addr]*[60]int{}
	generate(t, cfg, func(r *Record) {
		m := perMinute[r.Addr]
		if m == nil {
			m = new([60]int)
			perMinute[r.Addr] = m
		}
		m[r.Time.Minute()]++
	})
	var steady []netip.Addr
	for addr, m := range perMinute {
		if slices.Min(m[:]) >= 2*60*0.9 && slices.Max(m[:]) <= 5*60*1.1 {
			steady = append(steady, addr)
		}
	}
	if len(steady) == 0 {
		t.Fatal("no client polls steadily at 2-5 requests/s for the whole hour")
	}
}

func TestCrawlersAndMonitors(t *testing.T) {
	reqs, g := collect(t, testConfig(t, 2*time.Hour))
	crawlerUA := map[string]bool{}
	for _, c := range g.v.crawlers {
		crawlerUA[c.ua] = true
	}
	first := map[netip.Addr]string{}
	lastCheck := map[netip.Addr]time.Time{}
	var crawled, checks int
	for _, q := range reqs {
		if crawlerUA[q.ua] {
			crawled++
			if _, ok := first[q.addr]; !ok {
				first[q.addr] = q.uri
			}
			for _, private := range []string{"/admin", "/account", "/login", "/cart", "/checkout", "/api/", "/search"} {
				if strings.HasPrefix(q.uri, private) {
					t.Fatalf("crawler %s requested %s, which robots.txt disallows", q.addr, q.uri)
				}
			}
		}
		if q.uri == "/healthz" {
			checks++
			if prev, ok := lastCheck[q.addr]; ok {
				if gap := q.at.Sub(prev); gap < 29*time.Second || gap > 61*time.Second {
					t.Fatalf("monitor %s checked after %s, want 30-60 s", q.addr, gap)
				}
			}
			lastCheck[q.addr] = q.at
		}
	}
	for addr, uri := range first {
		if uri != "/robots.txt" {
			t.Errorf("crawler %s started with %s, want /robots.txt", addr, uri)
		}
	}
	if crawled < 100 || len(first) == 0 || checks < 100 {
		t.Fatalf("%d crawler requests from %d crawlers, %d health checks; want more", crawled, len(first), checks)
	}
}

func TestIPv6Share(t *testing.T) {
	for _, share := range []float64{0, 0.2, 0.5, 1} {
		cfg := testConfig(t, 2*time.Hour, "scanner", "ddos")
		cfg.IPv6Share = share
		seen := map[netip.Addr]bool{}
		g := generate(t, cfg, func(r *Record) { seen[r.Addr] = true })
		var v6 float64
		for a := range seen {
			if a.Is6() {
				v6++
			}
		}
		got := v6 / float64(len(seen))
		t.Logf("ipv6 share %.1f: %d addresses, %.3f IPv6", share, len(seen), got)
		if math.Abs(got-share) > 0.04 {
			t.Errorf("ipv6 share %.1f: got %.3f of %d addresses", share, got, len(seen))
		}
		if share == 1 {
			for _, l := range g.Labels() {
				if !l.IP.Is6() {
					t.Errorf("ipv6 share 1: attacker %s is IPv4", l.IP)
				}
			}
		}
	}
}

// attackNets are the only networks attackers use.
var attackNets = []netip.Prefix{
	netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("2001:db8:bad::/48"), netip.MustParsePrefix("2001:db8:dd05::/48"),
}

func inAttackNets(a netip.Addr) bool {
	for _, p := range attackNets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func decoded(uri string) string {
	s := uri
	for range 3 {
		u, err := url.QueryUnescape(s)
		if err != nil {
			break
		}
		s = u
	}
	return strings.ToLower(s)
}

func TestAttacks(t *testing.T) {
	v := newVocab()
	in := func(list []string) map[string]bool {
		m := map[string]bool{}
		for _, s := range list {
			m[s] = true
		}
		return m
	}
	browserUA, scannerUA, badbotUA := in(v.browserUAs), in(v.scannerUAs), in(v.badbotUAs)
	share := func(qs []req, f func(q req) bool) float64 {
		n := 0
		for _, q := range qs {
			if f(q) {
				n++
			}
		}
		return float64(n) / float64(len(qs))
	}
	tests := []struct {
		spec  string
		check func(t *testing.T, qs []req, a AttackInfo)
	}{
		{"flood@5m+2m:50", func(t *testing.T, qs []req, a AttackInfo) {
			if n := float64(len(qs)); math.Abs(n-50*120)/(50*120) > 0.1 {
				t.Errorf("%0.f requests, want about %d", n, 50*120)
			}
			if share(qs, func(q req) bool { return browserUA[q.ua] }) != 1 {
				t.Error("flood uses a non-browser user agent")
			}
		}},
		{"ddos@5m+2m", func(t *testing.T, qs []req, a AttackInfo) {
			if len(a.Addrs) != ddosBots {
				t.Errorf("%d bots, want %d", len(a.Addrs), ddosBots)
			}
			per := map[netip.Addr]int{}
			for _, q := range qs {
				per[q.addr]++
			}
			if len(per) < ddosBots*9/10 {
				t.Errorf("only %d of %d bots sent requests", len(per), ddosBots)
			}
			// Each bot stays near a normal rate: 2×50 req/s over 300 bots.
			for addr, n := range per {
				if n > 120 {
					t.Errorf("bot %s sent %d requests in 2 minutes; a ddos bot should stay modest", addr, n)
				}
			}
		}},
		{"scanner@5m+2m", func(t *testing.T, qs []req, a AttackInfo) {
			if share(qs, func(q req) bool { return scannerUA[q.ua] }) != 1 {
				t.Error("scanner without a scanner user agent")
			}
			if s := share(qs, func(q req) bool { return q.status == 404 || q.status == 403 }); s < 0.8 {
				t.Errorf("%.2f of probes failed, want most", s)
			}
			for _, p := range []string{"/.env", "/.git/config", "/wp-login.php"} {
				if share(qs, func(q req) bool { return strings.HasPrefix(q.uri, p) }) == 0 {
					t.Errorf("scanner never probed %s", p)
				}
			}
			if share(qs, func(q req) bool {
				return strings.Contains(decoded(q.uri), "sleep(") || strings.Contains(decoded(q.uri), "union")
			}) == 0 {
				t.Error("scanner sent no payloads in parameters")
			}
		}},
		{"bruteforce@5m+5m", func(t *testing.T, qs []req, a AttackInfo) {
			for i, q := range qs {
				if q.method != "POST" || q.uri != "/login" || q.status != 401 || !browserUA[q.ua] {
					t.Fatalf("bruteforce request %+v, want POST /login 401 from a browser", q)
				}
				if i > 0 {
					if gap := q.at.Sub(qs[i-1].at); gap < 3*time.Second || gap > 6*time.Second {
						t.Fatalf("guesses %s apart, want every 3-6 s", gap)
					}
				}
			}
			if len(qs) < 50 || len(qs) > 100 {
				t.Errorf("%d guesses in 5 minutes, want 50-100", len(qs))
			}
		}},
		{"sqli@5m+8m:1", func(t *testing.T, qs []req, a AttackInfo) {
			checkPayloads(t, qs, a, []string{"union", "select", "sleep(", "' or", "drop table"})
		}},
		{"xss@5m+8m:1", func(t *testing.T, qs []req, a AttackInfo) {
			checkPayloads(t, qs, a, []string{"<script", "onerror=", "javascript:", "<svg"})
		}},
		{"traversal@5m+8m:1", func(t *testing.T, qs []req, a AttackInfo) {
			checkPayloads(t, qs, a, []string{"../", "etc/passwd", `..\`, "win.ini", "php://filter"})
		}},
		{"enumeration@5m+2m", func(t *testing.T, qs []req, a AttackInfo) {
			paths := map[string]bool{}
			for _, q := range qs {
				if paths[q.uri] {
					t.Fatalf("enumeration repeated %s", q.uri)
				}
				paths[q.uri] = true
			}
			if s := share(qs, func(q req) bool { return q.status == 404 }); s < 0.9 {
				t.Errorf("%.2f of paths were 404, want most", s)
			}
			if share(qs, func(q req) bool { return browserUA[q.ua] }) != 1 {
				t.Error("enumeration should hide behind a browser user agent")
			}
			if len(qs) < 1000 {
				t.Errorf("%d paths in 2 minutes at 10/s", len(qs))
			}
		}},
		{"badbot@5m+2m", func(t *testing.T, qs []req, a AttackInfo) {
			if s := share(qs, func(q req) bool { return q.ua == "" }); s < 0.4 {
				t.Errorf("%.2f of requests without a user agent, want about half", s)
			}
			if share(qs, func(q req) bool { return badbotUA[q.ua] }) != 1 {
				t.Error("badbot used a well-formed user agent")
			}
			if len(qs) < 600 {
				t.Errorf("%d requests in 2 minutes, want aggressive crawling", len(qs))
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			cfg := testConfig(t, 15*time.Minute, tc.spec)
			reqs, g := collect(t, cfg)
			infos := g.Attacks()
			if len(infos) != 1 {
				t.Fatalf("%d attacks", len(infos))
			}
			a := infos[0]
			labelled := map[netip.Addr]bool{}
			for _, l := range g.Labels() {
				if l.Kind != a.Attack.Kind || !l.Start.Equal(a.From) || !l.End.Equal(a.Until) {
					t.Errorf("label %+v does not match the attack %+v", l, a)
				}
				if !inAttackNets(l.IP) {
					t.Errorf("attacker %s outside the attacker networks", l.IP)
				}
				labelled[l.IP] = true
			}
			var qs []req
			var inWindow, before int
			for _, q := range reqs {
				if !q.at.Before(a.From) && q.at.Before(a.Until) {
					inWindow++
				} else if !q.at.Before(a.From.Add(-a.Attack.Duration)) && q.at.Before(a.From) {
					before++
				}
				if inAttackNets(q.addr) != labelled[q.addr] {
					t.Fatalf("request from %s: in attacker networks %v, labelled %v", q.addr, inAttackNets(q.addr), labelled[q.addr])
				}
				if !labelled[q.addr] {
					continue
				}
				if q.at.Before(a.From) || !q.at.Before(a.Until) {
					t.Fatalf("attacker %s active at %s, outside [%s, %s)", q.addr, q.at, a.From, a.Until)
				}
				qs = append(qs, q)
			}
			if len(qs) == 0 {
				t.Fatal("no attack traffic")
			}
			if a.Attack.Kind == KindDDoS && float64(inWindow) < 2.5*float64(before) {
				t.Errorf("ddos: %d requests during the attack vs %d before it; want the global rate multiplied", inWindow, before)
			}
			tc.check(t, qs, a)
		})
	}
}

// checkPayloads checks an injection attacker: normal browsing as cover,
// payloads of the expected families, a rate that ramps up.
func checkPayloads(t *testing.T, qs []req, a AttackInfo, markers []string) {
	t.Helper()
	found := map[string]bool{}
	var payloads, cover, early, late int
	quarter := a.Attack.Duration / 4
	for _, q := range qs {
		d := decoded(q.uri)
		hit := false
		for _, m := range markers {
			if strings.Contains(d, m) {
				found[m], hit = true, true
			}
		}
		if !hit {
			cover++
			continue
		}
		payloads++
		switch off := q.at.Sub(a.From); {
		case off < quarter:
			early++
		case off >= 3*quarter:
			late++
		}
	}
	for _, m := range markers {
		if !found[m] {
			t.Errorf("no payload containing %q", m)
		}
	}
	if payloads < 50 || cover < 20 {
		t.Errorf("%d payloads and %d cover requests, want both", payloads, cover)
	}
	if late <= 2*early {
		t.Errorf("%d payloads in the first quarter, %d in the last; want a ramp", early, late)
	}
}

func TestLinesExact(t *testing.T) {
	for _, n := range []int64{1, 1234, 50000} {
		cfg := DefaultConfig()
		cfg.Lines = n
		out := render(t, cfg, FormatJSON)
		if got := int64(bytes.Count(out, []byte("\n"))); got != n {
			t.Errorf("--lines %d wrote %d lines", n, got)
		}
	}
	// Lines and Duration together: whichever comes first.
	cfg := testConfig(t, time.Minute)
	cfg.Lines = 1 << 40
	if got := bytes.Count(render(t, cfg, FormatJSON), []byte("\n")); got > 100*60 {
		t.Errorf("a one-minute run wrote %d lines", got)
	}
}

func TestOrderAndBounds(t *testing.T) {
	cfg := testConfig(t, 20*time.Minute, allAttacks...)
	cfg.Start = time.Date(2026, 3, 29, 0, 50, 0, 0, time.FixedZone("CET", 3600))
	var prev time.Time
	var n int
	g := generate(t, cfg, func(r *Record) {
		if r.Time.Before(prev) {
			t.Fatalf("record at %s after one at %s", r.Time, prev)
		}
		if r.Time.Before(cfg.Start) || !r.Time.Before(cfg.Start.Add(cfg.Duration)) {
			t.Fatalf("record at %s outside the run", r.Time)
		}
		if r.Host != cfg.Host || !r.Addr.IsValid() || r.Method == "" || len(r.URI) == 0 || r.URI[0] != '/' || r.Status < 100 {
			t.Fatalf("incomplete record %+v", r)
		}
		prev = r.Time
		n++
	})
	var r Record
	if g.Next(&r) || g.Lines() != int64(n) {
		t.Fatalf("Next after the end returned a record, or Lines() = %d != %d", g.Lines(), n)
	}
	if got := string(appendISO8601(nil, prev)); !strings.HasSuffix(got, "+01:00") {
		t.Errorf("time %s does not keep the start's zone", got)
	}
}

func TestNextAllocs(t *testing.T) {
	g, err := New(testConfig(t, 0, allAttacks...))
	if err != nil {
		t.Fatal(err)
	}
	var r Record
	for range 200000 {
		g.Next(&r)
	}
	if n := testing.AllocsPerRun(20000, func() { g.Next(&r) }); n != 0 {
		t.Fatalf("Next: %v allocs per record, want 0", n)
	}
}

func TestLabels(t *testing.T) {
	cfg := testConfig(t, 15*time.Minute, "scanner@1m+2m", "ddos@3m+1m", "scanner@4m")
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteLabels(&buf, g.Labels()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 1+ddosBots+1 {
		t.Fatalf("%d label lines, want %d", len(lines), 2+ddosBots)
	}
	want := `{"ip":"` + g.Attacks()[0].Addrs[0].String() + `","kind":"scanner","start":"2026-01-05T00:01:00Z","end":"2026-01-05T00:03:00Z"}`
	if lines[0] != want {
		t.Errorf("first label %s, want %s", lines[0], want)
	}
	ips := map[string]bool{}
	for _, l := range lines {
		var got struct{ IP, Kind, Start, End string }
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatal(err)
		}
		if ips[got.IP] {
			t.Errorf("address %s labelled twice", got.IP)
		}
		ips[got.IP] = true
	}
	if a, b := g.Attacks()[0].Addrs[0], g.Attacks()[2].Addrs[0]; a == b {
		t.Errorf("two scanner attacks share the address %s", a)
	}
}
