package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/respond"
)

var t0 = time.Date(2026, 11, 22, 10, 15, 30, 123456789, time.UTC)

// line is one decoded audit record.
type line struct {
	TS       string          `json:"ts"`
	Host     string          `json:"host"`
	PID      int             `json:"pid"`
	Seq      uint64          `json:"seq"`
	Event    string          `json:"event"`
	Decision json.RawMessage `json:"decision"`
	Fields   map[string]any  `json:"fields"`
}

// readLines decodes every line of the file at path, failing the test on a
// line that is not exactly one JSON object of the documented shape.
func readLines(t *testing.T, path string) []line {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("%s does not end with a newline", path)
	}
	var out []line
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var l line
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("line %d of %s is not an audit record (%v): %q", len(out)+1, path, err, sc.Bytes())
		}
		if dec.More() {
			t.Fatalf("line %d of %s holds more than one value: %q", len(out)+1, path, sc.Bytes())
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func openLog(t *testing.T, path string, clk clock.Clock, reg prometheus.Registerer) *Log {
	t.Helper()
	l, err := Open(path, DefaultConfig(), Options{Clock: clk, Registerer: reg})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// hostile holds what attackers put in paths and user agents to break logs:
// line breaks of every kind, NUL, escape sequences, quotes, backslashes,
// invalid UTF-8 and DEL.
const hostile = "x\ny\rz\x00\x1b[31m\"q\"\\\u2028\u2029\u0085\x7f\xff\xfe\xc3(<script>&"

func decisions() []*respond.Decision {
	ev := detect.Evidence{Value: 912, Threshold: 120, Mean: 40.5, Stddev: 12, ZScore: 71.99, BaselineSource: "rolling",
		Requests: 912, Errors: 3, ErrorRatio: 0.0033, Window: time.Minute}
	p := netip.MustParsePrefix("203.0.113.7/32")
	return []*respond.Decision{
		{Time: t0, Action: respond.ActionBan, Target: p, Detector: "rate", Rule: "zscore", Class: detect.ClassRate,
			Reason: "912 requests/min, baseline 40.5", Duration: 10 * time.Minute, Until: t0.Add(10 * time.Minute), Offense: 1, Evidence: ev},
		{Time: t0, Action: respond.ActionBan, Target: netip.MustParsePrefix("2001:db8::/64"), Detector: "signature",
			Rule: "sqli-libinjection", Class: detect.ClassSQLi, Reason: "SQL injection", Permanent: true, Offense: 4, Evidence: ev,
			Request: &detect.Request{Method: "GET", Host: "shop.example", Path: "/search", Query: "q=1' OR '1'='1", Status: 200, UserAgent: "sqlmap/1.7"}},
		{Time: t0, Action: respond.ActionBan, Target: p, Detector: "manual", Reason: "operator ban", Duration: time.Hour,
			Until: t0.Add(time.Hour), Manual: true},
		{Time: t0, Action: respond.ActionBan, Target: p, Detector: "useragent", Rule: "ua-nikto", Class: detect.ClassScannerUA,
			Reason: "scanner user agent", Duration: 10 * time.Minute, Until: t0.Add(10 * time.Minute), Shadow: true, Offense: 1, Evidence: ev},
		{Time: t0.Add(10 * time.Minute), Action: respond.ActionUnban, Target: p, Detector: "rate", Rule: "zscore", Reason: "ban expired"},
		{Time: t0, Action: respond.ActionUnban, Target: p, Detector: "manual", Reason: "operator unban", Manual: true},
		{Time: t0, Action: respond.ActionAlert, Detector: "global", Rule: "zscore", Class: detect.ClassRate, Reason: "global traffic 8x baseline", Evidence: ev},
		{Time: t0.Add(5 * time.Minute), Action: respond.ActionRecover, Detector: "global", Reason: "traffic back to baseline",
			Evidence: detect.Evidence{AlertDuration: 5 * time.Minute}},
	}
}

func TestDecisionRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	clk := clock.NewFake(t0)
	reg := prometheus.NewRegistry()
	l := openLog(t, path, clk, reg)
	ds := decisions()
	for _, d := range ds {
		if err := l.Decision(d); err != nil {
			t.Fatalf("Decision: %v", err)
		}
		clk.Advance(time.Second)
	}
	lines := readLines(t, path)
	if len(lines) != len(ds) {
		t.Fatalf("%d lines, want %d", len(lines), len(ds))
	}
	host, _ := os.Hostname()
	for i, got := range lines {
		d := ds[i]
		wantDecision, err := d.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(decode(t, wantDecision), decode(t, got.Decision)); diff != "" {
			t.Errorf("line %d decision (-want +got):\n%s", i+1, diff)
		}
		want := line{TS: t0.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano), Host: host, PID: os.Getpid(),
			Seq: uint64(i + 1), Event: string(d.Action)}
		got.Decision = nil
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("line %d (-want +got):\n%s", i+1, diff)
		}
	}
	for kind, n := range map[string]float64{"ban": 4, "unban": 2, "alert": 1, "recover": 1, "start": 0} {
		if got := testutil.ToFloat64(l.m.records.WithLabelValues(kind)); got != n {
			t.Errorf("records_total{event=%q} = %v, want %v", kind, got, n)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "vigil_audit_records_total"); err != nil || n != 10 {
		t.Errorf("vigil_audit_records_total series = %d, %v; want 10 (one per kind)", n, err)
	}
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}

func TestHostileStringsStayOnOneLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := openLog(t, path, clock.NewFake(t0), nil)
	d := decisions()[1]
	d.Reason = "reason " + hostile
	d.Rule = hostile
	d.Request = &detect.Request{Method: hostile, Host: hostile, Path: "/a" + hostile, Query: hostile, UserAgent: "UA " + hostile}
	if err := l.Decision(d); err != nil {
		t.Fatal(err)
	}
	if err := l.Event(EventFirewallError, map[string]any{"err": errors.New("ipset: " + hostile), hostile: hostile}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(data, []byte("\n")); n != 2 {
		t.Fatalf("file has %d newlines, want 2: %q", n, data)
	}
	// No raw byte that a terminal or a line splitter could act on.
	for _, bad := range []string{"\r", "\x00", "\x1b", "\x7f", "\u2028", "\u2029", "\u0085", "\xff", "\xfe"} {
		if i := bytes.Index(data, []byte(bad)); i >= 0 {
			t.Errorf("raw %q at offset %d in %q", bad, i, data)
		}
	}
	for i := range len(data) - 1 {
		if data[i] < 0x20 && data[i] != '\n' {
			t.Errorf("raw control byte %#x at offset %d", data[i], i)
		}
	}
	lines := readLines(t, path)
	var got struct{ Request detect.Request }
	if err := json.Unmarshal(lines[0].Decision, &got); err != nil {
		t.Fatal(err)
	}
	// Valid characters come back exactly; invalid UTF-8 as U+FFFD.
	clean := strings.ReplaceAll(hostile, "\xff\xfe\xc3(", "\ufffd\ufffd\ufffd(")
	if got.Request.Path != "/a"+clean || got.Request.UserAgent != "UA "+clean {
		t.Errorf("request round trip:\n got path %q ua %q\nwant path %q", got.Request.Path, got.Request.UserAgent, "/a"+clean)
	}
	if lines[1].Fields["err"] != "ipset: "+clean || lines[1].Fields[clean] != clean {
		t.Errorf("fields round trip: %q", lines[1].Fields)
	}
}

func TestAppendLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":"b"}`, "{\"a\":\"b\"}\n"},
		{"\"\x7f\"", "\"\\u007f\"\n"},
		{"\"\u0080\u0085\u009f\"", "\"\\u0080\\u0085\\u009f\"\n"},
		{"\"\u00a0\u00e9\u0100\"", "\"\u00a0\u00e9\u0100\"\n"}, // not controls: kept
	}
	for _, tc := range tests {
		got := string(appendLine(nil, []byte(tc.in)))
		if got != tc.want {
			t.Errorf("appendLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
		var s any
		if err := json.Unmarshal([]byte(got), &s); err != nil {
			t.Errorf("appendLine(%q) is not JSON: %v", tc.in, err)
		}
		var orig any
		_ = json.Unmarshal([]byte(tc.in), &orig)
		if diff := cmp.Diff(orig, s); diff != "" {
			t.Errorf("appendLine(%q) changed the value (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestEvent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := openLog(t, path, clock.NewFake(t0), nil)
	if err := l.Event(EventStart, map[string]any{"version": "1.2.3", "backend": "ipset", "restored": 3,
		"took": 1500 * time.Millisecond, "err": errors.New("none"), "client_ip": netip.MustParseAddr("192.0.2.1")}); err != nil {
		t.Fatal(err)
	}
	if err := l.Event(EventStop, nil); err != nil {
		t.Fatal(err)
	}
	errCases := []struct {
		name string
		kind string
		f    map[string]any
		is   error
	}{
		{"unknown kind", "party", nil, ErrUnknownEvent},
		{"decision kind", "ban", nil, ErrUnknownEvent},
		{"unencodable field", EventReload, map[string]any{"x": math.NaN()}, nil},
	}
	for _, tc := range errCases {
		err := l.Event(tc.kind, tc.f)
		if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("%s: Event = %v, want an error (errors.Is %v)", tc.name, err, tc.is)
		}
	}
	if err := l.Decision(&respond.Decision{Action: "shrug"}); !errors.Is(err, ErrUnknownEvent) {
		t.Errorf("Decision with unknown action: %v", err)
	}
	if err := l.Decision(nil); err == nil {
		t.Error("Decision(nil): no error")
	}
	if err := l.Event(EventReconcile, map[string]any{"added": 2}); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, path)
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	want := map[string]any{"version": "1.2.3", "backend": "ipset", "restored": 3.0, "took": "1.5s", "err": "none", "client_ip": "192.0.2.1"}
	if diff := cmp.Diff(want, lines[0].Fields); diff != "" {
		t.Errorf("start fields (-want +got):\n%s", diff)
	}
	if lines[1].Event != "stop" || lines[1].Fields != nil || lines[1].Decision != nil {
		t.Errorf("stop record: %+v", lines[1])
	}
	// The unencodable record consumed seq 3: a gap shows a lost record.
	if lines[2].Event != "reconcile" || lines[2].Seq != 4 {
		t.Errorf("reconcile record: %+v, want seq 4", lines[2])
	}
	if got := testutil.ToFloat64(l.m.errors); got != 5 {
		t.Errorf("errors_total = %v, want 5", got)
	}
}

func TestRotationCreateStyle(t *testing.T) {
	// logrotate "create": rename, then create a new file; vigil notices at
	// the next check (or on Reopen) and continues in the new file. Records
	// written in between land in the renamed file: none is lost.
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	clk := clock.NewFake(t0)
	l := openLog(t, path, clk, nil)
	write := func(n int) {
		for range n {
			if err := l.Event(EventReload, map[string]any{"ok": true}); err != nil {
				t.Fatal(err)
			}
		}
	}
	rotate := func(to string) {
		if err := os.Rename(path, to); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
		if err != nil {
			t.Fatal(err)
		}
		_ = f.Close()
	}
	write(3)
	rotate(path + ".1")
	write(2) // before the next check: still the old file
	clk.Advance(rotateCheckEvery)
	write(3) // the check reopens: new file
	// SIGHUP-style: rotate and Reopen at once.
	rotate(path + ".2")
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	write(1)
	counts := []int{len(readLines(t, path+".1")), len(readLines(t, path+".2")), len(readLines(t, path))}
	if diff := cmp.Diff([]int{5, 3, 1}, counts); diff != "" {
		t.Errorf("records per file (.1, .2, current) (-want +got):\n%s", diff)
	}
	var seqs []uint64
	for _, p := range []string{path + ".1", path + ".2", path} {
		for _, r := range readLines(t, p) {
			seqs = append(seqs, r.Seq)
		}
	}
	if diff := cmp.Diff([]uint64{1, 2, 3, 4, 5, 6, 7, 8, 9}, seqs); diff != "" {
		t.Errorf("seq across files (-want +got):\n%s", diff)
	}
	if got := testutil.ToFloat64(l.m.reopens); got != 2 {
		t.Errorf("reopens_total = %v, want 2", got)
	}
}

func TestRotationWithoutCreate(t *testing.T) {
	// Renamed and never recreated: the first check leaves logrotate time
	// to create the file, the second creates it.
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	clk := clock.NewFake(t0)
	l := openLog(t, path, clk, nil)
	if err := l.Event(EventStart, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		clk.Advance(rotateCheckEvery)
		if err := l.Event(EventReload, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got, cur := len(readLines(t, path+".1")), len(readLines(t, path)); got != 2 || cur != 1 {
		t.Errorf("records: %d in renamed file, %d in new file; want 2 and 1", got, cur)
	}
}

func TestDeletedLogIsRecreated(t *testing.T) {
	// Deleted (not renamed): records written to the open file would be
	// lost, so the first check recreates the path.
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	clk := clock.NewFake(t0)
	l := openLog(t, path, clk, nil)
	if err := l.Event(EventStart, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	clk.Advance(rotateCheckEvery)
	if err := l.Event(EventStop, nil); err != nil {
		t.Fatal(err)
	}
	if lines := readLines(t, path); len(lines) != 1 || lines[0].Event != "stop" {
		t.Errorf("recreated file holds %+v, want the stop record", lines)
	}
}

func TestCopytruncate(t *testing.T) {
	// copytruncate empties the file in place: O_APPEND makes the next
	// record start at offset 0 (no hole of NULs, no torn line).
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := openLog(t, path, clock.NewFake(t0), nil)
	for range 3 {
		if err := l.Event(EventReload, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	if err := l.Event(EventStop, nil); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, path)
	if len(lines) != 1 || lines[0].Event != "stop" || lines[0].Seq != 4 {
		t.Errorf("after truncation: %+v", lines)
	}
}

func TestAppendsToExistingFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log", "vigil")
	path := filepath.Join(dir, "audit.jsonl")
	l := openLog(t, path, clock.NewFake(t0), nil)
	if err := l.Event(EventStart, nil); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	l = openLog(t, path, clock.NewFake(t0), nil)
	if err := l.Event(EventStart, nil); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.HasPrefix(after, before) || len(readLines(t, path)) != 2 {
		t.Errorf("reopen did not append:\nbefore %q\nafter  %q", before, after)
	}
	for _, c := range []struct {
		path string
		want os.FileMode
	}{{dir, logDirMode}, {path, logFileMode}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		// The umask may only remove bits.
		if got := fi.Mode().Perm(); got&^c.want != 0 || got&0o600 != 0o600 {
			t.Errorf("%s mode = %v, want %v", c.path, got, c.want)
		}
	}
}

func TestConcurrentWriters(t *testing.T) {
	const writers, each = 8, 50
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	// fsync off: the test is about interleaving, not durability.
	cfg := DefaultConfig()
	cfg.Fsync = false
	l, err := Open(path, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	long := strings.Repeat("A", 64<<10) // larger than a pipe buffer or a page
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				var err error
				if i%2 == 0 {
					d := *decisions()[1]
					d.Request = &detect.Request{Path: fmt.Sprintf("/w%d/%d/%s", w, i, long)}
					err = l.Decision(&d)
				} else {
					err = l.Event(EventReconcile, map[string]any{"writer": w, "i": i})
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	lines := readLines(t, path)
	if len(lines) != writers*each {
		t.Fatalf("%d lines, want %d", len(lines), writers*each)
	}
	for i, r := range lines {
		if r.Seq != uint64(i+1) {
			t.Fatalf("line %d has seq %d: records out of file order", i+1, r.Seq)
		}
	}
}

func TestWriteFailure(t *testing.T) {
	// /dev/full fails every write with ENOSPC: the error is returned and
	// counted, and the Log keeps working.
	if _, err := os.Stat("/dev/full"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and /dev/full is missing: %v", err)
		}
		t.Skip("no /dev/full on this system")
	}
	cfg := DefaultConfig()
	cfg.Fsync = false
	l, err := Open("/dev/full", cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for range 2 {
		if err := l.Event(EventStart, nil); err == nil || !strings.Contains(err.Error(), "write audit log") {
			t.Errorf("Event on a full device: %v", err)
		}
	}
	if got := testutil.ToFloat64(l.m.errors); got != 2 {
		t.Errorf("errors_total = %v, want 2", got)
	}
}

func TestClosed(t *testing.T) {
	l := openLog(t, filepath.Join(t.TempDir(), "audit.jsonl"), nil, nil)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := l.Event(EventStop, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Event after Close: %v", err)
	}
	if err := l.Reopen(); !errors.Is(err, ErrClosed) {
		t.Errorf("Reopen after Close: %v", err)
	}
}

func TestNoop(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	l, err := Open("", DefaultConfig(), Options{Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	var nilLog *Log
	for _, l := range []*Log{l, nilLog} {
		if err := l.Decision(decisions()[0]); err != nil {
			t.Error(err)
		}
		if err := l.Event("anything", nil); err != nil {
			t.Error(err)
		}
		if err := l.Reopen(); err != nil {
			t.Error(err)
		}
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("no-op log created files: %v", entries)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := DefaultConfig()
	bad.SnapshotKeep = 0
	tests := []struct {
		name, path string
		cfg        Config
		contains   string
	}{
		{"invalid config", filepath.Join(dir, "a.jsonl"), bad, "snapshot_keep"},
		{"parent is a file", filepath.Join(file, "audit.jsonl"), DefaultConfig(), "create audit log directory"},
		{"path is a directory", dir, DefaultConfig(), "open audit log"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Open(tc.path, tc.cfg, Options{})
			if err == nil {
				_ = l.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not mention %q", err, tc.contains)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want []string
	}{
		{"default", func(*Config) {}, nil},
		{"absolute dir", func(c *Config) { c.SnapshotDir = "/var/lib/vigil/snapshots" }, nil},
		{"everything wrong", func(c *Config) { c.SnapshotDir = "snaps"; c.SnapshotKeep = -1 },
			[]string{`snapshot_dir: must be an absolute path (got "snaps")`, "snapshot_keep: must be >= 1 (got -1)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
		})
	}
	if d := DefaultConfig(); d.SnapshotKeep != 200 || !d.Fsync || d.SnapshotDir != "" {
		t.Errorf("DefaultConfig = %+v", d)
	}
}
