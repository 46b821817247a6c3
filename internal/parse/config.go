package parse

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Format is the access-log format a Parser reads.
type Format string

// Formats.
const (
	// FormatJSON is one flat JSON object per line, as written by an Nginx
	// log_format with escape=json (or with the default escaping).
	FormatJSON Format = "json"
	// FormatCombined is Nginx's stock "combined" text format, optionally
	// followed by more quoted fields (the first is taken as X-Forwarded-For).
	FormatCombined Format = "combined"
)

// Size bounds enforced by Validate.
const (
	// MaxLineLimit is the largest allowed Limits.MaxLine (1 MiB).
	MaxLineLimit = 1 << 20
	// maxFieldName is the longest JSON key a field can be mapped to.
	maxFieldName = 256
)

// Fields maps Event fields to JSON keys. Each field holds the key Nginx
// writes for it; the koanf keys are the Nginx variable names. Only FormatJSON
// uses Fields. A key missing from a line, or holding "-", "" or null, leaves
// its field empty.
type Fields struct {
	// Time lists candidate keys for the event time; the first one present in
	// a line wins. The value's shape decides how it is read: RFC 3339
	// ($time_iso8601), $time_local, or epoch seconds ($msec).
	Time []string `koanf:"time"`
	// RemoteAddr is the key of the TCP peer address ($remote_addr).
	RemoteAddr string `koanf:"remote_addr"`
	// RequestMethod is the key of the method ($request_method).
	RequestMethod string `koanf:"request_method"`
	// RequestURI is the key of the URI with query ($request_uri).
	RequestURI string `koanf:"request_uri"`
	// Request is the key of the full request line ($request), used for the
	// method and URI when their own keys are absent.
	Request string `koanf:"request"`
	// Status is the key of the response status ($status).
	Status string `koanf:"status"`
	// BodyBytesSent is the key of the response body size ($body_bytes_sent).
	BodyBytesSent string `koanf:"body_bytes_sent"`
	// HTTPUserAgent is the key of the User-Agent header ($http_user_agent).
	HTTPUserAgent string `koanf:"http_user_agent"`
	// HTTPReferer is the key of the Referer header ($http_referer).
	HTTPReferer string `koanf:"http_referer"`
	// Host is the key of the host ($host).
	Host string `koanf:"host"`
	// RequestTime is the key of the request duration in seconds ($request_time).
	RequestTime string `koanf:"request_time"`
	// HTTPXForwardedFor is the key of the X-Forwarded-For header
	// ($http_x_forwarded_for).
	HTTPXForwardedFor string `koanf:"http_x_forwarded_for"`
}

// Limits bounds what one line may cost. Sizes are in bytes.
type Limits struct {
	// MaxLine is the longest accepted line, without its line terminator.
	// A longer line is rejected with ErrLineTooLong and never copied.
	MaxLine int `koanf:"max_line"`
	// MaxField is the longest field value kept in an Event. A longer value is
	// cut to MaxField bytes and Event.Truncated is set.
	MaxField int `koanf:"max_field"`
}

// Config configures a Parser. The zero value is not valid; start from
// DefaultConfig.
type Config struct {
	// Format is the log format: "json" or "combined".
	Format Format `koanf:"format"`
	// Fields maps JSON keys to Event fields (json format only).
	Fields Fields `koanf:"fields"`
	// Limits bounds line and field sizes.
	Limits Limits `koanf:"limits"`
}

// DefaultFields returns the field mapping of vigil's recommended log_format:
// every key is the name of the Nginx variable it holds.
func DefaultFields() Fields {
	return Fields{
		Time:              []string{"time", "time_iso8601", "time_local", "msec"},
		RemoteAddr:        "remote_addr",
		RequestMethod:     "request_method",
		RequestURI:        "request_uri",
		Request:           "request",
		Status:            "status",
		BodyBytesSent:     "body_bytes_sent",
		HTTPUserAgent:     "http_user_agent",
		HTTPReferer:       "http_referer",
		Host:              "host",
		RequestTime:       "request_time",
		HTTPXForwardedFor: "http_x_forwarded_for",
	}
}

// DefaultConfig returns the defaults: JSON lines with the default field
// names, lines up to 16 KiB and fields up to 4 KiB.
func DefaultConfig() Config {
	return Config{
		Format: FormatJSON,
		Fields: DefaultFields(),
		Limits: Limits{MaxLine: 16 << 10, MaxField: 4 << 10},
	}
}

