package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/respond"
)

// schemaVersion is the version of the file layout and of the record
// envelope this code writes. A reader refuses anything newer.
const schemaVersion = 1

// Bucket and meta key names.
var (
	bucketRecords = []byte("records")
	bucketMeta    = []byte("meta")
	keySchema     = []byte("schema")
	keyCreated    = []byte("created")
)

// Key layout: family (4 or 6), the address as 16 bytes (IPv4 in its
// IPv4-mapped form), the prefix length. Fixed length, so keys sort by
// family, then address, then length.
const (
	keyLen       = 18
	familyIPv4   = 4
	familyIPv6   = 6
	keyAddrStart = 1
	keyBitsAt    = 17
)

// encodeKey returns the record key of p.
func encodeKey(p netip.Prefix) ([]byte, error) {
	if !p.IsValid() {
		return nil, fmt.Errorf("invalid prefix %q", p.String())
	}
	a := p.Addr()
	if a.Zone() != "" {
		return nil, fmt.Errorf("prefix %s has a zone", p)
	}
	k := make([]byte, keyLen)
	k[0] = familyIPv6
	if a.Is4() {
		k[0] = familyIPv4
	}
	a16 := a.As16()
	copy(k[keyAddrStart:keyBitsAt], a16[:])
	k[keyBitsAt] = byte(p.Bits())
	return k, nil
}

// decodeKey is the inverse of encodeKey.
func decodeKey(k []byte) (netip.Prefix, error) {
	if len(k) != keyLen {
		return netip.Prefix{}, fmt.Errorf("key is %d bytes, want %d", len(k), keyLen)
	}
	a := netip.AddrFrom16([16]byte(k[keyAddrStart:keyBitsAt]))
	bits := int(k[keyBitsAt])
	switch k[0] {
	case familyIPv4:
		if !a.Is4In6() {
			return netip.Prefix{}, errors.New("IPv4 key does not hold an IPv4 address")
		}
		a = a.Unmap()
	case familyIPv6:
	default:
		return netip.Prefix{}, fmt.Errorf("unknown address family %d", k[0])
	}
	p := netip.PrefixFrom(a, bits)
	if !p.IsValid() {
		return netip.Prefix{}, fmt.Errorf("prefix length %d out of range", bits)
	}
	return p, nil
}

// envelope is the stored value: a schema version and the record.
type envelope struct {
	V      int       `json:"v"`
	Record *recordV1 `json:"record"`
}

// recordV1 is respond.Record as stored in schema 1. The on-disk shape is
// owned here, not by the JSON tags of the respond types, so that changing
// what the API shows cannot change the file format.
type recordV1 struct {
	Prefix      netip.Prefix `json:"prefix"`
	Offenses    int          `json:"offenses"`
	LastOffense time.Time    `json:"last_offense,omitzero"`
	Ban         *banV1       `json:"ban,omitempty"`
}

type banV1 struct {
	Prefix   netip.Prefix `json:"prefix"`
	Since    time.Time    `json:"since"`
	Until    time.Time    `json:"until,omitzero"`
	Offense  int          `json:"offense"`
	Detector string       `json:"detector"`
	Rule     string       `json:"rule,omitempty"`
	Class    detect.Class `json:"class,omitempty"`
	Reason   string       `json:"reason"`
	Manual   bool         `json:"manual,omitempty"`
	Shadow   bool         `json:"shadow,omitempty"`
	Evidence evidenceV1   `json:"evidence"`
	Request  *requestV1   `json:"request,omitempty"`
}

type evidenceV1 struct {
	Value             float64  `json:"value,omitempty"`
	Threshold         float64  `json:"threshold,omitempty"`
	Mean              float64  `json:"baseline_mean,omitempty"`
	Stddev            float64  `json:"baseline_stddev,omitempty"`
	ZScore            float64  `json:"zscore,omitempty"`
	BaselineSource    string   `json:"baseline_source,omitempty"`
	Requests          int      `json:"window_requests,omitempty"`
	Errors            int      `json:"window_errors,omitempty"`
	ErrorRatio        float64  `json:"error_ratio,omitempty"`
	BaselineErrorRate float64  `json:"baseline_error_rate,omitempty"`
	Window            duration `json:"window,omitzero"`
	Tightened         bool     `json:"tightened,omitempty"`
	Learning          bool     `json:"learning,omitempty"`
	Score             int      `json:"score,omitempty"`
	Distinct          int      `json:"distinct,omitempty"`
	AlertDuration     duration `json:"alert_duration,omitzero"`
}

