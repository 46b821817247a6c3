package main

import (
	"encoding/json"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/detect"
)

func netipPrefix(t *testing.T, s string) netip.Prefix {
	t.Helper()
	p, err := api.ParseTarget(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBanBansUnban(t *testing.T) {
	t.Setenv("COLUMNS", "")
	d := startDaemon(t)
	cfg := []string{"--config", d.config}

	code, out, errOut := cli(t, append([]string{"bans"}, cfg...)...)
	if code != 0 || out != "no active bans\n" {
		t.Errorf("bans with none: exit %d %q %q", code, out, errOut)
	}
	code, out, errOut = cli(t, append([]string{"bans", "--json"}, cfg...)...)
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("bans --json with none: exit %d %q %q", code, out, errOut)
	}

	code, out, errOut = cli(t, append([]string{"ban", "203.0.113.7", "--for", "2h", "--reason", "credential stuffing"}, cfg...)...)
	if code != 0 || !regexp.MustCompile(`^banned 203\.0\.113\.7 for 2h00m, until \S+ \(offense 1\)\n$`).MatchString(out) {
		t.Errorf("ban: exit %d, %q, %q", code, out, errOut)
	}
	d.clk.Advance(time.Minute)
	code, out, errOut = cli(t, append([]string{"ban", "2001:db8:7::/64", "--for", "permanent"}, cfg...)...)
	if code != 0 || out != "banned 2001:db8:7::/64 permanently (offense 1)\n" {
		t.Errorf("permanent ban: exit %d, %q, %q", code, out, errOut)
	}
	d.clk.Advance(time.Minute)
	code, out, errOut = cli(t, append([]string{"ban", "198.51.100.1"}, cfg...)...)
	if code != 0 || !strings.HasPrefix(out, "banned 198.51.100.1 for 1h00m, until ") {
		t.Errorf("ban with the default duration: exit %d, %q, %q", code, out, errOut)
	}
	bans := d.resp.Bans()
	if len(bans) != 3 || bans[0].Reason != "credential stuffing" || bans[0].Until.Sub(bans[0].Since) != 2*time.Hour ||
		!bans[1].Permanent() || bans[2].Until.Sub(bans[2].Since) != time.Hour || bans[2].Reason != "banned by an operator" {
		t.Fatalf("ledger after the bans: %+v", bans)
	}

	d.clk.Advance(28 * time.Minute) // 30 minutes after the first ban
	code, out, _ = cli(t, append([]string{"bans"}, cfg...)...)
	want := "IP               EXPIRES    OFFENSE  DETECTOR  REASON\n" +
		"203.0.113.7      in 1h30m   1        manual    credential stuffing\n" +
		"2001:db8:7::/64  permanent  1        manual    banned by an operator\n" +
		"198.51.100.1     in 32m00s  1        manual    banned by an operator\n" +
		"3 bans, 1 permanent\n"
	if code != 0 || out != want {
		t.Errorf("bans: exit %d\n%s\nwant\n%s", code, out, want)
	}
	code, out, _ = cli(t, append([]string{"bans", "--json"}, cfg...)...)
	var list []api.BanInfo
	if err := json.Unmarshal([]byte(out), &list); err != nil || code != 0 {
		t.Fatalf("bans --json: exit %d, %v\n%s", code, err, out)
	}
	if len(list) != 3 || list[0].IP != "203.0.113.7" || list[0].Remaining != "1h30m0s" || !list[1].Permanent {
		t.Errorf("bans --json = %+v", list)
	}

	code, out, errOut = cli(t, append([]string{"unban", "203.0.113.7"}, cfg...)...)
	if code != 0 || out != "unbanned 203.0.113.7\n" {
		t.Errorf("unban: exit %d, %q, %q", code, out, errOut)
	}
	code, out, errOut = cli(t, append([]string{"unban", "2001:db8:7::/64", "--forget", "--reason", "customer NAT"}, cfg...)...)
	if code != 0 || out != "unbanned 2001:db8:7::/64 and forgot its offenses\n" {
		t.Errorf("unban --forget: exit %d, %q, %q", code, out, errOut)
	}
	if bans := d.resp.Bans(); len(bans) != 1 || bans[0].Prefix.String() != "198.51.100.1/32" {
		t.Errorf("ledger after the unbans: %+v", bans)
	}
}

func TestBanUnbanErrors(t *testing.T) {
	d := startDaemon(t)
	cfg := []string{"--config", d.config}
	tests := []struct {
		name    string
		args    []string
		code    int
		wantErr string
	}{
		{"invalid address", []string{"ban", "203.0.113.300"}, 2, `ip: "203.0.113.300" is not an IP address or CIDR prefix`},
		{"host bits", []string{"ban", "203.0.113.7/24"}, 2, "did you mean 203.0.113.0/24?"},
		{"too broad", []string{"ban", "0.0.0.0/0"}, 2, "too broad"},
		{"bad duration", []string{"ban", "203.0.113.7", "--for", "1 day"}, 2, `--for: duration: must be a duration of at least 1s`},
		{"no address", []string{"ban"}, 2, "ban takes one address or CIDR prefix (got 0 arguments)"},
		{"two addresses", []string{"unban", "203.0.113.7", "203.0.113.8"}, 2, "unban takes one address or CIDR prefix (got 2 arguments)"},
		{"unknown flag", []string{"ban", "203.0.113.7", "--until", "1h"}, 2, "unknown flag: --until"},
		{"status argument", []string{"status", "now"}, 2, `status takes no arguments (got ["now"])`},
		{"protected", []string{"ban", "192.0.2.44"}, 1, "192.0.2.44 is protected: it is in the allowlist or trusted_proxies"},
		{"not banned", []string{"unban", "203.0.113.99"}, 1, "203.0.113.99 is not banned (see vigil bans)"},
		{"unban invalid", []string{"unban", "not-an-ip"}, 2, `ip: "not-an-ip" is not an IP address`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := cli(t, append(tc.args, cfg...)...)
			if code != tc.code || !strings.Contains(errOut, tc.wantErr) || out != "" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.args, code, out, errOut, tc.code, tc.wantErr)
			}
		})
	}
	if bans := d.resp.Bans(); len(bans) != 0 {
		t.Errorf("failed commands banned something: %+v", bans)
	}
}

