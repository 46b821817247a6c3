package notify

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/escape"
	"github.com/vigil-sec/vigil/internal/respond"
)

// message is one Slack message: Block Kit blocks and the plain fallback text
// that notifications and old clients show. Slack renders the fallback as
// mrkdwn too, so attacker-controlled text is escaped in both.
type message struct {
	text   string
	blocks []slack.Block
}

// Limits on attacker-controlled strings before escaping (escaping can make
// them up to five times longer), chosen so that every block stays under
// Slack's 3000-character limit for a text object.
const (
	maxMethod       = 16
	maxHost         = 100
	maxPath         = 250
	maxQuery        = 250
	maxUA           = 250
	maxReason       = 400
	maxDigestReason = 90
	maxDigestLines  = 10
	maxBlockText    = 3000
	maxHeaderText   = 150
)

// item is a queued decision: a copy of everything a message needs, so the
// caller's Decision may be reused as soon as Notify returns.
type item struct {
	d      respond.Decision // d.Request is always nil: see req
	req    detect.Request
	hasReq bool
	at     time.Time // when Notify queued it (clock time)
}

// extra is what the sender knows beyond the decision itself.
type extra struct {
	// bannedFor is how long an unbanned target had been banned (0 unknown).
	bannedFor time.Duration
}

// clip shortens s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// esc clips an untrusted string and escapes it for mrkdwn.
func esc(s string, n int) string { return escape.Mrkdwn(clip(s, n)) }

// fitText keeps a text object within Slack's limit, in runes.
func fitText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, fitText(s, maxBlockText), false, true)
}

func section(s string) slack.Block { return slack.NewSectionBlock(mrkdwn(s), nil, nil) }

func header(s string) slack.Block {
	return slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, fitText(s, maxHeaderText), true, false))
}

func contextLine(s string) slack.Block { return slack.NewContextBlock("", mrkdwn(s)) }

// slackTime shows t in the reader's time zone, with UTC as the fallback.
func slackTime(t time.Time) string {
	if t.IsZero() {
		return "n/a"
	}
	return fmt.Sprintf("<!date^%d^{date_num} {time_secs}|%s>", t.Unix(), plainTime(t))
}

