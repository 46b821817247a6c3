// Package parse turns one access-log line into an Event. It reads Nginx JSON
// lines (escape=json or the default escaping, numbers quoted or bare, field
// names mapped in Config) and Nginx's stock "combined" text format.
//
// Parsing is zero-copy and allocation-free: the byte-slice fields of an Event
// alias the input line or the Parser's scratch buffer and stay valid only until
// the next call to Parse on the same Parser. A line or field over its limit is
// rejected or truncated and counted; it never grows memory.
package parse

import (
	"net/netip"
	"time"
)

// Event is one HTTP request as an access log records it. It is the one value
// that flows through the pipeline.
//
// Byte-slice fields alias the parsed line or the Parser's scratch buffer and
// are valid until the next Parse call on the same Parser; copy them to keep
// them. A field the log did not carry (or carried as Nginx's "-") is empty.
// Event is a plain value: not safe for concurrent mutation.
type Event struct {
	// Time is the event time: when Nginx logged the request.
	Time time.Time
	// Remote is the TCP peer ($remote_addr), with IPv4-mapped IPv6 unmapped.
	Remote netip.Addr
	// Client is the client the request is attributed to. The parser sets it to
	// Remote; ident.Resolver replaces it after trusted-proxy resolution.
	Client netip.Addr
	// Method is the request method, e.g. "GET".
	Method []byte
	// Host is the Host header or server name ($host).
	Host []byte
	// Path is the request path as logged, still percent-encoded, without the query.
	Path []byte
	// Query is the raw query string after '?', without the '?'.
	Query []byte
	// Status is the response status code (0 when absent).
	Status uint16
	// Bytes is the response body size in bytes ($body_bytes_sent).
	Bytes int64
	// UserAgent is the User-Agent header.
	UserAgent []byte
	// Referer is the Referer header.
	Referer []byte
	// ForwardedFor is the raw X-Forwarded-For header.
	ForwardedFor []byte
	// RequestTime is how long Nginx took to serve the request ($request_time).
	RequestTime time.Duration
	// Truncated reports that at least one field was cut to Limits.MaxField.
	Truncated bool
}

// IsError reports whether the response status is a client or server error
// (4xx or 5xx).
func (e *Event) IsError() bool { return e.Status >= 400 && e.Status <= 599 }

// Reset clears every field, keeping nothing that aliases an old line.
func (e *Event) Reset() { *e = Event{} }

// Error is a reason a line was rejected. Every rejection returned by Parse is
// one of the package's sentinel *Error values, so callers can count by
// Reason without allocating; compare with errors.Is.
type Error struct {
	// Reason is a short, stable, snake_case label, used as a metric label.
	Reason string
	msg    string
}

// Error implements error.
func (e *Error) Error() string { return e.msg }

// Sentinel rejections. Reasons are stable: they are metric label values.
var (
	// ErrEmpty is returned for an empty or all-blank line.
	ErrEmpty = &Error{Reason: "empty", msg: "empty line"}
	// ErrLineTooLong is returned for a line longer than Limits.MaxLine.
	ErrLineTooLong = &Error{Reason: "line_too_long", msg: "line exceeds the line size limit"}
	// ErrSyntax is returned when the line is not in the configured format.
	ErrSyntax = &Error{Reason: "syntax", msg: "malformed line"}
	// ErrNoAddr is returned when the line has no client address field.
	ErrNoAddr = &Error{Reason: "no_addr", msg: "no client address"}
	// ErrBadAddr is returned when the client address is not an IP address.
	ErrBadAddr = &Error{Reason: "bad_addr", msg: "client address is not an IP address"}
	// ErrNoTime is returned when the line has no time field.
	ErrNoTime = &Error{Reason: "no_time", msg: "no time field"}
	// ErrBadTime is returned when the time field cannot be parsed.
	ErrBadTime = &Error{Reason: "bad_time", msg: "unparsable time"}
	// ErrBadNumber is returned when status, bytes or request time is not a number.
	ErrBadNumber = &Error{Reason: "bad_number", msg: "malformed numeric field"}
)

// Reasons lists every rejection reason Parse can return, in a stable order, so
// metrics can pre-create their label values.
func Reasons() []*Error {
	return []*Error{ErrEmpty, ErrLineTooLong, ErrSyntax, ErrNoAddr, ErrBadAddr, ErrNoTime, ErrBadTime, ErrBadNumber}
}
