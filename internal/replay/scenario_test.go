package replay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/config"
)

var update = flag.Bool("update", false, "rewrite the scenarios' want.jsonl")

const scenarioDir = "../../testdata/scenarios"

// label is one line of a scenario's labels.jsonl.
type label struct {
	IP    netip.Addr `json:"ip"`
	Kind  string     `json:"kind"`
	Start time.Time  `json:"start"`
	End   time.Time  `json:"end"`
}

// decision is the part of a decision line the label checks read.
type decision struct {
	Time     time.Time `json:"time"`
	Action   string    `json:"action"`
	IP       string    `json:"ip"`
	Detector string    `json:"detector"`
}

// bannedKinds are attack kinds vigil must ban (ddos is a global alert).
var bannedKinds = map[string]bool{"flood": true, "scanner": true, "bruteforce": true, "sqli": true, "xss": true,
	"traversal": true, "enumeration": true, "badbot": true}

func TestScenarios(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(scenarioDir, "*", "config.yaml"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenarios under %s (%v)", scenarioDir, err)
	}
	for _, cfgPath := range dirs {
		dir := filepath.Dir(cfgPath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Load(config.Sources{File: cfgPath})
			if err != nil {
				t.Fatal(err)
			}
			logs, _ := filepath.Glob(filepath.Join(dir, "access.log*"))
			if len(logs) == 0 {
				t.Fatal("no access.log")
			}
			// Four shards: the decisions must match the golden file made
			// with any shard count.
			var out bytes.Buffer
			sum, err := Run(context.Background(), Options{Config: cfg, Files: logs, Output: OutputDecisions, Out: &out, Shards: 4})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Lines == 0 || len(sum.Rejected) != 0 {
				t.Fatalf("lines=%d rejected=%v", sum.Lines, sum.Rejected)
			}
			wantPath := filepath.Join(dir, "want.jsonl")
			if *update {
				if err := os.WriteFile(wantPath, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(wantPath)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got := out.String(); got != string(want) {
				t.Errorf("decisions differ from %s:\n%s", wantPath, diffLines(string(want), got))
			}
			checkLabels(t, dir, out.Bytes(), sum.First.Add(cfg.Baseline.Learning))
		})
	}
}

// checkLabels verifies the decisions against the ground truth: no ban of an
// address that did not attack, and a ban of every attacker of a banned kind.
// A flood that ends before learning does (learnedAt) must not be banned:
// learning suspends rate-based bans.
func checkLabels(t *testing.T, dir string, out []byte, learnedAt time.Time) {
	t.Helper()
	attackers := map[netip.Addr]label{}
	if b, err := os.ReadFile(filepath.Join(dir, "labels.jsonl")); err == nil {
		for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var l label
			if err := json.Unmarshal(line, &l); err != nil {
				t.Fatalf("labels.jsonl: %v", err)
			}
			attackers[l.IP] = l
		}
	}
	banned := map[netip.Addr]decision{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var d decision
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("decision line %q: %v", sc.Text(), err)
		}
		if d.Action != "ban" {
			continue
		}
		p, err := netip.ParsePrefix(d.IP)
		if err != nil {
			a, err2 := netip.ParseAddr(d.IP)
			if err2 != nil {
				t.Fatalf("ban of %q: not an address", d.IP)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if _, ok := attackers[p.Addr()]; !ok {
			t.Errorf("false positive: banned %s (%s) at %s, not an attacker", d.IP, d.Detector, d.Time.Format(time.RFC3339))
		}
		if _, seen := banned[p.Addr()]; !seen {
			banned[p.Addr()] = d
		}
	}
	for ip, l := range attackers {
		d, ok := banned[ip]
		switch {
		case !bannedKinds[l.Kind]:
			if ok {
				t.Errorf("%s attacker %s was banned; this kind should only raise a global alert", l.Kind, ip)
			}
		case l.Kind == "flood" && !l.End.After(learnedAt):
			if ok {
				t.Errorf("attacker %s during learning was banned at %s", ip, d.Time)
			}
		case !ok:
			t.Errorf("%s attacker %s (from %s) was never banned", l.Kind, ip, l.Start.Format(time.RFC3339))
		case d.Time.Before(l.Start) || d.Time.After(l.End):
			t.Errorf("%s attacker %s banned at %s, outside its attack %s..%s", l.Kind, ip, d.Time, l.Start, l.End)
		}
	}
}

// diffLines shows the first differing lines of two texts.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 6; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + itoa(i+1) + ":\n  want: " + wl + "\n   got: " + gl + "\n")
			shown++
		}
	}
	b.WriteString("(" + itoa(len(w)-1) + " lines wanted, " + itoa(len(g)-1) + " got)")
	return b.String()
}

func itoa(i int) string { return strconv.Itoa(i) }
