package escape

import (
	"strings"
	"testing"
)

func TestTerminal(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "GET /index.html", "GET /index.html"},
		{"escape sequence", "\x1b[2J\x1b[31mred", `\x1b[2J\x1b[31mred`},
		{"newline and cr", "a\r\nb", `a\x0d\x0ab`},
		{"backslash", `a\x41`, `a\\x41`},
		{"invalid utf8", "a\xffb", `a\xffb`},
		{"c1 control", "a\u009bb", `a\x9bb`},
		{"bidi override", "abc\u202edcba", `abc\u202edcba`},
		{"unicode kept", "Zoë 東京", "Zoë 東京"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Terminal(tc.in); got != tc.want {
				t.Fatalf("Terminal(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMrkdwnNeutralisesInjection(t *testing.T) {
	in := "<!channel> <https://evil.example|click> *bold* `code` & <@U123>"
	got := Mrkdwn(in)
	for _, bad := range []string{"<!", "<http", "<@", "*bold*", "`code`"} {
		if strings.Contains(got, bad) {
			t.Errorf("Mrkdwn(%q) = %q still contains %q", in, got, bad)
		}
	}
	if !strings.Contains(got, "&lt;!channel&gt;") || !strings.Contains(got, "&amp;") {
		t.Errorf("Mrkdwn(%q) = %q: entities missing", in, got)
	}
}
