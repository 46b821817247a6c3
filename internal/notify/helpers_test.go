package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/respond"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Server answers, per request, in order; past the end of a script the last
// entry repeats (an empty script answers ok).
const (
	answerOK          = "ok"
	answer429         = "429"      // 429 with Retry-After: 1
	answer429NoRetry  = "429-bare" // 429 without Retry-After
	answer500         = "500"
	answer404         = "404"
	answerHang        = "hang" // never answers (until the client gives up or the test ends)
	answerInvalidAuth = "invalid_auth"
)

// posted is one request a fake Slack server received.
type posted struct {
	answer   string
	at       time.Time // on the test's clock, when it arrived
	path     string
	body     []byte
	texts    []string // every "text" string in the payload (fallback and blocks)
	fallback string
	threadTS string
	channel  string
	token    string
	ts       string // ts answered (bot API)
}

// fakeSlack is an httptest server speaking the incoming-webhook protocol
// (bot=false) or the Web API's chat.postMessage (bot=true).
type fakeSlack struct {
	t       *testing.T
	srv     *httptest.Server
	bot     bool
	clk     clock.Clock
	done    chan struct{}
	arrived chan struct{}

	mu     sync.Mutex // guards the fields below
	script []string
	got    []posted
	active int // requests being handled
	seq    int
}

func newFakeSlack(t *testing.T, bot bool, clk clock.Clock, script ...string) *fakeSlack {
	t.Helper()
	f := &fakeSlack{t: t, bot: bot, clk: clk, script: script, done: make(chan struct{}),
		arrived: make(chan struct{}, 100_000)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		close(f.done)
		f.srv.Close()
	})
	return f
}

func (f *fakeSlack) url(path string) string { return f.srv.URL + path }

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p := posted{path: r.URL.Path, body: body}
	if f.clk != nil {
		p.at = f.clk.Now()
	}
	if f.bot {
		f.parseForm(&p, body)
	} else {
		f.parseWebhook(&p, body)
	}
	f.mu.Lock()
	i := len(f.got)
	answer := answerOK
	if len(f.script) > 0 {
		answer = f.script[min(i, len(f.script)-1)]
	}
	p.answer = answer
	if answer == answerOK && f.bot {
		f.seq++
		p.ts = fmt.Sprintf("1700000000.%06d", f.seq)
	}
	f.got = append(f.got, p)
	f.active++
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.active--
		f.mu.Unlock()
	}()
	f.arrived <- struct{}{}
	switch answer {
	case answerHang:
		select {
		case <-r.Context().Done():
		case <-f.done:
		}
	case answer429:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "rate_limited", http.StatusTooManyRequests)
	case answer429NoRetry:
		http.Error(w, "rate_limited", http.StatusTooManyRequests)
	case answer500:
		http.Error(w, "internal", http.StatusInternalServerError)
	case answer404:
		http.Error(w, "no_service", http.StatusNotFound)
	case answerInvalidAuth:
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":false,"error":"invalid_auth"}`)
	default:
		if f.bot {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": "C0VIGIL", "ts": p.ts})
			return
		}
		_, _ = io.WriteString(w, "ok")
	}
}

func (f *fakeSlack) parseWebhook(p *posted, body []byte) {
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		f.t.Errorf("webhook body is not JSON: %v", err)
		return
	}
	p.fallback, _ = v["text"].(string)
	p.threadTS, _ = v["thread_ts"].(string)
	p.texts = collectTexts(v, nil)
}

func (f *fakeSlack) parseForm(p *posted, body []byte) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		f.t.Errorf("chat.postMessage body is not a form: %v", err)
		return
	}
	p.token, p.channel, p.threadTS, p.fallback = vals.Get("token"), vals.Get("channel"), vals.Get("thread_ts"), vals.Get("text")
	p.texts = append(p.texts, p.fallback)
	if b := vals.Get("blocks"); b != "" {
		var blocks any
		if err := json.Unmarshal([]byte(b), &blocks); err != nil {
			f.t.Errorf("blocks are not JSON: %v", err)
		}
		p.texts = collectTexts(blocks, p.texts)
	}
}

// collectTexts returns every string stored under a "text" key, recursively.
func collectTexts(v any, out []string) []string {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "text" {
				out = append(out, s)
				continue
			}
			out = collectTexts(e, out)
		}
	case []any:
		for _, e := range x {
			out = collectTexts(e, out)
		}
	}
	return out
}

// requests returns a copy of what arrived so far.
func (f *fakeSlack) requests() []posted {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]posted(nil), f.got...)
}

// delivered returns the requests that were answered ok.
func (f *fakeSlack) delivered() []posted {
	var out []posted
	for _, p := range f.requests() {
		if p.answer == answerOK {
			out = append(out, p)
		}
	}
	return out
}

