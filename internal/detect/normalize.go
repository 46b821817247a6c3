package detect

import (
	"bytes"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/internal/parse"
)

// Normalisation for the content detectors.
//
// Attackers hide payloads behind encodings that the application (or the
// browser) undoes before the payload takes effect. The content detectors
// therefore match on normalised views of each field, built once per request
// into buffers the normaliser owns and reuses:
//
//   - the decoded view: percent-decoding repeated until stable (at most
//     maxDecodeRounds rounds), '+' as space in form-encoded fields, IIS %uXXXX
//     escapes, overlong UTF-8 and full-width forms folded to ASCII, NUL bytes
//     removed. Case is kept: libinjection reads this view.
//   - the text view: the decoded view with HTML character references and
//     \xHH / \uHHHH escapes decoded, ASCII letters lower-cased, SQL comments
//     (/**/, and the markers of MySQL's executable /*!...*/ comments) replaced
//     by a space, \v \f as spaces, and white space before "(" removed (so
//     "name (", "name\n(" and "name/**/(" all read "name("). Rules and
//     literal prefilters read this view.
//   - the command-line view (only when a rule asks for it): the text view with
//     shell quoting removed (\ ' " ^), empty expansions ($@ $* ``...)
//     dropped, ${IFS} as a space and whitespace collapsed, so that c'a't,
//     c\at and c$@at all read "cat".
//   - the canonical path (probes): the decoded, case-folded path with
//     backslashes as slashes, ";params" dropped from segments (Tomcat's "..;"),
//     empty and "." segments removed and ".." resolved.
//
// Every transformation here only ever shrinks its input (a %uXXXX escape is six
// bytes and decodes to at most four), so a view is never longer than its field
// and the buffers' sizes are bounded by the parser's field limit.

// maxDecodeRounds bounds repeated percent-decoding: three rounds undo double
// and triple encoding; deeper nesting is left partly encoded (and is itself
// unusual enough to show up in the text view as "%25").
const maxDecodeRounds = 3

// hexVal returns the value of the hexadecimal digit c, or -1.
func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// hex4 decodes four hexadecimal digits at b[0:4], or returns -1.
func hex4(b []byte) int {
	if len(b) < 4 {
		return -1
	}
	v := 0
	for _, c := range b[:4] {
		h := hexVal(c)
		if h < 0 {
			return -1
		}
		v = v<<4 | h
	}
	return v
}

// foldRune maps look-alike code points that Windows/IIS "best fit" mapping,
// IDNA and lax decoders turn into ASCII: full-width forms U+FF01..U+FF5E,
// the division slash and set minus used as path separators, circled digits
// and letters (①②⑦, ⓛⓞⓒⓐⓛ) and ideographic full stops used to disguise host
// names; private-use code points (%uF025 and kin, which mean nothing in a
// URL and serve only as junk separators) become '?'. It returns r unchanged
// otherwise.
func foldRune(r rune) rune {
	switch {
	case r >= 0xff01 && r <= 0xff5e:
		return r - 0xff01 + 0x21
	case r == 0x2215:
		return '/'
	case r == 0x2216:
		return '\\'
	case r >= 0x2460 && r <= 0x2468: // circled digits one to nine
		return r - 0x2460 + '1'
	case r == 0x24ea: // circled digit zero
		return '0'
	case r >= 0x24b6 && r <= 0x24cf: // circled capital letters
		return r - 0x24b6 + 'A'
	case r >= 0x24d0 && r <= 0x24e9: // circled small letters
		return r - 0x24d0 + 'a'
	case r == 0x3002 || r == 0xff61: // ideographic full stops
		return '.'
	case r >= 0xe000 && r <= 0xf8ff: // private use: no meaning in a URL
		return '?'
	}
	return r
}

