package notify

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/respond"
)

func itemOf(d *respond.Decision) item {
	it := item{d: *d, at: d.Time}
	it.d.Request = nil
	if d.Request != nil {
		it.req, it.hasReq = *d.Request, true
	}
	return it
}

// allTexts renders a message the way it is posted and returns the fallback
// followed by every text in its blocks.
func allTexts(t *testing.T, m message) []string {
	t.Helper()
	b, err := json.Marshal(slack.WebhookMessage{Text: m.text, Blocks: &slack.Blocks{BlockSet: m.blocks}})
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return collectTexts(v, nil)
}

func joined(t *testing.T, m message) string { return strings.Join(allTexts(t, m), "\n") }

func TestFormat(t *testing.T) {
	permanent := banDecision("198.51.100.7", 4)
	permanent.Duration, permanent.Permanent, permanent.Until = 0, true, time.Time{}
	shadow := banDecision("198.51.100.8", 1)
	shadow.Shadow = true
	manual := &respond.Decision{Time: t0, Action: respond.ActionBan, Detector: "manual", Manual: true,
		Target: netip.MustParsePrefix("203.0.113.0/24"), Reason: "banned by an operator", Duration: 2 * time.Hour,
		Until: t0.Add(2 * time.Hour), Offense: 1}
	surge := banDecision("192.0.2.9", 1)
	surge.Rule = "error_surge"
	surge.Evidence = detect.Evidence{Value: 0.85, Threshold: 0.5, Requests: 200, Errors: 170, BaselineErrorRate: 0.021,
		Window: time.Minute}
	enum := banDecision("192.0.2.10", 2)
	enum.Detector, enum.Rule, enum.Class = "enumeration", "distinct_not_found", detect.ClassEnumeration
	enum.Evidence = detect.Evidence{Value: 64, Threshold: 50, Distinct: 64, Window: 5 * time.Minute}
	breaker := &respond.Decision{Time: t0, Action: respond.ActionAlert, Detector: "circuit_breaker", Rule: "max_per_minute",
		Reason: "circuit breaker open: 61 bans in the last minute (ban.max_per_minute); further bans are suppressed until the rate drops"}
	tests := []struct {
		name string
		d    *respond.Decision
		x    extra
		want []string
		not  []string
	}{
		{"rate ban", banDecision("192.0.2.1", 2), extra{}, []string{
			"Banned 192.0.2.1", "*Detector:* rate", "*Condition:* zscore",
			"1250 requests/60s vs threshold 240 (z-score 100.8)", "*Baseline:* 40.0 ± 12.0 requests/60s (rolling 30 min)",
			"*Duration*\n10m", "*Offense*\n#2", "2026-11-22 09:30:00 UTC", "*Until*\n<!date^" + fmt.Sprint(t0.Add(10*time.Minute).Unix()),
			"|2026-11-22 09:40:00 UTC>", "GET shop.example/search?q=shoes → 200", "*User agent:* Mozilla/5.0",
			"Banned 192.0.2.1 for 10m (offense 2) at 2026-11-22 09:30:00 UTC: rate/zscore, 1250 requests/60s vs threshold 240",
		}, []string{"shadow"}},
		{"permanent ban", permanent, extra{}, []string{"*Duration*\npermanent", "*Until*\nnever", "for permanent (offense 4)"}, nil},
		{"shadow ban", shadow, extra{}, []string{"Would ban 198.51.100.8 (shadow mode, not enforced)", "Would ban (shadow mode) 198.51.100.8"}, nil},
		{"manual ban", manual, extra{}, []string{"Banned 203.0.113.0/24 (by an operator)", "*Banned by:* an operator",
			"*Duration*\n2h", "operator"}, []string{"*Measured:*", "*Baseline:*"}},
		{"error surge", surge, extra{}, []string{"85% errors (170 of 200 requests/60s) vs threshold 50%", "*Baseline:* 2.1% errors"}, nil},
		{"enumeration", enum, extra{}, []string{"64 distinct missing paths/5m vs threshold 50", "enumeration/distinct_\u200bnot"}, []string{"*Baseline:*"}},
		{"unban after ban", unbanDecision("192.0.2.1", t0.Add(10*time.Minute)), extra{bannedFor: 10 * time.Minute}, []string{
			"✅ *Unbanned 192.0.2.1* after 10m · banned by rate/zscore (offense 1)", "ban expired after 10m0s (offense 1)",
			"Unbanned 192.0.2.1 after 10m (rate, offense 1)"}, nil},
		{"manual unban, ban unknown", &respond.Decision{Time: t0, Action: respond.ActionUnban, Manual: true,
			Target: netip.MustParsePrefix("192.0.2.3/32"), Detector: "rate", Offense: 1, Reason: "unbanned by an operator"},
			extra{}, []string{"*Unbanned 192.0.2.3* by an operator"}, []string{"after"}},
		{"global alert", alertDecision(), extra{}, []string{"⚠️ Global traffic anomaly", "*Condition:* zscore",
			"812.0 requests/s vs threshold 340.0 (z-score 15.4)", "*Baseline:* 40.0 ± 50.0 requests/s (same hour of day)",
			"Global traffic anomaly at 2026-11-22 09:30:00 UTC: global/zscore, 812.0 requests/s vs threshold 340.0 (z-score 15.4), baseline 40.0"}, nil},
		{"global recovery", recoverDecision(), extra{}, []string{"*Global traffic back to normal* after 5m12s",
			"*Now:* 45.0 requests/s (baseline 40.0 ± 50.0 requests/s)", "Global traffic back to normal after 5m12s at 2026-11-22 09:35:12 UTC"}, nil},
		{"circuit breaker", breaker, extra{}, []string{"Ban circuit breaker open", "61 bans in the last minute"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it := itemOf(tc.d)
			got := joined(t, format(&it, tc.x))
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("message lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(got, w) {
					t.Errorf("message has %q:\n%s", w, got)
				}
			}
		})
	}
}

