package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/vigil-sec/vigil/internal/baseline"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/respond"
)

// TestAuthMatrix checks who may change state: over TCP only with the
// configured token; over the control socket always. Reads need no token.
func TestAuthMatrix(t *testing.T) {
	type transport int
	const (
		tcp transport = iota
		sock
	)
	tests := []struct {
		name     string
		token    string // configured
		via      transport
		header   string // Authorization header sent ("" none)
		wantCode int
		wantErr  string
	}{
		{name: "tcp/no token configured/none sent", via: tcp, wantCode: 403, wantErr: msgNoToken},
		{name: "tcp/no token configured/one sent", via: tcp, header: "Bearer " + testToken, wantCode: 403, wantErr: msgNoToken},
		{name: "tcp/token/missing", token: testToken, via: tcp, wantCode: 401, wantErr: msgBadToken},
		{name: "tcp/token/wrong", token: testToken, via: tcp, header: "Bearer wrong-token-0123456789abc", wantCode: 401, wantErr: msgBadToken},
		{name: "tcp/token/prefix of right", token: testToken, via: tcp, header: "Bearer " + testToken[:20], wantCode: 401, wantErr: msgBadToken},
		{name: "tcp/token/not bearer", token: testToken, via: tcp, header: "Basic " + testToken, wantCode: 401, wantErr: msgBadToken},
		{name: "tcp/token/right", token: testToken, via: tcp, header: "Bearer " + testToken, wantCode: 201},
		{name: "tcp/token/right, scheme in lower case", token: testToken, via: tcp, header: "bearer " + testToken, wantCode: 201},
		{name: "socket/no token configured", via: sock, wantCode: 201},
		{name: "socket/token configured/none sent", token: testToken, via: sock, wantCode: 201},
		{name: "socket/token configured/wrong sent", token: testToken, via: sock, header: "Bearer nope", wantCode: 201},
	}
	envs := map[string]*env{}
	for _, tok := range []string{"", testToken} {
		sp := socketPath(t)
		e := newEnv(t, Config{Listen: "127.0.0.1:0", Token: tok}, func(o *Options) { o.SocketPath = sp })
		e.run(t)
		envs[tok] = e
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := envs[tc.token]
			c, base := httpClient(), e.tcpURL()
			if tc.via == sock {
				c, base = unixClient(e.sock), "http://vigil"
			}
			var hdr []string
			if tc.header != "" {
				hdr = append(hdr, "Authorization: "+tc.header)
			}
			ip := fmt.Sprintf("203.0.113.%d", i+1)
			r := do(t, c, "POST", base+"/api/v1/bans", `{"ip":"`+ip+`","duration":"1h"}`, hdr...)
			if r.code != tc.wantCode {
				t.Fatalf("POST /api/v1/bans = %d %s, want %d", r.code, r.body, tc.wantCode)
			}
			banned := false
			for _, b := range e.resp.Bans() {
				banned = banned || b.Prefix.Addr().String() == ip
			}
			if banned != (tc.wantCode == 201) {
				t.Errorf("ban of %s applied = %v after status %d", ip, banned, r.code)
			}
			if tc.wantErr != "" {
				if got := errorOf(t, r); got != tc.wantErr {
					t.Errorf("error = %q, want %q", got, tc.wantErr)
				}
			}
			if r.code == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			// The same credentials (or none) apply to every mutation...
			r = do(t, c, "DELETE", base+"/api/v1/bans?ip="+ip, "", hdr...)
			if want := map[int]int{201: 200}[tc.wantCode]; want != 0 && r.code != want || want == 0 && r.code != tc.wantCode {
				t.Errorf("DELETE /api/v1/bans = %d %s (POST gave %d)", r.code, r.body, tc.wantCode)
			}
			// ... and reads need none.
			if r := do(t, c, "GET", base+"/api/v1/bans", ""); r.code != 200 {
				t.Errorf("GET /api/v1/bans = %d %s, want 200", r.code, r.body)
			}
		})
	}
	for _, e := range envs {
		if strings.Contains(e.logs.String(), testToken) {
			t.Error("the token appears in the logs")
		}
	}
}

