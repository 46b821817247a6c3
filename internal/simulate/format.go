package simulate

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// Record is one simulated request: the fields of one access-log line.
//
// URI and Referer alias buffers owned by the Generator and are valid until
// the next call to Generator.Next; copy them to keep them. The string fields
// point at the generator's static vocabulary. An empty UserAgent, Referer or
// ForwardedFor means the request did not carry that header. Record is a
// plain value, not safe for concurrent mutation.
type Record struct {
	// Time is the event time: when Nginx logs the request.
	Time time.Time
	// Addr is the client address ($remote_addr).
	Addr netip.Addr
	// Method is the request method.
	Method string
	// URI is the request target as the client sent it: path and query,
	// percent-encoded or not ($request_uri).
	URI []byte
	// Proto is the protocol of the request line, e.g. "HTTP/2.0".
	Proto string
	// Status is the response status code.
	Status int
	// Bytes is the response body size ($body_bytes_sent).
	Bytes int64
	// RequestTime is how long the request took ($request_time, logged with
	// millisecond resolution).
	RequestTime time.Duration
	// UserAgent is the User-Agent header.
	UserAgent string
	// Referer is the Referer header.
	Referer []byte
	// Host is the Host header ($host).
	Host string
	// ForwardedFor is the X-Forwarded-For header.
	ForwardedFor string
}

// Appender formats one Record as one log line, appending it (with its
// trailing newline) to dst.
type Appender func(dst []byte, r *Record) []byte

// AppenderFor returns the Appender for a format name (FormatJSON or
// FormatCombined).
func AppenderFor(format string) (Appender, error) {
	switch format {
	case FormatJSON:
		return WriteJSON, nil
	case FormatCombined:
		return WriteCombined, nil
	}
	return nil, fmt.Errorf("unknown format %q (want %s or %s)", format, FormatJSON, FormatCombined)
}

// WriteJSON appends r to dst as one line in the format that this Nginx
// log_format writes, followed by '\n':
//
//	log_format vigil_json escape=json '{"time":"$time_iso8601","remote_addr":"$remote_addr",'
//	  '"request_method":"$request_method","request_uri":"$request_uri","status":$status,'
//	  '"body_bytes_sent":$body_bytes_sent,"request_time":$request_time,'
//	  '"http_user_agent":"$http_user_agent","http_referer":"$http_referer","host":"$host",'
//	  '"http_x_forwarded_for":"$http_x_forwarded_for"}';
//
// Escaping is Nginx's escape=json: '"' and '\' are backslash-escaped, \n \r
// \t \b \f use their short forms, other bytes below 0x20 become \u00XX, and
// every other byte (including invalid UTF-8) is written as is. A missing
// header is an empty string. WriteJSON does not allocate when dst has room.
func WriteJSON(dst []byte, r *Record) []byte {
	dst = append(dst, `{"time":"`...)
	dst = appendISO8601(dst, r.Time)
	dst = append(dst, `","remote_addr":"`...)
	dst = appendAddr(dst, r.Addr)
	dst = append(dst, `","request_method":"`...)
	dst = appendJSONString(dst, r.Method)
	dst = append(dst, `","request_uri":"`...)
	dst = appendJSONString(dst, r.URI)
	dst = append(dst, `","status":`...)
	dst = strconv.AppendInt(dst, int64(r.Status), 10)
	dst = append(dst, `,"body_bytes_sent":`...)
	dst = strconv.AppendInt(dst, r.Bytes, 10)
	dst = append(dst, `,"request_time":`...)
	dst = appendSeconds(dst, r.RequestTime)
	dst = append(dst, `,"http_user_agent":"`...)
	dst = appendJSONString(dst, r.UserAgent)
	dst = append(dst, `","http_referer":"`...)
	dst = appendJSONString(dst, r.Referer)
	dst = append(dst, `","host":"`...)
	dst = appendJSONString(dst, r.Host)
	dst = append(dst, `","http_x_forwarded_for":"`...)
	dst = appendJSONString(dst, r.ForwardedFor)
	return append(dst, "\"}\n"...)
}

// WriteCombined appends r to dst as one line of Nginx's stock "combined"
// format, followed by '\n':
//
//	$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
//
// Escaping is Nginx's default: '"', '\', bytes below 0x20 and bytes from
// 0x7f up are written as \xHH. A missing header is written as "-".
// WriteCombined does not allocate when dst has room.
func WriteCombined(dst []byte, r *Record) []byte {
	dst = appendAddr(dst, r.Addr)
	dst = append(dst, " - - ["...)
	dst = appendTimeLocal(dst, r.Time)
	dst = append(dst, "] \""...)
	dst = appendLogEscaped(dst, r.Method)
	dst = append(dst, ' ')
	dst = appendLogEscaped(dst, r.URI)
	dst = append(dst, ' ')
	dst = appendLogEscaped(dst, r.Proto)
	dst = append(dst, "\" "...)
	dst = strconv.AppendInt(dst, int64(r.Status), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, r.Bytes, 10)
	dst = append(dst, " \""...)
	if len(r.Referer) == 0 {
		dst = append(dst, '-')
	} else {
		dst = appendLogEscaped(dst, r.Referer)
	}
	dst = append(dst, "\" \""...)
	if len(r.UserAgent) == 0 {
		dst = append(dst, '-')
	} else {
		dst = appendLogEscaped(dst, r.UserAgent)
	}
	return append(dst, "\"\n"...)
}