// appendRune appends r to dst, folded to ASCII when it is a look-alike.
func appendRune(dst []byte, r rune) []byte {
	r = foldRune(r)
	if r < utf8.RuneSelf {
		return append(dst, byte(r))
	}
	return utf8.AppendRune(dst, r)
}

// percentNibble decodes one hexadecimal digit at b[0], written either
// plainly or itself percent-encoded ("%32" for '2'), as IIS's nested decoding
// accepts. It returns the digit's value and the bytes used, or n == 0.
func percentNibble(b []byte) (v, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	if h := hexVal(b[0]); h >= 0 {
		return h, 1
	}
	if b[0] == '%' && len(b) >= 3 && hexVal(b[1]) >= 0 && hexVal(b[2]) >= 0 {
		if h := hexVal(byte(hexVal(b[1])<<4 | hexVal(b[2]))); h >= 0 {
			return h, 3
		}
	}
	return 0, 0
}

// percentDecode appends one round of percent-decoding of src to dst: %XX
// (each digit possibly itself encoded, as in %%32%66), %uXXXX, and '+' as a
// space when form is set. Malformed escapes are copied as they are. It
// reports whether anything was decoded.
func percentDecode(dst, src []byte, form bool) ([]byte, bool) {
	changed := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '%' && i+2 < len(src) && hexVal(src[i+1]) >= 0 && hexVal(src[i+2]) >= 0:
			dst = append(dst, byte(hexVal(src[i+1])<<4|hexVal(src[i+2])))
			i += 2
			changed = true
			continue
		case c == '%' && i+5 < len(src) && (src[i+1] == 'u' || src[i+1] == 'U') && hex4(src[i+2:]) >= 0:
			dst = appendRune(dst, rune(hex4(src[i+2:])))
			i += 5
			changed = true
			continue
		case c == '%':
			if hi, n1 := percentNibble(src[i+1:]); n1 > 0 {
				if lo, n2 := percentNibble(src[i+1+n1:]); n2 > 0 {
					dst = append(dst, byte(hi<<4|lo))
					i += n1 + n2
					changed = true
					continue
				}
			}
		case c == '+' && form:
			dst = append(dst, ' ')
			changed = true
			continue
		}
		dst = append(dst, c)
	}
	return dst, changed
}

// foldBytes appends src to dst with NUL bytes removed, overlong UTF-8
// encodings of ASCII folded (C0 AF, E0 80 AF, F0 80 80 AF and the 5- and
// 6-byte forms → '/'), full-width forms folded to ASCII, and the bytes that
// never occur in UTF-8 (C0, C1, F5..FF) decoded the way lax decoders (old
// IIS) did: C0/C1 with any following byte ≥ 0x80 as ASCII, otherwise
// dropped. It reports whether anything changed and whether a NUL byte was
// seen.
func foldBytes(dst, src []byte) (out []byte, changed, nul bool) {
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == 0 {
			changed, nul = true, true
			continue
		}
		if c < 0xc0 {
			dst = append(dst, c)
			continue
		}
		// Lead byte of a (possibly overlong) multi-byte sequence.
		var n int
		var cp rune
		switch {
		case c < 0xe0:
			n, cp = 1, rune(c&0x1f)
		case c < 0xf0:
			n, cp = 2, rune(c&0x0f)
		case c < 0xf8:
			n, cp = 3, rune(c&0x07)
		case c < 0xfc:
			n, cp = 4, rune(c&0x03)
		case c < 0xfe:
			n, cp = 5, rune(c&0x01)
		default:
			changed = true // FE, FF: never valid, dropped
			continue
		}
		ok := i+n < len(src)
		for k := 1; ok && k <= n; k++ {
			cc := src[i+k]
			if cc&0xc0 != 0x80 {
				ok = false
				break
			}
			cp = cp<<6 | rune(cc&0x3f)
		}
		if !ok {
			switch {
			case c <= 0xc1 && i+1 < len(src) && src[i+1] >= 0x80:
				// Lax two-byte decoding: the low six bits, whatever the
				// continuation marker says (%c0%ae, %c0%ee → '.').
				cp = rune(c&0x01)<<6 | rune(src[i+1]&0x3f)
				if cp != 0 {
					dst = append(dst, byte(cp))
				}
				i++
				changed = true
			case c <= 0xc1 || c >= 0xf5:
				changed = true // a byte that is never valid UTF-8: dropped
			default:
				dst = append(dst, c)
			}
			continue
		}
		if f := foldRune(cp); f < utf8.RuneSelf {
			// Overlong ASCII or a full-width look-alike.
			if f != 0 {
				dst = append(dst, byte(f))
			} else {
				nul = true
			}
			changed = true
		} else if n > 3 {
			changed = true // 5- and 6-byte forms of non-ASCII: dropped
		} else {
			dst = append(dst, src[i:i+n+1]...)
		}
		i += n
	}
	return dst, changed, nul
}

