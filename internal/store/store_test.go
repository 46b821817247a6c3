package store

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/goleak"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/respond"
)

// Environment variables that turn a re-executed test binary into a helper
// process holding or writing a ledger.
const (
	helperEnv     = "VIGIL_STORE_HELPER" // role: hold, put
	helperPathEnv = "VIGIL_STORE_HELPER_PATH"
	helperNEnv    = "VIGIL_STORE_HELPER_N"
)

func TestMain(m *testing.M) {
	if role := os.Getenv(helperEnv); role != "" {
		if err := runHelper(role, os.Getenv(helperPathEnv)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	// Load decodes on goroutines of its own: none may outlive it.
	goleak.VerifyTestMain(m)
}

// runHelper opens the ledger at path and, for "put", writes n records. It
// then prints "ready" and waits until stdin is closed (or it is killed)
// without closing the store.
func runHelper(role, path string) error {
	s, err := Open(path, Options{})
	if err != nil {
		return err
	}
	if role == "put" {
		var n int
		if _, err := fmt.Sscan(os.Getenv(helperNEnv), &n); err != nil {
			return fmt.Errorf("helper n: %w", err)
		}
		for i := range n {
			if err := s.Put(numbered(i)); err != nil {
				return err
			}
		}
	}
	fmt.Println("ready")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	return nil
}

// startHelper re-executes the test binary as a helper and waits for it to
// report ready. The helper is killed when the test ends.
func startHelper(t *testing.T, role, path string, n int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+role, helperPathEnv+"="+path, fmt.Sprintf("%s=%d", helperNEnv, n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("helper %s: read %q, %v; stderr: %s", role, line, err, stderr.String())
	}
	return cmd
}

var t0 = time.Date(2026, 11, 22, 10, 15, 30, 123456789, time.UTC)

// hostile is a string with everything that breaks naive log and JSON
// handling; it is valid UTF-8, so it must survive a round trip exactly.
const hostile = "a\nb\rc\x00d\x1be\"f\\g\u2028h\u2029i\u0085j\x7fk<script>&'"

// full returns a record with every field of Record, Ban, Evidence and
// Request set (TestFullCoversEveryField keeps it that way).
func full() *respond.Record {
	p := netip.MustParsePrefix("203.0.113.7/32")
	return &respond.Record{
		Prefix: p, Offenses: 3, LastOffense: t0,
		Ban: &respond.Ban{
			Prefix: p, Since: t0, Until: t0.Add(2 * time.Hour), Offense: 3,
			Detector: "rate", Rule: "zscore", Class: detect.ClassRate,
			Reason: "rate 912/min over threshold " + hostile, Manual: true, Shadow: true,
			Evidence: detect.Evidence{
				Value: 912, Threshold: 120.25, Mean: 40.5, Stddev: 12.125, ZScore: 71.9876,
				BaselineSource: "hour_slot", Requests: 912, Errors: 400, ErrorRatio: 0.4385964912,
				BaselineErrorRate: 0.0123, Window: time.Minute, Tightened: true, Learning: true,
				Score: 15, Distinct: 77, AlertDuration: 90 * time.Second,
			},
			Request: &detect.Request{
				Method: "GET" + hostile, Host: "example.com" + hostile, Path: "/a\n/../etc/passwd" + hostile,
				Query: "id=1' OR '1'='1" + hostile, Status: 404, UserAgent: "sqlmap/1.7\r\n" + hostile,
			},
		},
	}
}

// numbered returns a distinct timed-ban record for i (benchmarks, helpers).
func numbered(i int) *respond.Record {
	a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
	p := netip.PrefixFrom(a, 32)
	return &respond.Record{Prefix: p, Offenses: 1, LastOffense: t0,
		Ban: &respond.Ban{Prefix: p, Since: t0, Until: t0.Add(10 * time.Minute), Offense: 1,
			Detector: "signature", Rule: "sqli-libinjection", Class: detect.ClassSQLi,
			Reason:   "SQL injection in the query string",
			Evidence: detect.Evidence{Value: 1, Threshold: 1, Requests: 3, Score: 5},
			Request: &detect.Request{Method: "GET", Host: "shop.example.com", Path: "/search",
				Query: "q=1%27%20UNION%20SELECT%20password%20FROM%20users--", Status: 200,
				UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}}}
}

// prefixEqual lets cmp compare netip values (they have unexported fields).
var prefixEqual = cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })

