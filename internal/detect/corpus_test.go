package detect

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/parse"
)

// browserUA is the User-Agent the evaluation gives to "uri" rows: an ordinary
// desktop browser.
const browserUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// corpusRow is one labelled request of the evaluation corpus
// (source, class, field, value; see the corpus README).
type corpusRow struct {
	source, class, field, value string
}

// event builds the request a row stands for: "uri" rows are GET path?query
// with a browser User-Agent, "ua" rows GET / with that User-Agent.
func (r corpusRow) event() *parse.Event {
	ev := &parse.Event{Method: []byte("GET")}
	switch r.field {
	case "uri":
		path, query, _ := strings.Cut(r.value, "?")
		ev.Path, ev.Query = []byte(path), []byte(query)
		ev.UserAgent = []byte(browserUA)
	case "ua":
		ev.Path = []byte("/")
		ev.UserAgent = unescapeNginx(r.value)
	}
	return ev
}

// unescapeNginx undoes Nginx's default log escaping (\xHH).
func unescapeNginx(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' && hexVal(s[i+2]) >= 0 && hexVal(s[i+3]) >= 0 {
			out = append(out, byte(hexVal(s[i+2])<<4|hexVal(s[i+3])))
			i += 3
			continue
		}
		out = append(out, s[i])
	}
	return out
}

// readCorpusFile reads a TSV file of rows (with a header line).
func readCorpusFile(t testing.TB, path string) []corpusRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open corpus file: %v", err)
	}
	defer f.Close()
	var rows []corpusRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") || strings.HasPrefix(text, "source\tclass\t") {
			continue // blank, comment or header
		}
		p := strings.SplitN(text, "\t", 4)
		if len(p) != 4 || (p[2] != "uri" && p[2] != "ua") {
			t.Fatalf("%s:%d: malformed row %q", path, line, text)
		}
		rows = append(rows, corpusRow{p[0], p[1], p[2], p[3]})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return rows
}

// corpusDir returns the evaluation corpus directory: $VIGIL_CORPUS, or the
// shared corpus beside the repository. ok is false when it is missing.
func corpusDir() (dir string, ok bool) {
	dir = os.Getenv("VIGIL_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "corpus")
	}
	_, err := os.Stat(filepath.Join(dir, "attacks.tsv"))
	return dir, err == nil
}

// requireCorpus skips (or, under CI=true, fails) when the corpus is missing.
func requireCorpus(t testing.TB) string {
	t.Helper()
	dir, ok := corpusDir()
	if !ok {
		if os.Getenv("CI") == "true" {
			t.Fatalf("evaluation corpus not found at %s (set VIGIL_CORPUS)", dir)
		}
		t.Skipf("evaluation corpus not found at %s (set VIGIL_CORPUS to run the evaluation)", dir)
	}
	return dir
}

// tally counts rows and hits.
type tally struct{ n, hit int }

func (t *tally) add(hit bool) {
	t.n++
	if hit {
		t.hit++
	}
}

func (t tally) rate() float64 {
	if t.n == 0 {
		return 0
	}
	return float64(t.hit) / float64(t.n)
}

func (t tally) String() string {
	return fmt.Sprintf("%6d / %6d  %6.2f%%", t.hit, t.n, 100*t.rate())
}

// evalResult is the outcome of evaluating a set of rows.
type evalResult struct {
	byClass       map[string]*tally // attack classes: detected
	bySourceClass map[string]*tally // "source/class"
	benign        map[string]*tally // "all", "uri", "ua": false positives
	attacks       tally             // all attack rows
	attacksAway   tally             // attack rows without the home-field sources
	benignAway    tally             // benign rows without the home-field sources
	misses, fps   []corpusRow
	fpRules       map[string]int
}

// homeField reports whether a source is a detector's own test data
// (libinjection's, CRS's), which flatters the detectors built on them.
func homeField(source string) bool {
	return source == "libinjection" || strings.HasPrefix(source, "crs-regression")
}

func evaluate(t testing.TB, c *Content, rows []corpusRow) *evalResult {
	t.Helper()
	res := &evalResult{byClass: map[string]*tally{}, bySourceClass: map[string]*tally{},
		benign: map[string]*tally{"all": {}, "uri": {}, "ua": {}}, fpRules: map[string]int{}}
	get := func(m map[string]*tally, k string) *tally {
		if m[k] == nil {
			m[k] = &tally{}
		}
		return m[k]
	}
	var ms []Match
	for _, r := range rows {
		ms = c.Inspect(r.event(), ms[:0])
		hit := len(ms) > 0
		get(res.bySourceClass, r.source+"/"+r.class).add(hit)
		if r.class == "benign" {
			res.benign["all"].add(hit)
			res.benign[r.field].add(hit)
			if !homeField(r.source) {
				res.benignAway.add(hit)
			}
			if hit {
				res.fps = append(res.fps, r)
				for _, m := range ms {
					res.fpRules[m.Rule]++
				}
			}
			continue
		}
		get(res.byClass, r.class).add(hit)
		res.attacks.add(hit)
		if !homeField(r.source) {
			res.attacksAway.add(hit)
		}
		if !hit {
			res.misses = append(res.misses, r)
		}
	}
	return res
}