// decoder holds the scratch space of decodeFull. The zero value is ready to
// use; it is not safe for concurrent use.
type decoder struct {
	a, b []byte
}

// needsDecode reports whether decodeFull could change src.
func needsDecode(src []byte, form bool) bool {
	for _, c := range src {
		if c == '%' || c == 0 || c >= 0xc0 || (c == '+' && form) {
			return true
		}
	}
	return false
}

// decodeFull appends the decoded view of src to dst: percent-decoding and
// folding repeated until nothing changes, at most maxDecodeRounds times ('+'
// is a space in the first round only, when form is set). flags reports what
// was undone.
func (d *decoder) decodeFull(dst, src []byte, form bool) ([]byte, normFlags) {
	if !needsDecode(src, form) {
		return append(dst, src...), 0
	}
	var flags normFlags
	cur := src
	for round := 0; round < maxDecodeRounds; round++ {
		var pc, fc, nul bool
		d.a, pc = percentDecode(d.a[:0], cur, form && round == 0)
		d.b, fc, nul = foldBytes(d.b[:0], d.a)
		cur = d.b
		if nul {
			flags |= flagNUL
		}
		if !pc && !fc {
			break
		}
		if round > 0 && pc {
			flags |= flagMultiEncoded
		}
	}
	return append(dst, cur...), flags
}

// normFlags records what normalisation had to undo; some of it is evidence.
type normFlags uint8

const (
	// flagNUL: a NUL byte (raw, %00 or overlong) was removed.
	flagNUL normFlags = 1 << iota
	// flagMultiEncoded: a second decoding round still found escapes.
	flagMultiEncoded
)

// namedEntity returns the character of the HTML character reference name
// (lower-cased, without & and ;) for the references the text view decodes:
// those that can spell markup, quotes, script syntax or path separators.
func namedEntity(name string) (byte, bool) {
	switch name {
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "quot":
		return '"', true
	case "apos":
		return '\'', true
	case "amp":
		return '&', true
	case "sol":
		return '/', true
	case "bsol":
		return '\\', true
	case "colon":
		return ':', true
	case "semi":
		return ';', true
	case "lpar":
		return '(', true
	case "rpar":
		return ')', true
	case "lsqb", "lbrack":
		return '[', true
	case "rsqb", "rbrack":
		return ']', true
	case "lcub", "lbrace":
		return '{', true
	case "rcub", "rbrace":
		return '}', true
	case "grave":
		return '`', true
	case "equals":
		return '=', true
	case "excl":
		return '!', true
	case "num":
		return '#', true
	case "dollar":
		return '$', true
	case "percnt":
		return '%', true
	case "period":
		return '.', true
	case "comma":
		return ',', true
	case "plus":
		return '+', true
	case "ast":
		return '*', true
	case "tab", "nbsp":
		return ' ', true
	case "newline":
		return '\n', true
	case "vert", "verbar":
		return '|', true
	case "hat":
		return '^', true
	case "lowbar":
		return '_', true
	case "quest":
		return '?', true
	case "commat":
		return '@', true
	}
	return 0, false
}

