package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

const botToken = "xoxb-0000-TOPSECRETBOTTOKEN"

func botConfig(srv *fakeSlack) Config {
	c := DefaultConfig()
	c.Slack.Token, c.Slack.Channel, c.Slack.APIURL = botToken, "#security", srv.url("/api") // no trailing slash on purpose
	c.Slack.MinInterval, c.Slack.DigestAfter = 0, 10
	return c
}

func TestBotThreads(t *testing.T) {
	srv := newFakeSlack(t, true, nil)
	h := start(t, botConfig(srv), nil)
	send := func(n int, d func()) posted {
		t.Helper()
		d()
		srv.waitRequests(n)
		return srv.requests()[n-1]
	}
	banA := send(1, func() { h.n.Notify(banDecision("192.0.2.1", 1)) })
	send(2, func() { h.n.Notify(banDecision("192.0.2.2", 1)) })
	unbanA := send(3, func() { h.n.Notify(unbanDecision("192.0.2.1", t0.Add(10*time.Minute))) })
	alert := send(4, func() { h.n.Notify(alertDecision()) })
	recovery := send(5, func() { h.n.Notify(recoverDecision()) })
	unbanC := send(6, func() { h.n.Notify(unbanDecision("192.0.2.3", t0.Add(time.Hour))) })

	if banA.path != "/api/chat.postMessage" || banA.token != botToken || banA.channel != "#security" {
		t.Errorf("ban posted to %q with token ok=%v channel %q", banA.path, banA.token == botToken, banA.channel)
	}
	if banA.threadTS != "" || alert.threadTS != "" {
		t.Errorf("top-level messages have thread_ts %q, %q", banA.threadTS, alert.threadTS)
	}
	if unbanA.threadTS != banA.ts || unbanA.channel != "C0VIGIL" {
		t.Errorf("unban thread_ts %q channel %q, want the ban's ts %q in channel C0VIGIL", unbanA.threadTS, unbanA.channel, banA.ts)
	}
	if !strings.Contains(unbanA.fallback, "Unbanned 192.0.2.1 after 10m") {
		t.Errorf("unban text %q", unbanA.fallback)
	}
	if recovery.threadTS != alert.ts {
		t.Errorf("recovery thread_ts %q, want the alert's ts %q", recovery.threadTS, alert.ts)
	}
	if unbanC.threadTS != "" {
		t.Errorf("unban of an unknown ban threaded under %q", unbanC.threadTS)
	}
	for _, p := range srv.requests() {
		if !strings.Contains(string(p.body), "unfurl_links=false") {
			t.Errorf("link unfurling not disabled: %s", p.body)
		}
	}
}

func TestBotThreadsUnderDigest(t *testing.T) {
	clk := newRecClock()
	srv := newFakeSlack(t, true, clk)
	c := botConfig(srv)
	c.Slack.MinInterval, c.Slack.DigestAfter = time.Second, 2
	h := start(t, c, clk)
	h.n.Notify(alertDecision()) // the first message goes out at once
	srv.waitRequests(1)
	for _, ip := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		h.n.Notify(banDecision(ip, 1))
	}
	advanceUntil(t, clk, 200*time.Millisecond, "the digest", func() bool { return len(srv.requests()) >= 2 })
	digest := srv.requests()[1]
	if !strings.HasPrefix(digest.fallback, "vigil: 3 bans") {
		t.Fatalf("second message %q, want a digest of 3 bans", digest.fallback)
	}
	h.n.Notify(unbanDecision("192.0.2.2", t0.Add(10*time.Minute)))
	advanceUntil(t, clk, 200*time.Millisecond, "the unban", func() bool { return len(srv.requests()) >= 3 })
	if got := srv.requests()[2].threadTS; got != digest.ts {
		t.Errorf("unban of a digested ban threaded under %q, want the digest %q", got, digest.ts)
	}
}

func TestBotRejected(t *testing.T) {
	srv := newFakeSlack(t, true, nil, answerInvalidAuth, answerInvalidAuth, answerOK)
	h := start(t, botConfig(srv), nil)
	for i := range 3 {
		h.n.Notify(banDecision("192.0.2.1", i+1))
		srv.waitRequests(i + 1)
	}
	waitFor(t, "delivery", func() bool { return testutil.ToFloat64(h.n.m.sent) == 1 })
	if f, r := failures(h.n, reasonClientError), testutil.ToFloat64(h.n.m.retries); f != 2 || r != 0 {
		t.Errorf("client_error failures %v, retries %v; want 2, 0", f, r)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "invalid_auth") {
		t.Errorf("the rejection reason is not logged:\n%s", logs)
	}
	if n := strings.Count(logs, `"level":"ERROR"`); n != 1 {
		t.Errorf("%d Error logs, want 1", n)
	}
	if strings.Contains(logs, "TOPSECRET") {
		t.Errorf("logs carry the bot token:\n%s", logs)
	}
}

func TestBotServerErrorRetried(t *testing.T) {
	clk := newRecClock()
	srv := newFakeSlack(t, true, clk, answer500, answer429, answerOK)
	h := start(t, botConfig(srv), clk)
	h.n.Notify(banDecision("192.0.2.1", 1))
	advanceUntil(t, clk, 200*time.Millisecond, "delivery", func() bool { return testutil.ToFloat64(h.n.m.sent) == 1 })
	if s, r := failures(h.n, reasonServerError), failures(h.n, reasonRateLimited); s != 1 || r != 1 {
		t.Errorf("server_error %v, rate_limited %v; want 1, 1", s, r)
	}
	if w := clk.recorded(); len(w) != 2 || w[1] != time.Second {
		t.Errorf("waits %v, want a backoff then Retry-After 1s", w)
	}
}
