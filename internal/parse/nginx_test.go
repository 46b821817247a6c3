package parse

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/parse")

const testdata = "../../testdata/parse"

// samples are the logs in testdata/parse: the nginx-* ones were written by a
// real Nginx (gen-nginx.sh), the crafted-* ones by hand to reach what Nginx
// does not write.
var samples = []struct {
	file   string
	format Format
}{
	{"nginx-json.log", FormatJSON},
	{"nginx-json-default.log", FormatJSON},
	{"nginx-json-variant.log", FormatJSON},
	{"nginx-combined.log", FormatCombined},
	{"nginx-combined-xff.log", FormatCombined},
	{"crafted-json.log", FormatJSON},
	{"crafted-combined.log", FormatCombined},
}

func readLines(t testing.TB, name string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdata, name))
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestSamplesGolden parses every sample log and compares the result of each
// line with its .golden file (rewrite with -update, then review the diff).
func TestSamplesGolden(t *testing.T) {
	for _, s := range samples {
		t.Run(s.file, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Format = s.format
			p := mustNew(t, cfg)
			var out strings.Builder
			for _, line := range readLines(t, s.file) {
				var ev Event
				err := p.Parse(line, &ev)
				if err == nil {
					checkInvariants(t, p, line, &ev)
				}
				out.WriteString(describe(&ev, err))
				out.WriteByte('\n')
			}
			golden := filepath.Join(testdata, strings.TrimSuffix(s.file, ".log")+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), out.String()); diff != "" {
				t.Errorf("%s mismatch (-want +got):\n%s", golden, diff)
			}
		})
	}
}

// TestSamplesAgree checks that one request logged by Nginx in several formats
// parses to the same Event, field by field where both formats carry it.
func TestSamplesAgree(t *testing.T) {
	parseAll := func(file string, format Format) []Event {
		cfg := DefaultConfig()
		cfg.Format = format
		p := mustNew(t, cfg)
		var evs []Event
		for _, line := range readLines(t, file) {
			var ev Event
			if err := p.Parse(line, &ev); err != nil {
				ev = Event{} // rejected in every format or the comparison fails
			}
			evs = append(evs, deepCopy(ev))
		}
		return evs
	}
	json := parseAll("nginx-json.log", FormatJSON)
	jsonDefault := parseAll("nginx-json-default.log", FormatJSON)
	variant := parseAll("nginx-json-variant.log", FormatJSON)
	combined := parseAll("nginx-combined.log", FormatCombined)
	combinedXFF := parseAll("nginx-combined-xff.log", FormatCombined)
	if len(json) < 20 {
		t.Fatalf("only %d sample lines", len(json))
	}
	for _, n := range []int{len(jsonDefault), len(variant), len(combined), len(combinedXFF)} {
		if n != len(json) {
			t.Fatalf("sample logs differ in length: %d vs %d", n, len(json))
		}
	}
	accepted := 0
	for i := range json {
		j := json[i]
		if j.Remote.IsValid() {
			accepted++
		}
		// escape=json and the default escaping decode to the same bytes.
		if diff := cmp.Diff(j, jsonDefault[i], eventOpts); diff != "" {
			t.Errorf("line %d: json vs json-default (-json +default):\n%s", i+1, diff)
		}
		// combined-xff is combined plus one field.
		c, cx := combined[i], combinedXFF[i]
		cx.ForwardedFor = nil
		if diff := cmp.Diff(c, cx, eventOpts); diff != "" {
			t.Errorf("line %d: combined vs combined-xff:\n%s", i+1, diff)
		}
		// The variant has only $request, like combined, and no referer.
		v, c2 := variant[i], combined[i]
		c2.Referer, v.RequestTime = nil, 0
		if diff := cmp.Diff(v, c2, eventOpts); diff != "" {
			t.Errorf("line %d: json-variant vs combined:\n%s", i+1, diff)
		}
		// Fields both JSON and combined carry.
		pick := func(e Event) string {
			return fmt.Sprintf("remote=%v status=%d bytes=%d time=%v ua=%q referer=%q xff=%q",
				e.Remote, e.Status, e.Bytes, e.Time.UTC(), e.UserAgent, e.Referer, e.ForwardedFor)
		}
		if diff := cmp.Diff(pick(j), pick(combinedXFF[i])); diff != "" {
			t.Errorf("line %d: json vs combined-xff:\n%s", i+1, diff)
		}
	}
	if accepted < len(json)-2 {
		t.Errorf("only %d of %d sample lines accepted", accepted, len(json))
	}
}

// deepCopy detaches an Event from the Parser's buffers.
func deepCopy(ev Event) Event {
	for _, b := range []*[]byte{&ev.Method, &ev.Host, &ev.Path, &ev.Query, &ev.UserAgent, &ev.Referer, &ev.ForwardedFor} {
		if *b != nil {
			*b = bytes.Clone(*b)
		}
	}
	return ev
}
