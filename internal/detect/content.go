package detect

import (
	"errors"
	"fmt"

	"github.com/vigil-sec/vigil/internal/parse"
)

// Detector names of the content detectors, as they appear in Match.Detector.
const (
	DetectorSignature = "signature"
	DetectorUserAgent = "useragent"
	DetectorProbe     = "probe"
)

// ContentConfig configures the stateless content detectors. Its keys live
// under "detect." in vigil's configuration (e.g. detect.signature.mode).
type ContentConfig struct {
	// Signature configures the payload signatures (SQLi, XSS, traversal,
	// command injection, ...).
	Signature SignatureConfig `koanf:"signature"`
	// UserAgent configures the User-Agent checks (attack tools, empty or
	// malformed agents).
	UserAgent UserAgentConfig `koanf:"useragent"`
	// Probe configures the sensitive-file and admin-path probe checks.
	Probe ProbeConfig `koanf:"probe"`
}

// DefaultContentConfig returns the default content configuration: every
// detector enforcing, the built-in rules only.
func DefaultContentConfig() ContentConfig {
	return ContentConfig{
		Signature: DefaultSignatureConfig(),
		UserAgent: DefaultUserAgentConfig(),
		Probe:     DefaultProbeConfig(),
	}
}

// Validate reports every problem in c, joined. Messages start with the key
// path relative to the detect section ("signature.", "useragent.", "probe.").
// It compiles the rules, so it also reads signature.rules_file.
func (c ContentConfig) Validate() error {
	return errors.Join(c.Signature.Validate(), c.UserAgent.Validate(), c.Probe.Validate())
}

// Content runs the stateless content detectors (signature, user agent,
// probe) over one request. The configuration is compiled once by NewContent;
// Inspect allocates nothing for clean requests.
//
// One Content per engine shard: it is not safe for concurrent use (it owns
// scratch buffers). Several Contents built from the same configuration are
// independent.
type Content struct {
	sig   *signature // nil when signature.mode is off
	ua    *userAgent // nil when useragent.mode is off
	probe *probe     // nil when probe.mode is off

	// Per-request scratch, reused.
	norm requestViews

	// clean remembers User-Agent and Referer values without matches
	// (indexed by field; nil for the other fields).
	clean [numFields]*cleanCache
}

// NewContent compiles cfg into a Content. It returns the same errors as
// cfg.Validate.
func NewContent(cfg ContentConfig) (*Content, error) {
	// cfg.Validate, compiling the rules only once.
	rs, sigErr := cfg.Signature.compile()
	if err := errors.Join(sigErr, cfg.UserAgent.Validate(), cfg.Probe.Validate()); err != nil {
		return nil, err
	}
	c := &Content{}
	var err error
	if cfg.UserAgent.Mode != ModeOff {
		if c.ua, err = newUserAgent(cfg.UserAgent); err != nil {
			return nil, err
		}
	}
	if cfg.Signature.Mode != ModeOff {
		var uaLits []string
		if c.ua != nil {
			uaLits = c.ua.lits
		}
		if c.sig, err = newSignature(cfg.Signature, rs, uaLits); err != nil {
			return nil, err
		}
		if c.ua != nil {
			c.ua.base = int(c.sig.uaBase)
		}
	}
	if cfg.Probe.Mode != ModeOff {
		if c.probe, err = newProbe(cfg.Probe); err != nil {
			return nil, err
		}
	}
	c.initScratch()
	return c, nil
}

// Clone returns a new Content for the same configuration that shares c's
// compiled, read-only parts (rules, prefilters, tables) and has scratch
// buffers and caches of its own: one per engine shard without compiling the
// rules again. c and its clones may be used concurrently, each by one
// goroutine.
func (c *Content) Clone() *Content {
	n := &Content{probe: c.probe} // the probe detector has no scratch
	if c.sig != nil {
		n.sig = c.sig.clone()
	}
	if c.ua != nil {
		n.ua = c.ua.clone()
	}
	n.initScratch()
	return n
}

// initScratch allocates c's per-request buffers and its clean caches.
func (c *Content) initScratch() {
	c.norm.init()
	c.clean[fiUserAgent] = newCleanCache()
	c.clean[fiReferer] = newCleanCache()
}

// ContentFactory returns a function that returns a new Content for cfg at
// each call, for the shards of an engine: the first call compiles cfg
// (returning its errors), later calls clone the first Content. The function
// is not safe for concurrent use.
func ContentFactory(cfg ContentConfig) func() (Inspector, error) {
	var first *Content
	return func() (Inspector, error) {
		if first != nil {
			return first.Clone(), nil
		}
		c, err := NewContent(cfg)
		if err != nil {
			return nil, err
		}
		first = c
		return c, nil
	}
}

// Inspect appends every content match for ev to dst and returns it. Within
// each detector the most specific match comes first. ev is only read; its
// byte slices are not retained.
func (c *Content) Inspect(ev *parse.Event, dst []Match) []Match {
	v := &c.norm
	v.reset(ev)
	// User-Agents and Referers seen clean recently are skipped.
	var hashes [numFields]uint64
	for f, cc := range c.clean {
		if cc != nil {
			var known bool
			if hashes[f], known = cc.lookup(v.raw(f)); known {
				v.skip |= 1 << f
			}
		}
	}
	start := len(dst)
	if c.sig != nil {
		dst = c.sig.inspect(v, dst)
	}
	if c.probe != nil {
		dst = c.probe.inspect(v, ev.Status, dst)
	}
	if c.ua != nil && v.skip&(1<<fiUserAgent) == 0 {
		dst = c.ua.inspect(v, dst)
	}
	for f, cc := range c.clean {
		if cc != nil && v.skip&(1<<f) == 0 && c.cleanAlone(f, dst[start:]) {
			cc.add(v.raw(f), hashes[f])
		}
	}
	return dst
}

// cleanAlone reports whether field f of the request just inspected, whose
// matches are ms, has no match and would have none in any request: the
// signature detector inspected it before any rule matched, so no rule was
// passed over as already reported.
func (c *Content) cleanAlone(f int, ms []Match) bool {
	if c.sig != nil && c.sig.alone&(1<<f) == 0 {
		return false
	}
	field := fieldOf(f)
	for _, m := range ms {
		if m.Field == field {
			return false
		}
	}
	return true
}

// ModeOf returns the mode that applies to m: the per-rule override from
// signature.override when there is one, otherwise the mode of m's detector.
// It returns ModeOff for a match this Content cannot have produced.
func (c *Content) ModeOf(m Match) Mode {
	switch m.Detector {
	case DetectorSignature:
		if c.sig != nil {
			return c.sig.modeOf(m.Rule)
		}
	case DetectorUserAgent:
		if c.ua != nil {
			return c.ua.mode
		}
	case DetectorProbe:
		if c.probe != nil {
			return c.probe.mode
		}
	}
	return ModeOff
}

// validMode returns an error naming key when m is not a defined mode.
func validMode(key string, m Mode) error {
	if m.Valid() {
		return nil
	}
	return fmt.Errorf("%s: must be one of enforce, alert, off (got %q)", key, string(m))
}
