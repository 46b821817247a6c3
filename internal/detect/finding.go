// Package detect holds vigil's detectors: rate (per-client and global
// anomalies against the learned baseline), the content detectors (signature,
// user agent, probe), the behavioural ones (enumeration, brute force) and the
// scoring policy that turns weak content signals into a ban once they add up.
//
// Detectors never read the clock: they are given event time. Per-client state
// lives in State, a fixed-size value owned by the engine shard that owns the
// client; nothing here takes a lock.
package detect

import (
	"net/netip"
	"time"
)

// Class is the kind of abuse a finding points at. Values are stable strings
// (they appear in JSON output and metric labels).
type Class string

// Classes. The content classes match the evaluation corpus' labels.
const (
	ClassSQLi        Class = "sqli"
	ClassXSS         Class = "xss"
	ClassTraversal   Class = "traversal"
	ClassCmdi        Class = "cmdi"
	ClassProbe       Class = "probe"
	ClassScannerUA   Class = "scanner_ua"
	ClassOther       Class = "other" // RFI, SSRF, template/expression injection, Log4Shell, Shellshock, ...
	ClassRate        Class = "rate"
	ClassEnumeration Class = "enumeration"
	ClassBruteforce  Class = "bruteforce"
	ClassBadUA       Class = "bad_ua" // empty or malformed User-Agent
)

// Severity weighs a content finding in the scoring policy, like OWASP CRS
// anomaly scores. The value is the number of points a finding adds to its
// client's score.
type Severity uint8

// Severities, CRS-style.
const (
	SeverityNotice   Severity = 2
	SeverityWarning  Severity = 3
	SeverityError    Severity = 4
	SeverityCritical Severity = 5
)

// String returns the severity's name.
func (s Severity) String() string {
	switch {
	case s >= SeverityCritical:
		return "critical"
	case s >= SeverityError:
		return "error"
	case s >= SeverityWarning:
		return "warning"
	default:
		return "notice"
	}
}

// Mode says what a detector's findings may cause.
type Mode string

// Modes.
const (
	// ModeEnforce: findings count towards bans.
	ModeEnforce Mode = "enforce"
	// ModeAlert: findings are reported but never cause a ban.
	ModeAlert Mode = "alert"
	// ModeOff: the detector does not run.
	ModeOff Mode = "off"
)

// Valid reports whether m is one of the defined modes.
func (m Mode) Valid() bool { return m == ModeEnforce || m == ModeAlert || m == ModeOff }

// Field names where in a request a content match was found.
type Field uint8

// Fields of a request that content detectors inspect.
const (
	FieldPath Field = iota + 1
	FieldQuery
	FieldUserAgent
	FieldReferer
	FieldMethod
	FieldHost
)

// String returns the field's stable name.
func (f Field) String() string {
	switch f {
	case FieldPath:
		return "path"
	case FieldQuery:
		return "query"
	case FieldUserAgent:
		return "user_agent"
	case FieldReferer:
		return "referer"
	case FieldMethod:
		return "method"
	case FieldHost:
		return "host"
	}
	return "unknown"
}

// Match is one content rule firing on one request. It is a small value with no
// pointers into the request, so producing one allocates nothing.
type Match struct {
	// Detector is the detector that matched: "signature", "useragent" or "probe".
	Detector string
	// Rule is the stable id of the rule, e.g. "sqli-libinjection" or "ua-sqlmap".
	Rule string
	// Class is the kind of attack.
	Class Class
	// Severity is how many points the match adds to the client's score.
	Severity Severity
	// Field is where in the request the rule matched.
	Field Field
}

// Action is what a finding asks the respond stage to do.
type Action uint8

// Actions.
const (
	// ActionLog: record the finding only (it may feed a client's score).
	ActionLog Action = iota
	// ActionBan: ban the client (subject to allowlist, learning, circuit breaker).
	ActionBan
	// ActionAlert: raise a global anomaly alert (never a ban).
	ActionAlert
	// ActionRecover: the global anomaly is over.
	ActionRecover
)

