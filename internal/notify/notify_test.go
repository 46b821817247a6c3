package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/respond"
)

const hookPath = "/services/T0VIGIL/B0VIGIL/hooksecret0123456789"

func failures(n *Notifier, reason string) float64 {
	return testutil.ToFloat64(n.m.failures.WithLabelValues(reason))
}

func TestWebhookDelivers(t *testing.T) {
	clk := newRecClock()
	srv := newFakeSlack(t, false, clk)
	h := start(t, webhookConfig(srv.url(hookPath)), clk)

	h.n.Notify(banDecision("192.0.2.1", 2))
	srv.waitRequests(1)
	first := srv.requests()[0]
	if first.path != hookPath {
		t.Errorf("posted to %q, want %q", first.path, hookPath)
	}
	body := strings.Join(first.texts, "\n")
	for _, w := range []string{"Banned 192.0.2.1", "*Condition:* zscore", "1250 requests/60s vs threshold 240",
		"40.0 ± 12.0 requests/60s", "2026-11-22 09:30:00 UTC", "*Duration*\n10m", "|2026-11-22 09:40:00 UTC>", "*Offense*\n#2",
		"GET shop.example/search?q=shoes → 200"} {
		if !strings.Contains(body, w) {
			t.Errorf("ban message lacks %q:\n%s", w, body)
		}
	}
	if !strings.Contains(string(first.body), `"unfurl_links":false`) {
		t.Errorf("link unfurling not disabled: %s", first.body)
	}

	// The unban must wait for min_interval (1s) on the clock, then say how
	// long the ban lasted.
	h.n.Notify(unbanDecision("192.0.2.1", t0.Add(10*time.Minute)))
	advanceUntil(t, clk, 100*time.Millisecond, "the unban", func() bool { return len(srv.requests()) >= 2 })
	second := srv.requests()[1]
	if gap := second.at.Sub(first.at); gap < time.Second {
		t.Errorf("second message %s after the first, want >= min_interval 1s", gap)
	}
	if got := strings.Join(second.texts, "\n"); !strings.Contains(got, "*Unbanned 192.0.2.1* after 10m") {
		t.Errorf("unban message: %s", got)
	}
	if second.threadTS != "" {
		t.Errorf("webhook message has thread_ts %q", second.threadTS)
	}
	waitFor(t, "sent_total 2", func() bool { return testutil.ToFloat64(h.n.m.sent) == 2 })
	if q := h.n.queueLength(); q != 0 {
		t.Errorf("queue length %v after delivery, want 0", q)
	}
}

