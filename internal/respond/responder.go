package respond

import (
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/ident"
)

// Sink receives decisions, in order, from the goroutine that made them. It
// must not block for long (the daemon queues firewall and notification work).
type Sink interface {
	Decide(d *Decision)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(d *Decision)

// Decide implements Sink.
func (f SinkFunc) Decide(d *Decision) { f(d) }

// Options holds a Responder's dependencies.
type Options struct {
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Registerer receives the metrics; nil registers nowhere.
	Registerer prometheus.Registerer
	// Allowlist and Trusted are never banned.
	Allowlist, Trusted *ident.Set
	// Shadow records would-be bans without enforcing them.
	Shadow bool
	// Ledger holds bans and offenses; nil means a fresh in-memory ledger.
	Ledger *Ledger
	// Sink receives every decision; nil discards them.
	Sink Sink
}

// Stats counts what the Responder decided.
type Stats struct {
	Bans, Unbans, Alerts, Recoveries int
	// Shadow counts would-be bans in shadow mode.
	Shadow int
	// Suppressed counts ban findings not acted on, by reason:
	// "allowlisted", "trusted_proxy", "circuit_breaker".
	Suppressed map[string]int
	// AlreadyBanned counts ban findings for clients already banned.
	AlreadyBanned int
}

// ErrInvalidTarget is returned for a manual ban or unban of an address that
// is not a valid IP address or prefix.
var ErrInvalidTarget = errors.New("not a valid IP address or prefix")

// ErrProtected is returned for a manual ban of an allowlisted or trusted
// proxy address.
var ErrProtected = errors.New("address is allowlisted or a trusted proxy")

// ErrNotBanned is returned for a manual unban of an address without a ban.
var ErrNotBanned = errors.New("address is not banned")

// Responder turns findings into decisions. The engine drives it through
// Finding and Advance (engine.Handler); operators through Ban and Unban. It
// is safe for concurrent use.
type Responder struct {
	log *slog.Logger
	m   *metrics

	mu        sync.Mutex // guards the fields below
	cfg       Config
	o         Options
	ledger    *Ledger
	now       time.Time
	recent    []time.Time // ban times within the last minute (circuit breaker)
	tripped   bool
	lastSweep time.Time
	stats     Stats
}

// New returns a Responder. cfg must be valid (it is validated here).
func New(cfg Config, o Options) (*Responder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Ledger == nil {
		l, err := NewLedger(nil)
		if err != nil {
			return nil, err
		}
		o.Ledger = l
	}
	if o.Sink == nil {
		o.Sink = SinkFunc(func(*Decision) {})
	}
	r := &Responder{log: o.Logger.With("component", "respond"), cfg: cfg, o: o, ledger: o.Ledger,
		stats: Stats{Suppressed: map[string]int{}}}
	r.m = newMetrics(o.Registerer, r)
	return r, nil
}

// Finding implements engine.Handler.
func (r *Responder) Finding(f *detect.Finding) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.advance(f.Time)
	switch f.Action {
	case detect.ActionAlert:
		r.stats.Alerts++
		r.decide(&Decision{Time: f.Time, Action: ActionAlert, Detector: f.Detector, Rule: f.Rule, Class: f.Class,
			Reason: f.Reason, Evidence: f.Evidence})
	case detect.ActionRecover:
		r.stats.Recoveries++
		r.decide(&Decision{Time: f.Time, Action: ActionRecover, Detector: f.Detector, Rule: f.Rule, Class: f.Class,
			Reason: f.Reason, Evidence: f.Evidence})
	case detect.ActionBan:
		r.ban(f)
	}
}

// Advance implements engine.Handler: it lifts every ban that expired by now.
func (r *Responder) Advance(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.advance(now)
}

func (r *Responder) advance(now time.Time) {
	if !now.After(r.now) {
		return
	}
	r.now = now
	for _, rec := range r.ledger.Due(now) {
		b := rec.Ban
		rec.Ban = nil
		if err := r.ledger.Put(rec); err != nil {
			r.log.Error("record unban", "err", err, "client_ip", rec.Prefix.String())
			rec.Ban = b
			continue
		}
		r.stats.Unbans++
		if b.Shadow {
			continue
		}
		r.decide(&Decision{Time: b.Until, Action: ActionUnban, Target: rec.Prefix, Detector: b.Detector,
			Rule: b.Rule, Class: b.Class, Offense: b.Offense,
			Reason: fmt.Sprintf("ban expired after %s (offense %d)", b.Until.Sub(b.Since).Round(time.Second), b.Offense)})
	}
	if now.Sub(r.lastSweep) >= time.Minute {
		r.lastSweep = now
		r.forget(now)
	}
}