// maxEntityName is the longest name namedEntity knows.
const maxEntityName = 7

// entityAt decodes an HTML character reference at b (b[0] == '&'). It
// returns the decoded rune and the number of bytes consumed, or n == 0.
// Numeric references may omit the ';' and carry leading zeros, as browsers
// accept them.
func entityAt(b []byte) (r rune, n int) {
	if len(b) < 3 {
		return 0, 0
	}
	if b[1] == '#' {
		i := 2
		v := 0
		digits := 0
		if i < len(b) && (b[i] == 'x' || b[i] == 'X') {
			i++
			for i < len(b) && digits < 8 {
				h := hexVal(b[i])
				if h < 0 {
					break
				}
				v = v<<4 | h
				i++
				digits++
			}
		} else {
			for i < len(b) && digits < 8 && b[i] >= '0' && b[i] <= '9' {
				v = v*10 + int(b[i]-'0')
				i++
				digits++
			}
		}
		if digits == 0 || v > utf8.MaxRune {
			return 0, 0
		}
		if i < len(b) && b[i] == ';' {
			i++
		}
		return rune(v), i
	}
	var name [maxEntityName]byte
	for n := 0; n < maxEntityName && 1+n < len(b); n++ {
		c := b[1+n]
		if c == ';' {
			if n == 0 {
				break
			}
			if r, ok := namedEntity(string(name[:n])); ok {
				return rune(r), n + 2
			}
			break
		}
		name[n] = lowerASCII(c)
	}
	return 0, 0
}

// asciiEqualFold reports whether b equals the lower-case ASCII string s,
// ignoring ASCII case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if lowerASCII(b[i]) != s[i] {
			return false
		}
	}
	return true
}

// lowerASCII lower-cases an ASCII letter and leaves every other byte alone.
func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// appendText appends the text view of the decoded bytes src to dst (see the
// file comment). comment reports that a /* comment was replaced.
func appendText(dst, src []byte) (out []byte, comment bool) {
	start := len(dst)
	inVersioned := false // inside MySQL's /*! ... */: its content is code
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '(':
			// "name (", "name\n(" and "name/**/(" all read "name(": a call
			// looks the same however it is spaced.
			for len(dst) > start && isSpace(dst[len(dst)-1]) {
				dst = dst[:len(dst)-1]
			}
		case '&':
			if r, n := entityAt(src[i:]); n > 0 {
				dst = appendLowerRune(dst, r)
				i += n - 1
				continue
			}
		case '\\':
			if i+3 < len(src) && (src[i+1] == 'x' || src[i+1] == 'X') && hexVal(src[i+2]) >= 0 && hexVal(src[i+3]) >= 0 {
				dst = appendLowerRune(dst, rune(hexVal(src[i+2])<<4|hexVal(src[i+3])))
				i += 3
				continue
			}
			if i+5 < len(src) && src[i+1] == 'u' {
				if v := hex4(src[i+2:]); v >= 0 {
					dst = appendLowerRune(dst, rune(v))
					i += 5
					continue
				}
			}
		case '/':
			if i+1 < len(src) && src[i+1] == '*' {
				if i+2 < len(src) && src[i+2] == '!' {
					// MySQL executable comment: drop the marker and version.
					i += 2
					for k := 0; k < 6 && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9'; k++ {
						i++
					}
					inVersioned, comment = true, true
					dst = append(dst, ' ')
					continue
				}
				comment = true
				end := indexCommentEnd(src[i+2:])
				dst = append(dst, ' ')
				if end < 0 {
					return dst, comment // an unterminated comment runs to the end
				}
				i += 2 + end + 1
				continue
			}
		case '*':
			if inVersioned && i+1 < len(src) && src[i+1] == '/' {
				inVersioned = false
				dst = append(dst, ' ')
				i++
				continue
			}
		case '\v', '\f':
			dst = append(dst, ' ')
			continue
		}
		dst = append(dst, lowerASCII(c))
	}
	return dst, comment
}

