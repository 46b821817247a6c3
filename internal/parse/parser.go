package parse

import (
	"bytes"
	"fmt"
	"math"
	"time"
)

// Parser parses access-log lines into Events. It owns the scratch buffer that
// unescaped values are written to and a cache of the last time value, so one
// Parser serves one goroutine: it is not safe for concurrent use. Create one
// per goroutine with New; the zero value is not usable.
type Parser struct {
	format   Format
	maxLine  int
	maxField int

	// keys maps a JSON key to its field: keys[len(key)] lists the fields
	// whose key has that length.
	keys   [][]keyEntry
	nTimes int
	// quoted holds each field's key followed by its closing quote, by id.
	quoted [numFields]string
	// order[k] is 1 + the field whose key was the k-th key of the last
	// line, or 0 if that key was not a plain configured key.
	order [32]fieldID

	// spans are the raw values found in the current line, by fieldID.
	spans [numFields]span

	// scratch receives unescaped values. Unescaping never lengthens a value
	// and values come from disjoint parts of the line, so MaxLine bytes
	// always suffice and the buffer never grows.
	scratch []byte
	// keyBuf receives an unescaped JSON key (keys with escapes are rare).
	keyBuf []byte

	tc timeCache
}

type keyEntry struct {
	name string
	id   fieldID
}

// span is where a value sits in the line. kind is one of the kind constants.
type span struct {
	start, end int32
	kind       uint8
}

const (
	kindAbsent  uint8 = iota
	kindPlain         // string without escapes, or a bare number, true or false
	kindEscaped       // string that contains backslash escapes
)

// New returns a Parser for cfg. It fails if cfg does not validate.
func New(cfg Config) (*Parser, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	p := &Parser{
		format:   cfg.Format,
		maxLine:  cfg.Limits.MaxLine,
		maxField: cfg.Limits.MaxField,
		scratch:  make([]byte, 0, cfg.Limits.MaxLine),
		keyBuf:   make([]byte, maxEscapedKey),
		nTimes:   len(cfg.Fields.Time),
	}
	longest := 0
	fields := cfg.Fields.all()
	for _, f := range fields {
		longest = max(longest, len(f.name))
	}
	p.keys = make([][]keyEntry, longest+1)
	for _, f := range fields {
		p.keys[len(f.name)] = append(p.keys[len(f.name)], keyEntry{f.name, f.id})
		p.quoted[f.id] = f.name + `"`
	}
	return p, nil
}

// maxEscapedKey is the longest raw key that can still unescape to a
// configured name: an escape is at most 6 bytes for 1 decoded byte.
const maxEscapedKey = 6 * maxFieldName

// Parse parses one line into ev, overwriting all of ev. A trailing "\n" or
// "\r\n" is ignored. It returns nil or one of the package's sentinel *Error
// values; on error ev holds no useful data. The byte slices in ev alias line
// or the Parser's scratch buffer and are valid until the next call to Parse.
func (p *Parser) Parse(line []byte, ev *Event) error {
	*ev = Event{}
	line = trimEOL(line)
	if len(line) > p.maxLine {
		return ErrLineTooLong
	}
	if skipWS(line, 0) == len(line) {
		return ErrEmpty
	}
	p.scratch = p.scratch[:0]
	if p.format == FormatCombined {
		return p.parseCombined(line, ev)
	}
	return p.parseJSON(line, ev)
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// value returns the decoded value of JSON field id in line, or ok=false when
// the field is absent, empty or "-". A malformed escape is ErrSyntax.
func (p *Parser) value(line []byte, id fieldID) (v []byte, ok bool, err error) {
	s := p.spans[id]
	if s.kind == kindAbsent {
		return nil, false, nil
	}
	v = line[s.start:s.end]
	if s.kind == kindEscaped {
		v, ok = p.unescape(v, unescapeJSON)
		if !ok {
			return nil, false, ErrSyntax
		}
	}
	if len(v) == 0 || len(v) == 1 && v[0] == '-' {
		return nil, false, nil
	}
	return v, true, nil
}

// unescape decodes src into the scratch buffer and returns the decoded bytes.
func (p *Parser) unescape(src []byte, decode func(dst, src []byte) (int, bool)) ([]byte, bool) {
	start := len(p.scratch)
	if cap(p.scratch)-start < len(src) {
		// Unreachable: decoded values are no longer than their source and
		// come from disjoint parts of a line of at most MaxLine bytes.
		return nil, false
	}
	n, ok := decode(p.scratch[start:start+len(src)], src)
	if !ok {
		return nil, false
	}
	p.scratch = p.scratch[:start+n]
	return p.scratch[start : start+n : start+n], true
}

// clip cuts b to MaxField bytes, flagging the event as truncated.
func (p *Parser) clip(b []byte, ev *Event) []byte {
	if len(b) > p.maxField {
		ev.Truncated = true
		return b[:p.maxField:p.maxField]
	}
	return b[:len(b):len(b)]
}

// clipForwarded cuts an X-Forwarded-For value to MaxField bytes by keeping
// its end: the right-most hops were written by the proxies closest to us,
// the left-most ones by the client. An entry cut in two is dropped.
func (p *Parser) clipForwarded(b []byte, ev *Event) []byte {
	if len(b) <= p.maxField {
		return b[:len(b):len(b)]
	}
	ev.Truncated = true
	cut := len(b) - p.maxField
	if c := b[cut-1]; c == ',' || c == ' ' || c == '\t' {
		return b[cut:] // the cut fell between entries
	}
	b = b[cut:]
	if i := bytes.IndexByte(b, ','); i >= 0 {
		return b[i+1:]
	}
	return nil
}

// setURI stores a request URI as Path and Query.
func (p *Parser) setURI(uri []byte, ev *Event) {
	uri = p.clip(uri, ev)
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		ev.Path, ev.Query = uri[:i:i], uri[i+1:]
		return
	}
	ev.Path = uri
}

