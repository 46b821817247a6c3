package parse

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// maxNesting bounds how deep a skipped nested value may go.
const maxNesting = 64

// parseJSON parses one flat JSON object. Values of configured keys are
// recorded by scanJSON and decoded afterwards, so that the last of duplicate
// keys wins, like encoding/json.
func (p *Parser) parseJSON(line []byte, ev *Event) error {
	if err := p.scanJSON(line); err != nil {
		return err
	}

	addr, ok, err := p.value(line, fRemoteAddr)
	if err != nil {
		return err
	}
	if err := setAddr(addr, ok, ev); err != nil {
		return err
	}

	found := false
	for i := range p.nTimes {
		v, ok, err := p.value(line, fTime0+fieldID(i))
		if err != nil {
			return err
		}
		if ok {
			t, valid := p.parseTime(v)
			if !valid {
				return ErrBadTime
			}
			ev.Time = t
			found = true
			break
		}
	}
	if !found {
		return ErrNoTime
	}

	var vals [fTime0][]byte
	for id := fMethod; id < fTime0; id++ {
		v, _, err := p.value(line, id)
		if err != nil {
			return err
		}
		vals[id] = v
	}
	if err := setNumbers(vals[fStatus], vals[fBytes], vals[fRequestTime], ev); err != nil {
		return err
	}
	p.setRequest(vals[fMethod], vals[fURI], vals[fRequest], ev)
	if v := vals[fHost]; v != nil {
		ev.Host = p.clip(v, ev)
	}
	if v := vals[fUserAgent]; v != nil {
		ev.UserAgent = p.clip(v, ev)
	}
	if v := vals[fReferer]; v != nil {
		ev.Referer = p.clip(v, ev)
	}
	if v := vals[fForwardedFor]; v != nil {
		ev.ForwardedFor = p.clipForwarded(v, ev)
	}
	return nil
}

// scanJSON walks one JSON object, recording in p.spans where the values of
// configured keys are. It validates the object's structure; string values of
// unknown keys are only scanned for their end.
func (p *Parser) scanJSON(b []byte) error {
	p.spans = [numFields]span{}
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return ErrSyntax
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for k := 0; ; k++ {
			// Key. Nginx writes the keys of a log format in the same order
			// on every line: try the key seen at this position last time.
			if i >= len(b) || b[i] != '"' {
				return ErrSyntax
			}
			ks := i + 1
			var ke int
			id, known := fieldID(0), false
			if k < len(p.order) && p.order[k] != 0 {
				q := p.quoted[p.order[k]-1]
				if len(b)-ks >= len(q) && string(b[ks:ks+len(q)]) == q {
					id, known, ke = p.order[k]-1, true, ks+len(q)-1
				}
			}
			if !known {
				if ke = stringEnd(b, ks); ke < 0 {
					return ErrSyntax
				}
				id, known = p.lookup(b[ks:ke])
				if k < len(p.order) {
					p.order[k] = 0
					if known && bytes.IndexByte(b[ks:ke], '\\') < 0 {
						p.order[k] = id + 1
					}
				}
			}

			i = skipWS(b, ke+1)
			if i >= len(b) || b[i] != ':' {
				return ErrSyntax
			}
			i = skipWS(b, i+1)
			if i >= len(b) {
				return ErrSyntax
			}

			// Value.
			var s span
			switch c := b[i]; c {
			case '"':
				vs := i + 1
				ve := stringEnd(b, vs)
				if ve < 0 {
					return ErrSyntax
				}
				if known {
					s = span{int32(vs), int32(ve), kindPlain}
					if bytes.IndexByte(b[vs:ve], '\\') >= 0 {
						s.kind = kindEscaped
					}
				}
				i = ve + 1
			case '{', '[':
				if i = skipNested(b, i); i < 0 {
					return ErrSyntax
				}
			case 't', 'f', 'n':
				n := literal(b[i:])
				if n == 0 {
					return ErrSyntax
				}
				if c != 'n' {
					s = span{int32(i), int32(i + n), kindPlain}
				}
				i += n
			default:
				j := i
				for j < len(b) && isNumberByte(b[j]) {
					j++
				}
				if j == i {
					return ErrSyntax
				}
				s = span{int32(i), int32(j), kindPlain}
				i = j
			}
			if known {
				p.spans[id] = s
			}

			i = skipWS(b, i)
			if i >= len(b) {
				return ErrSyntax
			}
			if b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if b[i] != '}' {
				return ErrSyntax
			}
			i++
			break
		}
	}
	if skipWS(b, i) != len(b) {
		return ErrSyntax
	}
	return nil
}