// isSpace reports whether c is ASCII white space.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// indexCommentEnd returns the index of the '*' of the first "*/" in b, or -1.
func indexCommentEnd(b []byte) int {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '*' && b[i+1] == '/' {
			return i
		}
	}
	return -1
}

// appendLowerRune appends r lower-cased (ASCII) and folded; a decoded NUL is
// dropped.
func appendLowerRune(dst []byte, r rune) []byte {
	r = foldRune(r)
	switch {
	case r == 0:
		return dst
	case r < utf8.RuneSelf:
		return append(dst, lowerASCII(byte(r)))
	}
	return utf8.AppendRune(dst, r)
}

// appendCmdline appends the command-line view of the text view src to dst:
// shell quoting and escapes removed, empty expansions dropped, ${IFS} as a
// space, newlines as ';', whitespace collapsed and dropped around command
// separators. It models how a shell reads the text, not a full parser.
func appendCmdline(dst, src []byte) []byte {
	space := false // a space is pending
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '\\':
			// A literal "\n" stands for the newline payload lists mean.
			if i+1 < len(src) && (src[i+1] == 'n' || src[i+1] == 'r') {
				i++
				c = ';'
				break
			}
			continue
		case '\'', '"', '^':
			continue
		case '$':
			if i+1 < len(src) {
				switch src[i+1] {
				case '@', '*', '!', '?', '-', '_', '$', '#', '0':
					// Special parameters: empty (or junk) in an injected
					// command; attackers splice them into words.
					i++
					continue
				case '(':
					if i+2 < len(src) && src[i+2] == ')' { // $()
						i += 2
						continue
					}
				case '{':
					if n := ifsLen(src[i:]); n > 0 {
						i += n - 1
						space = true
						continue
					}
					if i+2 < len(src) && src[i+2] == '}' { // ${}
						i += 2
						continue
					}
				case 'i':
					if n := ifsLen(src[i:]); n > 0 {
						i += n - 1
						space = true
						continue
					}
				}
			}
		case '`':
			if i+1 < len(src) && src[i+1] == '`' { // ``
				i++
				continue
			}
		case '<', '>':
			if i+2 < len(src) && src[i+1] == '(' && src[i+2] == ')' { // <() >()
				i += 2
				continue
			}
		case ' ', '\t', '\r':
			space = true
			continue
		case '+':
			// A '+' left after form decoding was sent as %2B: attackers use it
			// for a space (cat+/etc/passwd). Keep it only in option form, as
			// in "chmod +x".
			if !(i+1 < len(src) && isLetter(src[i+1]) && (i == 0 || src[i-1] == ' ' || src[i-1] == '\t')) {
				space = true
				continue
			}
		case '\n':
			c = ';'
		}
		if space {
			space = false
			if len(dst) > 0 && !isCmdSep(dst[len(dst)-1]) && !isCmdSep(c) {
				dst = append(dst, ' ')
			}
		}
		dst = append(dst, c)
	}
	return dst
}

// ifsLen returns the length of a $IFS or ${IFS} (optionally ${IFS%??}) at b,
// or 0.
func ifsLen(b []byte) int {
	switch {
	case len(b) >= 4 && string(b[:4]) == "$ifs":
		return 4
	case len(b) >= 6 && string(b[:5]) == "${ifs":
		for i := 5; i < len(b) && i < 12; i++ {
			if b[i] == '}' {
				return i + 1
			}
		}
	}
	return 0
}

// isCmdSep reports whether c separates or groups shell commands; spaces next
// to it carry no meaning.
func isCmdSep(c byte) bool {
	switch c {
	case ';', '|', '&', '`', '(', ')', '{', '}', '\n':
		return true
	}
	return false
}