func open(t *testing.T, path string, o Options) *Store {
	t.Helper()
	s, err := Open(path, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestFullCoversEveryField(t *testing.T) {
	// If a field is added to the ledger types, full() must set it and the
	// store must persist it (TestRoundTrip then proves it does).
	r := full()
	for _, v := range []any{*r, *r.Ban, r.Ban.Evidence, *r.Ban.Request} {
		rv := reflect.ValueOf(v)
		for i := range rv.NumField() {
			if rv.Field(i).IsZero() {
				t.Errorf("%s.%s is zero in full(): set it, and persist it in codec.go", rv.Type().Name(), rv.Type().Field(i).Name)
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	v6 := netip.MustParsePrefix("2001:db8::/64")
	mapped := netip.MustParsePrefix("::ffff:198.51.100.9/128")
	tests := []struct {
		name string
		rec  func() *respond.Record
	}{
		{"every field", full},
		{"permanent ban", func() *respond.Record {
			r := full()
			r.Ban.Until = time.Time{}
			r.Ban.Manual, r.Ban.Shadow = false, false
			return r
		}},
		{"manual ban without evidence or request", func() *respond.Record {
			p := netip.MustParsePrefix("198.51.100.0/24")
			return &respond.Record{Prefix: p, Offenses: 1, LastOffense: t0,
				Ban: &respond.Ban{Prefix: p, Since: t0, Until: t0.Add(time.Hour), Offense: 1,
					Detector: "manual", Reason: "operator: abuse report #42", Manual: true}}
		}},
		{"shadow ban", func() *respond.Record {
			r := numbered(7)
			r.Ban.Shadow = true
			return r
		}},
		{"offense history without ban", func() *respond.Record {
			return &respond.Record{Prefix: netip.MustParsePrefix("192.0.2.1/32"), Offenses: 2, LastOffense: t0}
		}},
		{"ipv6 network", func() *respond.Record {
			r := full()
			r.Prefix, r.Ban.Prefix = v6, v6
			return r
		}},
		{"ipv4-mapped ipv6 stays ipv6", func() *respond.Record {
			return &respond.Record{Prefix: mapped, Offenses: 1}
		}},
		{"host bits kept", func() *respond.Record {
			return &respond.Record{Prefix: netip.MustParsePrefix("10.1.2.3/8"), Offenses: 1}
		}},
		{"local time zone", func() *respond.Record {
			r := numbered(9)
			loc := time.FixedZone("UTC+5:30", 5*3600+1800)
			r.LastOffense, r.Ban.Since, r.Ban.Until = t0.In(loc), t0.In(loc), t0.Add(time.Minute).In(loc)
			return r
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ledger.db")
			s := open(t, path, Options{})
			want := tc.rec()
			if err := s.Put(want); err != nil {
				t.Fatalf("Put: %v", err)
			}
			check := func(s *Store) {
				got, err := s.Load()
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if diff := cmp.Diff([]*respond.Record{want}, got, prefixEqual); diff != "" {
					t.Fatalf("Load (-want +got):\n%s", diff)
				}
			}
			check(s)
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			check(open(t, path, Options{}))
		})
	}
}

func TestLossyValues(t *testing.T) {
	// JSON cannot hold invalid UTF-8 or non-finite numbers: they are
	// stored as U+FFFD and 0, and the Put still succeeds.
	s := open(t, filepath.Join(t.TempDir(), "ledger.db"), Options{})
	r := full()
	r.Ban.Request.UserAgent = "bad\xff\xfe utf8"
	r.Ban.Reason = "\xc3("
	r.Ban.Evidence.ZScore = math.Inf(1)
	r.Ban.Evidence.Stddev = math.NaN()
	if err := s.Put(r); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err := s.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := full()
	want.Ban.Request.UserAgent = "bad\ufffd\ufffd utf8"
	want.Ban.Reason = "\ufffd("
	want.Ban.Evidence.ZScore, want.Ban.Evidence.Stddev = 0, 0
	if diff := cmp.Diff([]*respond.Record{want}, got, prefixEqual); diff != "" {
		t.Fatalf("Load (-want +got):\n%s", diff)
	}
}

func TestPutReplaceDeleteAndOrder(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := open(t, filepath.Join(t.TempDir(), "ledger.db"), Options{Registerer: reg})
	prefixes := []string{"2001:db8::1/128", "10.0.0.2/32", "10.0.0.0/8", "192.0.2.0/24", "::ffff:10.0.0.1/128", "10.0.0.1/32"}
	for _, p := range prefixes {
		if err := s.Put(&respond.Record{Prefix: netip.MustParsePrefix(p), Offenses: 1}); err != nil {
			t.Fatal(err)
		}
	}
	// Replace one record: the count does not change.
	if err := s.Put(&respond.Record{Prefix: netip.MustParsePrefix("10.0.0.2/32"), Offenses: 5}); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(s.m.records); got != 6 {
		t.Errorf("records gauge after replace = %v, want 6", got)
	}
	for _, p := range []string{"192.0.2.0/24", "192.0.2.0/24", "203.0.113.1/32"} { // second and absent: no error
		if err := s.Delete(netip.MustParsePrefix(p)); err != nil {
			t.Fatalf("Delete %s: %v", p, err)
		}
	}
	if got := testutil.ToFloat64(s.m.records); got != 5 {
		t.Errorf("records gauge after delete = %v, want 5", got)
	}
	recs, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s:%d", r.Prefix, r.Offenses))
	}
	want := []string{"10.0.0.0/8:1", "10.0.0.1/32:1", "10.0.0.2/32:5", "::ffff:10.0.0.1/128:1", "2001:db8::1/128:1"}
	if diff := cmp.Diff(want, got, prefixEqual); diff != "" {
		t.Errorf("Load order (-want +got):\n%s", diff)
	}
	if got := testutil.ToFloat64(s.m.writes.WithLabelValues(opPut)); got != 7 {
		t.Errorf("writes{op=put} = %v, want 7", got)
	}
	if got := testutil.ToFloat64(s.m.writes.WithLabelValues(opDelete)); got != 3 {
		t.Errorf("writes{op=delete} = %v, want 3", got)
	}
	if got := testutil.CollectAndCount(s.m.duration); got != 1 {
		t.Errorf("write_seconds series = %d, want 1", got)
	}
	if n, err := testutil.GatherAndCount(reg, "vigil_ledger_writes_total", "vigil_ledger_write_errors_total",
		"vigil_ledger_write_seconds", "vigil_ledger_records"); err != nil || n != 6 {
		t.Errorf("registered series = %d, %v; want 6", n, err)
	}
}

func TestInvalidPrefix(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "ledger.db"), Options{})
	tests := []struct {
		name string
		p    netip.Prefix
	}{
		{"zero", netip.Prefix{}},
		{"bits out of range", netip.PrefixFrom(netip.MustParseAddr("10.0.0.1"), 33)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Put(&respond.Record{Prefix: tc.p}); err == nil {
				t.Error("Put: no error")
			}
			if err := s.Delete(tc.p); err == nil {
				t.Error("Delete: no error")
			}
		})
	}
	if err := s.Put(nil); err == nil {
		t.Error("Put(nil): no error")
	}
	if got := testutil.ToFloat64(s.m.errors.WithLabelValues(opPut)); got != 3 {
		t.Errorf("write_errors{op=put} = %v, want 3", got)
	}
}

func TestKeyRoundTrip(t *testing.T) {
	for _, s := range []string{"0.0.0.0/0", "255.255.255.255/32", "10.1.2.3/8", "::/0", "::ffff:1.2.3.4/128",
		"2001:db8::/32", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"} {
		p := netip.MustParsePrefix(s)
		k, err := encodeKey(p)
		if err != nil {
			t.Fatalf("encodeKey(%s): %v", s, err)
		}
		got, err := decodeKey(k)
		if err != nil || got != p {
			t.Errorf("decodeKey(encodeKey(%s)) = %s, %v", s, got, err)
		}
	}
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "vigil")
	path := filepath.Join(dir, "ledger.db")
	open(t, path, Options{})
	for _, c := range []struct {
		path string
		want os.FileMode
	}{{dir, 0o700}, {path, 0o600}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != c.want {
			t.Errorf("%s mode = %v, want %v", c.path, got, c.want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a bbolt file\n", 512)), 0o600); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(dir, "newer.db")
	writeRaw(t, newer, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keySchema, []byte("2"))
	})
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		is         error
		contains   string
	}{
		{"empty path", "", nil, "empty path"},
		{"not a bbolt file", garbage, nil, "garbage.db"},
		{"newer schema", newer, ErrVersion, "schema version 2"},
		{"parent is a file", filepath.Join(notDir, "ledger.db"), nil, "create ledger directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(tc.path, Options{Timeout: 100 * time.Millisecond})
			if err == nil {
				_ = s.Close()
				t.Fatal("Open: no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("Open: %v, want errors.Is %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("Open: %q does not mention %q", err, tc.contains)
			}
		})
	}
}