// TestBanListUnban drives the control-socket client through a ban's life.
func TestBanListUnban(t *testing.T) {
	sp := socketPath(t)
	e := newEnv(t, Config{}, func(o *Options) { o.SocketPath = sp })
	e.run(t)
	c := NewClient(sp)
	ctx := context.Background()

	dec, err := c.Ban(ctx, "203.0.113.7", time.Hour, "credential stuffing from a known botnet")
	if err != nil {
		t.Fatal(err)
	}
	if dec.Action != "ban" || dec.IP != "203.0.113.7" || dec.Duration != "1h0m0s" || !dec.Until.Equal(t0.Add(time.Hour)) ||
		dec.Detector != "manual" || !dec.Manual || dec.Offense != 1 || dec.Reason != "credential stuffing from a known botnet" {
		t.Errorf("ban decision = %+v", dec)
	}
	dec, err = c.Ban(ctx, "2001:db8:1::/64", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if dec.Duration != respond.Permanent || !dec.Until.IsZero() || dec.Reason != "banned by an operator" {
		t.Errorf("permanent ban decision = %+v", dec)
	}

	e.clk.Advance(10 * time.Minute)
	bans, err := c.Bans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(bans) != 2 {
		t.Fatalf("Bans() = %+v, want 2", bans)
	}
	b := bans[0]
	if b.IP != "203.0.113.7" || b.Prefix.String() != "203.0.113.7/32" || b.Permanent || b.Remaining != "50m0s" ||
		b.RemainingSeconds != 3000 || !b.Since.Equal(t0) || !b.Until.Equal(t0.Add(time.Hour)) || !b.Manual ||
		b.Evidence != nil || b.Detector != "manual" {
		t.Errorf("first ban = %+v", b)
	}
	if b := bans[1]; b.IP != "2001:db8:1::/64" || !b.Permanent || b.Remaining != "" || !b.Until.IsZero() {
		t.Errorf("second ban = %+v", b)
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.BansActive != 2 || st.BansShadow != 0 {
		t.Errorf("status bans = %d active, %d shadow; want 2, 0", st.BansActive, st.BansShadow)
	}

	dec, err = c.Unban(ctx, "203.0.113.7", "false positive", false)
	if err != nil {
		t.Fatal(err)
	}
	if dec.Action != "unban" || dec.IP != "203.0.113.7" || dec.Reason != "false positive" || !dec.Manual {
		t.Errorf("unban decision = %+v", dec)
	}
	if bans, _ = c.Bans(ctx); len(bans) != 1 || bans[0].IP != "2001:db8:1::/64" {
		t.Errorf("after unban, Bans() = %+v", bans)
	}
	// Offenses are remembered unless forgotten: the next ban is offense 2.
	if dec, err = c.Ban(ctx, "203.0.113.7", time.Minute, ""); err != nil || dec.Offense != 2 {
		t.Errorf("second ban = %+v, %v; want offense 2", dec, err)
	}
	if _, err = c.Unban(ctx, "203.0.113.7", "", true); err != nil {
		t.Fatal(err)
	}
	if dec, err = c.Ban(ctx, "203.0.113.7", time.Minute, ""); err != nil || dec.Offense != 1 {
		t.Errorf("ban after a forgetting unban = %+v, %v; want offense 1", dec, err)
	}

	_, err = c.Unban(ctx, "198.51.100.1", "", false)
	var ae *APIError
	if !errors.Is(err, respond.ErrNotBanned) || !errors.As(err, &ae) || ae.StatusCode != 404 || ae.Message != "198.51.100.1 is not banned" {
		t.Errorf("unban of an unbanned address: %v", err)
	}
	_, err = c.Ban(ctx, "192.0.2.10", time.Hour, "")
	if !errors.Is(err, respond.ErrProtected) || !errors.As(err, &ae) || ae.StatusCode != 409 ||
		!strings.Contains(ae.Message, "192.0.2.10 is protected") {
		t.Errorf("ban of an allowlisted address: %v", err)
	}
	_, err = c.Ban(ctx, "203.0.113.300", time.Hour, "")
	if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), `"203.0.113.300"`) {
		t.Errorf("ban of an invalid address: %v", err)
	}
	if !strings.Contains(e.logs.String(), "manual ban") || !strings.Contains(e.logs.String(), "via=socket") {
		t.Errorf("manual bans are not logged with their origin:\n%s", e.logs.String())
	}
}

