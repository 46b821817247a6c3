package detect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/parse"
)

// builtinBenignRows is realistic benign traffic for when the corpus is absent.
var builtinBenignRows = []corpusRow{
	{"builtin", "benign", "uri", "/"},
	{"builtin", "benign", "uri", "/index.html"},
	{"builtin", "benign", "uri", "/static/css/main.3f9a1c.css"},
	{"builtin", "benign", "uri", "/static/js/app.min.js?v=20240101"},
	{"builtin", "benign", "uri", "/images/logo@2x.png"},
	{"builtin", "benign", "uri", "/blog/2024/05/how-we-scaled-postgres"},
	{"builtin", "benign", "uri", "/search?q=red+running+shoes&page=2"},
	{"builtin", "benign", "uri", "/search?q=O%27Brien%20family%20history"},
	{"builtin", "benign", "uri", "/products?category=shoes&sort=price_asc&size=42"},
	{"builtin", "benign", "uri", "/api/v1/users/1234/orders?limit=20&offset=40"},
	{"builtin", "benign", "uri", "/login?next=%2Faccount%2Fsettings"},
	{"builtin", "benign", "uri", "/feed.xml"},
	{"builtin", "benign", "uri", "/favicon.ico"},
	{"builtin", "benign", "uri", "/docs/getting-started?utm_source=newsletter&utm_medium=email&utm_campaign=may"},
	{"builtin", "benign", "ua", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"},
	{"builtin", "benign", "ua", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"},
	{"builtin", "benign", "ua", "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"},
	{"builtin", "benign", "ua", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
	{"builtin", "benign", "ua", "curl/8.5.0"},
}

// benchRows returns the corpus rows of the given kind (attack or benign), or
// the built-in benign set when the corpus is absent (nil for attacks).
func benchRows(b *testing.B, attack bool) []corpusRow {
	dir, ok := corpusDir()
	if !ok {
		if attack {
			b.Skip("evaluation corpus not found (set VIGIL_CORPUS)")
		}
		return builtinBenignRows
	}
	name := "benign.tsv"
	if attack {
		name = "attacks.tsv"
	}
	return readCorpusFile(b, filepath.Join(dir, name))
}

func benchInspect(b *testing.B, rows []corpusRow) {
	c, err := NewContent(DefaultContentConfig())
	if err != nil {
		b.Fatal(err)
	}
	evs := make([]*parse.Event, len(rows))
	for i, r := range rows {
		evs[i] = r.event()
	}
	dst := make([]Match, 0, 16)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dst = c.Inspect(evs[i%len(evs)], dst[:0])
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkContentBenign measures Inspect on realistic benign traffic: the
// corpus' benign rows (uri rows with a browser User-Agent, ua rows for "/").
func BenchmarkContentBenign(b *testing.B) { benchInspect(b, benchRows(b, false)) }

// BenchmarkContentAttack measures Inspect on the attack corpus.
func BenchmarkContentAttack(b *testing.B) { benchInspect(b, benchRows(b, true)) }

func mustContent(t testing.TB, cfg ContentConfig) *Content {
	t.Helper()
	c, err := NewContent(cfg)
	if err != nil {
		t.Fatalf("NewContent: %v", err)
	}
	return c
}

func uriEvent(uri, ua string) *parse.Event {
	path, query, _ := strings.Cut(uri, "?")
	return &parse.Event{Method: []byte("GET"), Path: []byte(path), Query: []byte(query), UserAgent: []byte(ua)}
}

func rulesOf(ms []Match) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Rule)
	}
	return out
}

// TestInspectAllocs proves the hot path: clean requests allocate nothing,
// and reports what attack requests cost.
func TestInspectAllocs(t *testing.T) {
	c := mustContent(t, DefaultContentConfig())
	clean := []*parse.Event{
		uriEvent("/", browserUA),
		uriEvent("/static/js/app.min.js?v=20240101", browserUA),
		uriEvent("/search?q=red+running+shoes&page=2", browserUA),
		uriEvent("/search?q=O%27Brien%20family", browserUA),
		uriEvent("/api/v1/users/1234/orders?limit=20&offset=40&sort=-created_at", "python-requests/2.31.0"),
		uriEvent("/docs/getting-started?utm_source=newsletter&utm_medium=email", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
		{Method: []byte("GET"), Path: []byte("/a/b"), Query: []byte("x=1"), UserAgent: []byte(browserUA), Referer: []byte("https://www.example.com/search?q=vigil%20daemon")},
	}
	dst := make([]Match, 0, 16)
	for _, ev := range clean {
		n := testing.AllocsPerRun(200, func() { dst = c.Inspect(ev, dst[:0]) })
		if len(dst) != 0 {
			t.Fatalf("clean request %s?%s matched %v", ev.Path, ev.Query, rulesOf(dst))
		}
		if n != 0 {
			t.Errorf("Inspect(%s?%s): %v allocs, want 0", ev.Path, ev.Query, n)
		}
	}
	attacks := []*parse.Event{
		uriEvent("/index.php?id=1%27%20or%20%271%27%3D%271", browserUA),
		uriEvent("/search?q=%3Cscript%3Ealert(1)%3C/script%3E", browserUA),
		uriEvent("/static/..%2f..%2f..%2fetc/passwd", browserUA),
		uriEvent("/ping?host=127.0.0.1%3Bcat%20/etc/passwd", browserUA),
		uriEvent("/.env", "sqlmap/1.7.8#stable (https://sqlmap.org)"),
	}
	for _, ev := range attacks {
		n := testing.AllocsPerRun(100, func() { dst = c.Inspect(ev, dst[:0]) })
		if len(dst) == 0 {
			t.Fatalf("attack %s?%s not detected", ev.Path, ev.Query)
		}
		t.Logf("attack %s?%s: %v allocs/op, rules %v", ev.Path, ev.Query, n, rulesOf(dst))
	}
}

func TestContentConfigValidate(t *testing.T) {
	dir := t.TempDir()
	badFile := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badFile, []byte("rules:\n  - id: x\n    class: sqli\n    severity: critical\n    pattern: '('\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mod  func(*ContentConfig)
		want []string // substrings of the error; none means valid
	}{
		{"default", func(*ContentConfig) {}, nil},
		{"modes", func(c *ContentConfig) {
			c.Signature.Mode, c.UserAgent.Mode, c.Probe.Mode = "loud", "x", ""
		}, []string{`signature.mode: must be one of enforce, alert, off (got "loud")`, "useragent.mode:", "probe.mode:"}},
		{"bad inline rule", func(c *ContentConfig) {
			c.Signature.Rules = []SignatureRule{
				{ID: "ok", Class: ClassSQLi, Severity: "critical", Pattern: "a", Contains: []string{"a"}},
				{ID: "my-rule", Class: "weird", Severity: "huge", Fields: []string{"body"}, Pattern: "(", View: "raw"},
			}
		}, []string{"signature.rules[1].pattern: error parsing regexp", "signature.rules[1].class:", "signature.rules[1].severity:",
			"signature.rules[1].fields[0]:", "signature.rules[1].view:"}},
		{"duplicate id", func(c *ContentConfig) {
			c.Signature.Rules = []SignatureRule{{ID: "sqli-union-select", Class: ClassSQLi, Severity: "critical", Pattern: "x"}}
		}, []string{`signature.rules[0].id: duplicate rule id "sqli-union-select"`}},
		{"unknown disable and override", func(c *ContentConfig) {
			c.Signature.Disable = []string{"sqli-union-select", "nope"}
			c.Signature.Override = map[string]RuleOverride{"gone": {Severity: "notice"}, "xss-script-tag": {Severity: "loud", Mode: "maybe"}}
		}, []string{`signature.disable[1]: unknown rule id "nope"`, `signature.override.gone: unknown rule id`,
			"signature.override.xss-script-tag.severity:", "signature.override.xss-script-tag.mode:"}},
		{"rules file", func(c *ContentConfig) { c.Signature.RulesFile = badFile }, []string{"signature.rules_file: " + badFile + ": rules[0].pattern: error parsing regexp"}},
		{"missing rules file", func(c *ContentConfig) { c.Signature.RulesFile = filepath.Join(dir, "none.yaml") }, []string{"signature.rules_file: open"}},
		{"useragent", func(c *ContentConfig) {
			c.UserAgent.MaxLength = 0
			c.UserAgent.Allow = []string{""}
		}, []string{"useragent.max_length: must be > 0 (got 0)", "useragent.allow[0]: must not be empty"}},
		{"probe", func(c *ContentConfig) {
			c.Probe.AllowPaths = []string{"wp-admin"}
			c.Probe.ExtraPaths = []string{"a/b"}
		}, []string{`probe.allow_paths[0]: must start with / (got "wp-admin")`, "probe.extra_paths[0]:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultContentConfig()
			tc.mod(&cfg)
			err := cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want errors %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
			if _, nerr := NewContent(cfg); nerr == nil {
				t.Errorf("NewContent accepted an invalid config")
			}
		})
	}
}

func TestContentModes(t *testing.T) {
	ev := uriEvent("/.git/config?id=1%27%20or%20%271%27%3D%271", "sqlmap/1.7")
	detectors := func(ms []Match) map[string]bool {
		out := map[string]bool{}
		for _, m := range ms {
			out[m.Detector] = true
		}
		return out
	}
	all := detectors(mustContent(t, DefaultContentConfig()).Inspect(ev, nil))
	for _, d := range []string{DetectorSignature, DetectorUserAgent, DetectorProbe} {
		if !all[d] {
			t.Fatalf("default config: detector %s did not match %v", d, all)
		}
	}
	for _, off := range []string{DetectorSignature, DetectorUserAgent, DetectorProbe} {
		cfg := DefaultContentConfig()
		switch off {
		case DetectorSignature:
			cfg.Signature.Mode = ModeOff
		case DetectorUserAgent:
			cfg.UserAgent.Mode = ModeOff
		case DetectorProbe:
			cfg.Probe.Mode = ModeOff
		}
		got := detectors(mustContent(t, cfg).Inspect(ev, nil))
		if got[off] || len(got) != 2 {
			t.Errorf("%s off: detectors %v", off, got)
		}
	}

	cfg := DefaultContentConfig()
	cfg.Signature.Mode = ModeAlert
	cfg.Signature.Override = map[string]RuleOverride{"sqli-tautology": {Mode: ModeEnforce, Severity: "warning"}}
	cfg.UserAgent.Mode = ModeAlert
	c := mustContent(t, cfg)
	for _, m := range c.Inspect(ev, nil) {
		want := ModeEnforce
		switch {
		case m.Rule == "sqli-tautology":
			if m.Severity != SeverityWarning {
				t.Errorf("override severity: %v", m.Severity)
			}
		case m.Detector == DetectorSignature || m.Detector == DetectorUserAgent:
			want = ModeAlert
		}
		if got := c.ModeOf(m); got != want {
			t.Errorf("ModeOf(%s/%s) = %s, want %s", m.Detector, m.Rule, got, want)
		}
	}
	if got := c.ModeOf(Match{Detector: "rate"}); got != ModeOff {
		t.Errorf("ModeOf(foreign) = %s, want off", got)
	}
}

func TestSignatureDisableAndExtraRules(t *testing.T) {
	ev := uriEvent("/search?q=union+select+1,2,3", browserUA)
	base := rulesOf(mustContent(t, DefaultContentConfig()).Inspect(ev, nil))
	if !strings.Contains(strings.Join(base, " "), "sqli-union-select") {
		t.Fatalf("default: %v, want sqli-union-select", base)
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "extra.yaml")
	if err := os.WriteFile(file, []byte(`rules:
  - id: site-internal-token
    class: other
    severity: error
    fields: [query]
    contains: ["internal_token"]
    pattern: '^internal_token='
    description: the legacy token parameter is never sent by our clients
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultContentConfig()
	cfg.Signature.Disable = []string{"sqli-union-select", "sqli-libinjection", "sqli-database-objects"}
	cfg.Signature.RulesFile = file
	cfg.Signature.Rules = []SignatureRule{{ID: "site-beta", Class: ClassOther, Severity: "notice", Fields: []string{"path"},
		Contains: []string{"/beta/"}, Pattern: `^/beta/`}}
	c := mustContent(t, cfg)
	if got := rulesOf(c.Inspect(ev, nil)); strings.Contains(strings.Join(got, " "), "sqli-union-select") {
		t.Errorf("disabled rule still matches: %v", got)
	}
	got := c.Inspect(uriEvent("/beta/x?internal_token=abc", browserUA), nil)
	if len(got) != 2 || got[0].Rule != "site-internal-token" || got[1].Rule != "site-beta" || got[1].Severity != SeverityNotice || got[0].Field != FieldQuery {
		t.Errorf("extra rules: %+v", got)
	}
}

func TestNewContentIndependent(t *testing.T) {
	// Two detectors side by side share nothing mutable.
	cfg := DefaultContentConfig()
	cfg.Probe.ExtraPaths = []string{"secret-dir"}
	a := mustContent(t, cfg)
	b := mustContent(t, DefaultContentConfig())
	ev := uriEvent("/secret-dir/x", browserUA)
	if len(a.Inspect(ev, nil)) != 1 || len(b.Inspect(ev, nil)) != 0 {
		t.Errorf("extra_paths leaked between detectors")
	}
}
