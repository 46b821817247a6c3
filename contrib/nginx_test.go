package contrib_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/parse"
	"github.com/vigil-sec/vigil/internal/replay"
)

// logFormatKeys returns the JSON keys and Nginx variables of the vigil_json
// log_format, in order.
func logFormatKeys(t *testing.T) (keys, vars []string) {
	t.Helper()
	conf := string(readRepoFile(t, "contrib", "nginx", "vigil-log-format.conf"))
	if !strings.Contains(conf, "log_format vigil_json escape=json") {
		t.Fatal("vigil-log-format.conf: no `log_format vigil_json escape=json`")
	}
	start := strings.Index(conf, "log_format vigil_json")
	end := strings.Index(conf[start:], "';")
	if end < 0 {
		t.Fatal("vigil-log-format.conf: log_format vigil_json does not end with ';")
	}
	for _, m := range regexp.MustCompile(`"(\w+)":"\$(\w+)"`).FindAllStringSubmatch(conf[start:start+end], -1) {
		keys = append(keys, m[1])
		vars = append(vars, m[2])
	}
	return keys, vars
}

// TestLogFormatMatchesParserDefaults checks that the log_format writes the
// keys vigil's parser reads by default, so no source.fields mapping is
// needed.
func TestLogFormatMatchesParserDefaults(t *testing.T) {
	keys, vars := logFormatKeys(t)
	want := map[string]string{
		"time": "time_iso8601", "remote_addr": "remote_addr", "request_method": "request_method",
		"request_uri": "request_uri", "status": "status", "body_bytes_sent": "body_bytes_sent",
		"request_time": "request_time", "http_user_agent": "http_user_agent", "http_referer": "http_referer",
		"host": "host", "http_x_forwarded_for": "http_x_forwarded_for",
	}
	got := map[string]string{}
	for i, k := range keys {
		got[k] = vars[i]
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("log_format key %q holds $%s, want $%s", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("log_format has keys %v, want exactly %v", keys, sortedKeys(want))
	}

	f := parse.DefaultFields()
	configured := map[string]bool{f.RemoteAddr: true, f.RequestMethod: true, f.RequestURI: true, f.Status: true,
		f.BodyBytesSent: true, f.HTTPUserAgent: true, f.HTTPReferer: true, f.Host: true, f.RequestTime: true,
		f.HTTPXForwardedFor: true}
	for _, k := range f.Time {
		configured[k] = true
	}
	for _, k := range keys {
		if !configured[k] {
			t.Errorf("log_format key %q is not one of the parser's default keys", k)
		}
	}
}

// hostileRequest is a raw HTTP request and what its User-Agent must read
// back as after the round trip through Nginx and vigil's parser.
type hostileRequest struct {
	name string
	raw  string
	ua   string // expected Event.UserAgent; "" = not checked
	path string // expected Event.Path; "" = not checked
}

var hostileRequests = []hostileRequest{
	{name: "quotes backslashes controls utf8",
		raw: "GET /q\"u\\ote?a=\"b\"&c=\\x22 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: evil \"agent\" \\ \x01\x1b[31m\t\xc3\xa9 \xf0\x9f\x98\x80 end\r\nReferer: http://ex.com/?r=\"\\\"\r\nConnection: close\r\n\r\n",
		ua:  "evil \"agent\" \\ \x01\x1b[31m\t\xc3\xa9 \xf0\x9f\x98\x80 end", path: "/q\"u\\ote"},
	{name: "invalid utf8",
		raw: "GET /caf\xc3\xa9/\xff HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bad \xff\xfe \xc3 bytes\r\nConnection: close\r\n\r\n",
		ua:  "bad \xff\xfe \xc3 bytes", path: "/caf\xc3\xa9/\xff"},
	{name: "shellshock",
		raw: "GET /cgi-bin/x HTTP/1.1\r\nHost: localhost\r\nUser-Agent: () { :; }; /bin/bash -c \"id\"\r\nX-Forwarded-For: \"203.0.113.9\", [2001:db8::7]:443\r\nConnection: close\r\n\r\n",
		ua:  "() { :; }; /bin/bash -c \"id\""},
	{name: "long user agent", // longer than source.limits.max_field: cut, not rejected
		raw: "GET /long HTTP/1.1\r\nHost: localhost\r\nUser-Agent: " + strings.Repeat("A", 6000) + "\r\nConnection: close\r\n\r\n"},
	{name: "garbage request line", raw: "HELLO\r\n\r\n"},
	{name: "http/0.9", raw: "GET /old\r\n"},
	{name: "absolute uri", raw: "GET http://evil.example/proxy HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"},
	{name: "tls handshake on plain http", raw: "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x5e\x8f\x22\x5c\x00\x01\x02 garbage\r\n\r\n"},
}

// TestNginxLogFormatParses runs a real Nginx with the shipped log_format on
// loopback, sends normal and hostile requests, and checks that vigil's
// parser accepts every line Nginx wrote, with the hostile bytes intact, and
// that the replay of the log with contrib/vigil.yaml rejects nothing.
func TestNginxLogFormatParses(t *testing.T) {
	nginx := requireTool(t, "nginx", true, "apt-get install nginx-light")
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.json")
	snippet := strings.Replace(string(readRepoFile(t, "contrib", "nginx", "vigil-log-format.conf")),
		"access_log /var/log/nginx/access.json vigil_json;", "access_log "+logPath+" vigil_json;", 1)
	if !strings.Contains(snippet, logPath) {
		t.Fatal("vigil-log-format.conf: no `access_log /var/log/nginx/access.json vigil_json;` line")
	}
	writeFile(t, filepath.Join(dir, "vigil-log-format.conf"), snippet)

	port := freePort(t)
	conf := fmt.Sprintf(`worker_processes 1;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/vigil-log-format.conf;
    server {
        listen 127.0.0.1:%[2]d;
        server_name localhost;
        location / { return 200 "ok\n"; }
        location = /missing { return 404; }
    }
}
`, dir, port)
	writeFile(t, filepath.Join(dir, "nginx.conf"), conf)
	if out, err := runTool(t, dir, nil, nginx, "-t", "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", filepath.Join(dir, "nginx.conf")); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, nginx, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", filepath.Join(dir, "nginx.conf"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGQUIT) // graceful: finish and flush
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cancel()
			<-done
		}
	}
	defer stop()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitListening(t, addr, &stderr)

	client := &http.Client{Timeout: 10 * time.Second}
	sent := 0
	for _, r := range []struct{ path, ua, xff string }{
		{"/", "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0", ""},
		{"/index.html?utm_source=news&id=42", "Mozilla/5.0", ""},
		{"/search?q=%27+OR+1%3D1--", "sqlmap/1.8#stable (https://sqlmap.org)", ""},
		{"/..%2f..%2fetc/passwd", "curl/8.5.0", ""},
		{"/missing", "Mozilla/5.0", "203.0.113.7, 198.51.100.2"},
		{"/no-ua", "", ""},
	} {
		req, err := http.NewRequest(http.MethodGet, "http://"+addr+r.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("User-Agent", r.ua)
		if r.xff != "" {
			req.Header.Set("X-Forwarded-For", r.xff)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", r.path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		sent++
	}
	for _, r := range hostileRequests {
		rawRequest(t, addr, r.raw)
		sent++
	}
	lines := waitLines(t, logPath, sent)
	stop()

	p, err := parse.New(parse.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var ev parse.Event
	uas := map[string]bool{}
	paths := map[string]bool{}
	for i, line := range lines {
		ev.Reset()
		if err := p.Parse(line, &ev); err != nil {
			t.Errorf("line %d rejected (%v): %q", i+1, err, line)
			continue
		}
		if !ev.Remote.IsLoopback() || ev.Time.IsZero() {
			t.Errorf("line %d: remote %v time %v, want 127.0.0.1 and a time", i+1, ev.Remote, ev.Time)
		}
		uas[string(ev.UserAgent)] = true
		paths[string(ev.Path)] = true
	}
	for _, r := range hostileRequests {
		if r.ua != "" && !uas[r.ua] {
			t.Errorf("%s: no event with User-Agent %q", r.name, r.ua)
		}
		if r.path != "" && !paths[r.path] {
			t.Errorf("%s: no event with path %q", r.name, r.path)
		}
	}

	// The same log through the whole replay pipeline with the example
	// configuration.
	cfg, err := config.Load(config.Sources{File: repoPath(t, "contrib", "vigil.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := replay.Run(context.Background(), replay.Options{Config: cfg, Files: []string{logPath},
		Output: replay.OutputDecisions, Out: io.Discard, Shards: 1})
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if sum.Lines != uint64(len(lines)) {
		t.Errorf("replay read %d lines, the log has %d", sum.Lines, len(lines))
	}
	for reason, n := range sum.Rejected {
		if n > 0 {
			t.Errorf("replay rejected %d lines: %s", n, reason)
		}
	}
}

// writeFile writes content to path.
func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitListening polls addr until it accepts a connection.
func waitListening(t testing.TB, addr string, log *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s after 30s: %v\n%s", addr, err, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rawRequest sends raw bytes to addr and reads until the server closes the
// connection (or a read deadline passes, for requests it keeps open).
func rawRequest(t testing.TB, addr, raw string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, c)
}

// waitLines polls path until it holds at least n complete lines and returns
// them.
func waitLines(t testing.TB, path string, n int) [][]byte {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var lines [][]byte
		if b, err := os.ReadFile(path); err == nil {
			sc := bufio.NewScanner(bytes.NewReader(b))
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				lines = append(lines, append([]byte(nil), sc.Bytes()...))
			}
		}
		if len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d lines after 30s, want %d", path, len(lines), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