// splitRequest splits a request line ("GET /p?q HTTP/1.1") into its method
// and URI. The protocol is the last space-separated token when it starts
// with "HTTP/"; everything between method and protocol is the URI, spaces
// included. A line whose first token is not an HTTP token (TLS handshakes,
// binary junk) has neither method nor URI; a lone token is a method.
func splitRequest(r []byte) (method, uri []byte) {
	sp := bytes.IndexByte(r, ' ')
	if sp < 0 {
		if isToken(r) {
			return r, nil
		}
		return nil, nil
	}
	method = r[:sp]
	if !isToken(method) {
		return nil, nil
	}
	uri = r[sp+1:]
	if k := bytes.LastIndexByte(uri, ' '); k >= 0 && bytes.HasPrefix(uri[k+1:], []byte("HTTP/")) {
		uri = uri[:k]
	}
	return method, uri
}

// isToken reports whether b is a non-empty RFC 9110 token.
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isTchar(c) {
			return false
		}
	}
	return true
}

func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// setRequest fills Method, Path and Query from the request fields: the
// method and URI fields win, the request line fills in what they lack.
func (p *Parser) setRequest(method, uri, request []byte, ev *Event) {
	if (method == nil || uri == nil) && request != nil {
		m, u := splitRequest(request)
		if method == nil {
			method = m
		}
		if uri == nil {
			uri = u
		}
	}
	if method != nil {
		ev.Method = p.clip(method, ev)
	}
	if uri != nil {
		p.setURI(uri, ev)
	}
}

// setAddr parses the remote address into ev.Remote and ev.Client.
func setAddr(b []byte, ok bool, ev *Event) error {
	if !ok {
		return ErrNoAddr
	}
	a, valid := Addr(b)
	if !valid {
		return ErrBadAddr
	}
	ev.Remote, ev.Client = a, a
	return nil
}

// parseStatus parses a status code: 1 to 3 decimal digits.
func parseStatus(b []byte) (uint16, bool) {
	if len(b) == 0 || len(b) > 3 {
		return 0, false
	}
	n := uint16(0)
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint16(c-'0')
	}
	return n, true
}

// parseCount parses a non-negative decimal integer that fits an int64.
func parseCount(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := int64(0)
	for _, c := range b {
		d := int64(c - '0')
		if c < '0' || c > '9' || n > (math.MaxInt64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseSeconds parses a non-negative decimal number of seconds such as
// "0.012" ($request_time) into a Duration. Digits past nanoseconds are
// dropped.
func parseSeconds(b []byte) (time.Duration, bool) {
	intPart, frac := b, []byte(nil)
	if i := bytes.IndexByte(b, '.'); i >= 0 {
		intPart, frac = b[:i], b[i+1:]
		if len(frac) == 0 {
			return 0, false
		}
	}
	if len(intPart) == 0 || len(intPart) > 9 { // > 31 years is not a request time
		return 0, false
	}
	sec, ok := parseCount(intPart)
	if !ok {
		return 0, false
	}
	ns := int64(0)
	for i, c := range frac {
		if c < '0' || c > '9' {
			return 0, false
		}
		if i < 9 {
			ns = ns*10 + int64(c-'0')
		}
	}
	for i := len(frac); i < 9; i++ {
		ns *= 10
	}
	return time.Duration(sec)*time.Second + time.Duration(ns), true
}

// setNumbers parses status, body bytes and request time.
func setNumbers(status, bytesSent, reqTime []byte, ev *Event) error {
	if status != nil {
		n, ok := parseStatus(status)
		if !ok {
			return ErrBadNumber
		}
		ev.Status = n
	}
	if bytesSent != nil {
		n, ok := parseCount(bytesSent)
		if !ok {
			return ErrBadNumber
		}
		ev.Bytes = n
	}
	if reqTime != nil {
		d, ok := parseSeconds(reqTime)
		if !ok {
			return ErrBadNumber
		}
		ev.RequestTime = d
	}
	return nil
}
