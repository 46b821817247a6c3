package detect

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/parse"
)

func TestCleanCache(t *testing.T) {
	c := newCleanCache()
	a := []byte("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
	h, ok := c.lookup(a)
	if ok {
		t.Fatal("empty cache knows a value")
	}
	c.add(a, h)
	if _, ok := c.lookup(a); !ok {
		t.Fatal("added value not known")
	}
	// A different value, even one of the same length in the same slot,
	// is not known: values are compared whole.
	b := slices.Clone(a)
	b[len(b)-1] = '1'
	if _, ok := c.lookup(b); ok {
		t.Fatal("a different value is known")
	}
	c.slots[h&(cleanSlots-1)].hash = 0
	if _, ok := c.lookup(a); ok {
		t.Fatal("value known after its slot was taken over")
	}
	long := []byte(strings.Repeat("a", cleanMaxLen+1))
	h, _ = c.lookup(long)
	c.add(long, h)
	if _, ok := c.lookup(long); ok {
		t.Fatal("a value over cleanMaxLen was remembered")
	}
	if _, ok := c.lookup(nil); ok {
		t.Fatal("the empty value is known")
	}
}

// TestCleanCacheKeepsVerdicts: remembering clean User-Agents and Referers
// changes no verdict. The same requests go, twice over, through a Content
// with the cache and one without, and every request's matches must be the
// same: simulated traffic, the held-out set, the corpus when present (with
// its attack payloads also as Referers), and sequences where a value first
// arrives beside a match and then alone.
func TestCleanCacheKeepsVerdicts(t *testing.T) {
	var evs []*parse.Event
	for _, ev := range simulatedEvents(t, 3000) {
		evs = append(evs, &ev)
	}
	rows := readCorpusFile(t, filepath.Join("..", "..", "testdata", "detect", "heldout.tsv"))
	if dir, ok := corpusDir(); ok {
		for _, name := range []string{"attacks.tsv", "benign.tsv"} {
			all := readCorpusFile(t, filepath.Join(dir, name))
			for i := 0; i < len(all); i += 5 {
				rows = append(rows, all[i])
			}
		}
	}
	for i, r := range rows {
		evs = append(evs, r.event())
		if r.field == "uri" && i%2 == 0 {
			// The payload as a Referer, with a common User-Agent.
			evs = append(evs, &parse.Event{Method: []byte("GET"), Path: []byte("/"),
				UserAgent: []byte(browserUA), Referer: []byte("https://www.example.com" + r.value)})
		}
	}
	// A User-Agent and a Referer that match a rule the query also
	// matches: the first request reports the rule once (on the query), so
	// the agent must not be remembered as clean; the second request, with
	// a clean query, must report it on the agent and the Referer.
	ua := []byte("Mozilla/5.0 ' union select password from users--")
	ref := []byte("https://www.example.com/?q=1' union select password from users--")
	evs = append(evs,
		&parse.Event{Method: []byte("GET"), Path: []byte("/"), Query: []byte("id=1'+union+select+password+from+users--"), UserAgent: ua, Referer: ref},
		&parse.Event{Method: []byte("GET"), Path: []byte("/"), Query: []byte("id=1"), UserAgent: ua, Referer: ref},
	)

	cached := mustContent(t, DefaultContentConfig())
	plain := mustContent(t, DefaultContentConfig())
	plain.clean = [numFields]*cleanCache{}
	var got, want []Match
	for pass := range 2 {
		for _, ev := range evs {
			got, want = cached.Inspect(ev, got[:0]), plain.Inspect(ev, want[:0])
			if !slices.Equal(got, want) {
				t.Fatalf("pass %d, %s?%s ua=%q ref=%q:\nwith the cache %v\nwithout        %v",
					pass, ev.Path, ev.Query, ev.UserAgent, ev.Referer, got, want)
			}
		}
	}
	// The last request did match on its agent and Referer; and the cache
	// is used: a clean request's agent is remembered (the corpus' many
	// agents may have taken its slot over during the loop).
	if !slices.ContainsFunc(want, func(m Match) bool { return m.Field == FieldUserAgent }) ||
		!slices.ContainsFunc(want, func(m Match) bool { return m.Field == FieldReferer }) {
		t.Fatalf("the crafted request matched %v, want matches on the agent and the Referer", want)
	}
	cached.Inspect(&parse.Event{Method: []byte("GET"), Path: []byte("/"), UserAgent: []byte(browserUA)}, nil)
	if _, ok := cached.clean[fiUserAgent].lookup([]byte(browserUA)); !ok {
		t.Error("the browser User-Agent is not remembered as clean")
	}
	if _, ok := cached.clean[fiUserAgent].lookup(ua); ok {
		t.Error("a User-Agent with SQL injection is remembered as clean")
	}
}

// TestContentClone: clones share the compiled rules and have their own
// scratch. A Content and three clones inspect the same requests at once (the
// race detector, under make test, watches the shared parts) and each gets
// the matches of a separately compiled Content.
func TestContentClone(t *testing.T) {
	var evs []*parse.Event
	for _, ev := range simulatedEvents(t, 2000) {
		evs = append(evs, &ev)
	}
	for _, r := range readCorpusFile(t, filepath.Join("..", "..", "testdata", "detect", "heldout.tsv")) {
		evs = append(evs, r.event())
	}
	ref := mustContent(t, DefaultContentConfig())
	want := make([][]Match, len(evs))
	for i, ev := range evs {
		want[i] = ref.Inspect(ev, nil)
	}
	base := mustContent(t, DefaultContentConfig())
	next := ContentFactory(DefaultContentConfig())
	insps := []Inspector{base, base.Clone(), base.Clone()}
	for range 2 {
		in, err := next()
		if err != nil {
			t.Fatal(err)
		}
		insps = append(insps, in)
	}
	if insps[3] == insps[4] {
		t.Fatal("ContentFactory returned the same Content twice")
	}
	errs := make(chan string, len(insps))
	for k, in := range insps {
		go func() {
			var got []Match
			for i, ev := range evs {
				if got = in.Inspect(ev, got[:0]); !slices.Equal(got, want[i]) {
					errs <- fmt.Sprintf("inspector %d, %s?%s: got %v, want %v", k, ev.Path, ev.Query, got, want[i])
					return
				}
			}
			errs <- ""
		}()
	}
	for range insps {
		if msg := <-errs; msg != "" {
			t.Error(msg)
		}
	}
}
