package detect

import (
	"fmt"

	"github.com/vigil-sec/vigil/internal/parse"
)

// enumerate counts the distinct paths the client requested that were not
// found (enumeration.statuses) within enumeration.window, and reports a
// client reaching enumeration.distinct: content discovery and path scanning.
func (s *Set) enumerate(env *Env, ev *parse.Event, st *State, emit func(*Finding)) bool {
	c := s.cfg.Enumeration
	b := s.behaviour(st)
	win := int64(c.Window.Seconds())
	n := b.notFound.add(pathHash(ev.Path), env.Sec, win)
	if n < c.Distinct || (b.enumAt != 0 && env.Sec-b.enumAt < win) {
		return false
	}
	b.enumAt = env.Sec
	f := newFinding(env, ev, "enumeration", "distinct_not_found", ClassEnumeration, c.Mode)
	f.Action = actionFor(c.Mode)
	f.Evidence = Evidence{Value: float64(n), Threshold: float64(c.Distinct), Distinct: n,
		Requests: st.Win.Requests(), Errors: st.Win.Errors(), ErrorRatio: ratio(st.Win.Errors(), st.Win.Requests()),
		Window: c.Window, Learning: env.Baseline.Learning}
	f.Reason = fmt.Sprintf("requested %d distinct paths that do not exist within %s (threshold %d): path enumeration",
		n, c.Window, c.Distinct)
	emit(f)
	return true
}

// pathHash hashes a path for the distinct-path set.
func pathHash(p []byte) uint32 {
	h := uint32(2166136261) // FNV-1a
	for _, c := range p {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}
