package detect

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/vigil-sec/vigil/internal/parse"
	"github.com/vigil-sec/vigil/internal/simulate"
)

// simulatedEvents returns n parsed events of realistic simulated traffic
// (browsers with assets and referers, API clients with query strings,
// crawlers, monitors), without attacks.
func simulatedEvents(tb testing.TB, n int) []parse.Event {
	tb.Helper()
	c := simulate.DefaultConfig()
	c.Lines = int64(n)
	g, err := simulate.New(c)
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := simulate.Run(context.Background(), g, &buf, simulate.FormatJSON); err != nil {
		tb.Fatal(err)
	}
	p, err := parse.New(parse.DefaultConfig())
	if err != nil {
		tb.Fatal(err)
	}
	var evs []parse.Event
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var ev parse.Event
		if err := p.Parse(line, &ev); err != nil {
			tb.Fatal(err)
		}
		// copy the fields out of the parser's buffers
		ev.Method, ev.Host, ev.Path, ev.Query = clone(ev.Method), clone(ev.Host), clone(ev.Path), clone(ev.Query)
		ev.UserAgent, ev.Referer, ev.ForwardedFor = clone(ev.UserAgent), clone(ev.Referer), clone(ev.ForwardedFor)
		evs = append(evs, ev)
	}
	return evs
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// BenchmarkContentSimulated is the content stage on realistic benign traffic
// from vigil's simulator: the per-core figure the 1M requests/s target is
// about. The simulator's clients share a few dozen User-Agents and about a
// thousand Referers, so most of them are found in the clean cache.
func BenchmarkContentSimulated(b *testing.B) {
	benchSimulated(b, simulatedEvents(b, 20000))
}

// BenchmarkContentSimulatedUnique is BenchmarkContentSimulated with every
// User-Agent and Referer made unique, so that the clean cache never helps:
// the worst case, e.g. a site whose every visitor has an agent of its own.
func BenchmarkContentSimulatedUnique(b *testing.B) {
	evs := simulatedEvents(b, 20000)
	for i := range evs {
		evs[i].UserAgent = fmt.Appendf(evs[i].UserAgent, " v%d", i)
		if len(evs[i].Referer) > 0 {
			evs[i].Referer = fmt.Appendf(evs[i].Referer, "/%d", i)
		}
	}
	benchSimulated(b, evs)
}

func benchSimulated(b *testing.B, evs []parse.Event) {
	c, err := NewContent(DefaultContentConfig())
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]Match, 0, 16)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		dst = c.Inspect(&evs[i%len(evs)], dst[:0])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// TestSimulatedTrafficIsClean: the simulator's normal traffic (no attacks)
// must produce no content match at all.
func TestSimulatedTrafficIsClean(t *testing.T) {
	evs := simulatedEvents(t, 20000)
	c, err := NewContent(DefaultContentConfig())
	if err != nil {
		t.Fatal(err)
	}
	fps := 0
	for i := range evs {
		for _, m := range c.Inspect(&evs[i], nil) {
			if fps < 10 {
				t.Errorf("false positive %s/%s on %s %s?%s ua=%q ref=%q", m.Detector, m.Rule, evs[i].Method, evs[i].Path, evs[i].Query, evs[i].UserAgent, evs[i].Referer)
			}
			fps++
		}
	}
	if fps > 0 {
		t.Errorf("%d matches on 20000 requests of normal traffic", fps)
	}
}
