package parse

import "time"

// timeCache remembers the last time value parsed: consecutive lines usually
// carry the same second, so the common case is one byte comparison.
type timeCache struct {
	raw  [48]byte
	n    int // bytes of raw in use; 0 = empty
	last time.Time

	// loc is the fixed zone for offset (seconds east of UTC). Building a
	// zone allocates, so the last one is kept; offsets change rarely.
	loc    *time.Location
	offset int
}

// parseTime parses a time value, using the cache when it repeats.
func (p *Parser) parseTime(b []byte) (time.Time, bool) {
	c := &p.tc
	if c.n > 0 && string(b) == string(c.raw[:c.n]) {
		return c.last, true
	}
	t, ok := c.parse(b)
	if ok && len(b) <= len(c.raw) {
		c.n = copy(c.raw[:], b)
		c.last = t
	}
	return t, ok
}

// parse reads the three shapes Nginx writes, told apart by their form:
//
//	2026-04-27T09:25:51+00:00     $time_iso8601 (RFC 3339; fraction and Z allowed)
//	27/Apr/2026:09:25:51 +0000    $time_local
//	1714209951.123                $msec (epoch seconds, fraction optional)
func (c *timeCache) parse(b []byte) (time.Time, bool) {
	switch {
	case len(b) >= 20 && b[4] == '-':
		return c.parseISO(b)
	case len(b) == 26 && b[2] == '/':
		return c.parseLocal(b)
	default:
		return parseEpoch(b)
	}
}

// parseISO parses YYYY-MM-DDTHH:MM:SS[.fffffffff](Z|±HH:MM|±HHMM). The
// separator may also be 't' or a space, the zone 'z'.
func (c *timeCache) parseISO(b []byte) (time.Time, bool) {
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || b[7] != '-' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	if sep := b[10]; sep != 'T' && sep != 't' && sep != ' ' {
		return time.Time{}, false
	}
	rest := b[19:]
	nsec := 0
	if rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 1 || i > 10 {
			return time.Time{}, false
		}
		nsec, _ = digits(rest[1:i])
		for k := i; k < 10; k++ {
			nsec *= 10
		}
		rest = rest[i:]
	}
	var off int
	switch {
	case len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case len(rest) == 6 && rest[3] == ':':
		h, okh := digits(rest[1:3])
		m, okm := digits(rest[4:6])
		if off, ok1 = offset(rest[0], h, m, okh && okm); !ok1 {
			return time.Time{}, false
		}
	case len(rest) == 5:
		h, okh := digits(rest[1:3])
		m, okm := digits(rest[3:5])
		if off, ok1 = offset(rest[0], h, m, okh && okm); !ok1 {
			return time.Time{}, false
		}
	default:
		return time.Time{}, false
	}
	return c.date(year, month, day, hour, minute, sec, nsec, off)
}

// parseLocal parses $time_local: DD/Mon/YYYY:HH:MM:SS ±HHMM.
func (c *timeCache) parseLocal(b []byte) (time.Time, bool) {
	day, ok1 := digits(b[0:2])
	month := monthNumber(b[3:6])
	year, ok2 := digits(b[7:11])
	hour, ok3 := digits(b[12:14])
	minute, ok4 := digits(b[15:17])
	sec, ok5 := digits(b[18:20])
	h, ok6 := digits(b[22:24])
	m, ok7 := digits(b[24:26])
	if !(ok1 && ok2 && ok3 && ok4 && ok5) || month == 0 ||
		b[2] != '/' || b[6] != '/' || b[11] != ':' || b[14] != ':' || b[17] != ':' || b[20] != ' ' {
		return time.Time{}, false
	}
	off, ok := offset(b[21], h, m, ok6 && ok7)
	if !ok {
		return time.Time{}, false
	}
	return c.date(year, month, day, hour, minute, sec, 0, off)
}

// parseEpoch parses seconds since the Unix epoch with an optional fraction
// of up to 9 digits.
func parseEpoch(b []byte) (time.Time, bool) {
	intPart, frac := b, []byte(nil)
	for i, ch := range b {
		if ch == '.' {
			intPart, frac = b[:i], b[i+1:]
			break
		}
	}
	if len(intPart) == 0 || len(intPart) > 11 || len(frac) > 9 || (frac != nil && len(frac) == 0) {
		return time.Time{}, false
	}
	sec, ok := digits(intPart)
	if !ok {
		return time.Time{}, false
	}
	nsec := 0
	if len(frac) > 0 {
		if nsec, ok = digits(frac); !ok {
			return time.Time{}, false
		}
		for k := len(frac); k < 9; k++ {
			nsec *= 10
		}
	}
	return time.Unix(int64(sec), int64(nsec)).UTC(), true
}

// date builds a time from validated calendar fields in the zone off seconds
// east of UTC. It rejects out-of-range fields rather than normalising them.
func (c *timeCache) date(year, month, day, hour, minute, sec, nsec, off int) (time.Time, bool) {
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	loc := time.UTC
	if off != 0 {
		if c.loc == nil || c.offset != off {
			c.loc, c.offset = time.FixedZone("", off), off
		}
		loc = c.loc
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), true
}

// offset returns a zone offset in seconds for sign, hours and minutes.
func offset(sign byte, h, m int, ok bool) (int, bool) {
	if !ok || h > 23 || m > 59 {
		return 0, false
	}
	switch sign {
	case '+':
		return h*3600 + m*60, true
	case '-':
		return -(h*3600 + m*60), true
	}
	return 0, false
}

// digits parses b as an unsigned decimal number (at most 18 digits).
func digits(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// monthNumber returns 1..12 for an English three-letter month, else 0.
func monthNumber(b []byte) int {
	switch string(b) {
	case "Jan":
		return 1
	case "Feb":
		return 2
	case "Mar":
		return 3
	case "Apr":
		return 4
	case "May":
		return 5
	case "Jun":
		return 6
	case "Jul":
		return 7
	case "Aug":
		return 8
	case "Sep":
		return 9
	case "Oct":
		return 10
	case "Nov":
		return 11
	case "Dec":
		return 12
	}
	return 0
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
