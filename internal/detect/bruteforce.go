package detect

import (
	"fmt"
	"math"

	"github.com/vigil-sec/vigil/internal/parse"
)

// bruteforce counts failed logins (bruteforce.statuses on
// bruteforce.paths) over bruteforce.findtime and reports a client reaching
// bruteforce.maxretry, tightened while the client's errors surge. Slow
// guessing is caught as long as maxretry failures fall within findtime.
func (s *Set) bruteforce(env *Env, ev *parse.Event, st *State, emit func(*Finding)) bool {
	c := s.cfg.Bruteforce
	b := s.behaviour(st)
	width := int64(c.FindTime.Seconds()) / int64(len(b.auth.b))
	n := b.auth.add(env.Sec, width, 1)
	limit := c.MaxRetry
	if st.surge {
		limit = max(1, int(math.Ceil(float64(limit)*s.cfg.ErrorSurge.Tighten)))
	}
	if n < limit {
		return false
	}
	b.auth.reset() // the next finding needs another limit failures
	f := newFinding(env, ev, "bruteforce", "auth_failures", ClassBruteforce, c.Mode)
	f.Action = actionFor(c.Mode)
	f.Evidence = Evidence{Value: float64(n), Threshold: float64(limit), Requests: st.Win.Requests(),
		Errors: st.Win.Errors(), ErrorRatio: ratio(st.Win.Errors(), st.Win.Requests()), Window: c.FindTime,
		Tightened: st.surge, Learning: env.Baseline.Learning}
	f.Reason = fmt.Sprintf("%d failed logins (status %d on %s) within %s (threshold %d): password guessing",
		n, ev.Status, excerpt(ev.Path), c.FindTime, limit)
	if st.surge {
		f.Reason = fmt.Sprintf("%d failed logins (status %d on %s) within %s (threshold %d, tightened from %d by an error surge): password guessing",
			n, ev.Status, excerpt(ev.Path), c.FindTime, limit, c.MaxRetry)
	}
	emit(f)
	return true
}
