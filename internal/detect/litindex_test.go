package detect

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// naiveHits is the reference for litIndex.scan: every literal of lits that
// occurs in b, ignoring ASCII case.
func naiveHits(lits []string, b []byte) []int {
	lower := make([]byte, len(b))
	for i, c := range b {
		lower[i] = lowerASCII(c)
	}
	var ids []int
	for id, l := range lits {
		if bytes.Contains(lower, []byte(lowerString(l))) {
			ids = append(ids, id)
		}
	}
	return ids
}

// indexHits runs m over b and returns the ids it found.
func indexHits(t testing.TB, m *litIndex, b []byte) []int {
	t.Helper()
	hits := make([]uint64, m.words())
	var feat [256]uint16
	_, any := m.scan(b, &feat, hits)
	var ids []int
	for id := range m.lits {
		if hits[id>>6]&(1<<(id&63)) != 0 {
			ids = append(ids, id)
		}
	}
	if any != (len(ids) > 0) {
		t.Errorf("scan(%q) reported any=%v with hits %v", b, any, ids)
	}
	return ids
}

func TestLitIndex(t *testing.T) {
	lits := []string{"<", "?", "${", "db", "'or", "union", "window.", "sleep(", "/etc/passwd", "Select", "\x00", "é"}
	m, err := newLitIndex(lits)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"ordinary user agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)", nil},
		{"one byte", "a<b", []string{"<"}},
		{"one byte first and last", "?abc<", []string{"<", "?"}},
		{"two bytes at the end", "x=${", []string{"${"}},
		{"two bytes alone", "db", []string{"db"}},
		{"three bytes at the start", "'or 1", []string{"'or"}},
		{"case", "UNION SeLeCt", []string{"union", "Select"}},
		{"window not Windows", "Windows", nil},
		{"window.", "window.location", []string{"window."}},
		{"long literal", "..%2f/ETC/passwd", []string{"/etc/passwd"}},
		{"overlapping", "sleep(sleep(", []string{"sleep("}},
		{"NUL", "a\x00b", []string{"\x00"}},
		{"non-ASCII", "café", []string{"é"}},
		{"prefix only", "/etc/passw", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, id := range indexHits(t, m, []byte(tc.in)) {
				got = append(got, lits[id])
			}
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("hits %q, want %q", got, want)
			}
		})
	}
	if _, err := newLitIndex([]string{"a", ""}); err == nil {
		t.Error("empty literal accepted")
	}
}

// TestLitIndexMatchesNaive compares the index with plain substring search
// for the literal sets of the built-in rules, on inputs spliced together from
// literals, ordinary text and random bytes.
func TestLitIndexMatchesNaive(t *testing.T) {
	c := mustContent(t, DefaultContentConfig())
	rng := rand.New(rand.NewPCG(1, 2))
	for f := range numFields {
		m := c.sig.fields[f].lits
		lits := m.lits
		for n := range 3000 {
			var b []byte
			for range 1 + rng.IntN(6) {
				switch rng.IntN(4) {
				case 0:
					l := lits[rng.IntN(len(lits))]
					if rng.IntN(2) == 0 {
						l = string(bytes.ToUpper([]byte(l)))
					}
					if rng.IntN(3) == 0 && len(l) > 1 {
						l = l[:len(l)-1] // almost a literal
					}
					b = append(b, l...)
				case 1:
					i := rng.IntN(len(ordinaryText) - 40)
					b = append(b, ordinaryText[i:i+rng.IntN(40)]...)
				case 2:
					for range rng.IntN(8) {
						b = append(b, byte(rng.IntN(256)))
					}
				case 3:
					b = append(b, " /.-_();,:=&?+%"[rng.IntN(15)])
				}
			}
			got, want := indexHits(t, m, b), naiveHits(lits, b)
			if !slices.Equal(got, want) {
				t.Fatalf("field %d input %d %q: index found %v, substring search %v", f, n, b, got, want)
			}
		}
	}
}

// BenchmarkLitIndexUserAgent measures the literal scan of the User-Agent
// field on ordinary agents.
func BenchmarkLitIndexUserAgent(b *testing.B) {
	c := mustContent(b, DefaultContentConfig())
	m := c.sig.fields[fiUserAgent].lits
	ua := []byte(browserUA)
	hits := make([]uint64, m.words())
	var feat [256]uint16
	b.SetBytes(int64(len(ua)))
	for b.Loop() {
		m.scan(ua, &feat, hits)
	}
}
