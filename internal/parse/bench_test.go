package parse

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// A plain line in vigil's format (466 bytes), a line with escapes of every
// kind, and the same request with Nginx's default \xHH escaping.
const (
	plainLine = `{"time":"2026-04-27T09:25:51+00:00","remote_addr":"203.0.113.10","request_method":"GET",` +
		`"request_uri":"/api/v1/products/8841?ref=home&sort=price","request":"GET /api/v1/products/8841?ref=home&sort=price HTTP/1.1",` +
		`"status":"200","body_bytes_sent":"5123","http_user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",` +
		`"http_referer":"https://shop.example.com/","host":"shop.example.com","request_time":"0.012","http_x_forwarded_for":""}`
	escapedLine = `{"time":"2026-04-27T09:25:51+00:00","remote_addr":"203.0.113.10","request_method":"GET",` +
		`"request_uri":"/search?q=\"1\"+OR+\\x27a\\x27","request":"GET /search?q=\"1\"+OR+\\x27a\\x27 HTTP/1.1",` +
		`"status":"200","body_bytes_sent":"612","http_user_agent":"Mozilla\/5.0 \"quoted\" \\ \u001b[31m\t\u00e9 \ud83d\ude00",` +
		`"http_referer":"https:\/\/example.com\/?r=\"x\"","host":"example.com","request_time":"0.004","http_x_forwarded_for":""}`
	defaultEscapedLine = `{"time":"2026-04-27T09:25:51+00:00","remote_addr":"203.0.113.10","request_method":"GET",` +
		`"request_uri":"/search?q=\x221\x22+OR+\x5Cx27a","request":"GET /search?q=\x221\x22+OR+\x5Cx27a HTTP/1.1",` +
		`"status":"200","body_bytes_sent":"612","http_user_agent":"Mozilla/5.0 \x22quoted\x22 \x5C \x1B[31m\x09\xC3\xA9",` +
		`"http_referer":"https://example.com/?r=\x22x\x22","host":"example.com","request_time":"0.004","http_x_forwarded_for":""}`
	combinedLine = `203.0.113.10 - - [27/Apr/2026:09:25:51 +0000] "GET /api/v1/products/8841?ref=home&sort=price HTTP/1.1" 200 5123 ` +
		`"https://shop.example.com/" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"`
	combinedEscapedLine = `203.0.113.10 - - [27/Apr/2026:09:25:51 +0000] "GET /search?q=\x221\x22+OR+\x5Cx27a HTTP/1.1" 200 612 ` +
		`"https://example.com/?r=\x22x\x22" "Mozilla/5.0 \x22quoted\x22 \x5C \x1B[31m\x09\xC3\xA9" "198.51.100.7, 10.0.0.2"`
)