// appendCanonicalPath appends the canonical form of the decoded path src to
// dst: lower-cased, backslashes as slashes, ";params" removed from each
// segment, empty and "." segments dropped and ".." resolved (never above the
// root). It reports whether a ".." segment was seen. The result always starts
// with '/'.
func appendCanonicalPath(dst, src []byte) (out []byte, dotdot bool) {
	base := len(dst)
	dst = append(dst, '/')
	i := 0
	for i < len(src) {
		// Skip separators.
		for i < len(src) && (src[i] == '/' || src[i] == '\\') {
			i++
		}
		if i >= len(src) {
			break
		}
		start := i
		for i < len(src) && src[i] != '/' && src[i] != '\\' {
			i++
		}
		seg := src[start:i]
		// Drop ";params": Tomcat and Jetty ignore them, so "..;" is "..".
		for k, c := range seg {
			if c == ';' {
				seg = seg[:k]
				break
			}
		}
		switch {
		case len(seg) == 0 || (len(seg) == 1 && seg[0] == '.'):
			continue
		case len(seg) == 2 && seg[0] == '.' && seg[1] == '.':
			dotdot = true
			// Remove the last segment, if any.
			j := len(dst) - 1
			if j > base {
				// dst ends with "/seg/": strip back to the previous '/'.
				j-- // skip trailing '/'
				for j > base && dst[j] != '/' {
					j--
				}
				dst = dst[:j+1]
			}
			continue
		}
		for _, c := range seg {
			dst = append(dst, lowerASCII(c))
		}
		dst = append(dst, '/')
	}
	// Keep a trailing slash only if the input had one.
	if len(dst)-base > 1 && (len(src) == 0 || (src[len(src)-1] != '/' && src[len(src)-1] != '\\')) {
		dst = dst[:len(dst)-1]
	}
	return dst, dotdot
}

// isCanonicalPath reports whether appendCanonicalPath of the decoded p is p
// itself: p starts with '/' and has nothing to decode (%, NUL, bytes ≥
// 0xc0), no upper-case letter, backslash or ';', no empty segment and no "."
// or ".." segment.
func isCanonicalPath(p []byte) bool {
	if len(p) == 0 || p[0] != '/' {
		return false
	}
	for i, c := range p {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			continue // most bytes of most paths
		}
		switch {
		case c == '%', c == 0, c >= 0xc0, c >= 'A' && c <= 'Z', c == '\\', c == ';':
			return false
		case c == '/':
			if i+1 < len(p) && p[i+1] == '/' {
				return false
			}
		case c == '.' && p[i-1] == '/':
			// "." or ".." as a whole segment (i > 0: p[0] is '/').
			j := i + 1
			if j < len(p) && p[j] == '.' {
				j++
			}
			if j == len(p) || p[j] == '/' {
				return false
			}
		}
	}
	return true
}

// maxParams bounds how many query parameters are split out per request; the
// rest of the query stays in the last parameter's value (and is still
// inspected), so an absurd query cannot grow the span table.
const maxParams = 64

// initialViewCap is the initial capacity of each view buffer; buffers grow
// (once) for longer fields and are reused afterwards.
const initialViewCap = 1024

// paramSpan locates one decoded query parameter in requestViews.qdec.
type paramSpan struct{ k0, k1, v0, v1 int }

// span is a half-open byte range.
type span struct{ lo, hi int }

// Bits of requestViews.have: which lazily built views exist for this request.
const (
	haveDecoded = 1 << iota // ×numFields
	_
	_
	_
	haveText // ×numFields
	_
	_
	_
	haveCmd // ×numFields
	_
	_
	_
	haveParams
	haveCanon
)

