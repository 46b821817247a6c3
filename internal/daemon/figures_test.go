package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/respond"
	"github.com/vigil-sec/vigil/internal/store"
)

// Figures for docs/BENCHMARKS.md. They run only with VIGIL_FIGURES=1.
func figures(t *testing.T) {
	if os.Getenv("VIGIL_FIGURES") != "1" {
		t.Skip("figures: set VIGIL_FIGURES=1")
	}
}

func buildVigil(t *testing.T, dir string) string {
	bin := filepath.Join(dir, "vigil")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/vigil").CombinedOutput(); err != nil {
		t.Fatalf("build vigil: %v\n%s", err, out)
	}
	return bin
}

// procStat returns a process' CPU time (user+system) and peak RSS.
func procStat(pid int) (cpu time.Duration, hwm uint64) {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if i := bytes.LastIndexByte(b, ')'); i > 0 {
		f := strings.Fields(string(b[i+2:]))
		if len(f) > 13 {
			ut, _ := strconv.ParseUint(f[11], 10, 64)
			st, _ := strconv.ParseUint(f[12], 10, 64)
			cpu = time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ = 100
		}
	}
	s, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(s), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%d", &hwm)
			hwm <<= 10
		}
	}
	return cpu, hwm
}

// TestFiguresTailThroughput appends 100,000 lines/s (current timestamps) to
// a log that `vigil run` (dry-run firewall) follows, for 30 s, and reports
// the lag vigil reports, its CPU use and peak RSS.
func TestFiguresTailThroughput(t *testing.T) {
	figures(t)
	dir := t.TempDir()
	bin := buildVigil(t, dir)
	sim := filepath.Join(dir, "sim.json")
	if out, err := exec.Command(bin, "simulate", "--lines", "200000", "--rate", "200", "--clients", "5000", "--out", sim).CombinedOutput(); err != nil {
		t.Fatalf("simulate: %v\n%s", err, out)
	}
	lines := bytes.SplitAfter(must(os.ReadFile(sim)), []byte("\n"))
	lines = lines[:len(lines)-1]
	logPath := filepath.Join(dir, "access.json")
	os.WriteFile(logPath, nil, 0o644)
	cfg := filepath.Join(dir, "vigil.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("source: {path: %s, start_at: beginning}\nstate_dir: %s/state\naudit_log: %s/audit.jsonl\nfirewall: {backend: dry-run}\nhttp: {listen: \"\"}\nbaseline: {learning: 1m}\n", logPath, dir, dir)), 0o600)
	cmd := exec.Command(bin, "run", "--config", cfg)
	cmd.Env = cleanEnv()
	cmd.Stderr, _ = os.Create(filepath.Join(dir, "vigil.out"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stop(cmd)
	e := &e2e{t: t, dir: dir}
	e.eventually("vigil ready", 30*time.Second, func() bool { c, _ := e.get("/readyz"); return c == 200 })

	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	const rate, seconds = 100_000, 30
	timeRe := regexp.MustCompile(`"time":"[^"]{25}"`)
	start := time.Now()
	cpu0, _ := procStat(cmd.Process.Pid)
	var written int
	var lags []float64
	type mark struct {
		at time.Time
		n  int
	}
	var marks []mark // lines written by each time
	var buf []byte
	for tick := 0; tick < seconds*100; tick++ { // 100 writes of 1,000 lines per second
		now := time.Now()
		stamp := []byte(`"time":"` + now.UTC().Format("2006-01-02T15:04:05+00:00") + `"`)
		buf = buf[:0]
		for i := 0; i < rate/100; i++ {
			buf = append(buf, timeRe.ReplaceAllLiteral(lines[written%len(lines)], stamp)...)
			written++
		}
		if _, err := f.Write(buf); err != nil {
			t.Fatal(err)
		}
		marks = append(marks, mark{time.Now(), written})
		if tick%100 == 99 {
			// Backlog at the snapshot's own time: lines written by then
			// minus lines vigil had read.
			_, body := e.get("/api/v1/status")
			var st struct {
				SnapshotTime time.Time `json:"snapshot_time"`
				Lines        uint64    `json:"lines"`
			}
			_ = json.Unmarshal([]byte(body), &st)
			by := 0
			for _, m := range marks {
				if m.at.After(st.SnapshotTime) {
					break
				}
				by = m.n
			}
			lags = append(lags, max(0, float64(by)-float64(st.Lines))/rate)
		}
		time.Sleep(time.Until(start.Add(time.Duration(tick+1) * 10 * time.Millisecond)))
	}
	elapsed := time.Since(start)
	cpu1, hwm := procStat(cmd.Process.Pid)
	// Wait until everything written has been read.
	e.eventually("caught up", 60*time.Second, func() bool {
		_, body := e.get("/api/v1/status")
		var st struct {
			Lines uint64 `json:"lines"`
		}
		_ = json.Unmarshal([]byte(body), &st)
		return st.Lines >= uint64(written)
	})
	sort.Float64s(lags)
	t.Logf("appended %d lines in %s (%.0f lines/s); backlog behind the writer (lines not yet read / rate): median %.3f s, max %.3f s; vigil CPU %.0f%% of one core, peak RSS %.0f MiB",
		written, elapsed.Round(time.Millisecond), float64(written)/elapsed.Seconds(), lags[len(lags)/2], lags[len(lags)-1],
		100*(cpu1-cpu0).Seconds()/elapsed.Seconds(), float64(hwm)/(1<<20))
}

// TestFiguresBanLatency measures, in network namespaces with real nginx and
// ipset, the time from an attacker's third malicious request (its log line)
// to the ban being in the kernel.
func TestFiguresBanLatency(t *testing.T) {
	figures(t)
	e := setup(t, "ipset")
	e.writeConfig("")
	e.startVigil()
	const trials = 40
	var lat []time.Duration
	for i := 0; i < trials; i++ {
		ip := fmt.Sprintf("10.88.1.%d", 100+i)
		if _, err := e.att.Exec(context.Background(), "ip", "addr", "add", ip+"/24", "dev", e.attIf); err != nil {
			t.Fatal(err)
		}
		e.requests(e.att, "http://10.88.1.1:8080/search?q=1%27%20UNION%20SELECT%20password%20FROM%20users--", "sqlmap/1.8",
			3, 0, "GET", ip)
		t0 := time.Now()
		for !e.banned(ip) {
			if time.Since(t0) > 10*time.Second {
				t.Fatalf("trial %d: %s not banned", i, ip)
			}
		}
		lat = append(lat, time.Since(t0))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("log line written -> rule in the kernel (ipset), %d trials: p50 %s, p90 %s, p99 %s, max %s (includes ~3 ms per `ipset test` poll)",
		trials, lat[trials/2].Round(100*time.Microsecond), lat[trials*9/10].Round(100*time.Microsecond),
		lat[trials*99/100].Round(100*time.Microsecond), lat[trials-1].Round(100*time.Microsecond))
}

// TestFiguresRestore100k starts vigil (ipset, in a namespace) with 100,000
// active bans in its ledger and reports how long the restore took.
func TestFiguresRestore100k(t *testing.T) {
	figures(t)
	e := setup(t, "ipset")
	e.writeConfig("log:\n  level: debug\n")
	st, err := store.Open(filepath.Join(e.dir, "state", "ledger.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	fill := time.Now()
	for i := 0; i < 100_000; i++ {
		pfx := netip.PrefixFrom(netip.AddrFrom4([4]byte{100, 64 + byte(i>>16), byte(i >> 8), byte(i)}), 32)
		r := &respond.Record{Prefix: pfx, Offenses: 1, LastOffense: now, Ban: &respond.Ban{Prefix: pfx, Since: now,
			Until: now.Add(time.Hour), Offense: 1, Detector: "rate", Rule: "zscore", Class: detect.ClassRate, Reason: "flood"}}
		if err := st.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	t.Logf("ledger filled with 100,000 bans in %s", time.Since(fill).Round(time.Second))
	start := time.Now()
	e.startVigil()
	ready := time.Since(start)
	out, _ := os.ReadFile(filepath.Join(e.dir, "vigil.out"))
	m := regexp.MustCompile(`msg="firewall ready" component=enforce restored=(\d+) removed_stale=\d+ took=(\S+) setup=(\S+)`).FindSubmatch(out)
	if d := regexp.MustCompile(`msg=reconciled .*why=start .*collect=(\S+) sync=(\S+)`).FindSubmatch(out); d != nil {
		t.Logf("start reconciliation: collecting the bans from the ledger %s, firewall sync %s", d[1], d[2])
	}
	if m == nil {
		t.Fatalf("no restore line in the log:\n%s", tail(out, 20))
	}
	list, _ := e.srv.Exec(context.Background(), "ipset", "list", "vigil4")
	n := bytes.Count(list, []byte("\n100."))
	t.Logf("restored %s bans (ipset holds %d): firewall setup + bulk restore took %s (setup %s); process start (ledger load included) to ready %s",
		m[1], n, m[2], m[3], ready.Round(time.Millisecond))
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