func plainTime(t time.Time) string {
	if t.IsZero() {
		return "n/a"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// shortDur formats d compactly: "60s", "10m", "2h", "1h30m".
func shortDur(d time.Duration) string {
	d = d.Round(time.Second)
	if d < 2*time.Minute {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	s := d.String() // "10m30s", "10m0s", "2h0m0s"
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
		if t, ok := strings.CutSuffix(s, "h0m"); ok {
			s = t + "h"
		}
	}
	return s
}

// num formats v with prec decimals; NaN and infinities become "n/a".
func num(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// measurement describes the evidence: the measured value against its
// threshold, and the baseline in effect ("" when not applicable).
func measurement(d *respond.Decision) (measured, baseline string) {
	if d.Manual {
		return "", ""
	}
	e := &d.Evidence
	per := ""
	if e.Window > 0 {
		per = "/" + shortDur(e.Window)
	}
	z := ""
	if e.ZScore != 0 && !math.IsNaN(e.ZScore) && !math.IsInf(e.ZScore, 0) {
		z = " (z-score " + num(e.ZScore, 1) + ")"
	}
	hasBaseline := e.Mean != 0 || e.Stddev != 0
	switch {
	case d.Detector == "global":
		measured = num(e.Value, 1) + " requests/s vs threshold " + num(e.Threshold, 1) + z
		if hasBaseline {
			baseline = num(e.Mean, 1) + " ± " + num(e.Stddev, 1) + " requests/s"
		}
	case d.Detector == "rate" && d.Rule == "error_surge":
		measured = fmt.Sprintf("%s%% errors (%d of %d requests%s) vs threshold %s%%",
			num(100*e.Value, 0), e.Errors, e.Requests, per, num(100*e.Threshold, 0))
		baseline = num(100*e.BaselineErrorRate, 1) + "% errors"
	case d.Detector == "rate":
		measured = num(e.Value, 0) + " requests" + per + " vs threshold " + num(e.Threshold, 0) + z
		if hasBaseline {
			baseline = num(e.Mean, 1) + " ± " + num(e.Stddev, 1) + " requests" + per
		}
	case d.Detector == "enumeration":
		measured = num(e.Value, 0) + " distinct missing paths" + per + " vs threshold " + num(e.Threshold, 0)
	case d.Detector == "bruteforce":
		measured = num(e.Value, 0) + " failed logins" + per + " vs threshold " + num(e.Threshold, 0)
	case d.Detector == "score":
		measured = "score " + num(e.Value, 0) + per + " vs threshold " + num(e.Threshold, 0)
	case e.Value != 0 || e.Threshold != 0:
		measured = strconv.FormatFloat(e.Value, 'g', 6, 64) + per + " vs threshold " + strconv.FormatFloat(e.Threshold, 'g', 6, 64)
	}
	if baseline != "" {
		switch e.BaselineSource {
		case "":
		case "rolling":
			baseline += " (rolling 30 min)"
		case "hour_slot":
			baseline += " (same hour of day)"
		case "floor":
			baseline += " (floor)"
		default:
			baseline += " (" + esc(e.BaselineSource, 32) + ")"
		}
	}
	return measured, baseline
}

// who names the detector and condition, escaped: "rate/zscore".
func who(d *respond.Decision) string {
	if d.Manual {
		return "operator"
	}
	if d.Rule == "" {
		return esc(d.Detector, 64)
	}
	return esc(d.Detector, 64) + "/" + esc(d.Rule, 64)
}

func banLength(d *respond.Decision) string {
	if d.Permanent {
		return respond.Permanent
	}
	return shortDur(d.Duration)
}

// request renders the triggering request, escaped: "GET host/path?query → 404".
func request(r *detect.Request) string {
	var b strings.Builder
	if r.Method != "" {
		b.WriteString(esc(r.Method, maxMethod))
		b.WriteByte(' ')
	}
	if r.Host != "" {
		b.WriteString(esc(r.Host, maxHost))
	}
	b.WriteString(esc(r.Path, maxPath))
	if r.Query != "" {
		b.WriteString("?")
		b.WriteString(esc(r.Query, maxQuery))
	}
	if r.Status != 0 {
		b.WriteString(" → ")
		b.WriteString(strconv.Itoa(r.Status))
	}
	return b.String()
}

// format builds the message for one decision.
func format(it *item, x extra) message {
	d := &it.d
	switch d.Action {
	case respond.ActionBan:
		return formatBan(it)
	case respond.ActionUnban:
		return formatUnban(d, x)
	case respond.ActionRecover:
		return formatRecover(d)
	}
	return formatAlert(d)
}

func formatBan(it *item) message {
	d := &it.d
	ip := d.IP()
	title, verb := "🚫 Banned "+ip, "Banned "
	switch {
	case d.Shadow:
		title, verb = "👀 Would ban "+ip+" (shadow mode, not enforced)", "Would ban (shadow mode) "
	case d.Manual:
		title += " (by an operator)"
	}
	measured, baseline := measurement(d)
	var lines []string
	if d.Manual {
		lines = append(lines, "*Banned by:* an operator")
	} else {
		l := "*Detector:* " + esc(d.Detector, 64)
		if d.Rule != "" {
			l += " · *Condition:* " + esc(d.Rule, 64)
		}
		if d.Class != "" {
			l += " · *Class:* " + esc(string(d.Class), 32)
		}
		lines = append(lines, l)
	}
	if measured != "" {
		lines = append(lines, "*Measured:* "+measured)
	}
	if baseline != "" {
		lines = append(lines, "*Baseline:* "+baseline)
	}
	if d.Reason != "" {
		lines = append(lines, "*Reason:* "+esc(d.Reason, maxReason))
	}
	until := "never"
	if !d.Permanent {
		until = slackTime(d.Until)
	}
	fields := []*slack.TextBlockObject{
		mrkdwn("*Duration*\n" + banLength(d)),
		mrkdwn("*Until*\n" + until),
		mrkdwn("*Offense*\n#" + strconv.Itoa(d.Offense)),
		mrkdwn("*Event time*\n" + slackTime(d.Time)),
	}
	blocks := []slack.Block{header(title), section(strings.Join(lines, "\n")),
		slack.NewSectionBlock(nil, fields, nil)}
	if it.hasReq {
		r := "*Request:* " + request(&it.req)
		if it.req.UserAgent != "" {
			r += "\n*User agent:* " + esc(it.req.UserAgent, maxUA)
		}
		blocks = append(blocks, section(r))
	}
	text := verb + ip + " for " + banLength(d) + " (offense " + strconv.Itoa(d.Offense) + ") at " + plainTime(d.Time) +
		": " + who(d)
	if measured != "" {
		text += ", " + measured
	}
	if baseline != "" {
		text += ", baseline " + baseline
	}
	return message{text: text, blocks: blocks}
}

func formatUnban(d *respond.Decision, x extra) message {
	ip := d.IP()
	after := ""
	if x.bannedFor > 0 {
		after = " after " + shortDur(x.bannedFor)
	}
	by := ""
	if d.Manual {
		by = " by an operator"
	}
	line := "✅ *Unbanned " + ip + "*" + by + after
	if d.Detector != "" {
		line += " · banned by " + esc(d.Detector, 64)
		if d.Rule != "" {
			line += "/" + esc(d.Rule, 64)
		}
	}
	if d.Offense > 0 {
		line += " (offense " + strconv.Itoa(d.Offense) + ")"
	}
	if d.Reason != "" {
		line += "\n" + esc(d.Reason, maxReason)
	}
	text := "Unbanned " + ip + by + after
	if d.Detector != "" {
		text += " (" + esc(d.Detector, 64) + ", offense " + strconv.Itoa(d.Offense) + ")"
	}
	return message{text: text, blocks: []slack.Block{section(line), contextLine("Event time: " + slackTime(d.Time))}}
}

// alertTitle returns the alert's title as plain text (for a header) and
// escaped for mrkdwn (for the fallback text).
func alertTitle(d *respond.Decision) (plain, mrk string) {
	switch d.Detector {
	case "global":
		return "Global traffic anomaly", "Global traffic anomaly"
	case "circuit_breaker":
		return "Ban circuit breaker open", "Ban circuit breaker open"
	}
	plain = "Alert from " + escape.Terminal(clip(d.Detector, 64))
	mrk = "Alert from " + esc(d.Detector, 64)
	if ip := d.IP(); ip != "" {
		plain += " for " + ip
		mrk += " for " + ip
	}
	return plain, mrk
}

func formatAlert(d *respond.Decision) message {
	title, textTitle := alertTitle(d)
	measured, baseline := measurement(d)
	var lines []string
	if d.Rule != "" {
		lines = append(lines, "*Condition:* "+esc(d.Rule, 64))
	}
	if measured != "" {
		lines = append(lines, "*Measured:* "+measured)
	}
	if baseline != "" {
		lines = append(lines, "*Baseline:* "+baseline)
	}
	if d.Reason != "" {
		lines = append(lines, "*Reason:* "+esc(d.Reason, maxReason))
	}
	blocks := []slack.Block{header("⚠️ " + title)}
	if len(lines) > 0 {
		blocks = append(blocks, section(strings.Join(lines, "\n")))
	}
	blocks = append(blocks, contextLine("Event time: "+slackTime(d.Time)))
	text := textTitle + " at " + plainTime(d.Time)
	if measured != "" {
		text += ": " + who(d) + ", " + measured
	}
	if baseline != "" {
		text += ", baseline " + baseline
	}
	if d.Reason != "" && measured == "" {
		text += ": " + esc(d.Reason, maxReason)
	}
	return message{text: text, blocks: blocks}
}

func formatRecover(d *respond.Decision) message {
	title := "Global traffic back to normal"
	if d.Detector != "global" {
		title = "Recovered: " + esc(d.Detector, 64)
	}
	after := ""
	if d.Evidence.AlertDuration > 0 {
		after = " after " + shortDur(d.Evidence.AlertDuration)
	}
	line := "✅ *" + title + "*" + after
	if d.Evidence.Value != 0 || d.Evidence.Mean != 0 {
		line += "\n*Now:* " + num(d.Evidence.Value, 1) + " requests/s"
		if d.Evidence.Mean != 0 || d.Evidence.Stddev != 0 {
			line += " (baseline " + num(d.Evidence.Mean, 1) + " ± " + num(d.Evidence.Stddev, 1) + " requests/s)"
		}
	}
	if d.Reason != "" {
		line += "\n" + esc(d.Reason, maxReason)
	}
	text := title + after + " at " + plainTime(d.Time)
	return message{text: text, blocks: []slack.Block{section(line), contextLine("Event time: " + slackTime(d.Time))}}
}

// digestCounts summarises items: "17 bans, 3 unbans".
func digestCounts(items []item) string {
	var bans, shadow, unbans, alerts, recovers int
	for i := range items {
		switch d := &items[i].d; {
		case d.Action == respond.ActionBan && d.Shadow:
			shadow++
		case d.Action == respond.ActionBan:
			bans++
		case d.Action == respond.ActionUnban:
			unbans++
		case d.Action == respond.ActionRecover:
			recovers++
		default:
			alerts++
		}
	}
	var parts []string
	add := func(n int, one, many string) {
		switch {
		case n == 1:
			parts = append(parts, "1 "+one)
		case n > 1:
			parts = append(parts, strconv.Itoa(n)+" "+many)
		}
	}
	add(bans, "ban", "bans")
	add(shadow, "would-be ban (shadow mode)", "would-be bans (shadow mode)")
	add(unbans, "unban", "unbans")
	add(alerts, "alert", "alerts")
	add(recovers, "recovery", "recoveries")
	return strings.Join(parts, ", ")
}

// digestLine is one row of a digest's table, escaped.
func digestLine(d *respond.Decision) string {
	var b strings.Builder
	b.WriteString("• ")
	switch {
	case d.Action == respond.ActionBan && d.Shadow:
		b.WriteString("would ban")
	default:
		b.WriteString(string(d.Action))
	}
	if ip := d.IP(); ip != "" {
		b.WriteString(" *" + ip + "*")
	}
	if d.Action == respond.ActionBan {
		b.WriteString(" for " + banLength(d))
	}
	b.WriteString(" — " + who(d))
	if d.Reason != "" {
		b.WriteString(" — " + esc(d.Reason, maxDigestReason))
	}
	return b.String()
}

// formatDigest collapses items, queued over span, into one message: counts,
// then the first few decisions with detector and reason.
func formatDigest(items []item, span time.Duration) message {
	counts := digestCounts(items)
	span = max(span, time.Second)
	title := "📋 " + counts + " in the last " + shortDur(span)
	blocks := []slack.Block{header(title)}
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			blocks = append(blocks, section(cur.String()))
			cur.Reset()
		}
	}
	n := min(len(items), maxDigestLines)
	for i := range n {
		l := digestLine(&items[i].d)
		if utf8.RuneCountInString(cur.String())+utf8.RuneCountInString(l)+1 > maxBlockText {
			flush()
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(l)
	}
	flush()
	if more := len(items) - n; more > 0 {
		blocks = append(blocks, contextLine(strconv.Itoa(more)+" more not listed: see the audit log or `vigil bans`"))
	}
	first, last := items[0].d.Time, items[0].d.Time
	for i := range items {
		t := items[i].d.Time
		if t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	blocks = append(blocks, contextLine("Event times: "+slackTime(first)+" to "+slackTime(last)))
	return message{text: "vigil: " + counts + " in the last " + shortDur(span), blocks: blocks}
}
