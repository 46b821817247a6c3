// Package audit writes vigil's audit trail: an append-only log of JSON
// lines, one per ban, unban, alert, recovery and other auditable event
// (start, stop, reload, firewall reconciliation...), and snapshots of the
// firewall's state written as files after bans and unbans.
//
// The log is never truncated or rewritten. Each record is one write(2) to a
// file opened with O_APPEND, followed by an fsync when Config.Fsync is set.
// Attacker-controlled strings (paths, user agents, reasons) are JSON-escaped
// so that no byte sequence can split, end or forge a line. The record format
// is documented in docs/AUDIT.md.
package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/respond"
)

// Event kinds of the records that are not decisions. Decisions are written
// with their action as the kind: "ban", "unban", "alert", "recover".
const (
	// EventStart: the daemon started (fields: version, config, backend...).
	EventStart = "start"
	// EventStop: the daemon is stopping (fields: reason).
	EventStop = "stop"
	// EventReload: a configuration reload was attempted (fields: ok, err).
	EventReload = "reload"
	// EventReconcile: the firewall was reconciled with the ledger and
	// repaired (fields: added, removed).
	EventReconcile = "reconcile"
	// EventSnapshotError: a firewall snapshot could not be written.
	EventSnapshotError = "snapshot_error"
	// EventFirewallError: a decision could not be enforced in the firewall.
	EventFirewallError = "firewall_error"
)

// eventKinds lists the kinds Event accepts.
func eventKinds() []string {
	return []string{EventStart, EventStop, EventReload, EventReconcile, EventSnapshotError, EventFirewallError}
}

// decisionKinds lists the kinds Decision writes.
func decisionKinds() []string {
	return []string{string(respond.ActionBan), string(respond.ActionUnban), string(respond.ActionAlert), string(respond.ActionRecover)}
}

// rotateCheckEvery is how often a write checks whether the file at the
// log's path is still the one it writes to (one stat(2) per period).
const rotateCheckEvery = 2 * time.Second

// File and directory modes of the log: readable by the adm-style group
// that may read logs, not by others.
const (
	logFileMode = 0o640
	logDirMode  = 0o750
)

// Sentinel errors, checked with errors.Is.
var (
	// ErrUnknownEvent is returned by Event for a kind outside the
	// documented set (and for decision kinds, which go through Decision).
	ErrUnknownEvent = errors.New("unknown audit event kind")
	// ErrClosed is returned for writes after Close.
	ErrClosed = errors.New("audit log closed")
)

// Options holds the shared dependencies of a Log or Snapshots.
type Options struct {
	// Logger receives operational logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Clock stamps records and snapshot names and paces the rotation
	// check; nil means the wall clock.
	Clock clock.Clock
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger.With("component", "audit")
}

func (o Options) clock() clock.Clock {
	if o.Clock == nil {
		return clock.Real{}
	}
	return o.Clock
}

// Log is the append-only audit log. It is safe for concurrent use: a mutex
// serialises records, so each is written whole and seq follows file order.
// A Log opened with an empty path, and a nil *Log, accept every call and
// write nothing.
type Log struct {
	path  string
	fsync bool
	log   *slog.Logger
	clk   clock.Clock
	m     *logMetrics
	host  string
	pid   int

	mu        sync.Mutex // guards the fields below
	f         *os.File
	fi        os.FileInfo // identity of f, compared with the path's
	seq       uint64
	lastCheck time.Time
	missing   bool // the path was missing at the last check
	broken    bool // the last write may have left a partial line
	buf       []byte
}

// record is one line of the log.
type record struct {
	TS       string            `json:"ts"`
	Host     string            `json:"host"`
	PID      int               `json:"pid"`
	Seq      uint64            `json:"seq"`
	Event    string            `json:"event"`
	Decision *respond.Decision `json:"decision,omitempty"`
	Fields   map[string]any    `json:"fields,omitempty"`
}

// Open opens the audit log at path for appending, creating the file (mode
// 0640) and its directory (mode 0750) if they are missing. An empty path
// returns a Log that writes nothing.
func Open(path string, cfg Config, o Options) (*Log, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("audit config: %w", err)
	}
	if path == "" {
		return &Log{}, nil
	}
	l := &Log{path: path, fsync: cfg.Fsync, log: o.logger(), clk: o.clock(), pid: os.Getpid()}
	host, err := os.Hostname()
	if err != nil {
		l.log.Warn("hostname unknown, audit records carry \"unknown\"", "err", err)
		host = "unknown"
	}
	l.host = host
	if err := os.MkdirAll(filepath.Dir(path), logDirMode); err != nil {
		return nil, fmt.Errorf("create audit log directory: %w", err)
	}
	f, fi, err := l.openFile()
	if err != nil {
		return nil, err
	}
	m, err := newLogMetrics(o.Registerer)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	l.m, l.f, l.fi, l.lastCheck = m, f, fi, l.clk.Now()
	return l, nil
}

// openFile opens (or creates) the file at l.path for appending.
func (l *Log) openFile() (*os.File, os.FileInfo, error) {
	_, statErr := os.Stat(l.path)
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, logFileMode)
	if err != nil {
		return nil, nil, fmt.Errorf("open audit log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, nil, fmt.Errorf("stat audit log: %w", err)
	}
	if errors.Is(statErr, fs.ErrNotExist) && l.fsync {
		// Make the new directory entry durable too.
		if err := syncDir(filepath.Dir(l.path)); err != nil {
			_ = f.Close()
			return nil, nil, err
		}
	}
	return f, fi, nil
}