// requestViews holds the normalised views of one request, built lazily and
// at most once per request into buffers reused across requests. Not safe for
// concurrent use.
type requestViews struct {
	raws [numFields][]byte
	have uint32
	skip fieldMask // fields known to be clean (see cleanCache): not inspected
	d    decoder

	decBuf  [numFields][]byte // decoded views (unused for the query: see qdec)
	textBuf [numFields][]byte
	cmdBuf  [numFields][]byte

	qdec   []byte      // decoded query keys and values, back to back
	params []paramSpan // spans into qdec
	// Spans of each parameter ("key=value") in text[fiQuery] and
	// cmd[fiQuery]; parameters are separated there by a NUL byte, which no
	// view otherwise contains.
	tspans, cspans []span

	canonBuf []byte // storage for the canonical path
	canon    []byte // canonical path: canonBuf, or the raw path when already canonical
	dotdot   bool   // the path had a ".." segment

	comment [numFields]bool // the text view replaced a /* comment

	// The signature detector's scan of the raw User-Agent, whose index also
	// holds the User-Agent detector's literals: uaHits are its hits and
	// uaFeat its features, valid when uaShared (see shareUAScan).
	uaHits   []uint64
	uaFeat   uint16
	uaShared bool
}

// init preallocates the buffers.
func (v *requestViews) init() {
	for f := range numFields {
		v.decBuf[f] = make([]byte, 0, initialViewCap)
		v.textBuf[f] = make([]byte, 0, initialViewCap)
		v.cmdBuf[f] = make([]byte, 0, initialViewCap)
	}
	v.qdec = make([]byte, 0, initialViewCap)
	v.params = make([]paramSpan, 0, maxParams)
	v.tspans = make([]span, 0, maxParams)
	v.cspans = make([]span, 0, maxParams)
	v.canonBuf = make([]byte, 0, initialViewCap)
	v.uaHits = make([]uint64, 0, 64)
	v.d.a = make([]byte, 0, initialViewCap)
	v.d.b = make([]byte, 0, initialViewCap)
}

// reset starts a new request. ev's slices are only read.
func (v *requestViews) reset(ev *parse.Event) {
	v.raws = [numFields][]byte{fiQuery: ev.Query, fiPath: ev.Path, fiUserAgent: ev.UserAgent, fiReferer: ev.Referer}
	v.have = 0
	v.skip = 0
	v.uaShared = false
}

// shareUAScan records the signature detector's scan of the raw User-Agent
// for the User-Agent detector, so that the agent is scanned once.
func (v *requestViews) shareUAScan(hits []uint64, feat uint16) {
	v.uaHits = append(v.uaHits[:0], hits...)
	v.uaFeat = feat
	v.uaShared = true
}

// raw returns field f as logged.
func (v *requestViews) raw(f int) []byte { return v.raws[f] }

// splitQuery decodes the query's parameters into qdec.
func (v *requestViews) splitQuery() {
	if v.have&haveParams != 0 {
		return
	}
	v.have |= haveParams
	v.qdec = v.qdec[:0]
	v.params = v.params[:0]
	q := v.raws[fiQuery]
	for len(q) > 0 {
		var part []byte
		if i := bytes.IndexByte(q, '&'); i >= 0 && len(v.params) < maxParams-1 {
			part, q = q[:i], q[i+1:]
		} else {
			part, q = q, nil
		}
		if len(part) == 0 {
			continue
		}
		key, val := part, part[:0]
		if i := bytes.IndexByte(part, '='); i >= 0 {
			key, val = part[:i], part[i+1:]
		}
		var p paramSpan
		p.k0 = len(v.qdec)
		v.qdec, _ = v.d.decodeFull(v.qdec, key, true)
		p.k1 = len(v.qdec)
		p.v0 = p.k1
		v.qdec, _ = v.d.decodeFull(v.qdec, val, true)
		p.v1 = len(v.qdec)
		v.params = append(v.params, p)
	}
}

// decoded returns the decoded view of field f (not the query: see
// eachDecoded).
func (v *requestViews) decoded(f int) []byte {
	if v.have&(haveDecoded<<f) == 0 {
		v.have |= haveDecoded << f
		v.decBuf[f], _ = v.d.decodeFull(v.decBuf[f][:0], v.raws[f], f == fiReferer)
	}
	return v.decBuf[f]
}

