package detect

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/parse"
)

func TestDecodeFull(t *testing.T) {
	tests := []struct {
		name string
		in   string
		form bool
		want string
	}{
		{"plain", "/index.html", false, "/index.html"},
		{"single", "%3Cscript%3E", false, "<script>"},
		{"lower hex", "%3cscript%3e", false, "<script>"},
		{"double", "%253Cscript%253E", false, "<script>"},
		{"triple", "%25253C", false, "<"},
		{"four levels stop at three rounds", "%2525253C", false, "%3C"},
		{"plus is space in forms", "a+b%2Bc", true, "a b+c"},
		{"plus kept in paths", "a+b", false, "a+b"},
		{"plus from a later round is kept", "%2B", true, "+"},
		{"iis %u", "%u003Cscript%u003E", false, "<script>"},
		{"%u full-width dot", "%uff0e%uff0e%u2215etc", false, "../etc"},
		{"overlong 2-byte slash", "..%c0%af..%c0%afetc", false, "../../etc"},
		{"overlong 3-byte slash", "..%e0%80%afetc", false, "../etc"},
		{"overlong 4-byte dot", "%f0%80%80%ae", false, "."},
		{"overlong 5-byte dot", "%f8%80%80%80%ae", false, "."},
		{"lax overlong dot", "%c0%ee%c0%ee", false, ".."},
		{"overlong backslash", "..%c1%9c", false, `..\`},
		{"double-encoded overlong", "%25c0%25ae%25c0%25ae%2f", false, "../"},
		{"full-width utf-8", "\uff1cscript\uff1e", false, "<script>"},
		{"nested digits", "%%32%66etc", false, "/etc"},
		{"nul removed", "file.php%00.png", false, "file.php.png"},
		{"raw nul removed", "a\x00b", false, "ab"},
		{"malformed escapes kept", "%zz%4%", false, "%zz%4%"},
		{"valid utf-8 kept", "caf%C3%A9", false, "café"},
		{"lone latin-1 letter kept", "%E9t%E9", false, "\xe9t\xe9"},
		{"circled letters", "ⓛⓞⓒⓐⓛⓗⓞⓢⓣ", false, "localhost"},
		{"ideographic full stop", "169。254", false, "169.254"},
	}
	var d decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := d.decodeFull(nil, []byte(tc.in), tc.form)
			if string(got) != tc.want {
				t.Errorf("decodeFull(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestDecodeFullFlags(t *testing.T) {
	var d decoder
	if _, f := d.decodeFull(nil, []byte("a%00b"), false); f&flagNUL == 0 {
		t.Error("NUL not flagged")
	}
	if _, f := d.decodeFull(nil, []byte("%252e"), false); f&flagMultiEncoded == 0 {
		t.Error("double encoding not flagged")
	}
	if _, f := d.decodeFull(nil, []byte("%2e"), false); f != 0 {
		t.Errorf("single encoding flagged %b", f)
	}
}

func TestAppendText(t *testing.T) {
	tests := []struct {
		in, want string
		comment  bool
	}{
		{"Hello World", "hello world", false},
		{"&lt;script&gt;", "<script>", false},
		{"&LT;b&GT;", "<b>", false},
		{"&#x3c;&#X3C;&#60;&#0000060", "<<<<", false},
		{"&#106;avascript&colon;", "javascript:", false},
		{"&unknown; &amp &", "&unknown; &amp &", false},
		{`\x3cscript\u003e`, "<script>", false},
		{"UNION/**/SELECT", "union select", true},
		{"/*!50000UNION*/ /*!SELECT*/", " union   select ", true},
		{"1 /* open", "1  ", true},
		{"a\vb\fc", "a b c", false},
		{"&#0;x", "x", false},
	}
	for _, tc := range tests {
		got, comment := appendText(nil, []byte(tc.in))
		if string(got) != tc.want || comment != tc.comment {
			t.Errorf("appendText(%q) = %q, %v; want %q, %v", tc.in, got, comment, tc.want, tc.comment)
		}
	}
}

func TestAppendCmdline(t *testing.T) {
	tests := []struct{ in, want string }{
		{"; cat /etc/passwd", ";cat /etc/passwd"},
		{"c'a't /e\"t\"c/pa\\ss^wd", "cat /etc/passwd"},
		{"c$@at /et$*c/pas$?swd", "cat /etc/passwd"},
		{"cat${ifs}/etc/passwd", "cat /etc/passwd"},
		{"cat$ifs/etc/passwd", "cat /etc/passwd"},
		{"who``ami", "whoami"},
		{"pi$()ng 127.0.0.1", "ping 127.0.0.1"},
		{"x\nid", "x;id"},
		{`x\nid`, "x;id"},
		{"a  |  b", "a|b"},
		{"cat+/etc/passwd", "cat /etc/passwd"},
		{"chmod +x evil", "chmod +x evil"},
		{"$( whoami )", "$(whoami)"},
	}
	for _, tc := range tests {
		if got := string(appendCmdline(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("appendCmdline(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAppendCanonicalPath(t *testing.T) {
	tests := []struct {
		in, want string
		dotdot   bool
	}{
		{"/", "/", false},
		{"", "/", false},
		{"/Index.HTML", "/index.html", false},
		{"//a///b/", "/a/b/", false},
		{"/a/./b/.", "/a/b", false},
		{"/a/b/../c", "/a/c", true},
		{"/../../etc/passwd", "/etc/passwd", true},
		{`\a\..\b\c`, "/b/c", true},
		{"/a/..;/b", "/b", true},
		{"/app;jsessionid=ABC/.env", "/app/.env", false},
		{"/x/y/..", "/x", true},
		{"/.git/../.git/config", "/.git/config", true},
	}
	for _, tc := range tests {
		got, dd := appendCanonicalPath(nil, []byte(tc.in))
		if string(got) != tc.want || dd != tc.dotdot {
			t.Errorf("appendCanonicalPath(%q) = %q, %v; want %q, %v", tc.in, got, dd, tc.want, tc.dotdot)
		}
	}
}

func TestRequestViewsQuery(t *testing.T) {
	var v requestViews
	v.init()
	ev := &parse.Event{Query: []byte("a=1&&b=%3Cx%3E+y&flag&=v&c=%26amp%3B%3D")}
	v.reset(ev)
	text := v.text(fiQuery)
	var params []string
	for _, s := range v.tspans {
		params = append(params, string(text[s.lo:s.hi]))
	}
	want := []string{"a=1", "b=<x> y", "flag=", "=v", "c=&="}
	if strings.Join(params, "|") != strings.Join(want, "|") {
		t.Errorf("params %q, want %q", params, want)
	}
	if bytes.Count(text, []byte{0}) != len(want)-1 {
		t.Errorf("text view %q: want NUL separators", text)
	}
	var decoded []string
	v.eachDecoded(fiQuery, func(b []byte) bool { decoded = append(decoded, string(b)); return false })
	if got := strings.Join(decoded, "|"); got != "a|1|b|<x> y|flag|||v|c|&amp;=" {
		t.Errorf("decoded keys and values %q", got)
	}

	// The span table is bounded: the rest of an absurd query stays in the
	// last parameter.
	long := strings.Repeat("k=v&", 3*maxParams)
	v.reset(&parse.Event{Query: []byte(long)})
	v.text(fiQuery)
	if len(v.params) != maxParams || cap(v.params) != maxParams {
		t.Errorf("%d params (cap %d), want %d", len(v.params), cap(v.params), maxParams)
	}
}

// FuzzNormalize checks the normaliser never panics, never grows its input,
// and that its fixed points are fixed.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "%3Cscript%3E", "%25%25%25", "..%c0%af..%c0%af", "%u", "%uD800", "&#x110000;", "/*!", "${IFS}",
		"\xc0", "\xfc\x80\x80\x80\x80\xae", "a+b", "/../..;/./", "\\x3c", "%%32%66", "&#00000000000060;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		in := []byte(s)
		var d decoder
		for _, form := range []bool{false, true} {
			dec, _ := d.decodeFull(nil, in, form)
			if len(dec) > len(in) {
				t.Fatalf("decodeFull grew %q (%d) to %q (%d)", in, len(in), dec, len(dec))
			}
			if !bytes.ContainsAny(dec, "%\x00+") && !hasHighLead(dec) {
				if again, _ := d.decodeFull(nil, dec, form); !bytes.Equal(again, dec) {
					t.Fatalf("decoding is not stable on %q: %q", dec, again)
				}
			}
			text, _ := appendText(nil, dec)
			if len(text) > len(dec) {
				t.Fatalf("appendText grew %q to %q", dec, text)
			}
			cmd := appendCmdline(nil, text)
			if len(cmd) > len(text) {
				t.Fatalf("appendCmdline grew %q to %q", text, cmd)
			}
			canon, _ := appendCanonicalPath(nil, dec)
			if len(canon) > len(dec)+1 || canon[0] != '/' {
				t.Fatalf("canonical path %q of %q", canon, dec)
			}
			if again, _ := appendCanonicalPath(nil, canon); !bytes.Equal(again, canon) {
				t.Fatalf("canonical path not idempotent: %q → %q", canon, again)
			}
		}
	})
}

// hasHighLead reports whether b holds a byte that can start a (possibly
// overlong) multi-byte sequence, which folding may still change.
func hasHighLead(b []byte) bool {
	for _, c := range b {
		if c >= 0xc0 {
			return true
		}
	}
	return false
}

// FuzzInspect runs the whole content stage on arbitrary fields: it must not
// panic, and every match must be well formed.
func FuzzInspect(f *testing.F) {
	f.Add("/index.php", "id=1%27%20or%201%3D1--", "sqlmap/1.7", "https://x/?a=%3Cscript%3E")
	f.Add("/..%2f..%2fetc/passwd", "", "", "")
	f.Add("/.env", "q=%u003c", "\x00\x01", "-")
	c, err := NewContent(DefaultContentConfig())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path, query, ua, ref string) {
		ev := &parse.Event{Path: []byte(path), Query: []byte(query), UserAgent: []byte(ua), Referer: []byte(ref)}
		for _, m := range c.Inspect(ev, nil) {
			if m.Rule == "" || m.Severity < SeverityNotice || m.Severity > SeverityCritical || m.Field.String() == "unknown" {
				t.Fatalf("malformed match %+v", m)
			}
			switch m.Detector {
			case DetectorSignature, DetectorUserAgent, DetectorProbe:
			default:
				t.Fatalf("unknown detector in %+v", m)
			}
		}
	})
}

// TestIsCanonicalPath: the shortcut that skips canonicalisation agrees with
// it, on hand-picked paths, the corpus' paths (when present) and random
// paths over the bytes that matter.
func TestIsCanonicalPath(t *testing.T) {
	paths := []string{"/", "/a", "/a/", "/static/js/app.3f9c1a.js", "/.env", "/.", "/./a", "/a/.", "/a/..", "/..",
		"/a/../b", "/..a", "/a..", "/a.b/.c", "//a", "/a//b", "/A", "/a%2e", "/a;x", "/a\\b", "a/b", "", "/\x00",
		"/caf\xc3\xa9", "/...", "/a/.../b", "/a+b", "/~user/"}
	if dir, ok := corpusDir(); ok {
		for _, name := range []string{"attacks.tsv", "benign.tsv"} {
			for _, r := range readCorpusFile(t, filepath.Join(dir, name)) {
				if r.field == "uri" {
					p, _, _ := strings.Cut(r.value, "?")
					paths = append(paths, p)
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		b := []byte{'/'}
		for range rng.IntN(8) {
			const alphabet = "/.aB%;\\\x00\xc3x"
			b = append(b, alphabet[rng.IntN(len(alphabet))])
		}
		paths = append(paths, string(b))
	}
	var d decoder
	for _, p := range paths {
		if !isCanonicalPath([]byte(p)) {
			continue
		}
		dec, _ := d.decodeFull(nil, []byte(p), false)
		if canon, _ := appendCanonicalPath(nil, dec); string(canon) != p {
			t.Errorf("isCanonicalPath(%q) but its canonical form is %q", p, canon)
		}
	}
}