func (f *fakeSlack) inFlight() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.active
}

// waitRequests waits until at least n requests have arrived.
func (f *fakeSlack) waitRequests(n int) {
	f.t.Helper()
	waitFor(f.t, fmt.Sprintf("%d requests", n), func() bool { return len(f.requests()) >= n })
}

// waitFor polls cond until it holds, failing the test after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// recClock is a fake clock that records the waits the notifier asks for.
type recClock struct {
	*clock.Fake
	mu    sync.Mutex // guards the fields below
	waits []time.Duration
}

func newRecClock() *recClock {
	return &recClock{Fake: clock.NewFake(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))}
}

func (c *recClock) NewTicker(d time.Duration) clock.Ticker {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.mu.Unlock()
	return c.Fake.NewTicker(d)
}

func (c *recClock) recorded() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// advanceUntil moves the fake clock in steps until cond holds.
func advanceUntil(t *testing.T, c *recClock, step time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (clock at %s)", what, c.Now().Format(time.RFC3339Nano))
		}
		c.Advance(step)
		time.Sleep(time.Millisecond)
	}
}

// logBuffer is a concurrency-safe sink for slog output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger(b *logBuffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// harness runs a notifier against a fake Slack.
type harness struct {
	n      *Notifier
	reg    *prometheus.Registry
	logs   *logBuffer
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, cfg Config, clk clock.Clock) *harness {
	t.Helper()
	h := &harness{reg: prometheus.NewRegistry(), logs: &logBuffer{}, done: make(chan error, 1)}
	n, err := New(cfg, Options{Logger: newLogger(h.logs), Registerer: h.reg, Clock: clk})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.n = n
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- n.Run(ctx) }()
	t.Cleanup(func() { h.stop(t) })
	return h
}

// stop cancels Run and waits for it (idempotent).
func (h *harness) stop(t *testing.T) {
	t.Helper()
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func webhookConfig(url string) Config {
	c := DefaultConfig()
	c.Slack.WebhookURL = url
	return c
}

var t0 = time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)

// banDecision is a realistic per-client rate ban.
func banDecision(ip string, offense int) *respond.Decision {
	return &respond.Decision{Time: t0, Action: respond.ActionBan, Target: netip.PrefixFrom(netip.MustParseAddr(ip), 32),
		Detector: "rate", Rule: "zscore", Class: detect.ClassRate,
		Reason:   "1250 requests in 60s, z-score 100.8 over the threshold 6.0 (a normal client makes 40.0 ± 12.0 per 60s)",
		Duration: 10 * time.Minute, Until: t0.Add(10 * time.Minute), Offense: offense,
		Evidence: detect.Evidence{Value: 1250, Threshold: 240, Mean: 40, Stddev: 12, ZScore: 100.8, BaselineSource: "rolling",
			Requests: 1250, Errors: 3, ErrorRatio: 0.0024, Window: time.Minute},
		Request: &detect.Request{Method: "GET", Host: "shop.example", Path: "/search", Query: "q=shoes", Status: 200,
			UserAgent: "Mozilla/5.0"}}
}

func unbanDecision(ip string, at time.Time) *respond.Decision {
	return &respond.Decision{Time: at, Action: respond.ActionUnban, Target: netip.PrefixFrom(netip.MustParseAddr(ip), 32),
		Detector: "rate", Rule: "zscore", Class: detect.ClassRate, Offense: 1,
		Reason: "ban expired after 10m0s (offense 1)"}
}

func alertDecision() *respond.Decision {
	return &respond.Decision{Time: t0, Action: respond.ActionAlert, Detector: "global", Rule: "zscore", Class: detect.ClassRate,
		Reason: "global traffic anomaly: 812.0 requests/s over the last 60s, z-score 15.4 over 6.0 (baseline 40.0 ± 50.0 requests/s)",
		Evidence: detect.Evidence{Value: 812, Threshold: 340, Mean: 40, Stddev: 50, ZScore: 15.44, BaselineSource: "hour_slot",
			Window: time.Minute}}
}

func recoverDecision() *respond.Decision {
	return &respond.Decision{Time: t0.Add(5*time.Minute + 12*time.Second), Action: respond.ActionRecover, Detector: "global",
		Rule: "recovered", Class: detect.ClassRate,
		Reason:   "global traffic back to normal: 45.0 requests/s over the last 60s (baseline 40.0 ± 50.0); the anomaly lasted 5m12s, peak 900.0 requests/s",
		Evidence: detect.Evidence{Value: 45, Threshold: 272, Mean: 40, Stddev: 50, AlertDuration: 5*time.Minute + 12*time.Second}}
}
