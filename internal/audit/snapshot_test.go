package audit

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/firewall"
)

// fakeSource is a Snapshotter that returns the next of its outputs (or
// err), counting calls.
type fakeSource struct {
	mu    sync.Mutex
	n     int
	err   error
	write func(n int) []byte
}

func (f *fakeSource) Snapshot(ctx context.Context) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.err != nil {
		return nil, f.err
	}
	f.n++
	return f.write(f.n), nil
}

func counting() *fakeSource {
	return &fakeSource{write: func(n int) []byte {
		return []byte(strings.Repeat("-A VIGIL -s 192.0.2."+string(rune('0'+n%10))+"/32 -j DROP\n", n))
	}}
}

var nameRE = regexp.MustCompile(`^\d{8}T\d{6}\.\d{9}Z-[a-z0-9_-]+\.txt$`)

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestSnapshotContent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "snapshots")
	want := []byte("# vigil\n-N VIGIL\n-A VIGIL -m set --match-set vigil4 src -j DROP\n\x00\xff binary is kept\n")
	src := &fakeSource{write: func(int) []byte { return want }}
	reg := prometheus.NewRegistry()
	s, err := NewSnapshots(dir, 5, src, Options{Clock: clock.NewFake(t0), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	path, err := s.Take(context.Background(), "ban")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "20261122T101530.123456789Z-ban.txt"); path != want {
		t.Errorf("path = %q, want %q", path, want)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("content = %q, want %q", got, want)
	}
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
	if names := listDir(t, dir); len(names) != 1 {
		t.Errorf("directory holds %v, want only the snapshot (no temporary file)", names)
	}
	if got := testutil.ToFloat64(s.m.taken); got != 1 {
		t.Errorf("snapshots_total = %v, want 1", got)
	}
	if n, err := testutil.GatherAndCount(reg, "vigil_snapshots_total", "vigil_snapshot_errors_total"); err != nil || n != 2 {
		t.Errorf("registered series = %d, %v; want 2", n, err)
	}
}