// TestInvalidRequests checks that bad input gets a 4xx naming the problem
// and changes nothing.
func TestInvalidRequests(t *testing.T) {
	e := newEnv(t, Config{Listen: "127.0.0.1:9750"}, nil)
	ts := httptest.NewServer(e.srv.Handler(true))
	defer ts.Close()
	if _, err := e.resp.Ban(t0, mustPrefix("198.51.100.9"), time.Hour, "seed"); err != nil {
		t.Fatal(err)
	}
	big := `{"ip":"203.0.113.1","duration":"1h","reason":"` + strings.Repeat("x", 5000) + `"}`
	tests := []struct {
		name, method, path, body string
		wantCode                 int
		wantErr                  string
	}{
		{"bad address", "POST", "/api/v1/bans", `{"ip":"203.0.113.256","duration":"1h"}`, 400, `ip: "203.0.113.256" is not an IP address or CIDR prefix`},
		{"host bits", "POST", "/api/v1/bans", `{"ip":"203.0.113.9/24","duration":"1h"}`, 400, "did you mean 203.0.113.0/24?"},
		{"too broad", "POST", "/api/v1/bans", `{"ip":"0.0.0.0/0","duration":"1h"}`, 400, "is too broad"},
		{"missing address", "POST", "/api/v1/bans", `{"duration":"1h"}`, 400, "ip: missing address"},
		{"bad duration", "POST", "/api/v1/bans", `{"ip":"203.0.113.1","duration":"1 hour"}`, 400, `duration: must be a duration of at least 1s, such as "1h", or "permanent" (got "1 hour")`},
		{"missing duration", "POST", "/api/v1/bans", `{"ip":"203.0.113.1"}`, 400, "duration: missing"},
		{"number as duration", "POST", "/api/v1/bans", `{"ip":"203.0.113.1","duration":3600}`, 400, `body: field "duration": must be a JSON string`},
		{"unknown field", "POST", "/api/v1/bans", `{"ip":"203.0.113.1","duration":"1h","ttl":"2h"}`, 400, `body: unknown field "ttl"`},
		{"trailing data", "POST", "/api/v1/bans", `{"ip":"203.0.113.1","duration":"1h"} {}`, 400, "body: unexpected data after the JSON object"},
		{"not json", "POST", "/api/v1/bans", `ip=203.0.113.1`, 400, "body: invalid JSON"},
		{"truncated json", "POST", "/api/v1/bans", `{"ip":"203.0.113.1"`, 400, "body: invalid JSON"},
		{"empty body", "POST", "/api/v1/bans", ``, 400, "body: empty; expected a JSON object"},
		{"body too large", "POST", "/api/v1/bans", big, 413, "body: larger than 4096 bytes"},
		{"reason too long", "POST", "/api/v1/bans", `{"ip":"203.0.113.1","duration":"1h","reason":"` + strings.Repeat("r", 300) + `"}`, 400, "reason: at most 256 bytes (got 300)"},
		{"unban body with duration", "POST", "/api/v1/unban", `{"ip":"198.51.100.9","duration":"1h"}`, 400, `body: unknown field "duration"`},
		{"unban bad address", "DELETE", "/api/v1/bans?ip=nope", "", 400, `ip: "nope" is not an IP address`},
		{"unban no address", "DELETE", "/api/v1/bans", "", 400, "ip: missing address"},
		{"unban bad forget", "DELETE", "/api/v1/bans?ip=198.51.100.9&forget=maybe", "", 400, `forget: must be true or false (got "maybe")`},
		{"unban not banned", "DELETE", "/api/v1/bans?ip=198.51.100.10", "", 404, "198.51.100.10 is not banned"},
		{"ban protected", "POST", "/api/v1/bans", `{"ip":"192.0.2.1","duration":"permanent"}`, 409, "192.0.2.1 is protected: it is in the allowlist or trusted_proxies"},
		{"findings limit zero", "GET", "/api/v1/findings?limit=0", "", 400, "limit: must be a whole number from 1 to 1000"},
		{"findings limit text", "GET", "/api/v1/findings?limit=ten", "", 400, `(got "ten")`},
		{"wrong method", "PUT", "/api/v1/bans", `{}`, 405, "method PUT not allowed; use DELETE or GET or POST"},
		{"unknown endpoint", "GET", "/api/v2/bans", "", 404, "no such endpoint: /api/v2/bans"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, httpClient(), tc.method, ts.URL+tc.path, tc.body)
			if r.code != tc.wantCode {
				t.Fatalf("%s %s = %d %s, want %d", tc.method, tc.path, r.code, r.body, tc.wantCode)
			}
			if got := errorOf(t, r); !strings.Contains(got, tc.wantErr) {
				t.Errorf("error = %q, want it to contain %q", got, tc.wantErr)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if bans := e.resp.Bans(); len(bans) != 1 || bans[0].Prefix != mustPrefix("198.51.100.9") {
				t.Errorf("bans changed: %+v", bans)
			}
		})
	}
	if r := do(t, httpClient(), "PUT", ts.URL+"/api/v1/bans", "{}"); r.header.Get("Allow") != "DELETE, GET, POST" {
		t.Errorf("Allow = %q", r.header.Get("Allow"))
	}
}