func TestLockedInProcess(t *testing.T) {
	// flock locks belong to the open file description, so a second Open
	// in the same process conflicts just like another process would.
	path := filepath.Join(t.TempDir(), "ledger.db")
	reg := prometheus.NewRegistry()
	first := open(t, path, Options{})
	_, err := Open(path, Options{Timeout: 50 * time.Millisecond, Registerer: reg})
	assertLocked(t, err, path)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	// The failed Open registered nothing, so the same registerer works now.
	open(t, path, Options{Registerer: reg})
}

func TestLockedByOtherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	startHelper(t, "hold", path, 0)
	_, err := Open(path, Options{Timeout: 50 * time.Millisecond})
	assertLocked(t, err, path)
}

func assertLocked(t *testing.T, err error, path string) {
	t.Helper()
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	want := fmt.Sprintf("ledger %q is locked (is another vigil running?)", path)
	if err.Error() != want {
		t.Errorf("second Open: %q, want %q", err, want)
	}
}

func TestPutIsDurableWithoutClose(t *testing.T) {
	// A process that is killed right after Put returned must not lose the
	// record: Put commits before returning, nothing is buffered.
	const n = 20
	path := filepath.Join(t.TempDir(), "ledger.db")
	cmd := startHelper(t, "put", path, n)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	recs, err := open(t, path, Options{}).Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Fatalf("after SIGKILL: %d records, want %d", len(recs), n)
	}
	for i, r := range recs {
		if diff := cmp.Diff(numbered(i), r, prefixEqual); diff != "" {
			t.Fatalf("record %d (-want +got):\n%s", i, diff)
		}
	}
}

