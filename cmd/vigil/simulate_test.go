package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/clock"
)

// simRun runs the vigil command line and returns its exit code and output.
func simRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestSimulateCommand(t *testing.T) {
	dir := t.TempDir()
	out, labels := filepath.Join(dir, "access.json"), filepath.Join(dir, "labels.json")
	code, _, stderr := simRun(t, "simulate", "--duration", "5m", "--rate", "20", "--attack", "scanner@1m+2m",
		"--attack", "bruteforce@30s", "--labels", labels, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if !strings.Contains(stderr, "wrote "+strconv.Itoa(len(lines))+" lines to "+out) {
		t.Errorf("stderr %q lacks the summary for %d lines", stderr, len(lines))
	}
	// Valid JSON lines with vigil's default field names, in time order,
	// within the five simulated minutes from the default start.
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	var prev time.Time
	ips := map[string]int{}
	for _, l := range lines {
		var v struct {
			Time       string `json:"time"`
			RemoteAddr string `json:"remote_addr"`
			URI        string `json:"request_uri"`
			Status     int    `json:"status"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		at, err := time.Parse(time.RFC3339, v.Time)
		if err != nil || at.Before(prev) || at.Before(start) || !at.Before(start.Add(5*time.Minute)) {
			t.Fatalf("line time %q out of order or range", v.Time)
		}
		prev = at
		ips[v.RemoteAddr]++
	}
	if len(lines) < 3000 {
		t.Errorf("%d lines for 5 minutes at 20/s", len(lines))
	}
	lb, err := os.ReadFile(labels)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(lb)), "\n") {
		var lab struct{ IP, Kind, Start, End string }
		if err := json.Unmarshal([]byte(l), &lab); err != nil {
			t.Fatalf("label %q: %v", l, err)
		}
		kinds[lab.Kind] = true
		if ips[lab.IP] == 0 {
			t.Errorf("labelled attacker %s (%s) sent nothing", lab.IP, lab.Kind)
		}
		if lab.Kind == "scanner" && (lab.Start != "2026-01-05T00:01:00Z" || lab.End != "2026-01-05T00:03:00Z") {
			t.Errorf("scanner label window %s..%s", lab.Start, lab.End)
		}
	}
	if len(kinds) != 2 {
		t.Errorf("labels for %v, want scanner and bruteforce", kinds)
	}

	// The same flags give the same bytes; another seed does not.
	again := filepath.Join(dir, "again.json")
	if code, _, stderr := simRun(t, "simulate", "--duration", "5m", "--rate", "20", "--attack", "scanner@1m+2m",
		"--attack", "bruteforce@30s", "--out", again); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(again); !bytes.Equal(b, data) {
		t.Error("two runs with the same flags differ")
	}
	if code, stdout, _ := simRun(t, "simulate", "--duration", "5m", "--rate", "20", "--attack", "scanner@1m+2m",
		"--attack", "bruteforce@30s", "--seed", "2"); code != 0 || stdout == string(data) || stdout == "" {
		t.Error("--seed 2 gave the same output (or none)")
	}
}

func TestSimulateCommandFormats(t *testing.T) {
	combined := regexp.MustCompile(`^\S+ - - \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "(?:[^"\\]|\\x[0-9A-F]{2})*" \d{3} \d+ "(?:[^"\\]|\\x[0-9A-F]{2})*" "(?:[^"\\]|\\x[0-9A-F]{2})*"$`)
	code, stdout, stderr := simRun(t, "simulate", "--lines", "777", "--format", "combined", "--attack", "badbot@0s", "--out", "-",
		"--start", "2026-06-01T12:00:00+02:00")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 777 {
		t.Fatalf("--lines 777 wrote %d lines", len(lines))
	}
	for _, l := range lines {
		if !combined.MatchString(l) || !strings.Contains(l, "/Jun/2026:1") || !strings.Contains(l, " +0200]") {
			t.Fatalf("not a combined line at the given start: %q", l)
		}
	}
	if !strings.Contains(stderr, "to standard output") {
		t.Errorf("stderr %q", stderr)
	}
}

func TestSimulateCommandErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--attack", "flod@1m"}, `attack "flod@1m": unknown kind "flod" (want one of flood, ddos,`},
		{[]string{"--attack", "flood@later"}, `attack "flood@later": start: time: invalid duration "later"`},
		{[]string{"--rate", "-1", "--clients", "3"}, "rate: must be > 0"},
		{[]string{"--rate", "-1", "--clients", "3"}, "clients: must be between 10 and"},
		{[]string{"--rate", "fast"}, `invalid argument "fast" for "--rate"`},
		{[]string{"--format", "xml"}, `format: unknown format "xml"`},
		{[]string{"--start", "yesterday"}, "--start: want an RFC 3339 time"},
		{[]string{"--duration", "10m", "--attack", "flood@20m"}, "attacks[0].start: 20m0s is not before the end"},
		{[]string{"--live", "--start", "2026-01-05T00:00:00Z", "--out", filepath.Join(dir, "x")}, "--start cannot be used with --live"},
		{[]string{"--live"}, "--live needs --out FILE"},
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"access.json"}, `simulate takes no arguments (got ["access.json"]); did you mean --out access.json?`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := simRun(t, append([]string{"simulate"}, tc.args...)...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q lacks %q", stderr, tc.want)
			}
			if stdout != "" {
				t.Errorf("wrote %d bytes to stdout on error", len(stdout))
			}
		})
	}
	// A failure that is not a usage error exits 1.
	if code, _, stderr := simRun(t, "simulate", "--lines", "5", "--out", filepath.Join(dir, "missing", "x.json")); code != 1 || !strings.Contains(stderr, "create output") {
		t.Errorf("unwritable --out: exit %d, %q", code, stderr)
	}
}

func TestSimulateCommandHelp(t *testing.T) {
	code, stdout, _ := simRun(t, "simulate", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, flag := range []string{"--out", "--format", "--seed", "--start", "--duration", "--lines", "--rate", "--clients",
		"--ipv6-share", "--diurnal", "--attack", "--live", "--labels", "vigil simulate --lines 1000000", "bruteforce", "enumeration"} {
		if !strings.Contains(stdout, flag) {
			t.Errorf("help lacks %s", flag)
		}
	}
}

func TestSimulateCommandLive(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 7, 1, 15, 0, 0, 0, time.UTC))
	out := filepath.Join(t.TempDir(), "live.json")
	var stdout, stderr simBuffer
	cmd := newSimulateCmdClock(&stdout, &stderr, clk)
	cmd.SetArgs([]string{"--live", "--duration", "3s", "--out", out, "--attack", "flood@1s+1s:30"})
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	errc := make(chan error, 1)
	go func() { errc <- cmd.ExecuteContext(context.Background()) }()
	deadline := time.Now().Add(10 * time.Second)
	for done := false; !done; {
		clk.Advance(50 * time.Millisecond)
		select {
		case err := <-errc:
			if err != nil {
				t.Fatalf("simulate --live: %v", err)
			}
			done = true
		case <-time.After(time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("simulate --live did not stop after --duration 3s")
			}
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) < 50 {
		t.Fatalf("%d lines for 3 s with a 30/s flood", len(lines))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, `{"time":"2026-07-01T15:00:0`) {
			t.Fatalf("line not stamped with the fake clock's time: %q", l)
		}
	}
	if !strings.Contains(stderr.String(), "attack flood started from ") {
		t.Errorf("stderr %q lacks the attack announcement", stderr.String())
	}
}

// simBuffer is a bytes.Buffer safe for the command goroutine and the test.
type simBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *simBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *simBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
