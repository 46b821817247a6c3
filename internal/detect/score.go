package detect

import (
	"fmt"

	"github.com/vigil-sec/vigil/internal/parse"
)

// maxMatchFindings bounds the findings one request can produce.
const maxMatchFindings = 4

// inspect runs the content detectors over the request, reports each match,
// and applies the scoring policy: per request each enforcing detector adds
// the severity of its strongest match to the client's score; a score that
// reaches score.threshold within score.window bans. So one weak signal never
// bans alone, while repeated payloads or a scanner sending payloads do.
func (s *Set) inspect(env *Env, ev *parse.Event, st *State, emit func(*Finding)) bool {
	s.matches = s.content.Inspect(ev, s.matches[:0])
	if len(s.matches) == 0 {
		return false
	}
	var best [3]Severity // per detector: signature, useragent, probe/other
	top := -1
	for i := range s.matches {
		m := &s.matches[i]
		mode := s.modeOf(m.Detector)
		if mode == ModeOff {
			continue
		}
		if i < maxMatchFindings {
			f := newFinding(env, ev, m.Detector, m.Rule, m.Class, mode)
			f.Severity, f.Field = m.Severity, m.Field
			f.Action = ActionLog
			f.Reason = fmt.Sprintf("%s: %s rule %s matched in the %s (severity %s)",
				m.Detector, classLabel(m.Class), m.Rule, m.Field, m.Severity)
			emit(f)
		}
		if mode != ModeEnforce {
			continue
		}
		d := detectorSlot(m.Detector)
		if m.Severity > best[d] {
			best[d] = m.Severity
		}
		if top < 0 || m.Severity > s.matches[top].Severity {
			top = i
		}
	}
	points := int(best[0]) + int(best[1]) + int(best[2])
	if points == 0 {
		return true
	}
	c := s.cfg.Score
	b := s.behaviour(st)
	span := int64(c.Window.Seconds())
	b.score.add(env.Sec, 1, points)
	total := b.score.since(env.Sec, span)
	if total < c.Threshold {
		return true
	}
	b.score.reset()
	m := &s.matches[top]
	f := newFinding(env, ev, "score", "threshold", m.Class, ModeEnforce)
	f.Severity, f.Field = m.Severity, m.Field
	f.Action = ActionBan
	f.Evidence = Evidence{Value: float64(total), Threshold: float64(c.Threshold), Score: total,
		Requests: st.Win.Requests(), Errors: st.Win.Errors(), ErrorRatio: ratio(st.Win.Errors(), st.Win.Requests()),
		Window: c.Window, Learning: env.Baseline.Learning}
	f.Reason = fmt.Sprintf("malicious requests scored %d within %s (ban threshold %d); latest: %s rule %s in the %s",
		total, c.Window, c.Threshold, classLabel(m.Class), m.Rule, m.Field)
	emit(f)
	return true
}

func detectorSlot(name string) int {
	switch name {
	case "signature":
		return 0
	case "useragent":
		return 1
	}
	return 2
}

func classLabel(c Class) string {
	switch c {
	case ClassSQLi:
		return "SQL injection"
	case ClassXSS:
		return "cross-site scripting"
	case ClassTraversal:
		return "path traversal"
	case ClassCmdi:
		return "command injection"
	case ClassProbe:
		return "sensitive path probe"
	case ClassScannerUA:
		return "scanner user agent"
	case ClassBadUA:
		return "bad user agent"
	case ClassOther:
		return "injection"
	}
	return string(c)
}