func TestCorruptRecords(t *testing.T) {
	good := numbered(1)
	goodVal, err := encodeValue(good)
	if err != nil {
		t.Fatal(err)
	}
	badKey, _ := encodeKey(netip.MustParsePrefix("198.51.100.23/32"))
	tests := []struct {
		name     string
		key, val []byte
		is       error
		contains []string
	}{
		{"garbage value", badKey, []byte("{\"v\":1,\"record\":{\"prefix\":"), ErrCorrupt,
			[]string{"198.51.100.23/32", fmt.Sprintf("%x", badKey), "unexpected end of JSON"}},
		{"not json", badKey, []byte{0, 1, 2, 3}, ErrCorrupt, []string{"198.51.100.23/32"}},
		{"missing record", badKey, []byte(`{"v":1}`), ErrCorrupt, []string{"198.51.100.23/32", "not a schema 1"}},
		{"wrong prefix in value", badKey, goodVal, ErrCorrupt, []string{"198.51.100.23/32", "value is for 10.0.0.1/32"}},
		{"future version", badKey, []byte(`{"v":7,"record":{"whatever":[]}}`), ErrVersion,
			[]string{"198.51.100.23/32", "schema version 7"}},
		{"short key", []byte("10.0.0.1"), goodVal, ErrCorrupt, []string{fmt.Sprintf("%x", "10.0.0.1"), "8 bytes"}},
		{"bad family", append([]byte{5}, badKey[1:]...), goodVal, ErrCorrupt, []string{"unknown address family 5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ledger.db")
			s := open(t, path, Options{})
			if err := s.Put(good); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			writeRaw(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket(bucketRecords).Put(tc.key, tc.val)
			})
			recs, err := open(t, path, Options{}).Load()
			if !errors.Is(err, tc.is) {
				t.Fatalf("Load = %d records, %v; want errors.Is %v", len(recs), err, tc.is)
			}
			if recs != nil {
				t.Errorf("Load returned %d records with the error, want none", len(recs))
			}
			for _, c := range append(tc.contains, path, "1 of 2 records") {
				if !strings.Contains(err.Error(), c) {
					t.Errorf("Load error %q does not mention %q", err, c)
				}
			}
		})
	}
}