// lookup returns the field a raw (possibly escaped) key names.
func (p *Parser) lookup(key []byte) (fieldID, bool) {
	if bytes.IndexByte(key, '\\') >= 0 {
		if len(key) > len(p.keyBuf) {
			return 0, false
		}
		n, ok := unescapeJSON(p.keyBuf[:len(key)], key)
		if !ok {
			return 0, false
		}
		key = p.keyBuf[:n]
	}
	if len(key) >= len(p.keys) {
		return 0, false
	}
	for _, e := range p.keys[len(key)] {
		if e.name == string(key) {
			return e.id, true
		}
	}
	return 0, false
}

// stringEnd returns the index of the quote closing the string whose content
// starts at b[start], or -1 if the string is not closed. A quote is escaped
// when an odd number of backslashes precede it.
func stringEnd(b []byte, start int) int {
	for from := start; ; {
		q := bytes.IndexByte(b[from:], '"')
		if q < 0 {
			return -1
		}
		q += from
		n := 0
		for k := q - 1; k >= start && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return q
		}
		from = q + 1
	}
}

// skipNested skips the object or array starting at b[i] and returns the
// index after it, or -1 if it is malformed or nested too deep. Brackets must
// match and strings are skipped whole; the rest is not validated.
func skipNested(b []byte, i int) int {
	var stack [maxNesting]byte
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '{', '[':
			if depth == maxNesting {
				return -1
			}
			stack[depth] = c + 2 // '{'+2 == '}', '['+2 == ']'
			depth++
		case '}', ']':
			if depth == 0 || stack[depth-1] != c {
				return -1
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case '"':
			e := stringEnd(b, i+1)
			if e < 0 {
				return -1
			}
			i = e
		}
		i++
	}
	return -1
}

// literal returns the length of the JSON literal true, false or null at the
// start of b, or 0.
func literal(b []byte) int {
	for _, l := range [...]string{"true", "false", "null"} {
		if len(b) >= len(l) && string(b[:len(l)]) == l {
			return len(l)
		}
	}
	return 0
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// unescapeJSON decodes the JSON string content src into dst (len(dst) >=
// len(src)) and returns the decoded length. Besides the JSON escapes it
// decodes Nginx's \xHH (written by log formats without escape=json). Lone
// UTF-16 surrogates become U+FFFD, as in encoding/json; raw bytes, valid
// UTF-8 or not, are copied unchanged. It fails on any other escape.
func unescapeJSON(dst, src []byte) (int, bool) {
	n := 0
	for {
		k := bytes.IndexByte(src, '\\')
		if k < 0 {
			return n + copy(dst[n:], src), true
		}
		n += copy(dst[n:], src[:k])
		src = src[k:]
		if len(src) < 2 {
			return n, false
		}
		switch c := src[1]; c {
		case '"', '\\', '/':
			dst[n] = c
		case 'b':
			dst[n] = '\b'
		case 'f':
			dst[n] = '\f'
		case 'n':
			dst[n] = '\n'
		case 'r':
			dst[n] = '\r'
		case 't':
			dst[n] = '\t'
		case 'x':
			v, ok := hex2(src[2:])
			if !ok {
				return n, false
			}
			dst[n] = v
			n++
			src = src[4:]
			continue
		case 'u':
			r, ok := hex4(src[2:])
			if !ok {
				return n, false
			}
			src = src[6:]
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(src) >= 2 && src[0] == '\\' && src[1] == 'u' {
					r2, _ = hex4(src[2:])
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					src = src[6:]
				} else {
					r = utf8.RuneError
				}
			}
			n += utf8.EncodeRune(dst[n:], r)
			continue
		default:
			return n, false
		}
		n++
		src = src[2:]
	}
}

func hex2(b []byte) (byte, bool) {
	if len(b) < 2 {
		return 0, false
	}
	h, ok1 := hexVal(b[0])
	l, ok2 := hexVal(b[1])
	return h<<4 | l, ok1 && ok2
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return -1, false
	}
	var r rune
	for _, c := range b[:4] {
		v, ok := hexVal(c)
		if !ok {
			return -1, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}
