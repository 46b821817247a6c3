package parse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzLimits are small so that truncation is exercised often.
const (
	fuzzMaxLine  = 4096
	fuzzMaxField = 48
)

func fuzzConfig(f Format) Config {
	c := DefaultConfig()
	c.Format = f
	c.Limits = Limits{MaxLine: fuzzMaxLine, MaxField: fuzzMaxField}
	return c
}

func addSampleSeeds(f *testing.F, format Format) {
	for _, s := range samples {
		if s.format != format {
			continue
		}
		for _, line := range readLines(f, s.file) {
			if len(line) <= fuzzMaxLine {
				f.Add(line)
			}
		}
	}
}

// FuzzJSON checks the JSON parser against encoding/json. On every input it
// checks the invariants of an accepted line. On input that is valid JSON and
// valid UTF-8 (where encoding/json and the parser must agree) it computes the
// expected Event from encoding/json's decoding of the object, with the
// documented rules written again independently: "-", "" and null are absent;
// bare scalars are taken as text; the first present time key wins; request
// fills in method and URI; values are cut to MaxField, X-Forwarded-For from
// the left. Known differences: nesting deeper than 64 is rejected.
func FuzzJSON(f *testing.F) {
	addSampleSeeds(f, FormatJSON)
	f.Add([]byte(`{"remote_addr":"1.2.3.4","time":"2026-04-27T09:25:51Z","status":200,"http_x_forwarded_for":"1.1.1.1, 2.2.2.2, 3.3.3.3, 4.4.4.4, 5.5.5.5, 6.6.6.6"}`))
	f.Add([]byte(`{"remote_addr":"::1","msec":"1.5","request":"GET /a?b HTTP/1.1","request_time":"0.0001"}`))

	p := mustNew(f, fuzzConfig(FormatJSON))
	f.Fuzz(func(t *testing.T, line []byte) {
		var ev Event
		err := p.Parse(line, &ev)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *Error", err)
			}
		} else {
			checkInvariants(t, p, line, &ev)
		}

		body := bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if len(body) > fuzzMaxLine {
			if err != ErrLineTooLong {
				t.Fatalf("%d-byte line: got %v, want ErrLineTooLong", len(body), err)
			}
			return
		}
		if !utf8.Valid(body) || !json.Valid(body) {
			return
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(body, &obj) != nil {
			if err != ErrSyntax && err != ErrEmpty {
				t.Fatalf("valid JSON that is not an object: got %v, want ErrSyntax", err)
			}
			return
		}
		if err == ErrSyntax && bytes.Count(body, []byte("{"))+bytes.Count(body, []byte("[")) > maxNesting {
			return // documented: deep nesting is rejected
		}
		want, wantErr := jsonOracle(obj)
		if err != wantErr {
			t.Fatalf("got error %v, want %v\nline: %q", err, wantErr, line)
		}
		if err != nil {
			return
		}
		if !ev.Time.Equal(want.Time) {
			t.Errorf("Time = %v, want %v", ev.Time, want.Time)
		}
		ev.Time, want.Time = time.Time{}, time.Time{}
		if got, w := describe(&ev, nil), describe(&want, nil); got != w {
			t.Errorf("line: %q\n got: %s\nwant: %s", line, got, w)
		}
	})
}

