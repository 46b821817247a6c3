package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/baseline"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/parse"
	"github.com/vigil-sec/vigil/internal/source"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// req is one generated request.
type req struct {
	at     time.Time
	ip     string
	method string
	uri    string
	status int
	ua     string
}

func (r req) line() string {
	ua := r.ua
	if ua == "" {
		ua = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"
	}
	m := r.method
	if m == "" {
		m = "GET"
	}
	return fmt.Sprintf(`{"time":"%s","remote_addr":"%s","request_method":"%s","request_uri":"%s","status":%d,"body_bytes_sent":512,"request_time":0.004,"http_user_agent":"%s","http_referer":"","host":"example.com","http_x_forwarded_for":""}`,
		r.at.Format(time.RFC3339), r.ip, m, r.uri, r.status, ua)
}

// traffic builds a background of normal clients over d, plus extra requests,
// sorted by time.
func traffic(seed uint64, d time.Duration, clients int, extra []req) []req {
	r := rand.New(rand.NewPCG(seed, 1))
	var out []req
	for c := 0; c < clients; c++ {
		ip := fmt.Sprintf("198.51.100.%d", c+1)
		if c%5 == 0 {
			ip = fmt.Sprintf("2001:db8::%x", c+1)
		}
		at := t0.Add(time.Duration(r.IntN(20)) * time.Second)
		for at.Before(t0.Add(d)) {
			status := 200
			if r.IntN(50) == 0 {
				status = 404
			}
			out = append(out, req{at: at, ip: ip, uri: fmt.Sprintf("/page/%d", r.IntN(100)), status: status})
			at = at.Add(time.Duration(2+r.IntN(10)) * time.Second)
		}
	}
	out = append(out, extra...)
	sortReqs(out)
	return out
}

func sortReqs(rs []req) {
	// stable by time: generated lists are small enough for insertion via sort.Slice
	sortSliceStable(rs, func(a, b req) bool { return a.at.Before(b.at) })
}

func sortSliceStable(rs []req, less func(a, b req) bool) {
	// simple merge sort keeps equal elements in order
	if len(rs) < 2 {
		return
	}
	mid := len(rs) / 2
	sortSliceStable(rs[:mid], less)
	sortSliceStable(rs[mid:], less)
	tmp := make([]req, 0, len(rs))
	i, j := 0, mid
	for i < mid && j < len(rs) {
		if less(rs[j], rs[i]) {
			tmp = append(tmp, rs[j])
			j++
		} else {
			tmp = append(tmp, rs[i])
			i++
		}
	}
	tmp = append(tmp, rs[i:mid]...)
	tmp = append(tmp, rs[j:]...)
	copy(rs, tmp)
}

func flood(ip string, from time.Time, d time.Duration, perSec int) []req {
	var out []req
	for s := 0; s < int(d/time.Second); s++ {
		for i := 0; i < perSec; i++ {
			out = append(out, req{at: from.Add(time.Duration(s) * time.Second), ip: ip, uri: "/api/items", status: 200})
		}
	}
	return out
}

// collector is a Handler that records findings as JSON lines.
type collector struct {
	mu       sync.Mutex
	findings []*detect.Finding
	lines    []string
	last     time.Time
}

func (c *collector) Finding(f *detect.Finding) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, _ := json.Marshal(f)
	c.lines = append(c.lines, string(b))
	c.findings = append(c.findings, f)
}

func (c *collector) Advance(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Before(c.last) {
		panic("Advance went backwards")
	}
	c.last = now
}

type testEnv struct {
	cfg    Config
	detect detect.Config
	base   baseline.Config
}

func newTestEnv() testEnv {
	b := baseline.DefaultConfig()
	b.Learning = 5 * time.Minute
	d := detect.DefaultConfig()
	d.Rate.MinRequests = 120
	return testEnv{cfg: DefaultConfig(), detect: d, base: b}
}

func (te testEnv) run(t *testing.T, reqs []req, shards int) (*collector, Stats) {
	t.Helper()
	var sb strings.Builder
	for _, r := range reqs {
		sb.WriteString(r.line())
		sb.WriteByte('\n')
	}
	return te.runLines(t, sb.String(), shards, 4096)
}

