package detect

import (
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/parse"
)

func TestRequiredLiterals(t *testing.T) {
	cases := []struct {
		pattern string
		want    []string // nil: nothing required
	}{
		{`union`, []string{"union"}},
		{`sleep\s*\(`, []string{"sleep"}},
		{`(?:^|[|&;])\s*whoami\b`, []string{"whoami"}},
		{`\$\{jndi:`, []string{"${jndi:"}},
		{`[<>]\(`, []string{"<(", ">("}},
		{`[^a-z]on(?:load|error)\s*=`, []string{"onload", "onerror"}},
		{`/on(?:load|error)`, []string{"/onload", "/onerror"}},
		{`a.*b`, []string{"a"}},
		{`abc|def`, []string{"abc", "def"}},
		{`abc|.*`, nil},
		{`x?`, nil},
		{`\w+`, nil},
		{`\d+`, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}},
		{`(?:ab)+c`, []string{"abc"}},
		{`(?i)select`, nil}, // s also folds to the long s, which is not ASCII
		{`(?i)union`, []string{"union"}},
		{`(?i)or`, []string{"or"}},
	}
	for _, tc := range cases {
		t.Run(tc.pattern, func(t *testing.T) {
			specs, err := splitPattern(tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if len(specs) != 1 {
				t.Fatalf("%d branches, want 1", len(specs))
			}
			var got []string // the most selective clause
			if len(specs[0].clauses) > 0 {
				got = specs[0].clauses[0]
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("literals %q (clauses %q), want %q", got, specs[0].clauses, tc.want)
			}
		})
	}
}

func TestSplitPatternBranches(t *testing.T) {
	// A large alternation is split, and what surrounds an inner alternation
	// is distributed over its branches.
	words := []string{"whoami", "ifconfig", "netstat", "systeminfo", "tasklist", "phpinfo", "ipconfig", "hostname",
		"uname", "traceroute", "nslookup", "certutil", "bitsadmin", "powershell", "regsvr32", "rundll32"}
	pattern := `^[^=]*=\s*(?:` + strings.Join(words, "|") + `)(?:\s+-[a-z]+)*\s*$`
	specs, err := splitPattern(pattern)
	if err != nil {
		t.Fatal(err)
	}
	var pats []string
	var lits [][]string
	for _, sp := range specs {
		var first []string
		if len(sp.clauses) > 0 {
			first = sp.clauses[0]
		}
		pats, lits = append(pats, sp.pattern), append(lits, first)
	}
	if len(pats) < len(words)/2 {
		t.Fatalf("%d branches %q, want about %d", len(pats), pats, len(words))
	}
	// The parser factors common prefixes (r(?:egsvr32|undll32)), so a
	// branch may stand for several words; each word is the literal of one.
	seen := map[string]bool{}
	for i, ls := range lits {
		if len(ls) == 0 {
			t.Errorf("branch %q has no literal", pats[i])
		}
		for _, l := range ls {
			if !slices.Contains(words, l) || seen[l] {
				t.Errorf("branch %q: unexpected literal %q", pats[i], l)
			}
			seen[l] = true
		}
	}
	if len(seen) != len(words) {
		t.Errorf("literals %v, want every word of %v", seen, words)
	}
}

// TestBranchesFitTheBacktracker: every branch of the built-in rules is small
// enough for Go's backtracker; a larger one would run on the NFA, several
// times slower. (An alternation inside a concatenation that distributing
// had nested in another once escaped the split.)
func TestBranchesFitTheBacktracker(t *testing.T) {
	s := mustContent(t, DefaultContentConfig()).sig
	for i, bs := range s.branches {
		for k, b := range bs {
			re, err := syntax.Parse(b.re.String(), syntax.Perl)
			if err != nil {
				t.Fatal(err)
			}
			if n := progSize(re.Simplify()); n > maxBacktrackProg {
				t.Errorf("rule %s branch %d: %d instructions, over %d", s.rules[i].id, k, n, maxBacktrackProg)
			}
		}
	}
}