func TestSnapshotRetention(t *testing.T) {
	for _, keep := range []int{1, 3, 10} {
		dir := t.TempDir()
		// Files that are not snapshots are never pruned.
		foreign := []string{"README", "20261122T101530.123456789Z-notes.md", "zzz-ban.txt"}
		for _, n := range foreign {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("keep me"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		clk := clock.NewFake(t0)
		src := counting()
		s, err := NewSnapshots(dir, keep, src, Options{Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		var taken []string
		for i := range 7 {
			p, err := s.Take(context.Background(), []string{"ban", "unban", "start"}[i%3])
			if err != nil {
				t.Fatal(err)
			}
			taken = append(taken, filepath.Base(p))
			clk.Advance(1500 * time.Millisecond)
		}
		var snaps []string
		for _, n := range listDir(t, dir) {
			if !slices.Contains(foreign, n) {
				snaps = append(snaps, n)
			}
		}
		want := taken[max(0, len(taken)-keep):]
		if diff := cmp.Diff(want, snaps); diff != "" {
			t.Errorf("keep=%d: snapshots left (-want +got):\n%s", keep, diff)
		}
		for _, n := range foreign {
			if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
				t.Errorf("keep=%d: foreign file %s: %v", keep, n, err)
			}
		}
		// The newest file holds the last snapshot taken.
		got, _ := os.ReadFile(filepath.Join(dir, taken[len(taken)-1]))
		if !bytes.Equal(got, src.write(7)) {
			t.Errorf("keep=%d: newest snapshot holds %q", keep, got)
		}
	}
}

func TestSnapshotNamesUniqueAndOrdered(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewFake(t0)
	s, err := NewSnapshots(dir, 100, counting(), Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	// A file from an earlier run at the very instant the clock shows.
	earlier := filepath.Join(dir, "20261122T101530.123456789Z-ban.txt")
	if err := os.WriteFile(earlier, []byte("earlier run"), 0o600); err != nil {
		t.Fatal(err)
	}
	var names []string
	for range 3 { // same instant every time
		p, err := s.Take(context.Background(), "ban")
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, filepath.Base(p))
	}
	clk.Set(t0.Add(-time.Hour)) // the clock steps back
	p, err := s.Take(context.Background(), "unban")
	if err != nil {
		t.Fatal(err)
	}
	names = append(names, filepath.Base(p))
	want := []string{
		"20261122T101530.123456790Z-ban.txt",
		"20261122T101530.123456791Z-ban.txt",
		"20261122T101530.123456792Z-ban.txt",
		"20261122T101530.123456793Z-unban.txt",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if got, _ := os.ReadFile(earlier); string(got) != "earlier run" {
		t.Errorf("an earlier snapshot was overwritten: %q", got)
	}
	for _, n := range names {
		if !nameRE.MatchString(n) || !isSnapshotName(n) {
			t.Errorf("name %q does not have the documented form", n)
		}
	}
}

func TestSnapshotErrors(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("iptables: xtables lock held")
	src := &fakeSource{err: boom}
	s, err := NewSnapshots(dir, 3, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Take(context.Background(), "ban"); !errors.Is(err, boom) {
		t.Errorf("Take with a failing source: %v", err)
	}
	src.err = nil
	src.write = func(int) []byte { return []byte("x") }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Take(ctx, "ban"); !errors.Is(err, context.Canceled) {
		t.Errorf("Take with a cancelled context: %v", err)
	}
	if names := listDir(t, dir); len(names) != 0 {
		t.Errorf("failed snapshots left files: %v", names)
	}
	if got := testutil.ToFloat64(s.m.errors); got != 2 {
		t.Errorf("snapshot_errors_total = %v, want 2", got)
	}
	if got := testutil.ToFloat64(s.m.taken); got != 0 {
		t.Errorf("snapshots_total = %v, want 0", got)
	}
}

func TestNewSnapshots(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, ".snapshot-12345.tmp")
	if err := os.WriteFile(stale, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewSnapshots(dir, 3, counting(), Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temporary file not removed: %v", err)
	}
	_, err := NewSnapshots("", 0, nil, Options{})
	for _, want := range []string{"directory not set", "keep must be >= 1 (got 0)", "no snapshot source"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewSnapshots with nothing set: %v, want it to mention %q", err, want)
		}
	}
}

func TestCleanReason(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ban", "ban"},
		{"Manual-Unban", "manual-unban"},
		{"../../etc/passwd", "______etc_passwd"},
		{"a b\n\x00c", "a_b__c"},
		{"", "snapshot"},
		{"é", "__"},
		{strings.Repeat("x", 100), strings.Repeat("x", maxReasonLen)},
	}
	for _, tc := range tests {
		if got := cleanReason(tc.in); got != tc.want {
			t.Errorf("cleanReason(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSnapshotOfDryRunFirewall(t *testing.T) {
	// The dry-run backend is a real Snapshotter: the file holds exactly
	// what it reports.
	cfg := firewall.DefaultConfig()
	cfg.Backend = firewall.BackendDryRun
	fw, err := firewall.NewDryRun(cfg, firewall.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := fw.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	bans := []firewall.Ban{
		{Prefix: netip.MustParsePrefix("192.0.2.7/32"), Timeout: 10 * time.Minute},
		{Prefix: netip.MustParsePrefix("2001:db8::/64")},
	}
	if err := fw.Block(ctx, bans); err != nil {
		t.Fatal(err)
	}
	s, err := NewSnapshots(t.TempDir(), 2, fw, Options{})
	if err != nil {
		t.Fatal(err)
	}
	path, err := s.Take(ctx, "ban")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want, err := fw.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) || !bytes.Contains(got, []byte("192.0.2.7/32")) {
		t.Errorf("snapshot file %q, firewall reports %q", got, want)
	}
}

func TestSnapshotsConcurrent(t *testing.T) {
	dir := t.TempDir()
	s, err := NewSnapshots(dir, 50, counting(), Options{Clock: clock.NewFake(t0)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5 {
				if _, err := s.Take(context.Background(), "ban"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if names := listDir(t, dir); len(names) != 20 {
		t.Errorf("%d files after 20 concurrent snapshots, want 20", len(names))
	}
}