func (te testEnv) runLines(t *testing.T, data string, shards, chunk int) (*collector, Stats) {
	t.Helper()
	model, err := baseline.New(te.base)
	if err != nil {
		t.Fatal(err)
	}
	cfg := te.cfg
	cfg.Shards = shards
	e, err := New(cfg, Options{Parse: parse.DefaultConfig(), Detect: te.detect, Baseline: model})
	if err != nil {
		t.Fatal(err)
	}
	in := make(chan *source.Chunk, 4)
	go func() {
		defer close(in)
		for len(data) > 0 {
			n := min(chunk, len(data))
			if n < len(data) {
				if i := strings.LastIndexByte(data[:n], '\n'); i >= 0 {
					n = i + 1
				} else if i := strings.IndexByte(data, '\n'); i >= 0 {
					n = i + 1 // a line longer than chunk: one line per chunk
				}
			}
			in <- &source.Chunk{Data: []byte(data[:n])}
			data = data[n:]
		}
	}()
	c := &collector{}
	if err := e.Run(context.Background(), in, c); err != nil {
		t.Fatal(err)
	}
	return c, e.Stats()
}

func bansFor(c *collector, ip string) []*detect.Finding {
	var out []*detect.Finding
	want := netip.MustParseAddr(ip)
	for _, f := range c.findings {
		if f.Client == want && f.Action == detect.ActionBan {
			out = append(out, f)
		}
	}
	return out
}

func TestFloodAfterLearningIsFlagged(t *testing.T) {
	te := newTestEnv()
	reqs := traffic(1, 15*time.Minute, 40, flood("203.0.113.9", t0.Add(10*time.Minute), 30*time.Second, 20))
	c, st := te.run(t, reqs, 2)
	if st.Events != uint64(len(reqs)) || st.Lines != st.Events {
		t.Fatalf("events=%d lines=%d, want %d", st.Events, st.Lines, len(reqs))
	}
	// One finding, repeated every detect.rate.repeat (10 s) while the 30 s
	// flood lasts.
	bans := bansFor(c, "203.0.113.9")
	if len(bans) != 3 {
		t.Fatalf("flooder ban findings = %d, want 3; findings:\n%s", len(bans), strings.Join(c.lines, "\n"))
	}
	if d := bans[1].Time.Sub(bans[0].Time); d != 10*time.Second {
		t.Fatalf("repeat after %s, want 10s", d)
	}
	f := bans[0]
	if f.Detector != "rate" || (f.Rule != "zscore" && f.Rule != "multiplier") {
		t.Fatalf("finding %s/%s, want rate/zscore|multiplier", f.Detector, f.Rule)
	}
	if f.Evidence.Value <= f.Evidence.Threshold || f.Evidence.Learning {
		t.Fatalf("evidence %+v", f.Evidence)
	}
	// Found within seconds of the flood's start (20/s crosses 120 after ~6 s).
	if d := f.Time.Sub(t0.Add(10 * time.Minute)); d < 0 || d > 10*time.Second {
		t.Fatalf("flagged %s after the flood started", d)
	}
	for _, f := range c.findings {
		if f.Action == detect.ActionBan && f.Client != netip.MustParseAddr("203.0.113.9") {
			t.Fatalf("normal client flagged for a ban: %+v", f)
		}
	}
}

func TestFloodDuringLearningOnlyLogsAndDoesNotPoisonBaseline(t *testing.T) {
	te := newTestEnv()
	reqs := traffic(2, 12*time.Minute, 40, flood("203.0.113.10", t0.Add(1*time.Minute), 3*time.Minute, 30))
	c, st := te.run(t, reqs, 3)
	var logged int
	for _, f := range c.findings {
		if f.Client == netip.MustParseAddr("203.0.113.10") && f.Detector == "rate" && f.Rule != "error_surge" {
			if f.Action != detect.ActionLog || !f.Evidence.Learning {
				t.Fatalf("rate finding during learning asks to ban: %+v", f)
			}
			logged++
		}
	}
	if logged == 0 {
		t.Fatal("flood during learning produced no finding")
	}
	// Normal clients make ~10 requests per minute; a poisoned baseline
	// would include the flooder's 1800 per minute.
	if m := st.Baseline.Client.Mean; m > 30 {
		t.Fatalf("client baseline mean %.1f: the attack poisoned the baseline", m)
	}
	if m := st.Baseline.Global.Mean; m > 10 {
		t.Fatalf("global baseline mean %.1f req/s: the attack poisoned the baseline", m)
	}
	if st.Baseline.Learning {
		t.Fatal("still learning after 12 minutes with learning = 5m")
	}
}

