package simulate

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// jsonLine is one line of the vigil_json log_format, decoded.
type jsonLine struct {
	Time         string  `json:"time"`
	RemoteAddr   string  `json:"remote_addr"`
	Method       string  `json:"request_method"`
	URI          string  `json:"request_uri"`
	Status       int     `json:"status"`
	Bytes        int64   `json:"body_bytes_sent"`
	RequestTime  float64 `json:"request_time"`
	UserAgent    string  `json:"http_user_agent"`
	Referer      string  `json:"http_referer"`
	Host         string  `json:"host"`
	ForwardedFor string  `json:"http_x_forwarded_for"`
}

// decodeStrict decodes one JSON line, rejecting unknown fields.
func decodeStrict(line []byte) (jsonLine, error) {
	var l jsonLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	err := dec.Decode(&l)
	return l, err
}

// asDecoded is what encoding/json makes of raw bytes: each byte of invalid
// UTF-8 becomes U+FFFD.
func asDecoded(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// checkJSONLine decodes line and compares every field with r.
func checkJSONLine(t *testing.T, line []byte, r *Record) {
	t.Helper()
	if !bytes.HasSuffix(line, []byte("\n")) || bytes.Count(line, []byte("\n")) != 1 {
		t.Fatalf("line is not exactly one newline-terminated line: %q", line)
	}
	got, err := decodeStrict(line)
	if err != nil {
		t.Fatalf("encoding/json rejects %q: %v", line, err)
	}
	want := jsonLine{
		Time:         r.Time.Format("2006-01-02T15:04:05-07:00"),
		Method:       r.Method,
		URI:          asDecoded(string(r.URI)),
		Status:       r.Status,
		Bytes:        r.Bytes,
		RequestTime:  float64(r.RequestTime.Milliseconds()) / 1000,
		UserAgent:    asDecoded(r.UserAgent),
		Referer:      asDecoded(string(r.Referer)),
		Host:         r.Host,
		ForwardedFor: r.ForwardedFor,
	}
	if r.Addr.IsValid() {
		want.RemoteAddr = r.Addr.String()
	}
	if got != want {
		t.Errorf("line %q\n got %+v\nwant %+v", line, got, want)
	}
}

func TestWriteJSON(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 4, 5, 999_000_000, time.UTC)
	base := Record{
		Time: at, Addr: netip.MustParseAddr("198.51.100.23"), Method: "GET", URI: []byte("/search?q=O%27Brien"),
		Proto: "HTTP/2.0", Status: 200, Bytes: 5120, RequestTime: 12 * time.Millisecond,
		UserAgent: "Mozilla/5.0", Referer: []byte("https://www.example.com/"), Host: "www.example.com",
	}
	tests := []struct {
		name string
		edit func(r *Record)
		want string // exact line; empty: only the decode check
	}{
		{
			name: "plain",
			edit: func(*Record) {},
			want: `{"time":"2026-11-22T10:04:05+00:00","remote_addr":"198.51.100.23","request_method":"GET","request_uri":"/search?q=O%27Brien","status":200,"body_bytes_sent":5120,"request_time":0.012,"http_user_agent":"Mozilla/5.0","http_referer":"https://www.example.com/","host":"www.example.com","http_x_forwarded_for":""}` + "\n",
		},
		{
			name: "quotes and backslashes",
			edit: func(r *Record) {
				r.URI = []byte(`/s?q=x" OR ""="&p=..\..\boot.ini`)
				r.UserAgent = `Mozilla/5.0 (compatible; "fetcher"\1.0)`
			},
			want: `{"time":"2026-11-22T10:04:05+00:00","remote_addr":"198.51.100.23","request_method":"GET","request_uri":"/s?q=x\" OR \"\"=\"&p=..\\..\\boot.ini","status":200,"body_bytes_sent":5120,"request_time":0.012,"http_user_agent":"Mozilla/5.0 (compatible; \"fetcher\"\\1.0)","http_referer":"https://www.example.com/","host":"www.example.com","http_x_forwarded_for":""}` + "\n",
		},
		{
			name: "control bytes use short forms or uppercase \\u00XX; DEL and high bytes pass through",
			edit: func(r *Record) {
				r.UserAgent = "a\tb\nc\rd\be\ff\x01g\x1fh\x7fi\xe9\xff"
			},
			want: `{"time":"2026-11-22T10:04:05+00:00","remote_addr":"198.51.100.23","request_method":"GET","request_uri":"/search?q=O%27Brien","status":200,"body_bytes_sent":5120,"request_time":0.012,"http_user_agent":"a\tb\nc\rd\be\ff\u0001g\u001Fh` + "\x7fi\xe9\xff" + `","http_referer":"https://www.example.com/","host":"www.example.com","http_x_forwarded_for":""}` + "\n",
		},
		{
			name: "missing headers are empty strings",
			edit: func(r *Record) { r.UserAgent, r.Referer = "", nil },
		},
		{
			name: "IPv6 and a zone offset",
			edit: func(r *Record) {
				r.Addr = netip.MustParseAddr("2001:db8:bad::17")
				r.Time = at.In(time.FixedZone("IST", 5*3600+1800))
				r.ForwardedFor = "203.0.113.7, 10.0.0.1"
			},
		},
		{
			name: "slow request",
			edit: func(r *Record) { r.RequestTime = 61*time.Second + 7*time.Millisecond + 900*time.Microsecond },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			tc.edit(&r)
			line := WriteJSON(nil, &r)
			if tc.want != "" && string(line) != tc.want {
				t.Errorf("WriteJSON:\n got %s\nwant %s", line, tc.want)
			}
			checkJSONLine(t, line, &r)
		})
	}
}