// corpus returns n distinct, realistic lines in the given format: varied
// clients (IPv4 and IPv6), paths, queries, agents and statuses, the time
// advancing one second every few lines, about one line in twenty with
// escapes (quotes or non-ASCII in the user agent or query) and one in ten
// behind a proxy. It is deterministic.
func corpus(format Format, n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	methods := []string{"GET", "GET", "GET", "GET", "POST", "HEAD", "PUT", "DELETE"}
	paths := []string{"/", "/index.html", "/api/v1/products/%d", "/api/v1/cart", "/static/js/app.%d.js", "/static/css/site.css",
		"/images/p/%d.jpg", "/login", "/account/orders/%d", "/search", "/blog/2026/04/post-%d", "/favicon.ico", "/robots.txt",
		"/wp-login.php", "/.env", "/product/%d/reviews"}
	queries := []string{"", "", "", "ref=home", "q=shoes&page=%d", "id=%d", "utm_source=newsletter&utm_medium=email&utm_campaign=spring%d", "sort=price&dir=asc"}
	agents := []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"curl/8.5.0", "python-requests/2.32.3", "",
	}
	statuses := []int{200, 200, 200, 200, 200, 200, 304, 301, 404, 404, 403, 500, 502}
	base := time.Date(2026, 4, 27, 9, 0, 0, 0, time.UTC)

	lines := make([][]byte, 0, n)
	for i := range n {
		var addr netip.Addr
		if r.IntN(8) == 0 {
			addr = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(r.IntN(256)), 0, 0, byte(r.IntN(16)), 0, 0, 0, 0, 0, 0, byte(r.IntN(256)), byte(r.IntN(256))})
		} else {
			addr = netip.AddrFrom4([4]byte{byte(1 + r.IntN(223)), byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + r.IntN(254))})
		}
		path := paths[r.IntN(len(paths))]
		if strings.Contains(path, "%d") {
			path = fmt.Sprintf(path, r.IntN(100000))
		}
		query := queries[r.IntN(len(queries))]
		if strings.Contains(query, "%d") {
			query = fmt.Sprintf(query, r.IntN(1000))
		}
		ua := agents[r.IntN(len(agents))]
		escaped := r.IntN(20) == 0
		if escaped {
			ua += ` "x" é`
			query += `&q="a"`
		}
		uri := path
		if query != "" {
			uri += "?" + query
		}
		method := methods[r.IntN(len(methods))]
		status := statuses[r.IntN(len(statuses))]
		size := r.IntN(60000)
		xff := ""
		if r.IntN(10) == 0 {
			xff = fmt.Sprintf("198.51.100.%d, 10.0.%d.%d", r.IntN(255), r.IntN(255), r.IntN(255))
		}
		at := base.Add(time.Duration(i/4) * time.Second)
		var line string
		switch format {
		case FormatCombined:
			line = fmt.Sprintf(`%s - - [%s] "%s" %d %d "%s" "%s" "%s"`, addr, at.Format("02/Jan/2006:15:04:05 -0700"),
				nginxEscape(method+" "+uri+" HTTP/1.1"), status, size, "https://shop.example.com/", orDash(nginxEscape(ua)), orDash(xff))
		default:
			line = fmt.Sprintf(`{"time":"%s","remote_addr":"%s","request_method":"%s","request_uri":"%s","request":"%s",`+
				`"status":"%d","body_bytes_sent":"%d","http_user_agent":"%s","http_referer":"%s","host":"shop.example.com",`+
				`"request_time":"0.%03d","http_x_forwarded_for":"%s"}`,
				at.Format(time.RFC3339), addr, method, jsonEscape(uri), jsonEscape(method+" "+uri+" HTTP/1.1"),
				status, size, jsonEscape(ua), "https://shop.example.com/", r.IntN(1000), xff)
		}
		lines = append(lines, []byte(line))
	}
	return lines
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// jsonEscape escapes like Nginx's escape=json: '"', '\' and control bytes.
func jsonEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func benchLines(b *testing.B, cfg Config, lines [][]byte) {
	p := mustNew(b, cfg)
	var ev Event
	total := 0
	for _, l := range lines {
		if err := p.Parse(l, &ev); err != nil {
			b.Fatalf("%v: %s", err, l)
		}
		total += len(l)
	}
	b.SetBytes(int64(total / len(lines)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = p.Parse(lines[i], &ev)
		if i++; i == len(lines) {
			i = 0
		}
	}
}

func BenchmarkParseJSON(b *testing.B) {
	cfg := DefaultConfig()
	b.Run("plain", func(b *testing.B) { benchLines(b, cfg, [][]byte{[]byte(plainLine)}) })
	b.Run("escaped", func(b *testing.B) { benchLines(b, cfg, [][]byte{[]byte(escapedLine)}) })
	b.Run("default-escaping", func(b *testing.B) { benchLines(b, cfg, [][]byte{[]byte(defaultEscapedLine)}) })
	b.Run("mixed", func(b *testing.B) { benchLines(b, cfg, corpus(FormatJSON, 1024)) })
}

func BenchmarkParseCombined(b *testing.B) {
	cfg := combinedConfig()
	b.Run("plain", func(b *testing.B) { benchLines(b, cfg, [][]byte{[]byte(combinedLine)}) })
	b.Run("escaped", func(b *testing.B) { benchLines(b, cfg, [][]byte{[]byte(combinedEscapedLine)}) })
	b.Run("mixed", func(b *testing.B) { benchLines(b, cfg, corpus(FormatCombined, 1024)) })
}

func BenchmarkAddr(b *testing.B) {
	for _, s := range []string{"203.0.113.10", "2001:db8:85a3::8a2e:370:7334", "::ffff:203.0.113.10"} {
		in := []byte(s)
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Addr(in)
			}
		})
	}
}