// forget drops records without a ban whose offenses have been forgiven.
func (r *Responder) forget(now time.Time) {
	var drop []netip.Prefix
	r.ledger.Records(func(rec *Record) {
		if rec.Ban == nil && now.Sub(rec.LastOffense) > r.cfg.ForgiveAfter {
			drop = append(drop, rec.Prefix)
		}
	})
	for _, p := range drop {
		if err := r.ledger.Delete(p); err != nil {
			r.log.Warn("forget offenses", "err", err)
		}
	}
}

// TargetOf returns the prefix banned for a client address.
func (r *Responder) TargetOf(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = r.cfg.IPv6Prefix
	}
	p, _ := a.Prefix(bits)
	return p
}

// protected says why target must not be banned ("" when it may be): it
// shares an address with the allowlist or the trusted proxies.
func (r *Responder) protected(target netip.Prefix) string {
	switch {
	case r.o.Allowlist.Overlaps(target):
		return "allowlisted"
	case r.o.Trusted.Overlaps(target):
		return "trusted_proxy"
	}
	return ""
}

func (r *Responder) ban(f *detect.Finding) {
	target := r.TargetOf(f.Client)
	if why := r.protected(target); why != "" {
		r.stats.Suppressed[why]++
		r.m.suppressed.WithLabelValues(why).Inc()
		r.log.Info("not banning protected client", "client_ip", f.Client.String(), "why", why, "detector", f.Detector)
		return
	}
	rec := r.ledger.Get(target)
	if rec != nil && rec.Ban != nil && rec.Ban.Active(f.Time) {
		r.stats.AlreadyBanned++
		return
	}
	if r.breaker(f.Time) {
		r.stats.Suppressed["circuit_breaker"]++
		r.m.suppressed.WithLabelValues("circuit_breaker").Inc()
		return
	}
	if rec == nil {
		rec = &Record{Prefix: target}
	}
	if !rec.LastOffense.IsZero() && f.Time.Sub(rec.LastOffense) > r.cfg.ForgiveAfter {
		rec.Offenses = 0
	}
	rec.Offenses++
	rec.LastOffense = f.Time
	step := r.cfg.Step(rec.Offenses)
	b := &Ban{Prefix: target, Since: f.Time, Offense: rec.Offenses, Detector: f.Detector, Rule: f.Rule,
		Class: f.Class, Reason: f.Reason, Shadow: r.o.Shadow, Evidence: f.Evidence, Request: f.Request}
	if step > 0 {
		step = r.jitter(step, target, rec.Offenses)
		b.Until = f.Time.Add(step)
	}
	rec.Ban = b
	if err := r.ledger.Put(rec); err != nil {
		r.log.Error("record ban", "err", err, "client_ip", target.String())
		return
	}
	r.recent = append(r.recent, f.Time)
	d := &Decision{Time: f.Time, Action: ActionBan, Target: target, Detector: f.Detector, Rule: f.Rule,
		Class: f.Class, Reason: f.Reason, Duration: step, Permanent: step == 0, Until: b.Until,
		Offense: rec.Offenses, Shadow: r.o.Shadow, Evidence: f.Evidence, Request: f.Request}
	if r.o.Shadow {
		r.stats.Shadow++
		r.m.shadow.Inc()
		r.log.Info("would ban (shadow mode)", "client_ip", d.IP(), "detector", d.Detector, "rule", d.Rule)
	} else {
		r.stats.Bans++
	}
	r.decide(d)
}

// breaker reports whether the ban rate limit is reached at now; it raises
// one alert each time it trips.
func (r *Responder) breaker(now time.Time) bool {
	cut := 0
	for cut < len(r.recent) && now.Sub(r.recent[cut]) >= time.Minute {
		cut++
	}
	r.recent = append(r.recent[:0], r.recent[cut:]...)
	if len(r.recent) < r.cfg.MaxPerMinute {
		r.tripped = false
		return false
	}
	if !r.tripped {
		r.tripped = true
		r.stats.Alerts++
		r.decide(&Decision{Time: now, Action: ActionAlert, Detector: "circuit_breaker", Rule: "max_per_minute",
			Reason: fmt.Sprintf("circuit breaker open: %d bans in the last minute (ban.max_per_minute); further bans are suppressed until the rate drops",
				len(r.recent))})
		r.log.Error("ban circuit breaker open", "bans_last_minute", len(r.recent))
	}
	return true
}

