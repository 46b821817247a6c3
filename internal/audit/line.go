package audit

// appendLine appends the JSON text b and a newline to dst, additionally
// escaping the characters that encoding/json leaves raw but that terminals
// or line-splitting tools may act on: DEL (U+007F) and the C1 controls
// U+0080..U+009F (U+0085 NEL is a line break for some readers). JSON
// structure is ASCII, so these can only occur inside strings, where the
// \u escape means the same character. encoding/json has already escaped
// every other control character, U+2028 and U+2029, and replaced invalid
// UTF-8 with U+FFFD.
func appendLine(dst, b []byte) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == 0x7f:
			dst = append(dst, `\u007f`...)
		case c == 0xc2 && i+1 < len(b) && b[i+1] >= 0x80 && b[i+1] <= 0x9f:
			// 0xc2 only ever leads a two-byte sequence (U+0080..U+00BF).
			r := b[i+1] // 0xc2 0x80..0x9f encodes U+0080..U+009F
			dst = append(dst, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
			i++
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '\n')
}