func TestWebhookURLFile(t *testing.T) {
	srv := newFakeSlack(t, false, nil)
	dir := t.TempDir()
	p := dir + "/webhook"
	if err := os.WriteFile(p, []byte(srv.url(hookPath)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.Slack.WebhookURLFile = p
	h := start(t, c, nil)
	h.n.Notify(alertDecision())
	srv.waitRequests(1)
	if got := srv.requests()[0]; got.path != hookPath || !strings.Contains(got.fallback, "Global traffic anomaly") {
		t.Errorf("got %q %q", got.path, got.fallback)
	}
}

func TestRetryAfter(t *testing.T) {
	clk := newRecClock()
	srv := newFakeSlack(t, false, clk, answer429, answerOK)
	c := webhookConfig(srv.url(hookPath))
	c.Slack.MinInterval = 0
	h := start(t, c, clk)

	h.n.Notify(banDecision("192.0.2.1", 1))
	srv.waitRequests(1)
	waitFor(t, "the Retry-After wait", func() bool { return len(clk.recorded()) == 1 })
	if w := clk.recorded()[0]; w != time.Second {
		t.Errorf("waited %s after a 429 with Retry-After: 1, want 1s", w)
	}
	if n := len(srv.requests()); n != 1 {
		t.Fatalf("%d requests before the clock moved, want 1", n)
	}
	advanceUntil(t, clk, 250*time.Millisecond, "the retry", func() bool { return len(srv.requests()) >= 2 })
	got := srv.requests()
	if gap := got[1].at.Sub(got[0].at); gap < time.Second {
		t.Errorf("retried %s after the 429, want >= 1s", gap)
	}
	waitFor(t, "delivery", func() bool { return testutil.ToFloat64(h.n.m.sent) == 1 })
	if f, r := failures(h.n, reasonRateLimited), testutil.ToFloat64(h.n.m.retries); f != 1 || r != 1 {
		t.Errorf("rate_limited failures %v, retries %v; want 1, 1", f, r)
	}
}

func TestRetryBackoff(t *testing.T) {
	tests := []struct {
		name       string
		script     []string
		maxRetries int
		reason     string
		wantSent   float64 // of the first message
		wantTries  int
	}{
		{"429 without Retry-After", []string{answer429NoRetry, answer429NoRetry, answerOK}, 5, reasonRateLimited, 1, 3},
		{"500 then ok", []string{answer500, answer500, answer500, answerOK}, 5, reasonServerError, 1, 4},
		{"500 until max_retries", []string{answer500, answer500, answer500, answerOK}, 2, reasonServerError, 0, 3},
		{"no retries", []string{answer500, answerOK}, 0, reasonServerError, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newRecClock()
			srv := newFakeSlack(t, false, clk, tc.script...)
			c := webhookConfig(srv.url(hookPath))
			c.Slack.MinInterval, c.Slack.MaxRetries = 0, tc.maxRetries
			h := start(t, c, clk)
			h.n.Notify(banDecision("192.0.2.1", 1))
			advanceUntil(t, clk, 100*time.Millisecond, "the first message to be settled", func() bool {
				return testutil.ToFloat64(h.n.m.sent)+testutil.ToFloat64(h.n.m.undelivered) == 1
			})
			if got := len(srv.requests()); got != tc.wantTries {
				t.Errorf("%d attempts, want %d", got, tc.wantTries)
			}
			if got := testutil.ToFloat64(h.n.m.sent); got != tc.wantSent {
				t.Errorf("sent %v, want %v", got, tc.wantSent)
			}
			if got := failures(h.n, tc.reason); got != float64(tc.wantTries-int(tc.wantSent)) {
				t.Errorf("%s failures %v, want %d", tc.reason, got, tc.wantTries-int(tc.wantSent))
			}
			waits := clk.recorded()
			if len(waits) != tc.wantTries-1 {
				t.Fatalf("waits %v, want %d", waits, tc.wantTries-1)
			}
			for i, w := range waits {
				hi := backoffBase << i
				if w < hi/2 || w > hi {
					t.Errorf("backoff %d = %s, want within [%s, %s]", i, w, hi/2, hi)
				}
			}
			// The notifier goes on with the next message.
			h.n.Notify(banDecision("192.0.2.2", 1))
			advanceUntil(t, clk, 100*time.Millisecond, "the next message", func() bool {
				d := srv.delivered()
				return len(d) > 0 && strings.Contains(d[len(d)-1].fallback, "192.0.2.2")
			})
		})
	}
}

func TestClientErrorNotRetried(t *testing.T) {
	clk := newRecClock()
	srv := newFakeSlack(t, false, clk, answer404, answer404, answerOK)
	c := webhookConfig(srv.url(hookPath))
	c.Slack.MinInterval = 0
	h := start(t, c, clk)
	for i := range 3 {
		h.n.Notify(banDecision(fmt.Sprintf("192.0.2.%d", i+1), 1))
		srv.waitRequests(i + 1)
	}
	waitFor(t, "delivery", func() bool { return testutil.ToFloat64(h.n.m.sent) == 1 })
	if got := len(srv.requests()); got != 3 {
		t.Errorf("%d requests, want 3 (no retry of a 404)", got)
	}
	if f, r, u := failures(h.n, reasonClientError), testutil.ToFloat64(h.n.m.retries),
		testutil.ToFloat64(h.n.m.undelivered); f != 2 || r != 0 || u != 2 {
		t.Errorf("client_error failures %v, retries %v, undelivered %v; want 2, 0, 2", f, r, u)
	}
	if n := strings.Count(h.logs.String(), `"level":"ERROR"`); n != 1 {
		t.Errorf("%d Error logs for two rejected messages, want 1:\n%s", n, h.logs)
	}
}

func TestHangTimesOut(t *testing.T) {
	srv := newFakeSlack(t, false, nil, answerHang, answerOK)
	c := webhookConfig(srv.url(hookPath))
	c.Slack.Timeout, c.Slack.MaxRetries, c.Slack.MinInterval = time.Second, 0, 0
	h := start(t, c, clock.Real{})
	h.n.Notify(banDecision("192.0.2.1", 1))
	h.n.Notify(banDecision("192.0.2.2", 1))
	waitFor(t, "the next message", func() bool { return len(srv.delivered()) == 1 })
	if got := srv.delivered()[0].fallback; !strings.Contains(got, "192.0.2.2") {
		t.Errorf("delivered %q, want the second ban", got)
	}
	if f, u := failures(h.n, reasonTimeout), testutil.ToFloat64(h.n.m.undelivered); f != 1 || u != 1 {
		t.Errorf("timeout failures %v, undelivered %v; want 1, 1", f, u)
	}
}

func TestNotifyNeverBlocks(t *testing.T) {
	srv := newFakeSlack(t, false, nil, answerHang, answerOK)
	c := webhookConfig(srv.url(hookPath))
	c.Slack.Timeout, c.Slack.QueueSize, c.Slack.MaxRetries = time.Minute, 100, 0
	h := start(t, c, clock.Real{})
	h.n.Notify(banDecision("192.0.2.1", 1))
	srv.waitRequests(1) // Run is now stuck in a request that never ends

	d := banDecision("192.0.2.2", 1)
	const calls = 10_000
	for range calls {
		h.n.Notify(d)
	}
	if srv.inFlight() != 1 || len(srv.requests()) != 1 {
		t.Fatalf("the hung request ended before 10,000 Notify calls returned (in flight %d, requests %d)",
			srv.inFlight(), len(srv.requests()))
	}
	if got := testutil.ToFloat64(h.n.m.dropped); got != calls-100 {
		t.Errorf("dropped %v, want %d (queue_size 100)", got, calls-100)
	}
	if got := testutil.ToFloat64(h.n.m.sent); got != 0 {
		t.Errorf("sent %v while Slack hangs", got)
	}
	if q := h.n.queueLength(); q != 101 {
		t.Errorf("queue length %v, want 101 (100 queued + 1 in flight)", q)
	}
	if n := strings.Count(h.logs.String(), "notification queue full"); n != 1 {
		t.Errorf("%d drop warnings, want 1 (rate-limited)", n)
	}

	// Shutdown abandons the hung request and flushes one digest.
	h.stop(t)
	got := srv.delivered()
	if len(got) != 1 || !strings.HasPrefix(got[0].fallback, "vigil: 101 bans") {
		t.Fatalf("flush delivered %d messages %v, want one digest of 101 bans", len(got), got)
	}
	if d := testutil.ToFloat64(h.n.m.digests); d != 1 {
		t.Errorf("digests %v, want 1", d)
	}
}

var digestCount = regexp.MustCompile(`^vigil: (\d+) bans`)

func TestDigestCollapsesStorm(t *testing.T) {
	clk := newRecClock()
	srv := newFakeSlack(t, false, clk)
	h := start(t, webhookConfig(srv.url(hookPath)), clk)
	for i := range 50 {
		h.n.Notify(banDecision(fmt.Sprintf("192.0.2.%d", i+1), 1))
	}
	covered := func() int {
		n := 0
		for _, p := range srv.delivered() {
			if m := digestCount.FindStringSubmatch(p.fallback); m != nil {
				k, _ := strconv.Atoi(m[1])
				n += k
			} else {
				n++
			}
		}
		return n
	}
	advanceUntil(t, clk, 200*time.Millisecond, "all 50 bans", func() bool { return covered() >= 50 })
	got := srv.delivered()
	if len(got) > 3 {
		t.Errorf("50 bans produced %d messages, want <= 3", len(got))
	}
	if covered() != 50 {
		t.Errorf("messages cover %d bans, want 50", covered())
	}
	var digest *posted
	for i := range got {
		if strings.HasPrefix(got[i].fallback, "vigil: ") {
			digest = &got[i]
		}
	}
	if digest == nil {
		t.Fatalf("no digest among %d messages", len(got))
	}
	text := strings.Join(digest.texts, "\n")
	if !strings.Contains(text, "bans in the last") || !strings.Contains(text, "— rate/zscore — 1250 requests in 60s") ||
		!strings.Contains(text, "more not listed") {
		t.Errorf("digest content:\n%s", text)
	}
	waitFor(t, "digests_total", func() bool { return testutil.ToFloat64(h.n.m.digests) >= 1 })
	// Sends never came closer than min_interval on the clock.
	for i := 1; i < len(got); i++ {
		if gap := got[i].at.Sub(got[i-1].at); gap < time.Second {
			t.Errorf("messages %d and %d %s apart, want >= 1s", i-1, i, gap)
		}
	}
}

func TestFlushOnCancel(t *testing.T) {
	clk := newRecClock()
	srv := newFakeSlack(t, false, clk)
	c := webhookConfig(srv.url(hookPath))
	c.Slack.MinInterval = time.Hour
	h := start(t, c, clk)
	h.n.Notify(banDecision("192.0.2.1", 1))
	srv.waitRequests(1)
	h.n.Notify(banDecision("192.0.2.2", 1))
	h.n.Notify(unbanDecision("192.0.2.1", t0.Add(10*time.Minute)))
	waitFor(t, "the rate-limit wait", func() bool { return len(clk.recorded()) == 1 })
	h.stop(t)
	got := srv.delivered()
	if len(got) != 2 || !strings.HasPrefix(got[1].fallback, "vigil: 1 ban, 1 unban") {
		t.Fatalf("after cancel: %d messages, last %q; want a digest of 1 ban, 1 unban", len(got), got[len(got)-1].fallback)
	}
}

func TestEscapedOverTheWire(t *testing.T) {
	srv := newFakeSlack(t, false, nil)
	h := start(t, webhookConfig(srv.url(hookPath)), nil)
	h.n.Notify(hostile())
	srv.waitRequests(1)
	p := srv.requests()[0]
	checkEscaped(t, p.texts)
	for _, f := range []string{`<!channel>`, `\u003c!channel\u003e`, `*bold*`} {
		if strings.Contains(string(p.body), f) {
			t.Errorf("raw payload carries %q", f)
		}
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	const secret = "hooksecret0123456789"
	t.Run("http errors", func(t *testing.T) {
		clk := newRecClock()
		srv := newFakeSlack(t, false, clk, answer500, answer429NoRetry, answer404)
		c := webhookConfig(srv.url(hookPath))
		c.Slack.MinInterval, c.Slack.MaxRetries = 0, 3
		h := start(t, c, clk)
		h.n.Notify(banDecision("192.0.2.1", 1))
		advanceUntil(t, clk, 200*time.Millisecond, "the rejection", func() bool {
			return testutil.ToFloat64(h.n.m.undelivered) == 1
		})
		logs := h.logs.String()
		if !strings.Contains(logs, "slack rejected a message") || !strings.Contains(logs, "retrying") {
			t.Errorf("expected retry and rejection logs:\n%s", logs)
		}
		if strings.Contains(logs, secret) {
			t.Errorf("logs carry the webhook secret:\n%s", logs)
		}
	})
	t.Run("network error", func(t *testing.T) {
		dead := httptest.NewServer(nil)
		url := dead.URL + hookPath
		dead.Close() // connection refused: net/http puts the URL in the error
		c := webhookConfig(url)
		c.Slack.MinInterval, c.Slack.MaxRetries = 0, 1
		clk := newRecClock()
		h := start(t, c, clk)
		h.n.Notify(banDecision("192.0.2.1", 1))
		advanceUntil(t, clk, 200*time.Millisecond, "giving up", func() bool {
			return testutil.ToFloat64(h.n.m.undelivered) == 1
		})
		if got := failures(h.n, reasonNetwork); got != 2 {
			t.Errorf("network failures %v, want 2", got)
		}
		logs := h.logs.String()
		if strings.Contains(logs, secret) || strings.Contains(logs, "T0VIGIL") {
			t.Errorf("logs carry the webhook URL:\n%s", logs)
		}
		if !strings.Contains(logs, redacted) {
			t.Errorf("expected a redacted URL in the logs:\n%s", logs)
		}
	})
}

func TestNotifyAllocs(t *testing.T) {
	srv := newFakeSlack(t, false, nil)
	c := webhookConfig(srv.url(hookPath))
	c.Slack.QueueSize = 2000
	n, err := New(c, Options{Logger: newLogger(&logBuffer{}), Clock: newRecClock()})
	if err != nil {
		t.Fatal(err)
	}
	d := banDecision("192.0.2.1", 1)
	if a := testing.AllocsPerRun(1000, func() { n.Notify(d) }); a != 0 {
		t.Errorf("Notify (queued): %v allocs, want 0", a)
	}
	// Queue full (1001 queued so far): drops; the first drop logs (the
	// warm-up run), later ones within a minute do not.
	for len(n.queue) < cap(n.queue) {
		n.Notify(d)
	}
	if a := testing.AllocsPerRun(1000, func() { n.Notify(d) }); a != 0 {
		t.Errorf("Notify (dropped): %v allocs, want 0", a)
	}
	if got := testutil.ToFloat64(n.m.dropped); got != 1001 {
		t.Errorf("dropped %v, want 1001", got)
	}
	// Notify copied the decision: changing it does not change what is queued.
	d.Request.Path = "/changed"
	it := <-n.queue
	if !it.hasReq || it.req.Path != "/search" || it.d.Request != nil {
		t.Errorf("queued item shares the caller's request: %+v", it.req)
	}
}

func TestEventsAndShadowFilter(t *testing.T) {
	shadow := banDecision("192.0.2.9", 1)
	shadow.Shadow = true
	all := []*respond.Decision{banDecision("192.0.2.1", 1), unbanDecision("192.0.2.1", t0), alertDecision(),
		recoverDecision(), shadow}
	tests := []struct {
		name       string
		events     []string
		showShadow bool
		want       int
	}{
		{"defaults", []string{"ban", "unban", "alert", "recover"}, false, 4},
		{"bans only", []string{"ban"}, false, 1},
		{"bans with shadow", []string{"ban"}, true, 2},
		{"global only", []string{"alert", "recover"}, true, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := webhookConfig("https://hooks.slack.com/services/T/B/x")
			c.Slack.Events, c.Slack.ShowShadow = tc.events, tc.showShadow
			n, err := New(c, Options{Logger: newLogger(&logBuffer{})})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range all {
				n.Notify(d)
			}
			if got := int(n.queueLength()); got != tc.want {
				t.Errorf("queued %d, want %d", got, tc.want)
			}
		})
	}
}

func TestMetricsRegistered(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := webhookConfig("https://hooks.slack.com/services/T/B/x")
	n, err := New(c, Options{Registerer: reg, Logger: newLogger(&logBuffer{})})
	if err != nil {
		t.Fatal(err)
	}
	n.Notify(banDecision("192.0.2.1", 1))
	want := `
# HELP vigil_notify_queue_length Decisions waiting to be sent to Slack.
# TYPE vigil_notify_queue_length gauge
vigil_notify_queue_length 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "vigil_notify_queue_length"); err != nil {
		t.Error(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, w := range []string{"vigil_notify_sent_total", "vigil_notify_failures_total", "vigil_notify_dropped_total",
		"vigil_notify_retries_total", "vigil_notify_queue_length", "vigil_notify_digests_total", "vigil_notify_undelivered_total"} {
		if !names[w] {
			t.Errorf("metric %s not registered", w)
		}
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
	if _, err := New(c, Options{Registerer: reg}); err == nil || !strings.Contains(err.Error(), "register notify metrics") {
		t.Errorf("second New on the same registry: %v, want a registration error", err)
	}
}

func TestRunTwice(t *testing.T) {
	srv := newFakeSlack(t, false, nil)
	h := start(t, webhookConfig(srv.url(hookPath)), nil)
	waitFor(t, "Run to start", func() bool { return h.n.running.Load() })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := h.n.Run(ctx); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
}

func TestDisabledRunWaits(t *testing.T) {
	n, err := New(DefaultConfig(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}
