package parse

import (
	"fmt"
	"strings"
	"testing"
)

// TestParseAllocs proves the per-line path allocates nothing, for plain and
// escaped lines, both formats, every time shape, long addresses, oversized
// fields and rejected lines.
func TestParseAllocs(t *testing.T) {
	hugeUA := `{"time":"2026-04-27T09:25:51Z","remote_addr":"203.0.113.10","http_user_agent":"` + strings.Repeat("A", 9000) + `"}`
	hugeXFF := `{"time":"2026-04-27T09:25:51Z","remote_addr":"203.0.113.10","http_x_forwarded_for":"` +
		strings.Repeat("10.0.0.1, ", 700) + `203.0.113.50"}`
	tests := []struct {
		name   string
		format Format
		lines  []string
	}{
		{"json plain", FormatJSON, []string{plainLine}},
		{"json escaped", FormatJSON, []string{escapedLine}},
		{"json default escaping", FormatJSON, []string{defaultEscapedLine}},
		{"json mixed corpus", FormatJSON, strs(corpus(FormatJSON, 1024))},
		{"json time changes every line", FormatJSON, []string{
			`{"time":"2026-04-27T09:25:51Z","remote_addr":"1.2.3.4"}`,
			`{"time":"2026-04-27T09:25:52.5+02:00","remote_addr":"1.2.3.4"}`,
			`{"time_local":"27/Apr/2026:09:25:53 +0200","remote_addr":"1.2.3.4"}`,
			`{"msec":"1777281954.125","remote_addr":"1.2.3.4"}`,
			`{"msec":1777281955.250,"remote_addr":"1.2.3.4"}`,
		}},
		{"json long IPv6 with zone", FormatJSON, []string{
			`{"time":"2026-04-27T09:25:51Z","remote_addr":"2001:0db8:85a3:0000:0000:8a2e:0370:7334%eth0"}`,
			`{"time":"2026-04-27T09:25:51Z","remote_addr":"::ffff:203.0.113.10"}`,
		}},
		{"json oversized fields", FormatJSON, []string{hugeUA, hugeXFF}},
		{"json escaped key and nested values", FormatJSON, []string{
			`{"remote\u005faddr":"1.2.3.4","time":"2026-04-27T09:25:51Z","x":{"a":[1,{"b":"c"}]}}`,
		}},
		{"json rejected lines", FormatJSON, []string{
			``, `{`, `{"time":"2026-04-27T09:25:51Z"}`, `{"remote_addr":"x","time":"2026-04-27T09:25:51Z"}`,
			`{"remote_addr":"1.2.3.4"}`, `{"remote_addr":"1.2.3.4","time":"nope"}`,
			`{"remote_addr":"1.2.3.4","time":"2026-04-27T09:25:51Z","status":"x"}`, strings.Repeat("x", 20000),
		}},
		{"combined plain", FormatCombined, []string{combinedLine}},
		{"combined escaped", FormatCombined, []string{combinedEscapedLine}},
		{"combined mixed corpus", FormatCombined, strs(corpus(FormatCombined, 1024))},
		{"combined rejected lines", FormatCombined, []string{`x`, `1.2.3.4 - - [bad] "GET / HTTP/1.1" 200 1 "-" "-"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Format = tc.format
			p := mustNew(t, cfg)
			lines := make([][]byte, len(tc.lines))
			for i, l := range tc.lines {
				lines[i] = []byte(l)
			}
			var ev Event
			// Warm up with every line: process-wide one-time work (the
			// time package builds its table of whole-hour zones on first
			// use) is not per-line cost.
			for _, l := range lines {
				_ = p.Parse(l, &ev)
			}
			i := 0
			allocs := testing.AllocsPerRun(len(lines)*3, func() {
				_ = p.Parse(lines[i%len(lines)], &ev)
				i++
			})
			if allocs > 0 {
				t.Errorf("%v allocs/line, want 0", allocs)
			}
		})
	}
}

// TestParseAllocsZone documents the one allocation the parser can make: a
// zone offset that is not a whole hour (whole hours come from the time
// package's own cache) is built once and reused while the offset stays the
// same; it changes only with daylight saving time.
func TestParseAllocsZone(t *testing.T) {
	lines := func(offsets ...string) [][]byte {
		out := make([][]byte, 120)
		for i := range out {
			out[i] = fmt.Appendf(nil, `{"time":"2026-04-27T09:%02d:%02d%s","remote_addr":"1.2.3.4"}`, i/60, i%60, offsets[i%len(offsets)])
		}
		return out
	}
	run := func(lines [][]byte) float64 {
		p := mustNew(t, DefaultConfig())
		var ev Event
		i := 0
		return testing.AllocsPerRun(len(lines)-1, func() {
			if err := p.Parse(lines[i], &ev); err != nil {
				t.Fatal(err)
			}
			i++
		})
	}
	if got := run(lines("+05:30")); got > 0 {
		t.Errorf("steady +05:30 offset: %v allocs/line, want 0", got)
	}
	if got := run(lines("+05:30", "-09:30")); got < 1 {
		t.Errorf("alternating offsets: %v allocs/line, want one new zone per change", got)
	}
}

func strs(lines [][]byte) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = string(l)
	}
	return out
}