func (res *evalResult) log(t testing.TB, title string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s\n", title)
	fmt.Fprintf(&b, "  %-34s %s\n", "class (detection rate)", "detected / rows")
	for _, k := range sortedKeys(res.byClass) {
		fmt.Fprintf(&b, "  %-34s %s\n", k, res.byClass[k])
	}
	fmt.Fprintf(&b, "  %-34s %s\n", "all attacks", res.attacks)
	fmt.Fprintf(&b, "  %-34s %s\n", "all attacks, no home-field sources", res.attacksAway)
	fmt.Fprintf(&b, "  %-34s %s\n", "benign FP (all)", *res.benign["all"])
	fmt.Fprintf(&b, "  %-34s %s\n", "benign FP (uri)", *res.benign["uri"])
	fmt.Fprintf(&b, "  %-34s %s\n", "benign FP (ua)", *res.benign["ua"])
	fmt.Fprintf(&b, "  %-34s %s\n", "benign FP, no home-field sources", res.benignAway)
	fmt.Fprintf(&b, "  %-34s %s\n", "source/class", "detected (benign: FP) / rows")
	for _, k := range sortedKeys(res.bySourceClass) {
		fmt.Fprintf(&b, "  %-34s %s\n", k, res.bySourceClass[k])
	}
	t.Log(b.String())
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// dumpRows logs misses and false positives when VIGIL_EVAL_DUMP names a class
// ("benign" for false positives, "all" for everything): a tuning aid.
func (res *evalResult) dump(t testing.TB, c *Content) {
	want := os.Getenv("VIGIL_EVAL_DUMP")
	if want == "" {
		return
	}
	var ms []Match
	for _, r := range res.fps {
		if want == "benign" || want == "all" {
			ms = c.Inspect(r.event(), ms[:0])
			rules := make([]string, 0, len(ms))
			for _, m := range ms {
				rules = append(rules, m.Rule)
			}
			t.Logf("FP   %s %s %q %v", r.source, r.field, r.value, rules)
		}
	}
	for _, r := range res.misses {
		if want == r.class || want == "all" {
			t.Logf("MISS %s %s %s %q", r.source, r.class, r.field, r.value)
		}
	}
	if want == "benign" || want == "all" {
		t.Logf("FP rules: %v", res.fpRules)
	}
}

// TestCorpusEval measures detection and false-positive rates on the shared
// evaluation corpus (VIGIL_CORPUS, default ../../../shared/corpus) and on the
// held-out set in testdata/detect/heldout.tsv, and asserts the targets.
// Run with -v to see the tables.
func TestCorpusEval(t *testing.T) {
	dir := requireCorpus(t)
	c, err := NewContent(DefaultContentConfig())
	if err != nil {
		t.Fatal(err)
	}
	rows := append(readCorpusFile(t, filepath.Join(dir, "attacks.tsv")), readCorpusFile(t, filepath.Join(dir, "benign.tsv"))...)
	res := evaluate(t, c, rows)
	res.log(t, "corpus "+dir)
	res.dump(t, c)

	// The project's targets. The probe rows vigil still misses are mostly
	// fuzzdb's lists of botnet-panel and phishing-kit paths such as /js, /css,
	// /blog, /forum, /admin, /support, /client, /php, /vb, or list artefacts
	// (/cssg, /frmcp0g): flagging them would ban legitimate users of sites
	// that serve such sections, so they are deliberately not rules.
	targets := map[string]float64{"sqli": 0.97, "xss": 0.97, "traversal": 0.95, "cmdi": 0.90, "probe": 0.85, "scanner_ua": 0.95, "other": 0.80}
	for class, want := range targets {
		got := res.byClass[class]
		if got == nil || got.n == 0 {
			t.Errorf("class %s: no rows in the corpus", class)
			continue
		}
		if got.rate() < want {
			t.Errorf("class %s: detection %.2f%%, want >= %.0f%%", class, 100*got.rate(), 100*want)
		}
	}
	if fp := res.benign["all"].rate(); fp > 0.003 {
		t.Errorf("benign false positives %.3f%% (%d rows), want <= 0.3%%", 100*fp, res.benign["all"].hit)
	}

	held := readCorpusFile(t, filepath.Join("..", "..", "testdata", "detect", "heldout.tsv"))
	hres := evaluate(t, c, held)
	hres.log(t, "held-out set testdata/detect/heldout.tsv")
	hres.dump(t, c)
	if hres.attacks.n < 150 || hres.benign["all"].n < 150 {
		t.Fatalf("held-out set too small: %d attack and %d benign rows, want >= 150 each", hres.attacks.n, hres.benign["all"].n)
	}
	if r := hres.attacks.rate(); r < 0.90 {
		t.Errorf("held-out detection %.2f%%, want >= 90%%", 100*r)
	}
	if fp := hres.benign["all"].hit; fp > 2 {
		t.Errorf("held-out false positives: %d rows, want <= 2", fp)
	}
}
