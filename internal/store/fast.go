package store

import (
	"strconv"
	"unicode/utf8"
)

// The fast decoder reads the exact form encodeValue writes (encoding/json
// output of envelope: no whitespace, known keys, no nulls) about five times
// faster than encoding/json, which matters when the daemon restores 100k
// bans at start. Anything else (unknown or differently cased keys,
// whitespace, surrogate escapes, invalid UTF-8, nulls) makes it give up, and
// the value is decoded by encoding/json instead, so the result never depends
// on which decoder ran: FuzzFastDecode checks that whatever the fast decoder
// accepts, encoding/json accepts and decodes the same.

// fastDecode decodes v into env and reports whether it could. The record,
// ban and request it needs are taken from scratch, so that a caller can
// keep them off the heap.
func fastDecode(v []byte, env *envelope, scratch *scratch) bool {
	s := scanner{b: v, scratch: scratch}
	return s.envelope(env) && s.i == len(s.b)
}

// scratch holds the values fastDecode points env at.
type scratch struct {
	rec recordV1
	ban banV1
	req requestV1
}

// scanner reads JSON from b at i. Every method returns false when the input
// is not in the canonical form.
type scanner struct {
	b       []byte
	i       int
	scratch *scratch
}

func (s *scanner) envelope(env *envelope) bool {
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "v":
			return s.int(&env.V)
		case "record":
			if env.Record == nil {
				env.Record = &s.scratch.rec
			}
			return s.record(env.Record)
		default:
			return false
		}
	})
}

func (s *scanner) record(r *recordV1) bool {
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "prefix":
			return s.text(r.Prefix.UnmarshalText)
		case "offenses":
			return s.int(&r.Offenses)
		case "last_offense":
			return s.time(r.LastOffense.UnmarshalJSON)
		case "ban":
			if r.Ban == nil {
				r.Ban = &s.scratch.ban
			}
			return s.ban(r.Ban)
		default:
			return false
		}
	})
}

func (s *scanner) ban(b *banV1) bool {
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "prefix":
			return s.text(b.Prefix.UnmarshalText)
		case "since":
			return s.time(b.Since.UnmarshalJSON)
		case "until":
			return s.time(b.Until.UnmarshalJSON)
		case "offense":
			return s.int(&b.Offense)
		case "detector":
			return s.str(&b.Detector)
		case "rule":
			return s.str(&b.Rule)
		case "class":
			return s.str((*string)(&b.Class))
		case "reason":
			return s.str(&b.Reason)
		case "manual":
			return s.bool(&b.Manual)
		case "shadow":
			return s.bool(&b.Shadow)
		case "evidence":
			return s.evidence(&b.Evidence)
		case "request":
			if b.Request == nil {
				b.Request = &s.scratch.req
			}
			return s.request(b.Request)
		default:
			return false
		}
	})
}

func (s *scanner) evidence(e *evidenceV1) bool {
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "value":
			return s.float(&e.Value)
		case "threshold":
			return s.float(&e.Threshold)
		case "baseline_mean":
			return s.float(&e.Mean)
		case "baseline_stddev":
			return s.float(&e.Stddev)
		case "zscore":
			return s.float(&e.ZScore)
		case "baseline_source":
			return s.str(&e.BaselineSource)
		case "window_requests":
			return s.int(&e.Requests)
		case "window_errors":
			return s.int(&e.Errors)
		case "error_ratio":
			return s.float(&e.ErrorRatio)
		case "baseline_error_rate":
			return s.float(&e.BaselineErrorRate)
		case "window":
			return s.text(e.Window.UnmarshalText)
		case "tightened":
			return s.bool(&e.Tightened)
		case "learning":
			return s.bool(&e.Learning)
		case "score":
			return s.int(&e.Score)
		case "distinct":
			return s.int(&e.Distinct)
		case "alert_duration":
			return s.text(e.AlertDuration.UnmarshalText)
		default:
			return false
		}
	})
}

func (s *scanner) request(q *requestV1) bool {
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "method":
			return s.str(&q.Method)
		case "host":
			return s.str(&q.Host)
		case "path":
			return s.str(&q.Path)
		case "query":
			return s.str(&q.Query)
		case "status":
			return s.int(&q.Status)
		case "user_agent":
			return s.str(&q.UserAgent)
		default:
			return false
		}
	})
}

