package parse

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	utc := func(y, mo, d, h, mi, s, ns int) time.Time {
		return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		in   string
		want time.Time // zero: rejected
	}{
		{"2026-04-27T09:25:51+00:00", utc(2026, 4, 27, 9, 25, 51, 0)},
		{"2026-04-27T09:25:51Z", utc(2026, 4, 27, 9, 25, 51, 0)},
		{"2026-04-27t09:25:51z", utc(2026, 4, 27, 9, 25, 51, 0)},
		{"2026-04-27 09:25:51Z", utc(2026, 4, 27, 9, 25, 51, 0)},
		{"2026-04-27T09:25:51.5Z", utc(2026, 4, 27, 9, 25, 51, 500000000)},
		{"2026-04-27T09:25:51.123456789Z", utc(2026, 4, 27, 9, 25, 51, 123456789)},
		{"2026-04-27T11:25:51+02:00", utc(2026, 4, 27, 9, 25, 51, 0)},
		{"2026-04-27T03:55:51-0530", utc(2026, 4, 27, 9, 25, 51, 0)},
		{"2024-02-29T00:00:00Z", utc(2024, 2, 29, 0, 0, 0, 0)},
		{"27/Apr/2026:09:25:51 +0000", utc(2026, 4, 27, 9, 25, 51, 0)},
		{"27/Apr/2026:11:25:51 +0200", utc(2026, 4, 27, 9, 25, 51, 0)},
		{"31/Dec/2026:23:59:59 -1200", utc(2027, 1, 1, 11, 59, 59, 0)},
		{"1777281951", utc(2026, 4, 27, 9, 25, 51, 0)},
		{"1777281951.123", utc(2026, 4, 27, 9, 25, 51, 123000000)},
		{"0.000000001", utc(1970, 1, 1, 0, 0, 0, 1)},

		{"2026-04-27T09:25:51.1234567890Z", time.Time{}}, // 10 fraction digits
		{"2026-04-27T09:25:51.Z", time.Time{}},
		{"2026-04-27T09:25:51", time.Time{}}, // no zone
		{"2026-04-27T09:25:51+24:00", time.Time{}},
		{"2026-04-27T09:25:60Z", time.Time{}},
		{"2026-13-01T00:00:00Z", time.Time{}},
		{"2026-04-31T00:00:00Z", time.Time{}},
		{"2025-02-29T00:00:00Z", time.Time{}},
		{"2026-04-27X09:25:51Z", time.Time{}},
		{"27/apr/2026:09:25:51 +0000", time.Time{}},
		{"27/Apr/2026:09:25:51 0000", time.Time{}},
		{"00/Apr/2026:09:25:51 +0000", time.Time{}},
		{"1777281951.", time.Time{}},
		{"-1777281951", time.Time{}},
		{"123456789012", time.Time{}},
		{"1.1234567890", time.Time{}},
		{"", time.Time{}},
		{"now", time.Time{}},
	}
	p := mustNew(t, DefaultConfig())
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			for range 2 { // the second call is served by the cache
				got, ok := p.parseTime([]byte(tc.in))
				if tc.want.IsZero() {
					if ok {
						t.Fatalf("accepted as %v, want rejected", got)
					}
					continue
				}
				if !ok || !got.Equal(tc.want) {
					t.Fatalf("= %v, %v; want %v", got, ok, tc.want)
				}
			}
		})
	}
}

func TestParseTimeKeepsOffset(t *testing.T) {
	p := mustNew(t, DefaultConfig())
	got, ok := p.parseTime([]byte("2026-04-27T15:25:51+05:30"))
	if _, off := got.Zone(); !ok || off != 5*3600+1800 {
		t.Fatalf("zone offset %d, want +05:30", off)
	}
}

