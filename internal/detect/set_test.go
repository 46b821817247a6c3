package detect

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/baseline"
	"github.com/vigil-sec/vigil/internal/parse"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// keywordInspector is a tiny stand-in for the content stage in these tests:
// "sqli" in the query is a critical signature match, "sqlmap" in the UA a
// critical user-agent match, "/.env" a warning probe.
type keywordInspector struct{}

func (keywordInspector) Inspect(ev *parse.Event, dst []Match) []Match {
	if bytes.Contains(ev.Query, []byte("sqli")) {
		dst = append(dst, Match{Detector: "signature", Rule: "test-sqli", Class: ClassSQLi, Severity: SeverityCritical, Field: FieldQuery})
	}
	if bytes.Contains(ev.UserAgent, []byte("sqlmap")) {
		dst = append(dst, Match{Detector: "useragent", Rule: "ua-sqlmap", Class: ClassScannerUA, Severity: SeverityCritical, Field: FieldUserAgent})
	}
	if bytes.Equal(ev.Path, []byte("/.env")) {
		dst = append(dst, Match{Detector: "probe", Rule: "probe-env", Class: ClassProbe, Severity: SeverityWarning, Field: FieldPath})
	}
	return dst
}

type harness struct {
	t     *testing.T
	set   *Set
	st    State
	snap  *baseline.Snapshot
	found []*Finding
	seq   uint64
}

func newHarness(t *testing.T, mut func(*Config), o Options) *harness {
	t.Helper()
	cfg := DefaultConfig()
	if mut != nil {
		mut(&cfg)
	}
	s, err := New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	snap := &baseline.Snapshot{Global: baseline.Stats{Mean: 20, Stddev: 5, ErrorRate: 0.05, Source: "rolling"},
		Client: baseline.Stats{Mean: 12, Stddev: 15, ErrorRate: 0.05, Source: "rolling"}}
	return &harness{t: t, set: s, snap: snap}
}

func (h *harness) do(at time.Time, method, path, query string, status uint16, ua string) []*Finding {
	ev := parse.Event{Time: at, Client: netip.MustParseAddr("203.0.113.5"), Method: []byte(method), Path: []byte(path),
		Query: []byte(query), Status: status, UserAgent: []byte(ua)}
	h.seq++
	env := Env{Time: at, Sec: at.Unix(), Seq: h.seq, Baseline: h.snap}
	var got []*Finding
	h.set.Observe(&env, &ev, &h.st, func(f *Finding) { got = append(got, f) })
	h.found = append(h.found, got...)
	return got
}

func (h *harness) bans() []*Finding {
	var out []*Finding
	for _, f := range h.found {
		if f.Action == ActionBan {
			out = append(out, f)
		}
	}
	return out
}

const browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0"

func TestScoringBansOnFifthPayloadNotBefore(t *testing.T) {
	h := newHarness(t, nil, Options{Content: keywordInspector{}})
	for i := 0; i < 4; i++ {
		h.do(t0.Add(time.Duration(i*10)*time.Second), "GET", "/search", "q=sqli", 200, browser)
	}
	if n := len(h.bans()); n != 0 {
		t.Fatalf("banned after 4 payloads (score 20 < 25)")
	}
	if n := len(h.found); n != 4 {
		t.Fatalf("%d findings for 4 payload requests, want 4", n)
	}
	got := h.do(t0.Add(50*time.Second), "GET", "/search", "q=sqli", 200, browser)
	if len(got) != 2 || got[1].Detector != "score" || got[1].Action != ActionBan || got[1].Evidence.Score != 25 {
		t.Fatalf("fifth payload: %+v", got)
	}
	if got[1].Class != ClassSQLi || got[1].Reason == "" {
		t.Fatalf("score finding %+v", got[1])
	}
}

func TestScoreWindowExpires(t *testing.T) {
	h := newHarness(t, nil, Options{Content: keywordInspector{}})
	for i := 0; i < 10; i++ { // one payload every 20 s: at most 3 in any 60 s window
		h.do(t0.Add(time.Duration(i*20)*time.Second), "GET", "/search", "q=sqli", 200, browser)
	}
	if n := len(h.bans()); n != 0 {
		t.Fatalf("slow payloads banned: %d", n)
	}
}

func TestScannerUAWithPayloadsBansFaster(t *testing.T) {
	h := newHarness(t, nil, Options{Content: keywordInspector{}})
	for i := 0; i < 3; i++ {
		h.do(t0.Add(time.Duration(i)*time.Second), "GET", "/item", "id=sqli", 200, "sqlmap/1.8")
	}
	if b := h.bans(); len(b) != 1 || !b[0].Time.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("scanner with payloads: bans %+v, want one on the third request", b)
	}
}

func TestWeakSignalAloneNeverBans(t *testing.T) {
	h := newHarness(t, nil, Options{Content: keywordInspector{}})
	h.do(t0, "GET", "/.env", "", 404, browser)
	if len(h.bans()) != 0 || len(h.found) != 1 || h.found[0].Severity != SeverityWarning {
		t.Fatalf("one probe: %+v", h.found)
	}
}

func TestAlertModeReportsWithoutScore(t *testing.T) {
	h := newHarness(t, nil, Options{Content: keywordInspector{}, ContentModes: map[string]Mode{"signature": ModeAlert}})
	for i := 0; i < 10; i++ {
		h.do(t0.Add(time.Duration(i)*time.Second), "GET", "/search", "q=sqli", 200, browser)
	}
	if len(h.bans()) != 0 || len(h.found) != 10 || h.found[0].Mode != ModeAlert {
		t.Fatalf("alert-mode signature: %d bans, %d findings", len(h.bans()), len(h.found))
	}
}