// TestHeadersAndHost checks the headers every response carries and the
// DNS-rebinding guard of a loopback listener.
func TestHeadersAndHost(t *testing.T) {
	e := newEnv(t, Config{Listen: "127.0.0.1:9750", Token: testToken}, nil)
	ts := httptest.NewServer(e.srv.Handler(false))
	defer ts.Close()
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/api/v1/status", "/api/v1/bans", "/api/v1/alerts", "/api/v1/findings", "/nope"} {
		r := do(t, httpClient(), "GET", ts.URL+path, "")
		if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: headers %v lack nosniff / no-store", path, r.header)
		}
		if strings.HasPrefix(path, "/api/") && r.header.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s: Content-Type %q", path, r.header.Get("Content-Type"))
		}
	}
	if r := do(t, httpClient(), "HEAD", ts.URL+"/healthz", ""); r.code != 200 {
		t.Errorf("HEAD /healthz = %d", r.code)
	}
	hosts := []struct {
		host string
		want int
	}{
		{"localhost:9750", 200},
		{"127.0.0.1:9750", 200},
		{"[::1]:9750", 200},
		{"attacker.example:9750", 403},
		{"127.0.0.1.nip.io", 403},
	}
	for _, h := range hosts {
		r := do(t, httpClient(), "GET", ts.URL+"/api/v1/bans", "", "Host: "+h.host)
		if r.code != h.want {
			t.Errorf("Host %s: %d %s, want %d", h.host, r.code, r.body, h.want)
		}
	}
	// A foreign Host is refused before the token is even looked at.
	r := do(t, httpClient(), "POST", ts.URL+"/api/v1/bans", `{"ip":"203.0.113.1","duration":"1h"}`,
		"Host: attacker.example", "Authorization: Bearer "+testToken)
	if r.code != 403 || len(e.resp.Bans()) != 0 {
		t.Errorf("mutation with a foreign Host: %d %s", r.code, r.body)
	}
	// A listener beyond loopback serves any Host (it sits behind its own
	// access control).
	e2 := newEnv(t, Config{Listen: "0.0.0.0:9750"}, nil)
	ts2 := httptest.NewServer(e2.srv.Handler(false))
	defer ts2.Close()
	if r := do(t, httpClient(), "GET", ts2.URL+"/api/v1/status", "", "Host: vigil.example"); r.code != 200 {
		t.Errorf("non-loopback listener, Host vigil.example: %d", r.code)
	}
}