// combinedRE matches Nginx's stock combined format.
var combinedRE = regexp.MustCompile(`^(\S+) - (\S+) \[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "((?:[^"\\]|\\x[0-9A-F]{2})*)" (\d{3}) (\d+) "((?:[^"\\]|\\x[0-9A-F]{2})*)" "((?:[^"\\]|\\x[0-9A-F]{2})*)"$`)

func TestWriteCombined(t *testing.T) {
	at := time.Date(2026, 1, 5, 0, 3, 9, 0, time.UTC)
	base := Record{
		Time: at, Addr: netip.MustParseAddr("203.0.113.9"), Method: "POST", URI: []byte("/login"),
		Proto: "HTTP/1.1", Status: 401, Bytes: 1480, RequestTime: 210 * time.Millisecond,
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", Referer: []byte("https://www.example.com/login"), Host: "www.example.com",
	}
	tests := []struct {
		name string
		edit func(r *Record)
		want string
	}{
		{
			name: "plain",
			edit: func(*Record) {},
			want: `203.0.113.9 - - [05/Jan/2026:00:03:09 +0000] "POST /login HTTP/1.1" 401 1480 "https://www.example.com/login" "Mozilla/5.0 (X11; Linux x86_64)"`,
		},
		{
			name: "missing headers are dashes",
			edit: func(r *Record) { r.UserAgent, r.Referer = "", nil },
			want: `203.0.113.9 - - [05/Jan/2026:00:03:09 +0000] "POST /login HTTP/1.1" 401 1480 "-" "-"`,
		},
		{
			name: "default escaping",
			edit: func(r *Record) {
				r.Method, r.URI = "GET", []byte(`/s?q="><script>\x`)
				r.UserAgent = "a\tb\x7f\xe9"
			},
			want: `203.0.113.9 - - [05/Jan/2026:00:03:09 +0000] "GET /s?q=\x22><script>\x5Cx HTTP/1.1" 401 1480 "https://www.example.com/login" "a\x09b\x7F\xE9"`,
		},
		{
			name: "negative zone offset and IPv6",
			edit: func(r *Record) {
				r.Time = at.In(time.FixedZone("PST", -8*3600))
				r.Addr = netip.MustParseAddr("2a02:8108::1")
			},
			want: `2a02:8108::1 - - [04/Jan/2026:16:03:09 -0800] "POST /login HTTP/1.1" 401 1480 "https://www.example.com/login" "Mozilla/5.0 (X11; Linux x86_64)"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			tc.edit(&r)
			line := WriteCombined(nil, &r)
			if string(line) != tc.want+"\n" {
				t.Errorf("WriteCombined:\n got %s\nwant %s", line, tc.want)
			}
			if !combinedRE.Match(bytes.TrimSuffix(line, []byte("\n"))) {
				t.Errorf("line does not match the combined format: %q", line)
			}
		})
	}
}

func TestTimeFormats(t *testing.T) {
	zones := []*time.Location{
		time.UTC,
		time.FixedZone("IST", 5*3600+1800),
		time.FixedZone("NST", -(3*3600 + 1800)),
		time.FixedZone("LINT", 14*3600),
	}
	times := []time.Time{
		time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2000, 3, 1, 12, 0, 0, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2100, 2, 28, 1, 2, 3, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 22, 10, 4, 5, 0, time.UTC),
	}
	for _, loc := range zones {
		for _, ut := range times {
			tt := ut.In(loc)
			if got, want := string(appendISO8601(nil, tt)), tt.Format("2006-01-02T15:04:05-07:00"); got != want {
				t.Errorf("appendISO8601(%v) = %s, want %s", tt, got, want)
			}
			if got, want := string(appendTimeLocal(nil, tt)), tt.Format("02/Jan/2006:15:04:05 -0700"); got != want {
				t.Errorf("appendTimeLocal(%v) = %s, want %s", tt, got, want)
			}
		}
	}
	// Every day of a leap and a common year.
	for d := time.Date(2027, 1, 1, 6, 0, 0, 0, time.UTC); d.Year() < 2029; d = d.AddDate(0, 0, 1) {
		if got, want := string(appendISO8601(nil, d)), d.Format("2006-01-02T15:04:05-07:00"); got != want {
			t.Fatalf("appendISO8601(%v) = %s, want %s", d, got, want)
		}
	}
}

func TestAppendSeconds(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0.000"},
		{999 * time.Microsecond, "0.000"},
		{time.Millisecond, "0.001"},
		{12 * time.Millisecond, "0.012"},
		{120 * time.Millisecond, "0.120"},
		{1500 * time.Millisecond, "1.500"},
		{61*time.Second + 7*time.Millisecond, "61.007"},
		{-time.Second, "0.000"},
	}
	for _, tc := range tests {
		if got := string(appendSeconds(nil, tc.d)); got != tc.want {
			t.Errorf("appendSeconds(%v) = %s, want %s", tc.d, got, tc.want)
		}
	}
}

func TestAppenderFor(t *testing.T) {
	for _, f := range []string{FormatJSON, FormatCombined} {
		if _, err := AppenderFor(f); err != nil {
			t.Errorf("AppenderFor(%q): %v", f, err)
		}
	}
	if _, err := AppenderFor("ltsv"); err == nil || !strings.Contains(err.Error(), `unknown format "ltsv"`) {
		t.Errorf("AppenderFor(ltsv) error = %v, want unknown format", err)
	}
}

func TestFormatAllocs(t *testing.T) {
	r := Record{
		Time: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC), Addr: netip.MustParseAddr("2001:db8:bad::1"),
		Method: "GET", URI: []byte(`/s?q="<x>"\`), Proto: "HTTP/1.1", Status: 200, Bytes: 1,
		UserAgent: "ua\t\x01", Referer: []byte("https://www.example.com/"), Host: "www.example.com",
	}
	buf := make([]byte, 0, 4096)
	for name, f := range map[string]Appender{"WriteJSON": WriteJSON, "WriteCombined": WriteCombined} {
		if n := testing.AllocsPerRun(1000, func() { buf = f(buf[:0], &r) }); n != 0 {
			t.Errorf("%s: %v allocs per line, want 0", name, n)
		}
	}
}

// FuzzWriteJSON checks that any field content yields one valid JSON line
// that decodes back to the same values.
func FuzzWriteJSON(f *testing.F) {
	f.Add("/search?q=O'Brien", "Mozilla/5.0", "https://www.example.com/")
	f.Add(`/x?a="\`, "\x00\x01\x1f\x7f", "\xe9\xff")
	f.Add("/\u2028", "\t\n\r\b\f", `\u0041`)
	f.Fuzz(func(t *testing.T, uri, ua, ref string) {
		r := Record{
			Time: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC), Addr: netip.MustParseAddr("192.0.2.1"),
			Method: "GET", URI: []byte(uri), Status: 200, UserAgent: ua, Referer: []byte(ref), Host: "h",
		}
		checkJSONLine(t, WriteJSON(nil, &r), &r)
		line := bytes.TrimSuffix(WriteCombined(nil, &r), []byte("\n"))
		if !combinedRE.Match(line) {
			t.Errorf("combined line does not match the format: %q", line)
		}
	})
}