func TestLowAndSlowPasswordGuessing(t *testing.T) {
	h := newHarness(t, nil, Options{})
	for i := 0; i < 9; i++ { // one failure every 50 s: 9 failures in 7.5 minutes
		h.do(t0.Add(time.Duration(i*50)*time.Second), "POST", "/login", "", 401, browser)
	}
	if len(h.bans()) != 0 {
		t.Fatal("banned before maxretry")
	}
	got := h.do(t0.Add(450*time.Second), "POST", "/login/", "", 401, browser)
	if len(got) != 1 || got[0].Detector != "bruteforce" || got[0].Action != ActionBan || got[0].Evidence.Value != 10 {
		t.Fatalf("10th failure: %+v", got)
	}
	// Failures spread over more than findtime never add up.
	h2 := newHarness(t, nil, Options{})
	for i := 0; i < 30; i++ {
		h2.do(t0.Add(time.Duration(i*70)*time.Second), "POST", "/login", "", 401, browser)
	}
	if len(h2.bans()) != 0 {
		t.Fatal("failures 70 s apart (< maxretry per 10 min) were banned")
	}
}

func (s *Set) IsLoginForTest(p string) bool { return s.isLogin([]byte(p)) }

func TestLoginPathPatterns(t *testing.T) {
	h := newHarness(t, nil, Options{})
	for p, want := range map[string]bool{"/login": true, "/LOGIN/": true, "/wp-login.php": true, "/api/v2/login": true,
		"/api/auth/token": true, "/loginx": false, "/blog/login-tips": false, "/": false} {
		if got := h.set.IsLoginForTest(p); got != want {
			t.Errorf("isLogin(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestEnumerationOfDistinct404s(t *testing.T) {
	h := newHarness(t, nil, Options{})
	for i := 0; i < 40; i++ { // the same missing path again and again is not enumeration
		h.do(t0.Add(time.Duration(i)*time.Second), "GET", "/favicon.ico", "", 404, browser)
	}
	if len(h.bans()) != 0 {
		t.Fatal("repeated 404 on one path banned")
	}
	// favicon.ico is one distinct missing path; 18 more make 19.
	for i := 0; i < 18; i++ {
		h.do(t0.Add(time.Duration(41+i)*time.Second), "GET", fmt.Sprintf("/admin%d.php", i), "", 404, browser)
	}
	if len(h.bans()) != 0 {
		t.Fatal("banned before 20 distinct paths")
	}
	got := h.do(t0.Add(60*time.Second), "GET", "/backup.zip", "", 404, browser)
	if len(got) != 1 || got[0].Detector != "enumeration" || got[0].Evidence.Distinct != 20 {
		t.Fatalf("20th distinct 404: %+v", got)
	}
}

func TestErrorSurgeTightensRateThreshold(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Rate.MinRequests = 100 }, Options{})
	// 80 requests in 60 s of which most fail: below the floor of 100, but a
	// surge halves it to 50.
	var surge, rate *Finding
	for i := 0; i < 80; i++ {
		status := uint16(404)
		if i%4 == 0 {
			status = 200
		}
		for _, f := range h.do(t0.Add(time.Duration(i*700)*time.Millisecond), "GET", "/x", "", status, browser) {
			switch f.Rule {
			case "error_surge":
				surge = f
			case "zscore", "multiplier":
				rate = f
			}
		}
	}
	if surge == nil || surge.Action != ActionLog {
		t.Fatalf("no error surge finding: %+v", h.found)
	}
	if rate == nil || !rate.Evidence.Tightened || rate.Action != ActionBan {
		t.Fatalf("no tightened rate finding: %+v", rate)
	}
	// Without errors the same traffic stays under the threshold.
	h2 := newHarness(t, func(c *Config) { c.Rate.MinRequests = 100 }, Options{})
	for i := 0; i < 80; i++ {
		h2.do(t0.Add(time.Duration(i*700)*time.Millisecond), "GET", "/x", "", 200, browser)
	}
	if len(h2.found) != 0 {
		t.Fatalf("clean traffic produced findings: %+v", h2.found)
	}
}

func TestRateFindingDuringLearningDoesNotBan(t *testing.T) {
	h := newHarness(t, nil, Options{})
	h.snap.Learning = true
	for i := 0; i < 400; i++ {
		h.do(t0.Add(time.Duration(i*100)*time.Millisecond), "GET", "/", "", 200, browser)
	}
	if len(h.found) != 1 || h.found[0].Action != ActionLog || !h.found[0].Evidence.Learning {
		t.Fatalf("learning: %+v", h.found)
	}
}

func TestObserveAllocatesNothingForCleanRequests(t *testing.T) {
	h := newHarness(t, nil, Options{Content: keywordInspector{}})
	ev := parse.Event{Client: netip.MustParseAddr("198.51.100.9"), Method: []byte("GET"), Path: []byte("/index.html"),
		Status: 200, UserAgent: []byte(browser)}
	sec := t0.Unix()
	emit := func(*Finding) { t.Fatal("finding for a clean request") }
	n := testing.AllocsPerRun(1000, func() {
		sec++
		env := Env{Time: t0, Sec: sec, Baseline: h.snap}
		h.set.Observe(&env, &ev, &h.st, emit)
	})
	if n != 0 {
		t.Fatalf("Observe: %v allocs per clean request, want 0", n)
	}
}

func TestValidateNamesEveryKey(t *testing.T) {
	c := DefaultConfig()
	c.Rate.ZScore = 0
	c.Enumeration.Distinct = 500
	c.Bruteforce.Paths = []string{"login"}
	c.Score.Window = 90 * time.Second
	c.Global.Mode = "loud"
	err := c.Validate()
	for _, key := range []string{"rate.zscore:", "enumeration.distinct:", "bruteforce.paths[0]:", "score.window:", "global.mode:"} {
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(key)) {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
}
