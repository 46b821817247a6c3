package detect

import (
	"strings"
	"testing"
)

func TestUserAgent(t *testing.T) {
	tests := []struct {
		ua    string
		rule  string // "" = no match
		class Class
	}{
		{"sqlmap/1.8.3#stable (https://sqlmap.org)", "ua-sqlmap", ClassScannerUA},
		{"Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000001)", "ua-nikto", ClassScannerUA},
		{"Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)", "ua-nmap", ClassScannerUA},
		{"MASSCAN/1.3", "ua-masscan", ClassScannerUA},
		{"Mozilla/5.0 zgrab/0.x", "ua-zgrab", ClassScannerUA},
		{"Fuzz Faster U Fool v2.1.0", "ua-ffuf", ClassScannerUA},
		{"Mozilla/4.0 (Hydra)", "ua-hydra", ClassScannerUA},
		{"Nuclei - Open-source project (github.com/projectdiscovery/nuclei)", "ua-nuclei", ClassScannerUA},
		{"Mozilla/5.0 (l9scan/2.0; +https://github.com/LeakIX/l9scan)", "ua-leakix", ClassScannerUA},
		{"httpx - Open-source project (github.com/projectdiscovery/httpx)", "ua-httpx", ClassScannerUA},
		{"dirb/2.22", "ua-dirb", ClassScannerUA},
		{"", "ua-empty", ClassBadUA},
		{"-", "ua-empty", ClassBadUA},
		{"Mozilla/5.0\x00\x01", "ua-control", ClassBadUA},
		{"Mozilla/5.0 (X11)\r\nX-Injected: 1", "ua-control", ClassBadUA},
		{strings.Repeat("A", 1025), "ua-too-long", ClassBadUA},
		{"12345", "ua-garbage", ClassBadUA},
		{"()", "ua-garbage", ClassBadUA},
		// Not attack tools.
		{browserUA, "", ""},
		{"python-httpx/0.25.2", "", ""},
		{"Mozilla/5.0 (Linux; Android 4.0.3; Vega Build/IML74K) AppleWebKit/535.19", "", ""},
		{"Mozilla/5.0 (Linux; U; Android 4.0.4; en-us; SAMSUNG GT-l9500 Build/IMM76L)", "", ""},
		{"Baidu-YunGuanCe-ScanBot(ce.baidu.com)", "", ""},
		{"curl/8.4.0", "", ""},
		{"Mozilla/5.0 (compatible; Dirbot/1.0)", "", ""},
		{"Hydration-Monitor/2.0", "", ""},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "", ""},
		{"Go-http-client/2.0", "", ""},
	}
	c := mustContent(t, DefaultContentConfig())
	for _, tc := range tests {
		ms := c.Inspect(ua(tc.ua), nil)
		var got []Match
		for _, m := range ms {
			if m.Detector == DetectorUserAgent {
				got = append(got, m)
			}
		}
		switch {
		case tc.rule == "" && len(got) != 0:
			t.Errorf("%q: matched %v, want nothing", tc.ua, rulesOf(got))
		case tc.rule != "" && (len(got) != 1 || got[0].Rule != tc.rule || got[0].Class != tc.class):
			t.Errorf("%q: got %+v, want one %s (%s)", tc.ua, got, tc.rule, tc.class)
		case len(got) == 1:
			want := SeverityCritical
			if tc.class == ClassBadUA {
				want = SeverityNotice
			}
			if got[0].Severity != want || got[0].Field != FieldUserAgent {
				t.Errorf("%q: severity %s field %s", tc.ua, got[0].Severity, got[0].Field)
			}
		}
	}
}

func TestUserAgentAllowAndExtra(t *testing.T) {
	cfg := DefaultContentConfig()
	cfg.UserAgent.Allow = []string{"Acme-Monitor", "nuclei (acme"}
	cfg.UserAgent.Extra = []string{"EvilBot"}
	c := mustContent(t, cfg)
	tests := []struct{ ua, rule string }{
		{"acme-monitor/1.0 (nikto-compatible)", ""},
		{"Nuclei (Acme weekly scan)", ""},
		{"nuclei", "ua-nuclei"},
		{"Mozilla/5.0 (compatible; EVILBOT/2)", "ua-custom"},
		{"sqlmap/1.0 evilbot", "ua-sqlmap"},
	}
	for _, tc := range tests {
		got := rulesOf(c.Inspect(ua(tc.ua), nil))
		if (tc.rule == "" && len(got) != 0) || (tc.rule != "" && (len(got) != 1 || got[0] != tc.rule)) {
			t.Errorf("%q: %v, want %q", tc.ua, got, tc.rule)
		}
	}
}