// TestHostileStringsStayJSON checks that attacker-controlled strings leave
// the API as escaped JSON data, never as markup or raw control characters.
func TestHostileStringsStayJSON(t *testing.T) {
	e := newEnv(t, Config{}, nil)
	ts := httptest.NewServer(e.srv.Handler(true))
	defer ts.Close()
	path := "/<script>alert(1)</script>\n\"quoted\"\x1b[31m\u2028"
	ua := `</script><img src=x onerror=alert(document.cookie)>`
	e.findings.Add(&detect.Finding{Time: t0, Seq: 7, Client: mustPrefix("203.0.113.5").Addr(), Detector: "signature",
		Rule: "xss-libinjection", Class: detect.ClassXSS, Severity: detect.SeverityCritical, Action: detect.ActionBan,
		Reason: "XSS in path " + path, Request: &detect.Request{Method: "GET", Path: path, UserAgent: ua, Status: 404}})
	if _, err := e.resp.Ban(t0, mustPrefix("203.0.113.6"), time.Hour, "<b>bold</b> & \"more\"\n"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/api/v1/findings", "/api/v1/bans", "/api/v1/<script>"} {
		r := do(t, httpClient(), "GET", ts.URL+p, "")
		if !json.Valid([]byte(r.body)) {
			t.Errorf("GET %s: invalid JSON %q", p, r.body)
		}
		for _, bad := range []string{"<script", "<img", "<b>", "\x1b", "\u2028", "&"} {
			if strings.Contains(r.body, bad) {
				t.Errorf("GET %s: body contains %q raw: %s", p, bad, r.body)
			}
		}
		if strings.Count(r.body, "\n") != 1 {
			t.Errorf("GET %s: body has raw newlines inside strings: %q", p, r.body)
		}
	}
	r := do(t, httpClient(), "GET", ts.URL+"/api/v1/findings", "")
	var got []struct {
		Reason  string          `json:"reason"`
		Request *detect.Request `json:"request"`
	}
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Request.Path != path || got[0].Request.UserAgent != ua || got[0].Reason != "XSS in path "+path {
		t.Errorf("hostile strings did not round-trip: %+v", got)
	}
}

func TestFindingsEndpoint(t *testing.T) {
	e := newEnv(t, Config{}, func(o *Options) { o.Findings = NewFindingLog(1500) })
	ts := httptest.NewServer(e.srv.Handler(true))
	defer ts.Close()
	for i := 1; i <= 1200; i++ {
		e.srv.o.Findings.Add(&detect.Finding{Time: t0.Add(time.Duration(i) * time.Second), Seq: uint64(i), Detector: "probe", Rule: "env-file"})
	}
	tests := []struct {
		query      string
		wantN      int
		wantFirstT time.Time
	}{
		{"", 100, t0.Add(1200 * time.Second)},
		{"?limit=3", 3, t0.Add(1200 * time.Second)},
		{"?limit=1000", 1000, t0.Add(1200 * time.Second)},
		{"?limit=5000", 1000, t0.Add(1200 * time.Second)},
	}
	for _, tc := range tests {
		r := do(t, httpClient(), "GET", ts.URL+"/api/v1/findings"+tc.query, "")
		var got []struct {
			Time time.Time `json:"time"`
		}
		if err := json.Unmarshal([]byte(r.body), &got); err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		if len(got) != tc.wantN || !got[0].Time.Equal(tc.wantFirstT) {
			t.Fatalf("findings%s: %d, first %v; want %d, first %v", tc.query, len(got), got[0].Time, tc.wantN, tc.wantFirstT)
		}
		for i := 1; i < len(got); i++ {
			if !got[i].Time.Before(got[i-1].Time) {
				t.Fatalf("findings%s not newest first at %d", tc.query, i)
			}
		}
	}
	// Without a log the list is empty, not null.
	e2 := newEnv(t, Config{}, func(o *Options) { o.Findings = nil })
	ts2 := httptest.NewServer(e2.srv.Handler(true))
	defer ts2.Close()
	if r := do(t, httpClient(), "GET", ts2.URL+"/api/v1/findings", ""); strings.TrimSpace(r.body) != "[]" {
		t.Errorf("findings without a log = %q, want []", r.body)
	}
}

