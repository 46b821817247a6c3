// Package escape makes attacker-controlled strings (paths, user agents,
// reasons quoting them) safe for the places vigil shows them: a terminal and
// Slack's mrkdwn. HTML goes through html/template and JSON through
// encoding/json, which escape on their own.
package escape

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Terminal returns s with every control character, escape sequence, invalid
// UTF-8 byte and bidirectional override made visible as a \xHH or \uHHHH
// escape, so printing it cannot move the cursor, recolour the screen or
// reorder text.
func Terminal(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			writeHex(&b, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			writeHex(&b, byte(r))
		case unicode.Is(unicode.Bidi_Control, r) || r == 0x2028 || r == 0x2029 || r == 0xfeff:
			b.WriteString(`\u`)
			const hex = "0123456789abcdef"
			b.WriteByte(hex[r>>12&0xf])
			b.WriteByte(hex[r>>8&0xf])
			b.WriteByte(hex[r>>4&0xf])
			b.WriteByte(hex[r&0xf])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func isClean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

func writeHex(b *strings.Builder, c byte) {
	const hex = "0123456789abcdef"
	b.WriteString(`\x`)
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&0xf])
}

// Mrkdwn escapes s for Slack's mrkdwn: &, < and > become entities (so no
// <!channel>, <@user> or <url|link> can be injected), formatting characters
// (*, _, ~, `) are neutralised with a zero-width space after them so they
// cannot open formatting, and control characters are escaped as in Terminal.
func Mrkdwn(s string) string {
	s = Terminal(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '*', '_', '~', '`':
			b.WriteRune(r)
			b.WriteRune('\u200b')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