// jitter lengthens or shortens d by up to cfg.Jitter, deterministically per
// target and offense.
func (r *Responder) jitter(d time.Duration, target netip.Prefix, offense int) time.Duration {
	if r.cfg.Jitter == 0 {
		return d
	}
	h := fnv.New64a()
	b, _ := target.MarshalBinary()
	h.Write(b)
	h.Write([]byte{byte(offense), byte(offense >> 8)})
	u := float64(h.Sum64()>>11) / (1 << 53) // [0,1)
	f := 1 + r.cfg.Jitter*(2*u-1)
	return time.Duration(float64(d) * f).Round(time.Second)
}

func (r *Responder) decide(d *Decision) {
	r.m.decision(d)
	r.o.Sink.Decide(d)
}

// Ban bans target as an operator's decision: for d (0 = permanent), with
// reason. A single address is given as a /32 or /128 prefix. Protected
// addresses are refused.
func (r *Responder) Ban(now time.Time, target netip.Prefix, d time.Duration, reason string) (Decision, error) {
	if !target.IsValid() {
		return Decision{}, ErrInvalidTarget
	}
	target = netip.PrefixFrom(target.Addr().Unmap(), min(target.Bits(), target.Addr().Unmap().BitLen())).Masked()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.protected(target) != "" {
		return Decision{}, ErrProtected
	}
	r.advance(now)
	rec := r.ledger.Get(target)
	if rec == nil {
		rec = &Record{Prefix: target}
	}
	if reason == "" {
		reason = "banned by an operator"
	}
	rec.Offenses++
	rec.LastOffense = now
	b := &Ban{Prefix: target, Since: now, Offense: rec.Offenses, Detector: "manual", Reason: reason, Manual: true}
	if d > 0 {
		b.Until = now.Add(d)
	}
	rec.Ban = b
	if err := r.ledger.Put(rec); err != nil {
		return Decision{}, err
	}
	r.stats.Bans++
	dec := Decision{Time: now, Action: ActionBan, Target: target, Detector: "manual", Reason: reason, Duration: d,
		Permanent: d == 0, Until: b.Until, Offense: rec.Offenses, Manual: true}
	r.decide(&dec)
	return dec, nil
}

// Unban lifts an active ban on target as an operator's decision. Offense
// history is kept unless forget is set.
func (r *Responder) Unban(now time.Time, target netip.Prefix, reason string, forget bool) (Decision, error) {
	if !target.IsValid() {
		return Decision{}, ErrInvalidTarget
	}
	target = netip.PrefixFrom(target.Addr().Unmap(), min(target.Bits(), target.Addr().Unmap().BitLen())).Masked()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.advance(now)
	rec := r.ledger.Get(target)
	if rec == nil || rec.Ban == nil {
		return Decision{}, ErrNotBanned
	}
	b := rec.Ban
	rec.Ban = nil
	if forget {
		rec.Offenses = 0
	}
	if err := r.ledger.Put(rec); err != nil {
		rec.Ban = b
		return Decision{}, err
	}
	if reason == "" {
		reason = "unbanned by an operator"
	}
	r.stats.Unbans++
	dec := Decision{Time: now, Action: ActionUnban, Target: target, Detector: b.Detector, Rule: b.Rule, Class: b.Class,
		Reason: reason, Offense: b.Offense, Manual: true}
	r.decide(&dec)
	return dec, nil
}

// Target is a ban as the firewall sees it.
type Target struct {
	Prefix netip.Prefix
	// Until is when the ban ends; zero for a permanent ban.
	Until time.Time
}

// Enforced returns the bans that must be in the firewall at now: active and
// not shadow, in no particular order. It is cheap enough to call with 100k
// bans (no sorting, no copies of the evidence).
func (r *Responder) Enforced(now time.Time) []Target {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Target, 0, r.ledger.Len())
	r.ledger.Records(func(rec *Record) {
		if b := rec.Ban; b != nil && !b.Shadow && b.Active(now) {
			out = append(out, Target{Prefix: rec.Prefix, Until: b.Until})
		}
	})
	return out
}

// Bans returns the active bans.
func (r *Responder) Bans() []Ban {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ledger.Bans()
}

// Stats returns the counts so far.
func (r *Responder) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Suppressed = map[string]int{}
	for k, v := range r.stats.Suppressed {
		s.Suppressed[k] = v
	}
	return s
}

// Now returns the event time the Responder has reached.
func (r *Responder) Now() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

// Reconfigure replaces the ban policy, the protected sets and shadow mode
// (on reload). Bans and offense history are kept; new ladder steps apply to
// new bans. cfg is validated first; nothing changes on error.
func (r *Responder) Reconfigure(cfg Config, allow, trusted *ident.Set, shadow bool) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cfg = cfg
	r.o.Allowlist, r.o.Trusted, r.o.Shadow = allow, trusted, shadow
	return nil
}