// eachDecoded calls fn on the decoded view of field f, or for the query on
// each parameter's key and value, and reports whether any call returned true.
func (v *requestViews) eachDecoded(f int, fn func([]byte) bool) bool {
	if f != fiQuery {
		return fn(v.decoded(f))
	}
	v.splitQuery()
	for _, p := range v.params {
		if fn(v.qdec[p.k0:p.k1]) || fn(v.qdec[p.v0:p.v1]) {
			return true
		}
	}
	return false
}

// text returns the text view of field f. For the query it is the decoded
// parameters, each as "key=value" in its text form, separated by NUL bytes;
// paramSpans gives their positions.
func (v *requestViews) text(f int) []byte {
	if v.have&(haveText<<f) != 0 {
		return v.textBuf[f]
	}
	v.have |= haveText << f
	v.comment[f] = false
	t := v.textBuf[f][:0]
	if f == fiQuery {
		v.splitQuery()
		v.tspans = v.tspans[:0]
		for i, p := range v.params {
			if i > 0 {
				t = append(t, 0)
			}
			lo := len(t)
			var ck, cv bool
			t, ck = appendText(t, v.qdec[p.k0:p.k1])
			t = append(t, '=')
			t, cv = appendText(t, v.qdec[p.v0:p.v1])
			v.tspans = append(v.tspans, span{lo, len(t)})
			v.comment[f] = v.comment[f] || ck || cv
		}
	} else {
		t, v.comment[f] = appendText(t, v.decoded(f))
	}
	v.textBuf[f] = t
	return t
}

// hadComment reports whether the text view of field f replaced a /* comment.
func (v *requestViews) hadComment(f int) bool {
	v.text(f)
	return v.comment[f]
}

// cmdline returns the command-line view of field f (for the query, of each
// parameter, separated and located like the text view).
func (v *requestViews) cmdline(f int) []byte {
	if v.have&(haveCmd<<f) != 0 {
		return v.cmdBuf[f]
	}
	v.have |= haveCmd << f
	t := v.text(f)
	c := v.cmdBuf[f][:0]
	if f == fiQuery {
		v.cspans = v.cspans[:0]
		for i, s := range v.tspans {
			if i > 0 {
				c = append(c, 0)
			}
			lo := len(c)
			c = appendCmdline(c, t[s.lo:s.hi])
			v.cspans = append(v.cspans, span{lo, len(c)})
		}
	} else {
		c = appendCmdline(c, t)
	}
	v.cmdBuf[f] = c
	return c
}

// matchView reports whether rule branch rb matches view (text or command
// line) of field f; for the query, whether it matches any parameter on its
// own, so that ^ and $ anchor "key=value".
func (v *requestViews) matchView(rb *ruleBranch, f int, view ruleView) bool {
	var b []byte
	var spans []span
	if view == viewCmdline {
		b, spans = v.cmdline(f), v.cspans
	} else {
		b, spans = v.text(f), v.tspans
	}
	if f != fiQuery {
		return rb.match(b)
	}
	for _, s := range spans {
		if rb.match(b[s.lo:s.hi]) {
			return true
		}
	}
	return false
}

// canonicalPath returns the canonical path and whether it had a ".." segment.
func (v *requestViews) canonicalPath() ([]byte, bool) {
	if v.have&haveCanon == 0 {
		v.have |= haveCanon
		if p := v.raws[fiPath]; isCanonicalPath(p) {
			v.canon, v.dotdot = p, false // the common case: nothing to decode or resolve
		} else {
			v.canonBuf, v.dotdot = appendCanonicalPath(v.canonBuf[:0], v.decoded(fiPath))
			v.canon = v.canonBuf
		}
	}
	return v.canon, v.dotdot
}