var (
	decimalRE = regexp.MustCompile(`^([0-9]+)(\.[0-9]+)?$`)
	digitsRE  = regexp.MustCompile(`^[0-9]+$`)
	isoRE     = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:?[0-9]{2})$`)
	localRE   = regexp.MustCompile(`^[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}$`)
)

// jsonOracle computes the Event the parser should produce for a decoded
// object, with the default field names and the fuzz limits.
func jsonOracle(obj map[string]json.RawMessage) (Event, error) {
	var ev Event
	str := func(key string) (string, bool) {
		raw, ok := obj[key]
		if !ok || len(raw) == 0 {
			return "", false
		}
		var v string
		switch raw[0] {
		case '"':
			if json.Unmarshal(raw, &v) != nil {
				panic("oracle: bad string " + string(raw))
			}
		case 'n', '{', '[':
			return "", false
		default:
			v = string(raw)
		}
		return v, v != "" && v != "-"
	}
	clip := func(s string) string {
		if len(s) > fuzzMaxField {
			ev.Truncated = true
			return s[:fuzzMaxField]
		}
		return s
	}

	addr, ok := str("remote_addr")
	if !ok {
		return ev, ErrNoAddr
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return ev, ErrBadAddr
	}
	ev.Remote = a.WithZone("").Unmap()
	ev.Client = ev.Remote

	found := false
	for _, key := range DefaultFields().Time {
		v, ok := str(key)
		if !ok {
			continue
		}
		t, ok := oracleTime(v)
		if !ok {
			return ev, ErrBadTime
		}
		ev.Time, found = t, true
		break
	}
	if !found {
		return ev, ErrNoTime
	}

	if v, ok := str("status"); ok {
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil || len(v) > 3 || !digitsRE.MatchString(v) {
			return ev, ErrBadNumber
		}
		ev.Status = uint16(n)
	}
	if v, ok := str("body_bytes_sent"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || !digitsRE.MatchString(v) {
			return ev, ErrBadNumber
		}
		ev.Bytes = n
	}
	if v, ok := str("request_time"); ok {
		m := decimalRE.FindStringSubmatch(v)
		if m == nil || len(m[1]) > 9 {
			return ev, ErrBadNumber
		}
		r, _ := new(big.Rat).SetString(v)
		ns := new(big.Int).Quo(new(big.Int).Mul(r.Num(), big.NewInt(1e9)), r.Denom())
		ev.RequestTime = time.Duration(ns.Int64())
	}

	method, hasMethod := str("request_method")
	uri, hasURI := str("request_uri")
	if req, ok := str("request"); ok && (!hasMethod || !hasURI) {
		m, u, mok, uok := oracleSplitRequest(req)
		if !hasMethod {
			method, hasMethod = m, mok
		}
		if !hasURI {
			uri, hasURI = u, uok
		}
	}
	if hasMethod {
		ev.Method = []byte(clip(method))
	}
	if hasURI {
		uri = clip(uri)
		path, query, _ := strings.Cut(uri, "?")
		ev.Path, ev.Query = []byte(path), []byte(query)
	}
	for _, f := range []struct {
		key string
		dst *[]byte
	}{{"host", &ev.Host}, {"http_user_agent", &ev.UserAgent}, {"http_referer", &ev.Referer}} {
		if v, ok := str(f.key); ok {
			*f.dst = []byte(clip(v))
		}
	}
	if v, ok := str("http_x_forwarded_for"); ok {
		if len(v) > fuzzMaxField {
			ev.Truncated = true
			v = oracleForwardedTail(v)
		}
		ev.ForwardedFor = []byte(v)
	}
	return ev, nil
}

// oracleForwardedTail keeps the last fuzzMaxField bytes of an oversized
// X-Forwarded-For, without the entry the cut falls into.
func oracleForwardedTail(v string) string {
	cut := len(v) - fuzzMaxField
	if strings.ContainsRune(", \t", rune(v[cut-1])) {
		return v[cut:]
	}
	_, tail, _ := strings.Cut(v[cut:], ",")
	return tail
}

// oracleSplitRequest is splitRequest written again with package strings.
func oracleSplitRequest(req string) (method, uri string, hasMethod, hasURI bool) {
	isTok := func(s string) bool {
		return s != "" && strings.Trim(s, "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == ""
	}
	m, rest, hasSpace := strings.Cut(req, " ")
	if !isTok(m) {
		return "", "", false, false
	}
	if !hasSpace {
		return m, "", true, false
	}
	if i := strings.LastIndex(rest, " "); i >= 0 && strings.HasPrefix(rest[i+1:], "HTTP/") {
		rest = rest[:i]
	}
	return m, rest, true, rest != ""
}

// oracleTime parses the three time shapes with package time and strconv.
func oracleTime(v string) (time.Time, bool) {
	if len(v) >= 20 && v[4] == '-' {
		if !isoRE.MatchString(v) {
			return time.Time{}, false
		}
		s := []byte(v)
		if s[10] == ' ' || s[10] == 't' {
			s[10] = 'T'
		}
		if s[len(s)-1] == 'z' {
			s[len(s)-1] = 'Z'
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"} {
			if t, err := time.Parse(layout, string(s)); err == nil {
				return t, true
			}
		}
		return time.Time{}, false
	}
	if len(v) == 26 && v[2] == '/' {
		if !localRE.MatchString(v) {
			return time.Time{}, false
		}
		t, err := time.Parse("02/Jan/2006:15:04:05 -0700", v)
		return t, err == nil
	}
	m := decimalRE.FindStringSubmatch(v)
	if m == nil || len(m[1]) > 11 || len(m[2]) > 10 {
		return time.Time{}, false
	}
	sec, _ := strconv.ParseInt(m[1], 10, 64)
	frac := strings.TrimPrefix(m[2], ".")
	ns, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	return time.Unix(sec, ns), true
}

// FuzzCombined feeds arbitrary lines to the combined parser (invariants
// only) and, from the same inputs, formats an Event as Nginx would write it
// with its default escaping, parses it back and compares.
func FuzzCombined(f *testing.F) {
	for _, s := range samples {
		if s.format != FormatCombined {
			continue
		}
		for _, line := range readLines(f, s.file) {
			if len(line) <= fuzzMaxLine {
				f.Add(line, []byte{203, 0, 113, 9}, int64(1777281951), int16(120), "GET", "/p", "q=1", "Mozilla/5.0", "-", "", uint16(200), int64(512))
			}
		}
	}
	f.Add([]byte{}, []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, int64(0), int16(-330), "P\"O\\ST", "/a b\x00\xff", "", "\"quoted\" \\ \x1b", "http://x/\xc3\xa9", "1.2.3.4, 5.6.7.8", uint16(404), int64(-5))

	p := mustNew(f, fuzzConfig(FormatCombined))
	f.Fuzz(func(t *testing.T, line, addr []byte, sec int64, offMin int16, method, path, query, ua, referer, xff string, status uint16, n int64) {
		var ev Event
		if err := p.Parse(line, &ev); err == nil {
			checkInvariants(t, p, line, &ev)
		}

		// Round trip.
		var remote netip.Addr
		switch len(addr) {
		case 4:
			remote = netip.AddrFrom4([4]byte(addr))
		case 16:
			remote = netip.AddrFrom16([16]byte(addr))
		default:
			return
		}
		sec = ((sec % 253402300800) + 253402300800) % 253402300800 // years 1970..9999
		off := int(offMin%1440) * 60
		at := time.Unix(sec, 0).In(time.FixedZone("", off))
		status %= 1000
		if n < 0 {
			n = -(n + 1)
		}
		uri := path
		if query != "" {
			uri += "?" + query
		}
		dash := func(s string) string {
			if s == "" {
				return "-"
			}
			return nginxEscape(s)
		}
		text := fmt.Sprintf("%s - - [%s] \"%s\" %d %d \"%s\" \"%s\" \"%s\"\n",
			remote, at.Format("02/Jan/2006:15:04:05 -0700"), nginxEscape(method+" "+uri+" HTTP/1.1"),
			status, n, dash(referer), dash(ua), dash(xff))

		err := p.Parse([]byte(text), &ev)
		if len(text)-1 > fuzzMaxLine {
			if err != ErrLineTooLong {
				t.Fatalf("%d-byte line: got %v, want ErrLineTooLong", len(text)-1, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("round trip of %q: %v", text, err)
		}

		truncated := false
		clip := func(s string) string {
			if len(s) > fuzzMaxField {
				truncated = true
				return s[:fuzzMaxField]
			}
			return s
		}
		absent := func(s string) string {
			if s == "-" {
				return ""
			}
			return s
		}
		want := Event{Remote: remote.Unmap(), Client: remote.Unmap(), Status: status, Bytes: n}
		if m, u, hasM, hasU := oracleSplitRequest(method + " " + uri + " HTTP/1.1"); hasM {
			want.Method = []byte(clip(m))
			if hasU {
				p, q, _ := strings.Cut(clip(u), "?")
				want.Path, want.Query = []byte(p), []byte(q)
			}
		}
		want.Referer = []byte(clip(absent(referer)))
		want.UserAgent = []byte(clip(absent(ua)))
		if x := absent(xff); len(x) > fuzzMaxField {
			truncated = true
			want.ForwardedFor = []byte(oracleForwardedTail(x))
		} else {
			want.ForwardedFor = []byte(x)
		}
		want.Truncated = truncated
		if !ev.Time.Equal(at) {
			t.Errorf("Time = %v, want %v", ev.Time, at)
		}
		ev.Time = time.Time{}
		if got, w := describe(&ev, nil), describe(&want, nil); got != w {
			t.Errorf("line: %q\n got: %s\nwant: %s", text, got, w)
		}
	})
}

// nginxEscape escapes like Nginx's default log escaping: '"', '\' and bytes
// outside 0x20..0x7e become \xHH.
func nginxEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' || c == '\\' || c < 0x20 || c > 0x7e {
			fmt.Fprintf(&b, `\x%02X`, c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// FuzzAddr checks Addr against netip.ParseAddr (zone dropped, unmapped).
func FuzzAddr(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "0.0.0.0", "255.255.255.255", "01.2.3.4", "1.2.3", "::", "::1", "1::", "1:2:3:4:5:6:7:8",
		"1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "1::1.2.3.4",
		"fe80::1%eth0", "fe80::1%", "1.2.3.4%x", "12345::", ":::", "1:::2", "[::1]", "::ffff:01.2.3.4", "::1.2.3.4:5", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := Addr(b)
		want, err := netip.ParseAddr(string(b))
		if (err == nil) != ok {
			t.Fatalf("Addr(%q) ok=%v, netip err=%v", b, ok, err)
		}
		if ok && got != want.WithZone("").Unmap() {
			t.Fatalf("Addr(%q) = %v, want %v", b, got, want.WithZone("").Unmap())
		}
	})
}
