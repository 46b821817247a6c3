package detect

import (
	"fmt"
	"math"
	"time"

	"github.com/vigil-sec/vigil/internal/parse"
	"github.com/vigil-sec/vigil/internal/window"
)

// rateWindow is the length of the per-client window rate checks use.
const rateWindow = window.Size * time.Second

// thresholds computes the z-score and multiplier thresholds (as counts) from
// a baseline mean and stddev, each floored at floor. It reports the lower
// one and the name of its condition.
func thresholds(mean, std, z, mult, floor float64) (thr float64, cond string) {
	zt := math.Max(mean+z*std, floor)
	mt := math.Max(mult*mean, floor)
	if zt <= mt {
		return zt, "zscore"
	}
	return mt, "multiplier"
}

// rate checks the client's request count in its 60 s window against the
// per-client baseline: anomalous when the z-score crosses its threshold or the
// count crosses multiplier x mean, whichever fires first. Thresholds tighten
// while the client's errors surge. During learning the finding only logs.
func (s *Set) rate(env *Env, ev *parse.Event, st *State, emit func(*Finding)) bool {
	c := s.cfg.Rate
	x := float64(st.Win.Requests())
	tight := 1.0
	if st.surge {
		tight = s.cfg.ErrorSurge.Tighten
	}
	floor := float64(c.MinRequests) * tight
	if x <= floor { // cheap exit: every threshold is at least the floor
		return false
	}
	if st.rateAt != 0 && env.Sec-st.rateAt < s.rateRepeat {
		return false // reported a moment ago
	}
	b := env.Baseline.Client
	thr, cond := thresholds(b.Mean, b.Stddev, c.ZScore*tight, c.Multiplier*tight, floor)
	if x <= thr {
		return false
	}
	st.rateAt = env.Sec
	f := newFinding(env, ev, "rate", cond, ClassRate, c.Mode)
	f.Action = actionFor(c.Mode)
	req, errs := st.Win.Requests(), st.Win.Errors()
	f.Evidence = Evidence{Value: x, Threshold: thr, Mean: b.Mean, Stddev: b.Stddev,
		ZScore: (x - b.Mean) / b.Stddev, BaselineSource: b.Source, Requests: req, Errors: errs,
		ErrorRatio: ratio(errs, req), BaselineErrorRate: b.ErrorRate, Window: rateWindow,
		Tightened: st.surge, Learning: env.Baseline.Learning}
	base := fmt.Sprintf("a normal client makes %.1f ± %.1f per 60s", b.Mean, b.Stddev)
	switch {
	case thr == floor:
		f.Reason = fmt.Sprintf("%d requests in 60s, over the floor of %.0f (detect.rate.min_requests; z-score %.1f; %s)",
			req, floor, f.Evidence.ZScore, base)
	case cond == "multiplier":
		f.Reason = fmt.Sprintf("%d requests in 60s, %.1fx the normal rate, over the threshold %.1fx (%s)",
			req, x/b.Mean, c.Multiplier*tight, base)
	default:
		f.Reason = fmt.Sprintf("%d requests in 60s, z-score %.1f over the threshold %.1f (%s)",
			req, f.Evidence.ZScore, c.ZScore*tight, base)
	}
	if st.surge {
		f.Reason += "; thresholds tightened by an error surge"
	}
	if env.Baseline.Learning {
		f.Action = ActionLog
		f.Reason += "; not banned: still learning the baseline"
	}
	emit(f)
	return true
}

// surge tracks the client's error-surge state with hysteresis and reports
// the start of a surge as a finding (it tightens thresholds; it never bans by
// itself).
func (s *Set) surge(env *Env, ev *parse.Event, st *State, emit func(*Finding)) bool {
	if !ev.IsError() && !st.surge {
		return false
	}
	c := s.cfg.ErrorSurge
	req, errs := st.Win.Requests(), st.Win.Errors()
	r := ratio(errs, req)
	b := env.Baseline.Client
	start := math.Max(c.Multiplier*b.ErrorRate, c.MinRatio)
	if st.surge {
		if r < start*c.Hysteresis || float64(errs) < float64(c.MinErrors)*c.Hysteresis {
			st.surge = false
		}
		return false
	}
	if errs < c.MinErrors || r < start {
		return false
	}
	st.surge = true
	f := newFinding(env, ev, "rate", "error_surge", ClassRate, s.cfg.Rate.Mode)
	f.Action = ActionLog
	f.Evidence = Evidence{Value: r, Threshold: start, Mean: b.Mean, Stddev: b.Stddev, BaselineSource: b.Source,
		Requests: req, Errors: errs, ErrorRatio: r, BaselineErrorRate: b.ErrorRate, Window: rateWindow,
		Learning: env.Baseline.Learning}
	f.Reason = fmt.Sprintf("error surge: %d of %d requests in 60s failed (%.0f%%, baseline %.1f%%); rate thresholds tightened to %.0f%%",
		errs, req, 100*r, 100*b.ErrorRate, 100*c.Tighten)
	emit(f)
	return true
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