// object reads an object whose members are handled by member, called with
// each key and the scanner at its value; member returns false for an
// unknown key or a bad value.
func (s *scanner) object(member func(k []byte) bool) bool {
	if !s.open() {
		return false
	}
	for more := !s.close(); more; {
		k, ok := s.key()
		if !ok {
			return false
		}
		if more, ok = s.next(member(k)); !ok {
			return false
		}
	}
	return true
}

// open consumes '{'.
func (s *scanner) open() bool { return s.eat('{') }

// close consumes '}' if it is next.
func (s *scanner) close() bool { return s.eat('}') }

// next is called after a member's value was read (ok): it consumes ',' and
// reports more, or '}' and reports no more.
func (s *scanner) next(ok bool) (more, fine bool) {
	if !ok {
		return false, false
	}
	if s.eat(',') {
		return true, true
	}
	return false, s.eat('}')
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// key reads `"name":` (names are plain ASCII) and returns name.
func (s *scanner) key() ([]byte, bool) {
	raw, ok := s.plain()
	if !ok || !s.eat(':') {
		return nil, false
	}
	return raw, true
}

// plain reads a string without escapes or control bytes and returns its
// contents (aliasing b).
func (s *scanner) plain() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start := s.i
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			out := s.b[start:s.i]
			s.i++
			return out, utf8.Valid(out)
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// text reads a plain string and hands it to an UnmarshalText method.
func (s *scanner) text(unmarshal func([]byte) error) bool {
	raw, ok := s.plain()
	return ok && unmarshal(raw) == nil
}

// time reads a plain string and hands it, quoted, to time.Time's
// UnmarshalJSON, exactly as encoding/json does.
func (s *scanner) time(unmarshal func([]byte) error) bool {
	start := s.i
	if _, ok := s.plain(); !ok {
		return false
	}
	return unmarshal(s.b[start:s.i]) == nil
}

// str reads a string value, unescaping it.
func (s *scanner) str(dst *string) bool {
	if !s.eat('"') {
		return false
	}
	start := s.i
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			raw := s.b[start:s.i]
			s.i++
			if !utf8.Valid(raw) {
				return false
			}
			*dst = string(raw)
			return true
		case c == '\\':
			return s.escaped(start, dst)
		case c < 0x20:
			return false
		}
	}
	return false
}

// escaped finishes a string that starts at start and has an escape at i.
func (s *scanner) escaped(start int, dst *string) bool {
	out := make([]byte, 0, 2*(s.i-start)+16)
	out = append(out, s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !utf8.Valid(out) {
				return false
			}
			*dst = string(out)
			return true
		case c < 0x20:
			return false
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			return false
		}
		switch e := s.b[s.i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if s.i+6 > len(s.b) {
				return false
			}
			r, err := strconv.ParseUint(string(s.b[s.i+2:s.i+6]), 16, 16)
			// Surrogates (pairs or lone) are left to encoding/json.
			if err != nil || (r >= 0xd800 && r < 0xe000) {
				return false
			}
			out = utf8.AppendRune(out, rune(r))
			s.i += 6
			continue
		default:
			return false
		}
		s.i += 2
	}
	return false
}

// number reads a JSON number literal.
func (s *scanner) number() ([]byte, bool) {
	start := s.i
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			s.i++
			continue
		}
		break
	}
	n := s.b[start:s.i]
	return n, validNumber(n)
}

func (s *scanner) int(dst *int) bool {
	n, ok := s.number()
	if !ok {
		return false
	}
	v, err := strconv.ParseInt(string(n), 10, strconv.IntSize)
	*dst = int(v)
	return err == nil
}

func (s *scanner) float(dst *float64) bool {
	n, ok := s.number()
	if !ok {
		return false
	}
	v, err := strconv.ParseFloat(string(n), 64)
	*dst = v
	return err == nil
}

func (s *scanner) bool(dst *bool) bool {
	switch {
	case s.literal("true"):
		*dst = true
	case s.literal("false"):
		*dst = false
	default:
		return false
	}
	return true
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// validNumber reports whether n is a JSON number:
// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
func validNumber(n []byte) bool {
	i := 0
	digits := func() int {
		j := i
		for i < len(n) && n[i] >= '0' && n[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(n) && n[i] == '-' {
		i++
	}
	switch {
	case i < len(n) && n[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(n) && n[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(n) && (n[i] == 'e' || n[i] == 'E') {
		i++
		if i < len(n) && (n[i] == '+' || n[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(n)
}
