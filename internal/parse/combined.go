package parse

import "bytes"

// parseCombined parses Nginx's stock combined format:
//
//	$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
//
// The referer and user agent may be missing (the "common" format); more
// quoted fields may follow, the first of which is taken as X-Forwarded-For.
// Nginx escapes '"', '\' and bytes outside 0x20..0x7e as \xHH, so the quotes
// delimiting fields are unambiguous; \" and \\ (Apache's escapes) are
// decoded too. The remote user is not kept and may contain anything but a
// raw '"'.
func (p *Parser) parseCombined(line []byte, ev *Event) error {
	// The first quote opens $request: nothing before it may contain one.
	q := bytes.IndexByte(line, '"')
	if q < 0 {
		return ErrSyntax
	}
	// "... [$time_local] " precedes it; $time_local holds no '['.
	head := line[:q]
	if len(head) < 3 || head[len(head)-1] != ' ' || head[len(head)-2] != ']' {
		return ErrSyntax
	}
	lb := bytes.LastIndexByte(head, '[')
	if lb < 1 || head[lb-1] != ' ' {
		return ErrSyntax
	}
	ts := head[lb+1 : len(head)-2]
	addr := head[:bytes.IndexByte(head, ' ')]

	// "$request"
	reqEnd := stringEnd(line, q+1)
	if reqEnd < 0 {
		return ErrSyntax
	}
	request := line[q+1 : reqEnd]

	// $status $body_bytes_sent
	rest := line[reqEnd+1:]
	status, rest, ok := token(rest)
	if !ok {
		return ErrSyntax
	}
	bytesSent, rest, ok := token(rest)
	if !ok {
		return ErrSyntax
	}

	// "$http_referer" "$http_user_agent" ["$http_x_forwarded_for" ...]
	var quoted [3][]byte
	for i := 0; ; i++ {
		v, r, ok := quotedField(line, rest)
		if !ok {
			break
		}
		if i < len(quoted) {
			quoted[i] = v
		}
		rest = r
	}
	// A quote left open means a cut line; after a space, unquoted custom
	// fields may follow and are ignored.
	if len(rest) > 0 && (rest[0] != ' ' || len(rest) > 1 && rest[1] == '"') {
		return ErrSyntax
	}

	if err := setAddr(addr, len(addr) > 0 && !(len(addr) == 1 && addr[0] == '-'), ev); err != nil {
		return err
	}
	t, valid := p.parseTime(ts)
	if !valid {
		return ErrBadTime
	}
	ev.Time = t
	if len(bytesSent) == 1 && bytesSent[0] == '-' { // Apache's "no body"
		bytesSent = nil
	}
	if err := setNumbers(status, bytesSent, nil, ev); err != nil {
		return err
	}

	if request = p.combinedValue(request); request != nil {
		p.setRequest(nil, nil, request, ev)
	}
	if v := p.combinedValue(quoted[0]); v != nil {
		ev.Referer = p.clip(v, ev)
	}
	if v := p.combinedValue(quoted[1]); v != nil {
		ev.UserAgent = p.clip(v, ev)
	}
	if v := p.combinedValue(quoted[2]); v != nil {
		ev.ForwardedFor = p.clipForwarded(v, ev)
	}
	return nil
}

// token reads " value" up to the next space or the end of b.
func token(b []byte) (tok, rest []byte, ok bool) {
	if len(b) < 2 || b[0] != ' ' {
		return nil, b, false
	}
	b = b[1:]
	end := bytes.IndexByte(b, ' ')
	if end < 0 {
		end = len(b)
	}
	if end == 0 {
		return nil, b, false
	}
	return b[:end], b[end:], true
}

// quotedField reads ` "value"` from rest, a suffix of line.
func quotedField(line, rest []byte) (v, after []byte, ok bool) {
	if len(rest) < 3 || rest[0] != ' ' || rest[1] != '"' {
		return nil, rest, false
	}
	start := len(line) - len(rest) + 2
	end := stringEnd(line, start)
	if end < 0 {
		return nil, rest, false
	}
	return line[start:end], line[end+1:], true
}

// combinedValue decodes a combined-format field; "-" and "" are absent.
func (p *Parser) combinedValue(raw []byte) []byte {
	if bytes.IndexByte(raw, '\\') >= 0 {
		raw, _ = p.unescape(raw, unescapeNginx)
	}
	if len(raw) == 0 || len(raw) == 1 && raw[0] == '-' {
		return nil
	}
	return raw
}

// unescapeNginx decodes Nginx's default log escaping (\xHH) and Apache's \"
// and \\ into dst (len(dst) >= len(src)). Any other backslash is kept. It
// never fails.
func unescapeNginx(dst, src []byte) (int, bool) {
	n := 0
	for {
		k := bytes.IndexByte(src, '\\')
		if k < 0 {
			return n + copy(dst[n:], src), true
		}
		n += copy(dst[n:], src[:k])
		src = src[k:]
		switch {
		case len(src) >= 4 && src[1] == 'x':
			if v, ok := hex2(src[2:]); ok {
				dst[n] = v
				n++
				src = src[4:]
				continue
			}
		case len(src) >= 2 && (src[1] == '"' || src[1] == '\\'):
			dst[n] = src[1]
			n++
			src = src[2:]
			continue
		}
		dst[n] = '\\'
		n++
		src = src[1:]
	}
}
