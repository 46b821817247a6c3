package detect

import (
	"bytes"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/internal/baseline"
	"github.com/vigil-sec/vigil/internal/parse"
)

// Inspector is the content stage: it looks at one request alone and appends
// its matches to dst. *Content implements it.
type Inspector interface {
	Inspect(ev *parse.Event, dst []Match) []Match
}

// Options holds a Set's dependencies.
type Options struct {
	// Content runs the content detectors; nil disables content detection.
	// Each Set needs its own (it owns scratch buffers).
	Content Inspector
	// ContentModes gives the mode of each content detector by name
	// ("signature", "useragent", "probe"); a missing name means enforce.
	ContentModes map[string]Mode
}

// Env is the context of one observation: event time and the baseline in
// effect.
type Env struct {
	// Time is the event time; Sec the same in whole Unix seconds.
	Time time.Time
	Sec  int64
	// Seq is the line's sequence number (orders findings).
	Seq uint64
	// Baseline is the baseline in effect; never nil.
	Baseline *baseline.Snapshot
}

// Set runs every detector over the events of the clients of one engine shard.
// It is not safe for concurrent use: each shard owns one Set.
type Set struct {
	cfg          Config
	content      Inspector
	contentModes map[string]Mode
	login        []pathPattern
	enumStatus   statusSet
	authStatus   statusSet
	matches      []Match
	free         []*behaviour
	cooldown     int64
	rateRepeat   int64
}

// New builds a Set. cfg must be valid.
func New(cfg Config, o Options) (*Set, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Set{cfg: cfg, content: o.Content, contentModes: o.ContentModes,
		matches: make([]Match, 0, 16), cooldown: int64(cfg.Cooldown / time.Second),
		rateRepeat: int64(cfg.Rate.Repeat / time.Second)}
	for _, p := range cfg.Bruteforce.Paths {
		s.login = append(s.login, newPathPattern(p))
	}
	s.enumStatus = newStatusSet(cfg.Enumeration.Statuses)
	s.authStatus = newStatusSet(cfg.Bruteforce.Statuses)
	return s, nil
}

// Observe runs the detectors over one event of the client whose state is st
// and calls emit for each finding. It allocates nothing for clean requests.
func (s *Set) Observe(env *Env, ev *parse.Event, st *State, emit func(*Finding)) {
	sec := env.Sec
	st.Win.Add(sec, ev.IsError())
	fired := false
	if s.cfg.Rate.Mode != ModeOff {
		fired = s.surge(env, ev, st, emit) || fired
		fired = s.rate(env, ev, st, emit) || fired
	}
	if s.content != nil {
		fired = s.inspect(env, ev, st, emit) || fired
	}
	if s.cfg.Enumeration.Mode != ModeOff && s.enumStatus.has(ev.Status) {
		fired = s.enumerate(env, ev, st, emit) || fired
	}
	if s.cfg.Bruteforce.Mode != ModeOff && s.authStatus.has(ev.Status) && s.isLogin(ev.Path) {
		fired = s.bruteforce(env, ev, st, emit) || fired
	}
	if fired {
		st.FlaggedUntil = sec + s.cooldown
	}
}

// Release recycles st's lazily allocated state and resets it. The engine
// calls it when it stops tracking a client.
func (s *Set) Release(st *State) {
	if st.beh != nil {
		*st.beh = behaviour{}
		s.free = append(s.free, st.beh)
	}
	*st = State{}
}

func (s *Set) behaviour(st *State) *behaviour {
	if st.beh == nil {
		if n := len(s.free); n > 0 {
			st.beh = s.free[n-1]
			s.free = s.free[:n-1]
		} else {
			st.beh = new(behaviour)
		}
	}
	return st.beh
}

func (s *Set) modeOf(detector string) Mode {
	if m, ok := s.contentModes[detector]; ok {
		return m
	}
	return ModeEnforce
}

// actionFor returns ActionBan for an enforcing detector and ActionLog otherwise.
func actionFor(m Mode) Action {
	if m == ModeEnforce {
		return ActionBan
	}
	return ActionLog
}

// newFinding fills the common fields of a per-client finding.
func newFinding(env *Env, ev *parse.Event, detector, rule string, class Class, mode Mode) *Finding {
	return &Finding{Time: env.Time, Seq: env.Seq, Client: ev.Client, Detector: detector, Rule: rule,
		Class: class, Mode: mode, Request: requestOf(ev)}
}

// maxExcerpt bounds each attacker-controlled string copied into a finding.
const maxExcerpt = 512

func requestOf(ev *parse.Event) *Request {
	return &Request{Method: excerpt(ev.Method), Host: excerpt(ev.Host), Path: excerpt(ev.Path),
		Query: excerpt(ev.Query), Status: int(ev.Status), UserAgent: excerpt(ev.UserAgent)}
}

func excerpt(b []byte) string {
	if len(b) > maxExcerpt {
		b = b[:maxExcerpt]
	}
	return string(b)
}

// statusSet is a bitset of HTTP status codes.
type statusSet [10]uint64

func newStatusSet(codes []int) statusSet {
	var s statusSet
	for _, c := range codes {
		if c >= 0 && c < 640 {
			s[c/64] |= 1 << (c % 64)
		}
	}
	return s
}

func (s *statusSet) has(code uint16) bool {
	return code < 640 && s[code/64]&(1<<(code%64)) != 0
}

// pathPattern matches a request path case-insensitively: exactly, or with
// one '*' standing for any run of characters (a trailing '*' is a prefix).
type pathPattern struct {
	prefix, suffix []byte
	wild           bool
}

func newPathPattern(p string) pathPattern {
	b := bytes.ToLower([]byte(p))
	if i := bytes.IndexByte(b, '*'); i >= 0 {
		return pathPattern{prefix: b[:i], suffix: b[i+1:], wild: true}
	}
	return pathPattern{prefix: bytes.TrimSuffix(b, []byte("/"))}
}

func (p *pathPattern) match(path []byte) bool {
	if !p.wild {
		if len(path) > 1 && path[len(path)-1] == '/' {
			path = path[:len(path)-1]
		}
		return bytes.EqualFold(path, p.prefix)
	}
	return len(path) >= len(p.prefix)+len(p.suffix) &&
		bytes.EqualFold(path[:len(p.prefix)], p.prefix) &&
		bytes.EqualFold(path[len(path)-len(p.suffix):], p.suffix)
}

func (s *Set) isLogin(path []byte) bool {
	for i := range s.login {
		if s.login[i].match(path) {
			return true
		}
	}
	return false
}

func fmtRate(v float64) string { return fmt.Sprintf("%.1f", v) }