func TestStatus(t *testing.T) {
	snap := &engine.Snapshot{Wall: t0.Add(-2 * time.Second), At: t0.Add(-3 * time.Second), Lines: 1000, Events: 990,
		Rejected: map[string]uint64{"malformed": 9, "no_client": 1}, Late: 4, Future: 2, GlobalRate: 12.345678,
		Baseline: &baseline.Snapshot{At: t0.Add(-time.Minute), Minutes: 240,
			Global: baseline.Stats{Mean: 10.5, Stddev: 2.25, ErrorRate: 0.05, Samples: 14400, Source: "rolling"},
			Client: baseline.Stats{Mean: 30, Stddev: 12, ErrorRate: 0.04, Samples: 9000, Source: "hour_slot"}},
		Alerts:  detect.AlertStats{Count: 3, Active: true, Max: 5*time.Minute + 400*time.Millisecond, Avg: 150 * time.Second},
		Tracked: 42, Lag: time.Second}
	tests := []struct {
		name     string
		snap     *engine.Snapshot
		mode     func() string
		wantMode string
	}{
		{name: "enforcing", snap: snap, wantMode: "enforcing"},
		{name: "learning", snap: learning(snap), wantMode: "learning"},
		{name: "no snapshot yet", wantMode: "starting"},
		{name: "mode from the daemon", snap: snap, mode: func() string { return "shadow" }, wantMode: "shadow"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{}, func(o *Options) { o.Mode = tc.mode })
			e.snap.Store(tc.snap)
			if _, err := e.resp.Ban(t0, mustPrefix("203.0.113.1"), time.Hour, ""); err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(e.srv.Handler(true))
			defer ts.Close()
			r := do(t, httpClient(), "GET", ts.URL+"/api/v1/status", "")
			var st StatusResponse
			if err := json.Unmarshal([]byte(r.body), &st); err != nil {
				t.Fatal(err)
			}
			if st.Mode != tc.wantMode || st.Version != "1.2.3-test" || st.Uptime != "1h0m0s" || st.UptimeSeconds != 3600 ||
				!st.StartTime.Equal(t0.Add(-time.Hour)) || !st.Ready || st.BansActive != 1 {
				t.Errorf("status = %+v", st)
			}
			if tc.snap == nil {
				if st.Baseline != nil || st.Lines != 0 || !st.EventTime.IsZero() || st.Alerts.Count != 0 || st.Rejected == nil {
					t.Errorf("status without a snapshot = %+v", st)
				}
				if !strings.Contains(r.body, `"baseline":null`) || strings.Contains(r.body, "event_time") {
					t.Errorf("status without a snapshot: %s", r.body)
				}
				return
			}
			if !st.EventTime.Equal(t0.Add(-3*time.Second)) || st.Lag != "3s" || st.LagSeconds != 3 ||
				st.Lines != 1000 || st.Requests != 990 || st.Rejected["malformed"] != 9 || st.Rejected["no_client"] != 1 ||
				st.Late != 4 || st.Future != 2 || st.GlobalRPS != 12.3457 || st.TrackedClients != 42 {
				t.Errorf("status traffic = %+v", st)
			}
			if b := st.Baseline; b == nil || b.Global.Mean != 10.5 || b.Global.Stddev != 2.25 || b.Global.ErrorRate != 0.05 ||
				b.Global.Source != "rolling" || b.Client.Mean != 30 || b.Client.Source != "hour_slot" || b.Minutes != 240 {
				t.Errorf("status baseline = %+v", st.Baseline)
			}
			want := AlertSummary{Count: 3, Active: true, MaxDuration: "5m0s", MaxDurationSeconds: 300, AvgDuration: "2m30s", AvgDurationSeconds: 150}
			if st.Alerts != want {
				t.Errorf("status alerts = %+v, want %+v", st.Alerts, want)
			}
		})
	}
}

func learning(s *engine.Snapshot) *engine.Snapshot {
	c := *s
	b := *s.Baseline
	b.Learning = true
	c.Baseline = &b
	return &c
}