type requestV1 struct {
	Method    string `json:"method,omitempty"`
	Host      string `json:"host,omitempty"`
	Path      string `json:"path,omitempty"`
	Query     string `json:"query,omitempty"`
	Status    int    `json:"status,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
}

// duration is a time.Duration stored as Go writes it ("1m0s"); the text
// form parses back to the same value.
type duration time.Duration

func (d duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = duration(v)
	return nil
}

// finite maps NaN and ±Inf (which JSON cannot hold) to 0.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// encodeValue returns the stored value of r.
func encodeValue(r *respond.Record) ([]byte, error) {
	rec := &recordV1{Prefix: r.Prefix, Offenses: r.Offenses, LastOffense: r.LastOffense}
	if b := r.Ban; b != nil {
		e := b.Evidence
		rec.Ban = &banV1{
			Prefix: b.Prefix, Since: b.Since, Until: b.Until, Offense: b.Offense,
			Detector: b.Detector, Rule: b.Rule, Class: b.Class, Reason: b.Reason,
			Manual: b.Manual, Shadow: b.Shadow,
			Evidence: evidenceV1{
				Value: finite(e.Value), Threshold: finite(e.Threshold), Mean: finite(e.Mean),
				Stddev: finite(e.Stddev), ZScore: finite(e.ZScore), BaselineSource: e.BaselineSource,
				Requests: e.Requests, Errors: e.Errors, ErrorRatio: finite(e.ErrorRatio),
				BaselineErrorRate: finite(e.BaselineErrorRate), Window: duration(e.Window),
				Tightened: e.Tightened, Learning: e.Learning, Score: e.Score, Distinct: e.Distinct,
				AlertDuration: duration(e.AlertDuration),
			},
		}
		if q := b.Request; q != nil {
			rec.Ban.Request = &requestV1{Method: q.Method, Host: q.Host, Path: q.Path, Query: q.Query,
				Status: q.Status, UserAgent: q.UserAgent}
		}
	}
	v, err := json.Marshal(envelope{V: schemaVersion, Record: rec})
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return v, nil
}

// decodeRecord decodes one stored key and value. Its errors match
// ErrCorrupt (or ErrVersion) and name the key.
func decodeRecord(k, v []byte) (*respond.Record, error) {
	p, err := decodeKey(k)
	if err != nil {
		return nil, fmt.Errorf("%w (key %x): %w", ErrCorrupt, k, err)
	}
	var (
		env envelope
		tmp scratch
	)
	if !fastDecode(v, &env, &tmp) {
		env = envelope{}
		if err := json.Unmarshal(v, &env); err != nil {
			return nil, describeBadValue(p, k, v, err)
		}
	}
	if env.V != schemaVersion || env.Record == nil {
		return nil, describeBadValue(p, k, v, nil)
	}
	if env.Record.Prefix != p {
		return nil, fmt.Errorf("%w %s (key %x): value is for %s", ErrCorrupt, p, k, env.Record.Prefix)
	}
	return fromV1(env.Record), nil
}

// fromV1 converts a stored record to the respond type.
func fromV1(rec *recordV1) *respond.Record {
	r := &respond.Record{Prefix: rec.Prefix, Offenses: rec.Offenses, LastOffense: rec.LastOffense}
	if b := rec.Ban; b != nil {
		e := b.Evidence
		r.Ban = &respond.Ban{
			Prefix: b.Prefix, Since: b.Since, Until: b.Until, Offense: b.Offense,
			Detector: b.Detector, Rule: b.Rule, Class: b.Class, Reason: b.Reason,
			Manual: b.Manual, Shadow: b.Shadow,
			Evidence: detect.Evidence{
				Value: e.Value, Threshold: e.Threshold, Mean: e.Mean, Stddev: e.Stddev, ZScore: e.ZScore,
				BaselineSource: e.BaselineSource, Requests: e.Requests, Errors: e.Errors,
				ErrorRatio: e.ErrorRatio, BaselineErrorRate: e.BaselineErrorRate,
				Window: time.Duration(e.Window), Tightened: e.Tightened, Learning: e.Learning,
				Score: e.Score, Distinct: e.Distinct, AlertDuration: time.Duration(e.AlertDuration),
			},
		}
		if q := b.Request; q != nil {
			r.Ban.Request = &detect.Request{Method: q.Method, Host: q.Host, Path: q.Path, Query: q.Query,
				Status: q.Status, UserAgent: q.UserAgent}
		}
	}
	return r
}

// describeBadValue explains why a value did not decode as a schema 1
// envelope: a newer schema (ErrVersion) or damage (ErrCorrupt).
func describeBadValue(p netip.Prefix, k, v []byte, decodeErr error) error {
	var head struct {
		V json.RawMessage `json:"v"`
	}
	if err := json.Unmarshal(v, &head); err == nil && head.V != nil {
		if n, err := strconv.Atoi(string(head.V)); err == nil && n > schemaVersion {
			return fmt.Errorf("%w: record %s (key %x) has schema version %d, this vigil reads up to %d",
				ErrVersion, p, k, n, schemaVersion)
		}
	}
	if decodeErr == nil {
		decodeErr = errors.New("not a schema 1 record envelope")
	}
	return fmt.Errorf("%w %s (key %x): %w", ErrCorrupt, p, k, decodeErr)
}

// checkSchema checks the schema version stored in the meta bucket.
func checkSchema(v []byte) error {
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return fmt.Errorf("%w: meta schema %q is not a number", ErrCorrupt, v)
	}
	if n > schemaVersion {
		return fmt.Errorf("%w: file has schema version %d, this vigil reads up to %d (was it written by a newer vigil?)",
			ErrVersion, n, schemaVersion)
	}
	if n < 1 {
		return fmt.Errorf("%w: meta schema version %d", ErrCorrupt, n)
	}
	return nil
}