func TestAddr(t *testing.T) {
	tests := []struct{ in, want string }{ // want "" = rejected
		{"203.0.113.10", "203.0.113.10"},
		{"0.0.0.0", "0.0.0.0"},
		{"::1", "::1"},
		{"2001:db8::8a2e:370:7334", "2001:db8::8a2e:370:7334"},
		{"2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
		{"::ffff:203.0.113.10", "203.0.113.10"},
		{"::ffff:cb00:710a", "203.0.113.10"},
		{"64:ff9b::203.0.113.10", "64:ff9b::cb00:710a"},
		{"fe80::1%eth0", "fe80::1"},
		{"::", "::"},
		{"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
		{"1::", "1::"},
		{"203.0.113.256", ""},
		{"203.0.113", ""},
		{"203.0.113.010", ""},
		{"203.0.113.10%eth0", ""},
		{"fe80::1%", ""},
		{"1:2:3:4:5:6:7:8:9", ""},
		{"1:2:3:4:5:6:7::8", ""},
		{"1::2::3", ""},
		{"12345::", ""},
		{"[::1]", ""},
		{"unix:", ""},
		{"-", ""},
		{"", ""},
	}
	for _, tc := range tests {
		got, ok := Addr([]byte(tc.in))
		if tc.want == "" {
			if ok {
				t.Errorf("Addr(%q) = %v, want rejected", tc.in, got)
			}
			continue
		}
		if want := netip.MustParseAddr(tc.want); !ok || got != want {
			t.Errorf("Addr(%q) = %v, %v; want %v", tc.in, got, ok, want)
		}
	}
}

func TestParseLimits(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Limits = Limits{MaxLine: 200, MaxField: 10}
	p := mustNew(t, cfg)
	line := func(n int) []byte {
		s := `{"time":"2026-04-27T09:25:51Z","remote_addr":"1.2.3.4","host":"`
		return []byte(s + strings.Repeat("h", n-len(s)-2) + `"}`)
	}
	var ev Event
	if err := p.Parse(line(200), &ev); err != nil {
		t.Fatalf("line of exactly MaxLine: %v", err)
	}
	if !ev.Truncated || string(ev.Host) != "hhhhhhhhhh" {
		t.Errorf("Host = %q, Truncated = %v; want 10 bytes and true", ev.Host, ev.Truncated)
	}
	if err := p.Parse(append(line(200), "\r\n"...), &ev); err != nil {
		t.Errorf("MaxLine bytes plus CRLF: %v", err)
	}
	if err := p.Parse(line(201), &ev); err != ErrLineTooLong {
		t.Errorf("line of MaxLine+1: %v, want ErrLineTooLong", err)
	}
}

// TestParseForwardedForTail checks that an oversized X-Forwarded-For keeps
// its right-most hops, which the nearest proxies wrote, and drops the entry
// cut in two.
func TestParseForwardedForTail(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Limits.MaxField = 30
	p := mustNew(t, cfg)
	var ev Event
	line := `{"time":"2026-04-27T09:25:51Z","remote_addr":"10.0.0.1","http_x_forwarded_for":"6.6.6.6, 6.6.6.6, 6.6.6.6, 6.6.6.6, 203.0.113.9, 10.0.0.2"}`
	if err := p.Parse([]byte(line), &ev); err != nil {
		t.Fatal(err)
	}
	// The last 30 bytes start exactly at an entry: it is kept.
	if got, want := string(ev.ForwardedFor), "6.6.6.6, 203.0.113.9, 10.0.0.2"; got != want || !ev.Truncated {
		t.Errorf("ForwardedFor = %q, Truncated = %v; want %q, true", got, ev.Truncated, want)
	}
	// One byte more and the cut falls inside an entry: it is dropped.
	line = strings.Replace(line, "203.0.113.9", "203.0.113.99", 1)
	if err := p.Parse([]byte(line), &ev); err != nil {
		t.Fatal(err)
	}
	if got, want := string(ev.ForwardedFor), " 203.0.113.99, 10.0.0.2"; got != want {
		t.Errorf("ForwardedFor = %q, want %q", got, want)
	}

	cfg.Limits.MaxField = 8
	p = mustNew(t, cfg)
	if err := p.Parse([]byte(`{"time":"2026-04-27T09:25:51Z","remote_addr":"10.0.0.1","http_x_forwarded_for":"xxxxxxxxxxxxxx::1"}`), &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.ForwardedFor) != 0 {
		t.Errorf("one oversized entry: ForwardedFor = %q, want empty (no whole entry fits)", ev.ForwardedFor)
	}
}

// TestParseResetsEvent checks that nothing of a previous line survives.
func TestParseResetsEvent(t *testing.T) {
	p := mustNew(t, DefaultConfig())
	var ev Event
	if err := p.Parse([]byte(plainLine), &ev); err != nil {
		t.Fatal(err)
	}
	if err := p.Parse([]byte(`{"time":"2026-04-27T09:25:51Z","remote_addr":"1.2.3.4"}`), &ev); err != nil {
		t.Fatal(err)
	}
	want := Event{Time: time.Date(2026, 4, 27, 9, 25, 51, 0, time.UTC), Remote: netip.MustParseAddr("1.2.3.4"), Client: netip.MustParseAddr("1.2.3.4")}
	if describe(&ev, nil) != describe(&want, nil) || ev.Status != 0 {
		t.Errorf("got %s\nwant %s", describe(&ev, nil), describe(&want, nil))
	}
	if err := p.Parse([]byte("{"), &ev); err != ErrSyntax || ev.Remote.IsValid() {
		t.Errorf("rejected line: err %v, Remote %v; want ErrSyntax and a cleared Event", err, ev.Remote)
	}
}

// TestParseKeyOrderChanges checks the key-order prediction against lines
// whose keys move, vanish, are escaped or unknown.
func TestParseKeyOrderChanges(t *testing.T) {
	p := mustNew(t, DefaultConfig())
	lines := []struct{ line, remote, host string }{
		{`{"remote_addr":"1.1.1.1","time":"2026-04-27T09:25:51Z","host":"a"}`, "1.1.1.1", "a"},
		{`{"host":"b","remote_addr":"2.2.2.2","time":"2026-04-27T09:25:51Z"}`, "2.2.2.2", "b"},
		{`{"remote_addr":"3.3.3.3","time":"2026-04-27T09:25:51Z","host":"c"}`, "3.3.3.3", "c"},
		{`{"remote_address":"9.9.9.9","remote_addr":"4.4.4.4","time":"2026-04-27T09:25:51Z","hostname":"x"}`, "4.4.4.4", ""},
		{`{"remote_addr\u0000":"9.9.9.9","remote\u005faddr":"5.5.5.5","time":"2026-04-27T09:25:51Z","host":"e"}`, "5.5.5.5", "e"},
		{`{"remote_addr":"6.6.6.6","time":"2026-04-27T09:25:51Z","host":"f"}`, "6.6.6.6", "f"},
	}
	for _, l := range lines {
		var ev Event
		if err := p.Parse([]byte(l.line), &ev); err != nil {
			t.Fatalf("%s: %v", l.line, err)
		}
		if ev.Remote.String() != l.remote || string(ev.Host) != l.host {
			t.Errorf("%s: remote %v host %q; want %s %q", l.line, ev.Remote, ev.Host, l.remote, l.host)
		}
	}
}

// TestCustomFields maps every field to a non-default key.
func TestCustomFields(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Fields = Fields{
		Time: []string{"@timestamp", "ts"}, RemoteAddr: "client", RequestMethod: "verb", RequestURI: "uri",
		Request: "req", Status: "code", BodyBytesSent: "size", HTTPUserAgent: "ua", HTTPReferer: "ref",
		Host: "vhost", RequestTime: "duration", HTTPXForwardedFor: "xff",
	}
	p := mustNew(t, cfg)
	var ev Event
	line := `{"ts":"1777281951","client":"2001:db8::5","verb":"PUT","uri":"/u?v","code":201,"size":7,"ua":"u","ref":"r","vhost":"h","duration":"1.5","xff":"x","remote_addr":"9.9.9.9"}`
	if err := p.Parse([]byte(line), &ev); err != nil {
		t.Fatal(err)
	}
	want := Event{Time: time.Unix(1777281951, 0), Remote: netip.MustParseAddr("2001:db8::5"), Client: netip.MustParseAddr("2001:db8::5"),
		Method: []byte("PUT"), Path: []byte("/u"), Query: []byte("v"), Status: 201, Bytes: 7, UserAgent: []byte("u"),
		Referer: []byte("r"), Host: []byte("h"), RequestTime: 1500 * time.Millisecond, ForwardedFor: []byte("x")}
	if got, w := describe(&ev, nil), describe(&want, nil); got != w {
		t.Errorf("got  %s\nwant %s", got, w)
	}
}

// TestReasons checks that every sentinel is listed once and that each
// error Parse returns is one of them.
func TestReasons(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range Reasons() {
		if seen[e.Reason] {
			t.Errorf("reason %q listed twice", e.Reason)
		}
		seen[e.Reason] = true
	}
	returned := map[string]bool{}
	for _, s := range samples {
		cfg := DefaultConfig()
		cfg.Format = s.format
		p := mustNew(t, cfg)
		for _, line := range readLines(t, s.file) {
			var ev Event
			err := p.Parse(line, &ev)
			if err == nil {
				continue
			}
			var pe *Error
			if !errors.As(err, &pe) || !slices.Contains(Reasons(), pe) {
				t.Fatalf("Parse returned %v, not one of Reasons()", err)
			}
			returned[pe.Reason] = true
		}
	}
	for _, e := range Reasons() {
		if !returned[e.Reason] {
			t.Errorf("no sample line is rejected with %q", e.Reason)
		}
	}
}