// hostile returns a ban whose attacker-controlled fields try to ping the
// channel, inject links and formatting, and move the terminal cursor.
func hostile() *respond.Decision {
	d := banDecision("192.0.2.66", 1)
	d.Detector, d.Rule, d.Class = "signature", "xss-script-tag", detect.ClassXSS
	d.Reason = "signature: XSS rule matched in /<!here>/<@U0ADMIN> *bold* _it_ ~strike~ `code`"
	d.Request = &detect.Request{Method: "GET<!channel>", Host: "<https://evil.example|click me>",
		Path: "/<!channel>/<https://evil|x>", Query: "a=*bold*&b=<!subteam^S1>&c=<#C1>",
		Status: 404, UserAgent: "*bold* \x1b[31mred\x1b[0m \u202eevil\r\nInjected: yes <!everyone>"}
	return d
}

// forbidden are substrings that must never reach Slack from attacker input.
var forbidden = []string{"<!channel>", "<!here>", "<!everyone>", "<@U0ADMIN>", "<https://evil|x>",
	"<https://evil.example|click me>", "<!subteam", "<#C1>", "*bold*", "_it_", "~strike~", "`code`",
	"\x1b", "\u202e", "\r", "\nInjected"}

func checkEscaped(t *testing.T, texts []string) {
	t.Helper()
	all := strings.Join(texts, "\n")
	for _, s := range texts {
		for _, f := range forbidden {
			if strings.Contains(s, f) {
				t.Errorf("text field carries %q unescaped: %q", f, s)
			}
		}
	}
	for _, w := range []string{"&lt;!channel&gt;", "&lt;https://evil|x&gt;", "\\x1b[31mred", "&lt;!here&gt;"} {
		if !strings.Contains(all, w) {
			t.Errorf("escaped form %q missing from:\n%s", w, all)
		}
	}
}