// appendAddr appends a's text form; the zero Addr appends nothing.
func appendAddr(dst []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return dst
	}
	return a.AppendTo(dst)
}

const hexUpper = "0123456789ABCDEF"

// appendJSONString appends s with Nginx's escape=json escaping.
func appendJSONString[S ~string | ~[]byte](dst []byte, s S) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		start = i + 1
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexUpper[c>>4], hexUpper[c&0xf])
		}
	}
	return append(dst, s[start:]...)
}

// appendLogEscaped appends s with Nginx's default log escaping.
func appendLogEscaped[S ~string | ~[]byte](dst []byte, s S) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		start = i + 1
		dst = append(dst, '\\', 'x', hexUpper[c>>4], hexUpper[c&0xf])
	}
	return append(dst, s[start:]...)
}

// appendSeconds appends d in seconds with millisecond resolution, like
// Nginx's $request_time ("0.012"). Negative durations are written as 0.000.
func appendSeconds(dst []byte, d time.Duration) []byte {
	ms := int64(d / time.Millisecond)
	if ms < 0 {
		ms = 0
	}
	dst = strconv.AppendInt(dst, ms/1000, 10)
	f := ms % 1000
	return append(dst, '.', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
}

// civil splits t, in its own time zone, into calendar fields and the zone
// offset in seconds east of UTC.
func civil(t time.Time) (year, month, day, hour, minute, sec, offset int) {
	_, offset = t.Zone()
	s := t.Unix() + int64(offset)
	days := s / 86400
	rem := s % 86400
	if rem < 0 {
		rem += 86400
		days--
	}
	hour, minute, sec = int(rem/3600), int(rem/60%60), int(rem%60)
	// Days since 1970-01-01 to a proleptic Gregorian date (era-based
	// algorithm, valid for the full int64 range used here).
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		month = int(mp + 3)
	} else {
		month = int(mp - 9)
	}
	year = int(yoe + era*400)
	if month <= 2 {
		year++
	}
	return year, month, day, hour, minute, sec, offset
}

func append2(dst []byte, v int) []byte { return append(dst, byte('0'+v/10), byte('0'+v%10)) }

func append4(dst []byte, v int) []byte {
	if v < 0 || v > 9999 {
		return strconv.AppendInt(dst, int64(v), 10)
	}
	return append(dst, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// appendISO8601 appends t like Nginx's $time_iso8601: 2026-01-05T10:04:05+00:00.
func appendISO8601(dst []byte, t time.Time) []byte {
	y, mo, d, h, mi, s, off := civil(t)
	dst = append4(dst, y)
	dst = append(dst, '-')
	dst = append2(dst, mo)
	dst = append(dst, '-')
	dst = append2(dst, d)
	dst = append(dst, 'T')
	dst = append2(dst, h)
	dst = append(dst, ':')
	dst = append2(dst, mi)
	dst = append(dst, ':')
	dst = append2(dst, s)
	return appendOffset(dst, off, true)
}

const monthNames = "JanFebMarAprMayJunJulAugSepOctNovDec"

// appendTimeLocal appends t like Nginx's $time_local: 05/Jan/2026:10:04:05 +0000.
func appendTimeLocal(dst []byte, t time.Time) []byte {
	y, mo, d, h, mi, s, off := civil(t)
	dst = append2(dst, d)
	dst = append(dst, '/')
	dst = append(dst, monthNames[3*(mo-1):3*mo]...)
	dst = append(dst, '/')
	dst = append4(dst, y)
	dst = append(dst, ':')
	dst = append2(dst, h)
	dst = append(dst, ':')
	dst = append2(dst, mi)
	dst = append(dst, ':')
	dst = append2(dst, s)
	dst = append(dst, ' ')
	return appendOffset(dst, off, false)
}

// appendOffset appends a zone offset as +hh:mm (colon) or +hhmm.
func appendOffset(dst []byte, off int, colon bool) []byte {
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	off /= 60
	dst = append(dst, sign)
	dst = append2(dst, off/60)
	if colon {
		dst = append(dst, ':')
	}
	return append2(dst, off%60)
}
