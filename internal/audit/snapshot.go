package audit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/clock"
)

// Snapshotter returns the firewall's current state as text. The firewall
// backends implement it.
type Snapshotter interface {
	Snapshot(ctx context.Context) ([]byte, error)
}

// Snapshot file names: <UTC time>-<reason>.txt, the time in RFC 3339 basic
// format with fixed-width nanoseconds, so names sort in time order.
const (
	snapshotTimeLayout = "20060102T150405.000000000Z"
	snapshotExt        = ".txt"
	snapshotTmpPattern = ".snapshot-*.tmp"
	// maxReasonLen caps the reason part of a file name.
	maxReasonLen = 40
	// snapshotDirMode: snapshots list client addresses, so only vigil's
	// user may read them (os.CreateTemp makes the files 0600).
	snapshotDirMode = 0o700
)

// Snapshots writes firewall snapshots to a directory and keeps the newest
// few. It is safe for concurrent use; snapshots are taken one at a time.
type Snapshots struct {
	dir  string
	keep int
	src  Snapshotter
	log  *slog.Logger
	clk  clock.Clock
	m    *snapshotMetrics

	mu   sync.Mutex // guards the fields below
	last time.Time  // time in the newest name this Snapshots wrote
}

// NewSnapshots returns a Snapshots that writes what src returns to dir
// (created with mode 0700 if missing) and keeps the newest keep files.
// Temporary files left by a crash during an earlier Take are removed.
func NewSnapshots(dir string, keep int, src Snapshotter, o Options) (*Snapshots, error) {
	var errs []error
	if dir == "" {
		errs = append(errs, errors.New("snapshot directory not set"))
	}
	if keep < 1 {
		errs = append(errs, fmt.Errorf("snapshot keep must be >= 1 (got %d)", keep))
	}
	if src == nil {
		errs = append(errs, errors.New("no snapshot source"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("firewall snapshots: %w", err)
	}
	if err := os.MkdirAll(dir, snapshotDirMode); err != nil {
		return nil, fmt.Errorf("create snapshot directory: %w", err)
	}
	stale, err := filepath.Glob(filepath.Join(dir, snapshotTmpPattern))
	if err != nil {
		return nil, fmt.Errorf("list stale snapshot files: %w", err)
	}
	for _, p := range stale {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("remove stale snapshot file: %w", err)
		}
	}
	m, err := newSnapshotMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	return &Snapshots{dir: dir, keep: keep, src: src, log: o.logger(), clk: o.clock(), m: m}, nil
}

// Take asks the source for a snapshot and writes it, exactly as returned,
// to <dir>/<UTC time>-<reason>.txt (mode 0600) through a temporary file
// and a rename, so the file is either complete or absent. Names are unique
// and sort in the order snapshots were taken. Then the oldest files beyond
// the newest keep are removed (a failure there is logged, not returned).
// reason is reduced to [a-z0-9_-] ("ban", "unban", "start"...).
func (s *Snapshots) Take(ctx context.Context, reason string) (path string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if err != nil {
			s.m.errors.Inc()
		}
	}()
	data, err := s.src.Snapshot(ctx)
	if err != nil {
		return "", fmt.Errorf("take firewall snapshot: %w", err)
	}
	tmp, err := os.CreateTemp(s.dir, snapshotTmpPattern)
	if err != nil {
		return "", fmt.Errorf("write firewall snapshot: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return "", fmt.Errorf("write firewall snapshot: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return "", fmt.Errorf("sync firewall snapshot: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("write firewall snapshot: %w", err)
	}
	path, t, err := s.freeName(cleanReason(reason))
	if err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("write firewall snapshot: %w", err)
	}
	s.last = t
	if err := syncDir(s.dir); err != nil {
		s.log.Warn("snapshot directory not synced", "err", err)
	}
	s.m.taken.Inc()
	s.prune()
	return path, nil
}

// freeName returns an unused file name for now, or for the earliest
// nanosecond after it and after the last name written that is free: two
// snapshots in the same nanosecond, or a clock that went back, never
// overwrite one another.
func (s *Snapshots) freeName(reason string) (string, time.Time, error) {
	t := s.clk.Now().UTC()
	if !t.After(s.last) {
		t = s.last.Add(time.Nanosecond)
	}
	for range 1000 {
		p := filepath.Join(s.dir, t.Format(snapshotTimeLayout)+"-"+reason+snapshotExt)
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			return p, t, nil
		} else if err != nil {
			return "", t, fmt.Errorf("write firewall snapshot: %w", err)
		}
		t = t.Add(time.Nanosecond)
	}
	return "", t, fmt.Errorf("write firewall snapshot: no free file name near %s", t.Format(snapshotTimeLayout))
}

// prune removes the oldest snapshot files beyond the newest s.keep. Only
// names that Take writes are considered.
func (s *Snapshots) prune() {
	names, err := s.list()
	if err != nil {
		s.log.Warn("cannot list snapshots to prune", "err", err)
		return
	}
	for _, n := range names[:max(0, len(names)-s.keep)] {
		if err := os.Remove(filepath.Join(s.dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("cannot remove old snapshot", "path", filepath.Join(s.dir, n), "err", err)
		}
	}
}

// list returns the names of the snapshot files in s.dir, oldest first.
func (s *Snapshots) list() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); e.Type().IsRegular() && isSnapshotName(n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

// isSnapshotName reports whether n has the form Take writes.
func isSnapshotName(n string) bool {
	l := len(snapshotTimeLayout)
	if len(n) < l+1+len(snapshotExt) || n[l] != '-' || !strings.HasSuffix(n, snapshotExt) {
		return false
	}
	_, err := time.Parse(snapshotTimeLayout, n[:l])
	return err == nil
}

// cleanReason reduces reason to a short file-name-safe word.
func cleanReason(reason string) string {
	b := make([]byte, 0, min(len(reason), maxReasonLen))
	for i := 0; i < len(reason) && len(b) < maxReasonLen; i++ {
		switch c := reason[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			b = append(b, c)
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		default:
			b = append(b, '_')
		}
	}
	if len(b) == 0 {
		return "snapshot"
	}
	return string(b)
}