// namedField is a field's config key and its JSON key.
type namedField struct {
	key  string // config key path, e.g. "fields.host"
	name string // JSON key
	id   fieldID
}

// fieldID numbers the single-key fields; time candidates follow them.
type fieldID uint8

const (
	fRemoteAddr fieldID = iota
	fMethod
	fURI
	fRequest
	fStatus
	fBytes
	fUserAgent
	fReferer
	fHost
	fRequestTime
	fForwardedFor
	fTime0 // first time candidate; candidate i is fTime0+i

	maxTimeCandidates = 8
	numFields         = int(fTime0) + maxTimeCandidates
)

// named lists every single-key field with its config key path.
func (f Fields) named() []namedField {
	return []namedField{
		{"fields.remote_addr", f.RemoteAddr, fRemoteAddr},
		{"fields.request_method", f.RequestMethod, fMethod},
		{"fields.request_uri", f.RequestURI, fURI},
		{"fields.request", f.Request, fRequest},
		{"fields.status", f.Status, fStatus},
		{"fields.body_bytes_sent", f.BodyBytesSent, fBytes},
		{"fields.http_user_agent", f.HTTPUserAgent, fUserAgent},
		{"fields.http_referer", f.HTTPReferer, fReferer},
		{"fields.host", f.Host, fHost},
		{"fields.request_time", f.RequestTime, fRequestTime},
		{"fields.http_x_forwarded_for", f.HTTPXForwardedFor, fForwardedFor},
	}
}

// all lists every field including the time candidates, in config order.
// Candidates past maxTimeCandidates (which Validate rejects) share the last id.
func (f Fields) all() []namedField {
	out := make([]namedField, 0, len(f.Time)+int(fTime0))
	for i, name := range f.Time {
		out = append(out, namedField{"fields.time[" + strconv.Itoa(i) + "]", name, fTime0 + fieldID(min(i, maxTimeCandidates-1))})
	}
	return append(out, f.named()...)
}

// Validate reports every problem in the configuration at once. Messages start
// with the key path relative to the parser's section, e.g. "limits.max_line".
func (c Config) Validate() error {
	var errs []error
	switch c.Format {
	case FormatJSON, FormatCombined:
	default:
		errs = append(errs, fmt.Errorf("format: must be %q or %q (got %q)", FormatJSON, FormatCombined, c.Format))
	}

	if len(c.Fields.Time) == 0 {
		errs = append(errs, errors.New("fields.time: must list at least one key"))
	}
	if len(c.Fields.Time) > maxTimeCandidates {
		errs = append(errs, fmt.Errorf("fields.time: at most %d keys (got %d)", maxTimeCandidates, len(c.Fields.Time)))
	}
	seen := make(map[string]string)
	for _, f := range c.Fields.all() {
		switch {
		case f.name == "":
			errs = append(errs, fmt.Errorf("%s: must not be empty", f.key))
		case strings.ContainsAny(f.name, "\"\\"):
			errs = append(errs, fmt.Errorf("%s: must not contain '\"' or '\\' (got %q)", f.key, f.name))
		case len(f.name) > maxFieldName:
			errs = append(errs, fmt.Errorf("%s: must be at most %d bytes (got %d)", f.key, maxFieldName, len(f.name)))
		case seen[f.name] != "":
			errs = append(errs, fmt.Errorf("%s: key %q is already used by %s", f.key, f.name, seen[f.name]))
		default:
			seen[f.name] = f.key
		}
	}

	l := c.Limits
	if l.MaxLine <= 0 {
		errs = append(errs, fmt.Errorf("limits.max_line: must be > 0 (got %d)", l.MaxLine))
	} else if l.MaxLine > MaxLineLimit {
		errs = append(errs, fmt.Errorf("limits.max_line: must be at most %d (got %d)", MaxLineLimit, l.MaxLine))
	}
	if l.MaxField <= 0 {
		errs = append(errs, fmt.Errorf("limits.max_field: must be > 0 (got %d)", l.MaxField))
	} else if l.MaxLine > 0 && l.MaxField > l.MaxLine {
		errs = append(errs, fmt.Errorf("limits.max_field: must be at most limits.max_line (%d) (got %d)", l.MaxLine, l.MaxField))
	}
	return errors.Join(errs...)
}