func TestAlertsEndpoint(t *testing.T) {
	e := newEnv(t, Config{}, nil)
	ts := httptest.NewServer(e.srv.Handler(true))
	defer ts.Close()
	at := t0.Add(-5 * time.Second)
	e.snap.Store(&engine.Snapshot{At: at, Alerts: detect.AlertStats{Count: 2, Active: true, Max: 5 * time.Minute, Avg: 5 * time.Minute,
		Recent: []detect.Alert{
			{Start: at.Add(-30 * time.Minute), End: at.Add(-25 * time.Minute), Condition: "zscore", Peak: 180, Threshold: 60, Mean: 20, Stddev: 8},
			{Start: at.Add(-2 * time.Minute), Condition: "multiplier", Peak: 400.5, Threshold: 100, Mean: 20, Stddev: 8},
		}}})
	r := do(t, httpClient(), "GET", ts.URL+"/api/v1/alerts", "")
	var got AlertsResponse
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Count != 2 || !got.Active || got.MaxDuration != "5m0s" || got.AvgDurationSeconds != 300 || len(got.Alerts) != 2 {
		t.Fatalf("alerts = %+v", got)
	}
	if a := got.Alerts[0]; a.Ongoing || a.Duration != "5m0s" || a.Condition != "zscore" || a.Peak != 180 || !a.End.Equal(at.Add(-25*time.Minute)) {
		t.Errorf("finished alert = %+v", a)
	}
	if a := got.Alerts[1]; !a.Ongoing || a.Duration != "2m0s" || a.DurationSeconds != 120 || !a.End.IsZero() || a.Peak != 400.5 {
		t.Errorf("ongoing alert = %+v", a)
	}
	if !strings.Contains(r.body, `"peak_rps":400.5`) || strings.Contains(r.body, `"end":"0001`) {
		t.Errorf("alerts body: %s", r.body)
	}
	// No snapshot: an empty list.
	e.snap.Store(nil)
	r = do(t, httpClient(), "GET", ts.URL+"/api/v1/alerts", "")
	if !strings.Contains(r.body, `"alerts":[]`) || !strings.Contains(r.body, `"count":0`) {
		t.Errorf("alerts without a snapshot: %s", r.body)
	}
}

func TestReadyzFlip(t *testing.T) {
	e := newEnv(t, Config{}, nil)
	ts := httptest.NewServer(e.srv.Handler(false))
	defer ts.Close()
	e.ready.Store(false)
	if r := do(t, httpClient(), "GET", ts.URL+"/readyz", ""); r.code != 503 || !strings.HasPrefix(r.body, "not ready: ") {
		t.Errorf("readyz while not ready = %d %q", r.code, r.body)
	}
	if r := do(t, httpClient(), "GET", ts.URL+"/healthz", ""); r.code != 200 || r.body != "ok\n" {
		t.Errorf("healthz while not ready = %d %q, want 200 ok", r.code, r.body)
	}
	r := do(t, httpClient(), "GET", ts.URL+"/api/v1/status", "")
	if !strings.Contains(r.body, `"ready":false`) {
		t.Errorf("status while not ready: %s", r.body)
	}
	e.ready.Store(true)
	if r := do(t, httpClient(), "GET", ts.URL+"/readyz", ""); r.code != 200 || r.body != "ready\n" {
		t.Errorf("readyz when ready = %d %q", r.code, r.body)
	}
	// No Ready function: always ready.
	e2 := newEnv(t, Config{}, func(o *Options) { o.Ready = nil })
	ts2 := httptest.NewServer(e2.srv.Handler(false))
	defer ts2.Close()
	if r := do(t, httpClient(), "GET", ts2.URL+"/readyz", ""); r.code != 200 {
		t.Errorf("readyz without a Ready function = %d", r.code)
	}
}