// Results must not depend on the number of shards or on how input is
// chunked.
func TestResultsIndependentOfShardsAndChunking(t *testing.T) {
	te := newTestEnv()
	extra := flood("203.0.113.11", t0.Add(8*time.Minute), 20*time.Second, 15)
	extra = append(extra, flood("203.0.113.12", t0.Add(9*time.Minute), 20*time.Second, 12)...)
	for i := 0; i < 40; i++ { // a 404 scanner
		extra = append(extra, req{at: t0.Add(11*time.Minute + time.Duration(i)*time.Second), ip: "192.0.2.77",
			uri: fmt.Sprintf("/probe/%d", i), status: 404})
	}
	for i := 0; i < 15; i++ { // password guessing
		extra = append(extra, req{at: t0.Add(12*time.Minute + time.Duration(i*4)*time.Second), ip: "192.0.2.88",
			method: "POST", uri: "/login", status: 401})
	}
	reqs := traffic(3, 14*time.Minute, 60, extra)
	var sb strings.Builder
	for _, r := range reqs {
		sb.WriteString(r.line() + "\n")
	}
	ref, _ := te.runLines(t, sb.String(), 1, 1<<20)
	if len(ref.lines) < 4 {
		t.Fatalf("reference run found only %d findings", len(ref.lines))
	}
	for _, tc := range []struct{ shards, chunk int }{{2, 4096}, {3, 777}, {7, 65536}, {16, 300}} {
		got, _ := te.runLines(t, sb.String(), tc.shards, tc.chunk)
		if strings.Join(got.lines, "\n") != strings.Join(ref.lines, "\n") {
			t.Fatalf("shards=%d chunk=%d: findings differ from the single-shard run\n got: %d findings\nwant: %d findings",
				tc.shards, tc.chunk, len(got.lines), len(ref.lines))
		}
	}
	want := map[string]string{"192.0.2.77": "enumeration", "192.0.2.88": "bruteforce", "203.0.113.11": "rate", "203.0.113.12": "rate"}
	for ip, det := range want {
		bans := bansFor(ref, ip)
		if len(bans) == 0 || bans[0].Detector != det {
			t.Errorf("%s: ban findings %v, want first from %s", ip, bans, det)
		}
	}
}

func TestClientCapEvictsIdlest(t *testing.T) {
	te := newTestEnv()
	te.cfg.MaxClients = 100
	var reqs []req
	for i := 0; i < 1000; i++ {
		reqs = append(reqs, req{at: t0.Add(time.Duration(i/10) * time.Second), ip: fmt.Sprintf("10.1.%d.%d", i/250, i%250),
			uri: "/", status: 200})
	}
	_, st := te.run(t, reqs, 1)
	if st.Evicted != 900 {
		t.Fatalf("evicted %d clients, want 900", st.Evicted)
	}
}

func TestRejectedLinesAreCountedAndSkipped(t *testing.T) {
	te := newTestEnv()
	good := req{at: t0, ip: "198.51.100.1", uri: "/", status: 200}.line()
	data := good + "\n" + "not json at all\n" + `{"time":"2026-01-05T10:00:01+00:00","remote_addr":"999.1.1.1","status":200}` + "\n" +
		`{"remote_addr":"198.51.100.2","status":200}` + "\n\n" + good + "\n"
	_, st := te.runLines(t, data, 2, 64)
	if st.Events != 2 {
		t.Fatalf("events = %d, want 2", st.Events)
	}
	if st.Lines != 6 {
		t.Fatalf("lines = %d, want 6", st.Lines)
	}
	var rejected uint64
	for _, n := range st.Rejected {
		rejected += n
	}
	if rejected != 4 || st.Rejected["bad_addr"] != 1 || st.Rejected["no_time"] != 1 {
		t.Fatalf("rejected = %v, want 4 with bad_addr=1 no_time=1", st.Rejected)
	}
}