func TestBansTableEscapesAndTruncates(t *testing.T) {
	hostile := "SQL injection in /search?q=\x1b]0;pwned\x07\x1b[2J<script>" + strings.Repeat("A", 200) + "\u202egnp.exe"
	bans := []api.BanInfo{
		{IP: "203.0.113.5", Permanent: false, RemainingSeconds: 600, Offense: 2, Detector: "signature",
			Rule: "sqli-libinjection\x1b[31m", Reason: hostile},
		{IP: "2001:db8:ffff:ffff:ffff:ffff:ffff:fff0", Permanent: true, Offense: 4, Detector: "rate", Rule: "zscore",
			Reason: "short", Shadow: true, Class: detect.ClassRate},
	}
	for _, width := range []int{80, 60, 200} {
		out := bansTable(bans, width)
		if strings.ContainsAny(out, "\x1b\x07\u202e") {
			t.Errorf("width %d: raw control characters in %q", width, out)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 4 {
			t.Fatalf("width %d: %d lines, want header, 2 bans, summary:\n%s", width, len(lines), out)
		}
		for _, l := range lines {
			if n := utf8.RuneCountInString(l); n > width {
				t.Errorf("width %d: line of %d columns: %q", width, n, l)
			}
		}
		if width < 200 && !strings.HasSuffix(lines[1], "…") {
			t.Errorf("width %d: the long reason is not cut: %q", width, lines[1])
		}
		if !strings.Contains(lines[1], `\x1b]0;pwned\x07\x1b[2J<script>`) && width == 200 {
			t.Errorf("width %d: the reason is not shown escaped: %q", width, lines[1])
		}
		if !strings.HasPrefix(lines[2], "2001:db8:ffff:ffff:ffff:ffff:ffff:fff0  permanent  4 ") ||
			width == 200 && !regexp.MustCompile(`  rate/zscore \(shadow\)  +short$`).MatchString(lines[2]) {
			t.Errorf("width %d: shadow ban row %q", width, lines[2])
		}
		if lines[3] != "2 bans, 1 permanent, 1 in shadow mode (not enforced)" {
			t.Errorf("width %d: summary %q", width, lines[3])
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		s     string
		width int
		want  string
	}{
		{"short", 80, "short"},
		{"exactly", 7, "exactly"},
		{"one more", 7, "one mo…"},
		{"ééééé", 3, "éé…"},
		{"x", 0, "x"},
	}
	for _, tc := range tests {
		if got := truncate(tc.s, tc.width); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.s, tc.width, got, tc.want)
		}
	}
}

func TestTermWidth(t *testing.T) {
	var b strings.Builder
	t.Setenv("COLUMNS", "")
	if got := termWidth(&b); got != defaultWidth {
		t.Errorf("termWidth without a terminal or COLUMNS = %d, want %d", got, defaultWidth)
	}
	t.Setenv("COLUMNS", "132")
	if got := termWidth(&b); got != 132 {
		t.Errorf("termWidth with COLUMNS=132 = %d", got)
	}
	t.Setenv("COLUMNS", "wide")
	if got := termWidth(&b); got != defaultWidth {
		t.Errorf("termWidth with COLUMNS=wide = %d, want %d", got, defaultWidth)
	}
}