func TestReload(t *testing.T) {
	tests := []struct {
		name     string
		reload   func() error
		local    bool
		wantCode int
		wantBody string
	}{
		{name: "ok", reload: func() error { return nil }, local: true, wantCode: 200, wantBody: `{"status":"reloaded"}`},
		{name: "fails", reload: func() error { return errors.New("detect.rate.zscore: must be > 0") }, local: true,
			wantCode: 500, wantBody: `{"error":"reload: detect.rate.zscore: must be \u003e 0"}`},
		{name: "unsupported", local: true, wantCode: 501, wantBody: `{"error":"this process cannot reload its configuration"}`},
		{name: "tcp without token", reload: func() error { return nil }, wantCode: 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			e := newEnv(t, Config{Listen: "127.0.0.1:9750"}, func(o *Options) {
				o.Reload = nil
				if tc.reload != nil {
					o.Reload = func() error { calls++; return tc.reload() }
				}
			})
			ts := httptest.NewServer(e.srv.Handler(tc.local))
			defer ts.Close()
			r := do(t, httpClient(), "POST", ts.URL+"/api/v1/reload", "")
			if r.code != tc.wantCode || tc.wantBody != "" && strings.TrimSpace(r.body) != tc.wantBody {
				t.Errorf("POST /api/v1/reload = %d %s, want %d %s", r.code, r.body, tc.wantCode, tc.wantBody)
			}
			if wantCalls := map[bool]int{true: 1}[tc.reload != nil && tc.wantCode != 403]; calls != wantCalls {
				t.Errorf("Reload called %d times, want %d", calls, wantCalls)
			}
		})
	}
}

// TestMetrics serves real collectors and, when promtool is available,
// checks the exposition with it. Client addresses never become labels.
func TestMetrics(t *testing.T) {
	e := newEnv(t, Config{}, nil)
	e.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_test_lines_total", Help: "Lines read in the test."})
	e.reg.MustRegister(c)
	c.Add(3)
	ts := httptest.NewServer(e.srv.Handler(true))
	defer ts.Close()
	if r := do(t, httpClient(), "POST", ts.URL+"/api/v1/bans", `{"ip":"203.0.113.77","duration":"1h"}`); r.code != 201 {
		t.Fatalf("ban: %d %s", r.code, r.body)
	}
	do(t, httpClient(), "GET", ts.URL+"/api/v1/status", "")
	r := do(t, httpClient(), "GET", ts.URL+"/metrics", "")
	if r.code != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics = %d %s", r.code, r.header.Get("Content-Type"))
	}
	for _, want := range []string{"vigil_test_lines_total 3", "go_goroutines ", "process_start_time_seconds ",
		`vigil_api_requests_total{code="201",handler="bans"} 1`, `vigil_api_requests_total{code="200",handler="status"} 1`,
		`vigil_bans_active 1`, `vigil_api_auth_denied_total{reason="bad_token"} 0`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(r.body, "203.0.113.77") {
		t.Error("a client address appears in the metrics")
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not found on PATH (CI=true: install the prometheus package)")
		}
		t.Skip("promtool not found on PATH; skipping the exposition check")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(r.body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	// Without a Gatherer there is no /metrics.
	e2 := newEnv(t, Config{}, func(o *Options) { o.Gatherer = nil })
	ts2 := httptest.NewServer(e2.srv.Handler(true))
	defer ts2.Close()
	if r := do(t, httpClient(), "GET", ts2.URL+"/metrics", ""); r.code != 404 {
		t.Errorf("GET /metrics without a Gatherer = %d, want 404", r.code)
	}
}

func TestNoBanner(t *testing.T) {
	e := newEnv(t, Config{}, func(o *Options) { o.Bans = nil })
	ts := httptest.NewServer(e.srv.Handler(true))
	defer ts.Close()
	for _, m := range []string{"GET", "POST"} {
		r := do(t, httpClient(), m, ts.URL+"/api/v1/bans", `{"ip":"203.0.113.1","duration":"1h"}`)
		if r.code != 503 {
			t.Errorf("%s /api/v1/bans without a Banner = %d, want 503", m, r.code)
		}
	}
	if r := do(t, httpClient(), "GET", ts.URL+"/api/v1/status", ""); r.code != 200 || !strings.Contains(r.body, `"bans_active":0`) {
		t.Errorf("status without a Banner = %d %s", r.code, r.body)
	}
}