func TestGlobalAlertAndRecovery(t *testing.T) {
	te := newTestEnv()
	var extra []req
	// A distributed flood: 200 addresses, 2 requests/s each for 3 minutes.
	for i := 0; i < 200; i++ {
		ip := fmt.Sprintf("203.0.%d.%d", 100+i/200, i%200+1)
		for s := 0; s < 180; s++ {
			for k := 0; k < 2; k++ {
				extra = append(extra, req{at: t0.Add(10*time.Minute + time.Duration(s)*time.Second), ip: ip, uri: "/", status: 200})
			}
		}
	}
	reqs := traffic(4, 20*time.Minute, 40, extra)
	c, st := te.run(t, reqs, 2)
	var alert, recover *detect.Finding
	for _, f := range c.findings {
		switch f.Action {
		case detect.ActionAlert:
			if alert == nil {
				alert = f
			}
		case detect.ActionRecover:
			recover = f
		}
	}
	if alert == nil || recover == nil {
		t.Fatalf("alert=%v recover=%v; findings:\n%s", alert, recover, strings.Join(c.lines, "\n"))
	}
	if alert.Time.Before(t0.Add(10*time.Minute)) || alert.Time.After(t0.Add(11*time.Minute)) {
		t.Fatalf("alert at %s, want within the first minute of the flood", alert.Time)
	}
	if recover.Time.Before(t0.Add(13 * time.Minute)) {
		t.Fatalf("recovered at %s, before the flood ended", recover.Time)
	}
	if st.Alerts.Count != 1 || st.Alerts.Max <= 2*time.Minute {
		t.Fatalf("alert stats %+v", st.Alerts)
	}
}

func TestReloadChangesDetectorsFromTheNextChunk(t *testing.T) {
	te := newTestEnv()
	te.base.Learning = 0
	model, _ := baseline.New(te.base)
	e, err := New(te.cfg, Options{Parse: parse.DefaultConfig(), Detect: te.detect, Baseline: model})
	if err != nil {
		t.Fatal(err)
	}
	// Two password-guessing bursts: before the reload (banned) and after a
	// reload that turns brute-force detection off (not banned).
	burst := func(ip string, from time.Time) []byte {
		var sb strings.Builder
		for i := 0; i < 12; i++ {
			sb.WriteString(req{at: from.Add(time.Duration(i) * time.Second), ip: ip, method: "POST", uri: "/login", status: 401}.line() + "\n")
		}
		return []byte(sb.String())
	}
	in := make(chan *source.Chunk)
	c := &collector{}
	done := make(chan error, 1)
	go func() { done <- e.Run(context.Background(), in, c) }()
	in <- &source.Chunk{Data: burst("192.0.2.1", t0)}
	off := te.detect
	off.Bruteforce.Mode = detect.ModeOff
	bad := off
	bad.Score.Threshold = -1
	if err := e.Reload(bad, nil, nil, nil); err == nil {
		t.Fatal("Reload accepted an invalid configuration")
	}
	if err := e.Reload(off, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	in <- &source.Chunk{Data: burst("192.0.2.2", t0.Add(time.Minute))}
	close(in)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(bansFor(c, "192.0.2.1")) != 1 || len(bansFor(c, "192.0.2.2")) != 0 {
		t.Fatalf("before reload %d bans, after %d; want 1 and 0\n%s", len(bansFor(c, "192.0.2.1")), len(bansFor(c, "192.0.2.2")), strings.Join(c.lines, "\n"))
	}
}

// Starting in the middle of a minute must not teach a too-low baseline (the
// unobserved seconds are not idle traffic) and so raise a false alert.
func TestMidMinuteStartRaisesNoFalseAlert(t *testing.T) {
	te := newTestEnv()
	te.base.Learning = time.Minute
	var reqs []req
	start := t0.Add(45 * time.Second)
	for s := 0; s < 6*60; s++ {
		for i := 0; i < 40; i++ { // a steady 40 requests/s from 200 clients
			reqs = append(reqs, req{at: start.Add(time.Duration(s) * time.Second), ip: fmt.Sprintf("198.51.100.%d", (s*40+i)%200+1),
				uri: "/", status: 200})
		}
	}
	c, st := te.run(t, reqs, 2)
	for _, f := range c.findings {
		if f.Action == detect.ActionAlert {
			t.Fatalf("false global alert: %s", f.Reason)
		}
	}
	if m := st.Baseline.Global.Mean; m < 39 || m > 41 {
		t.Fatalf("global baseline mean %.2f, want ~40", m)
	}
}