func TestFormatEscapesAttackerStrings(t *testing.T) {
	d := hostile()
	it := itemOf(d)
	checkEscaped(t, allTexts(t, format(&it, extra{})))

	unban := unbanDecision("192.0.2.66", t0.Add(time.Hour))
	unban.Reason = d.Reason
	it = itemOf(unban)
	texts := allTexts(t, format(&it, extra{}))
	for _, s := range texts {
		if strings.Contains(s, "<!here>") || strings.Contains(s, "*bold*") {
			t.Errorf("unban text unescaped: %q", s)
		}
	}

	items := []item{itemOf(d), itemOf(d), itemOf(unban)}
	for _, s := range allTexts(t, formatDigest(items, time.Second)) {
		for _, f := range forbidden {
			if strings.Contains(s, f) {
				t.Errorf("digest text carries %q unescaped: %q", f, s)
			}
		}
	}
}

func TestFormatLimits(t *testing.T) {
	d := banDecision("2001:db8::1", 1)
	d.Target = netip.MustParsePrefix("2001:db8:ffff:ffff::/64")
	long := strings.Repeat("<&>", 3000)
	d.Reason = long
	d.Request = &detect.Request{Method: long, Host: long, Path: long, Query: long, UserAgent: long, Status: 400}
	it := itemOf(d)
	m := format(&it, extra{})
	for _, s := range allTexts(t, m) {
		if n := utf8.RuneCountInString(s); n > maxBlockText {
			t.Errorf("a text has %d runes, over Slack's %d", n, maxBlockText)
		}
	}
	items := make([]item, 40)
	for i := range items {
		items[i] = itemOf(d)
	}
	dm := formatDigest(items, time.Minute)
	if len(dm.blocks) > 50 {
		t.Errorf("digest has %d blocks, Slack allows 50", len(dm.blocks))
	}
	for _, s := range allTexts(t, dm) {
		if n := utf8.RuneCountInString(s); n > maxBlockText {
			t.Errorf("a digest text has %d runes, over Slack's %d", n, maxBlockText)
		}
	}
}

func TestFormatDigest(t *testing.T) {
	var items []item
	for i := range 17 {
		items = append(items, itemOf(banDecision(fmt.Sprintf("192.0.2.%d", i+1), 1)))
	}
	for i := range 3 {
		items = append(items, itemOf(unbanDecision(fmt.Sprintf("198.51.100.%d", i+1), t0.Add(time.Minute))))
	}
	shadow := banDecision("203.0.113.5", 1)
	shadow.Shadow = true
	items = append(items, itemOf(alertDecision()), itemOf(shadow))
	m := formatDigest(items, 40*time.Second)
	got := joined(t, m)
	for _, w := range []string{
		"vigil: 17 bans, 1 would-be ban (shadow mode), 3 unbans, 1 alert in the last 40s",
		"📋 17 bans, 1 would-be ban (shadow mode), 3 unbans, 1 alert in the last 40s",
		"• ban *192.0.2.1* for 10m — rate/zscore — 1250 requests in 60s",
		"12 more not listed",
		"Event times: <!date^",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("digest lacks %q:\n%s", w, got)
		}
	}
	if strings.Contains(got, "192.0.2.11*") {
		t.Errorf("digest lists more than %d decisions:\n%s", maxDigestLines, got)
	}
}

func TestShortDur(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"}, {1500 * time.Millisecond, "2s"}, {time.Minute, "60s"}, {119 * time.Second, "119s"},
		{10 * time.Minute, "10m"}, {10*time.Minute + 30*time.Second, "10m30s"}, {2 * time.Hour, "2h"},
		{90 * time.Minute, "1h30m"}, {24 * time.Hour, "24h"}, {time.Hour + time.Second, "1h0m1s"},
	}
	for _, tc := range tests {
		if got := shortDur(tc.in); got != tc.want {
			t.Errorf("shortDur(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 3, "abc"}, {"abcd", 3, "abc…"}, {"aé", 2, "a…"}, {"ééé", 4, "éé…"}, {"", 0, ""},
	}
	for _, tc := range tests {
		if got := clip(tc.in, tc.n); got != tc.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