// Decision writes one record for d, with d's action as the event kind:
// "ban", "unban" (manual or expired), "alert" or "recover". Shadow and
// manual decisions say so in the decision object.
func (l *Log) Decision(d *respond.Decision) error {
	if l == nil || l.path == "" {
		return nil
	}
	if d == nil {
		return l.fail(errors.New("audit decision: nil decision"))
	}
	if !slices.Contains(decisionKinds(), string(d.Action)) {
		return l.fail(fmt.Errorf("audit decision: %w %q", ErrUnknownEvent, d.Action))
	}
	return l.write(record{Event: string(d.Action), Decision: d})
}

// Event writes one record of a kind other than a decision (EventStart,
// EventStop, EventReload, EventReconcile, EventSnapshotError,
// EventFirewallError); any other kind fails with ErrUnknownEvent. fields
// are written as a JSON object, keys sorted; error values are written as
// their message and time.Duration values as Go duration strings ("1m30s").
func (l *Log) Event(kind string, fields map[string]any) error {
	if l == nil || l.path == "" {
		return nil
	}
	if !slices.Contains(eventKinds(), kind) {
		return l.fail(fmt.Errorf("audit event: %w %q", ErrUnknownEvent, kind))
	}
	var norm map[string]any
	if len(fields) > 0 {
		norm = make(map[string]any, len(fields))
		for k, v := range fields {
			switch x := v.(type) {
			case error:
				v = x.Error()
			case time.Duration:
				v = x.String()
			}
			norm[k] = v
		}
	}
	return l.write(record{Event: kind, Fields: norm})
}

// write stamps rec, encodes it and appends it as one line.
func (l *Log) write(rec record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return l.fail(ErrClosed)
	}
	now := l.clk.Now()
	if now.Sub(l.lastCheck) >= rotateCheckEvery || now.Before(l.lastCheck) {
		l.lastCheck = now
		l.checkRotated()
	}
	// seq is taken even when the write fails: a gap tells the reader that
	// a record was lost.
	l.seq++
	rec.TS, rec.Host, rec.PID, rec.Seq = now.UTC().Format(time.RFC3339Nano), l.host, l.pid, l.seq
	b, err := json.Marshal(rec)
	if err != nil {
		return l.fail(fmt.Errorf("encode audit record: %w", err))
	}
	line := l.buf[:0]
	if l.broken {
		// Terminate whatever a failed write left, so only that line is
		// unreadable.
		line = append(line, '\n')
	}
	line = appendLine(line, b)
	l.buf = line
	if n, err := l.f.Write(line); err != nil {
		l.broken = n > 0
		return l.fail(fmt.Errorf("write audit log: %w", err))
	}
	l.broken = false
	if l.fsync {
		if err := l.f.Sync(); err != nil {
			return l.fail(fmt.Errorf("sync audit log: %w", err))
		}
	}
	l.m.records.WithLabelValues(rec.Event).Inc()
	return nil
}

// checkRotated reopens the log when the file at the path is no longer the
// one being written (renamed by logrotate and recreated). When the path is
// missing but the open file was only renamed, records still land in it, and
// the path is recreated only if it is still missing at the next check, so
// that logrotate's own create is not raced; when the open file was deleted,
// the path is recreated at once. l.mu is held.
func (l *Log) checkRotated() {
	fi, err := os.Stat(l.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if own, err := l.f.Stat(); !l.missing && err == nil && !unlinked(own) {
			l.missing = true
			return
		}
	case err != nil:
		l.log.Warn("cannot stat audit log, keeping the open file", "path", l.path, "err", err)
		return
	case os.SameFile(fi, l.fi):
		l.missing = false
		return
	}
	if err := l.reopen(); err != nil {
		l.m.errors.Inc()
		l.log.Warn("cannot reopen rotated audit log, keeping the old file", "path", l.path, "err", err)
		return
	}
	l.log.Info("audit log reopened after rotation", "path", l.path)
}

// Reopen closes the log file and opens the file at the path, creating it if
// needed. Call it after the file was rotated (on SIGHUP); writes also
// detect a rotation by themselves within a few seconds. On error the old
// file stays in use.
func (l *Log) Reopen() error {
	if l == nil || l.path == "" {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return ErrClosed
	}
	if err := l.reopen(); err != nil {
		return l.fail(err)
	}
	return nil
}

// reopen swaps the open file for the file at the path. l.mu is held.
func (l *Log) reopen() error {
	f, fi, err := l.openFile()
	if err != nil {
		return err
	}
	old := l.f
	l.f, l.fi, l.missing, l.broken = f, fi, false, false
	l.m.reopens.Inc()
	if err := old.Close(); err != nil {
		l.log.Warn("close rotated audit log", "err", err)
	}
	return nil
}

// Close syncs and closes the log. Later writes fail with ErrClosed; a
// second Close returns nil.
func (l *Log) Close() error {
	if l == nil || l.path == "" {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	syncErr := f.Sync()
	if err := f.Close(); err != nil {
		return fmt.Errorf("close audit log: %w", err)
	}
	if syncErr != nil {
		return fmt.Errorf("sync audit log: %w", syncErr)
	}
	return nil
}

// fail counts err as an audit error and returns it.
func (l *Log) fail(err error) error {
	if l.m != nil {
		l.m.errors.Inc()
	}
	return err
}

// syncDir fsyncs a directory, making entries created or renamed in it
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %q: %w", dir, err)
	}
	return nil
}