// TestBranchSplitMatchesWholePattern: for the built-in rules, running only
// the branches whose literals occur gives the verdict of the whole pattern,
// on the corpus (when present), the held-out set and simulated traffic.
// Corpus rows check the rules whose prefilter admits them (the only ones
// that ever run); the others check every rule.
func TestBranchSplitMatchesWholePattern(t *testing.T) {
	c := mustContent(t, DefaultContentConfig())
	s := c.sig
	type row struct {
		ev  *parse.Event
		all bool // check every rule, not only admitted ones
	}
	var rows []row
	if dir, ok := corpusDir(); ok {
		for _, name := range []string{"attacks.tsv", "benign.tsv"} {
			for _, r := range readCorpusFile(t, filepath.Join(dir, name)) {
				rows = append(rows, row{r.event(), false})
			}
		}
	}
	for _, r := range readCorpusFile(t, filepath.Join("..", "..", "testdata", "detect", "heldout.tsv")) {
		rows = append(rows, row{r.event(), true})
	}
	for _, ev := range simulatedEvents(t, 1000) {
		rows = append(rows, row{&ev, true})
	}
	mismatches := 0
	for _, rw := range rows {
		v := &c.norm
		v.reset(rw.ev)
		s.bscanned = 0
		for f := range numFields {
			if len(v.raw(f)) == 0 {
				continue
			}
			fp := &s.fields[f]
			clear(s.cand)
			for _, view := range [][]byte{v.text(f), v.cmdline(f)} {
				hits := make([]uint64, fp.lits.words())
				fp.lits.scan(view, &s.featText, hits)
				s.addCandidates(hits, fp.litText)
				s.addCandidates(hits, fp.litCmd)
			}
			for i := range s.rules {
				r := &s.rules[i]
				if r.re == nil || r.fields&(1<<f) == 0 || (!rw.all && s.cand[i>>6]&(1<<(i&63)) == 0) {
					continue
				}
				want := v.matchView(&ruleBranch{re: r.re}, f, r.view)
				if got := s.fires(i, v, f); got != want {
					mismatches++
					if mismatches <= 10 {
						t.Errorf("rule %s field %d on %q: branches %v, whole pattern %v", r.id, f, v.text(f), got, want)
					}
				}
			}
		}
	}
	if mismatches > 0 {
		t.Errorf("%d mismatches", mismatches)
	}
}

func TestStartBytes(t *testing.T) {
	cases := []struct {
		pattern string
		want    string // the start set; "" when there is none
	}{
		{`[;|&]\s*id`, "&;|"},
		{`(?:[;|&]|\$\()\s*id`, "$&;|"},
		{`<script`, "<"},
		{`\bsleep\(`, ""},   // an assertion first
		{`sleep\(`, ""},     // letters are too common
		{`;?id`, ""},        // optional first byte
		{`(?:;|a)b`, ""},    // one alternative starts with a letter
		{`\{\{|\$\{`, "${"}, // alternation
	}
	for _, tc := range cases {
		t.Run(tc.pattern, func(t *testing.T) {
			re, err := syntax.Parse(tc.pattern, syntax.Perl)
			if err != nil {
				t.Fatal(err)
			}
			var set [4]uint64
			got := ""
			if startBytes(re.Simplify(), &set) {
				for c := range 256 {
					if set[c>>6]&(1<<(c&63)) != 0 {
						got += string(rune(c))
					}
				}
			}
			if got != tc.want {
				t.Errorf("start set %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRuleBranchMatch: trying the anchored pattern at each start byte gives
// the verdict of the pattern, with none, few and many start bytes.
func TestRuleBranchMatch(t *testing.T) {
	pattern := `[;|&]\s*(?:id|whoami)\b`
	rbs, _ := compileBranches(regexp.MustCompile(pattern))
	if len(rbs) != 1 || rbs[0].anchored == nil {
		t.Fatalf("branches %+v, want one with a start set", rbs)
	}
	re := regexp.MustCompile(pattern)
	for _, in := range []string{"", "id", "a;id", "a; whoami", "a;b;c;d;id", "a;b;c;d", "a&idx", ";;;; ;id", "x|whoami"} {
		if got, want := rbs[0].match([]byte(in)), re.MatchString(in); got != want {
			t.Errorf("match(%q) = %v, want %v", in, got, want)
		}
	}
}