func TestCorruptRecordsListCapped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	open(t, path, Options{}).Close()
	writeRaw(t, path, func(tx *bolt.Tx) error {
		for i := range 25 {
			k, _ := encodeKey(numbered(i).Prefix)
			if err := tx.Bucket(bucketRecords).Put(k, []byte("x")); err != nil {
				return err
			}
		}
		return nil
	})
	_, err := open(t, path, Options{}).Load()
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Load: %v", err)
	}
	msg := err.Error()
	if n := strings.Count(msg, "corrupt ledger record 10."); n != maxCorruptListed {
		t.Errorf("error names %d keys, want %d: %s", n, maxCorruptListed, msg)
	}
	if !strings.Contains(msg, "and 15 more corrupt records") || !strings.Contains(msg, "25 of 25 records") {
		t.Errorf("error lacks the totals: %s", msg)
	}
}

func TestConcurrentPut(t *testing.T) {
	const workers, each = 8, 25
	reg := prometheus.NewRegistry()
	s := open(t, filepath.Join(t.TempDir(), "ledger.db"), Options{Registerer: reg})
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				r := numbered(w*each + i)
				if err := s.Put(r); err != nil {
					errs <- err
				}
				if i%5 == 0 { // interleave deletes of records this worker owns
					if err := s.Delete(r.Prefix); err != nil {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	recs, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	want := workers * (each - each/5)
	if len(recs) != want {
		t.Fatalf("Load: %d records, want %d", len(recs), want)
	}
	if got := testutil.ToFloat64(s.m.records); got != float64(want) {
		t.Errorf("records gauge = %v, want %d", got, want)
	}
	for _, r := range recs {
		var i int
		a := r.Prefix.Addr().As4()
		i = int(a[1])<<16 | int(a[2])<<8 | int(a[3])
		if diff := cmp.Diff(numbered(i), r, prefixEqual); diff != "" {
			t.Fatalf("record %s (-want +got):\n%s", r.Prefix, diff)
		}
	}
}

func TestCloseTwice(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "ledger.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Put(numbered(1)); err == nil {
		t.Error("Put after Close: no error")
	}
}

func TestMetaBucket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	open(t, path, Options{}).Close()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if got := string(m.Get(keySchema)); got != "1" {
			t.Errorf("meta schema = %q, want 1", got)
		}
		if _, err := time.Parse(time.RFC3339Nano, string(m.Get(keyCreated))); err != nil {
			t.Errorf("meta created: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// writeRaw changes the file at path directly through bbolt, bypassing the
// store (to plant corrupt or future data).
func writeRaw(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}