// String returns the action's name.
func (a Action) String() string {
	switch a {
	case ActionBan:
		return "ban"
	case ActionAlert:
		return "alert"
	case ActionRecover:
		return "recover"
	}
	return "log"
}

// Evidence is the measurement behind a finding: what was measured, against
// which threshold, and the baseline in effect. Rates are in requests per 60 s
// window for per-client findings and requests per second for global ones.
type Evidence struct {
	// Value is the measured value that crossed Threshold.
	Value float64 `json:"value"`
	// Threshold is the limit Value crossed.
	Threshold float64 `json:"threshold"`
	// Mean and Stddev are the baseline in effect.
	Mean   float64 `json:"baseline_mean"`
	Stddev float64 `json:"baseline_stddev"`
	// ZScore is (Value-Mean)/Stddev, when the detector computed it.
	ZScore float64 `json:"zscore,omitempty"`
	// BaselineSource is "rolling", "hour_slot" or "floor".
	BaselineSource string `json:"baseline_source,omitempty"`
	// Requests and Errors are the counts in the client's (or global) window.
	Requests int `json:"window_requests"`
	Errors   int `json:"window_errors"`
	// ErrorRatio is Errors/Requests in the window.
	ErrorRatio float64 `json:"error_ratio"`
	// BaselineErrorRate is the baseline's 4xx/5xx share.
	BaselineErrorRate float64 `json:"baseline_error_rate,omitempty"`
	// Window is the length of the window the counts cover.
	Window time.Duration `json:"-"`
	// Tightened reports that thresholds were tightened by an error surge.
	Tightened bool `json:"tightened,omitempty"`
	// Learning reports that the baseline was still learning (rate bans suspended).
	Learning bool `json:"learning,omitempty"`
	// Score is the client's content score in the window (scoring policy).
	Score int `json:"score,omitempty"`
	// Distinct is a count of distinct items (e.g. distinct 404 paths).
	Distinct int `json:"distinct,omitempty"`
	// AlertDuration is how long a global anomaly lasted (recoveries only).
	AlertDuration time.Duration `json:"-"`
}

// Request is a copy of the parts of the triggering request that help an
// operator understand a finding. Strings are attacker-controlled: escape them
// for wherever they are shown. Long values are truncated.
type Request struct {
	Method    string `json:"method,omitempty"`
	Host      string `json:"host,omitempty"`
	Path      string `json:"path,omitempty"`
	Query     string `json:"query,omitempty"`
	Status    int    `json:"status,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
}

// Finding is a detector's conclusion about one client (or, for the global
// detector, about all traffic), with its evidence. Findings are values that the
// respond stage turns into decisions.
type Finding struct {
	// Time is the event time of the request (or second) that produced it.
	Time time.Time
	// Seq orders findings in log order: the sequence number of the line that
	// produced it (global findings take the sequence number of the next line).
	Seq uint64
	// Client is the client; the zero Addr for global findings.
	Client netip.Addr
	// Detector is the detector's name: "rate", "signature", "useragent",
	// "probe", "enumeration", "bruteforce", "score" or "global".
	Detector string
	// Rule is the rule id or condition: "zscore", "multiplier", "error_surge",
	// "distinct_404", "auth_failures", "threshold", a signature id, ...
	Rule string
	// Class is the kind of abuse.
	Class Class
	// Severity is the content severity (0 for non-content findings).
	Severity Severity
	// Mode is the mode of the detector that produced it.
	Mode Mode
	// Action is what the detector asks for.
	Action Action
	// Reason is one sentence an operator understands.
	Reason string
	// Evidence is the measurement behind the finding.
	Evidence Evidence
	// Request is the triggering request, for per-request findings.
	Request *Request
	// Field is where a content match was found (content findings only).
	Field Field
}
