package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/internal/clock"
)

// Values of TailConfig.StartAt.
const (
	// StartAtEnd starts a log without a saved position at its end: a new
	// install does not replay history.
	StartAtEnd = "end"
	// StartAtBeginning starts a log without a saved position at offset 0.
	StartAtBeginning = "beginning"
)

// errTailUnsupported is returned by NewTail where files have no inode numbers.
var errTailUnsupported = errors.New("tail: following a log file needs a Unix system")

// Tail timing.
const (
	// pollInterval is how often the tailer looks at the file without being
	// woken by inotify: the only check in poll mode, a safety net and the
	// clock for rotate_grace in inotify mode.
	pollInterval = 250 * time.Millisecond
	// emitRing is how many recently handed-out chunks are remembered to map a
	// committed Position back to the fingerprint of its file. The engine holds
	// at most poolSize chunks, so this leaves ample room for commit lag.
	emitRing = 64
)

// TailConfig configures Tail. It is the "source" section of the config file.
type TailConfig struct {
	// Path is the log file to follow, e.g. /var/log/nginx/access.json.
	Path string `koanf:"path"`
	// Poll checks the file every 250 ms instead of waiting for inotify
	// events: for NFS and some overlay or bind mounts, where inotify is
	// silent.
	Poll bool `koanf:"poll"`
	// StartAt is where a log without a saved position starts: "end" (the
	// default: a new install does not replay history) or "beginning". A saved
	// position always wins.
	StartAt string `koanf:"start_at"`
	// RotateGrace is how long a rotated (renamed or deleted) file is still
	// read after it last grew: Nginx writes to the old file until it reopens
	// its logs on USR1.
	RotateGrace time.Duration `koanf:"rotate_grace"`
	// CheckpointInterval is how often the committed position is saved.
	CheckpointInterval time.Duration `koanf:"checkpoint_interval"`
}

// DefaultTailConfig returns the defaults: start at the end, 5 s rotate grace,
// 1 s checkpoints, inotify.
func DefaultTailConfig() TailConfig {
	return TailConfig{
		StartAt:            StartAtEnd,
		RotateGrace:        5 * time.Second,
		CheckpointInterval: time.Second,
	}
}

// Validate reports every invalid field, each message starting with its key
// relative to the source section.
func (c TailConfig) Validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, errors.New("path: must be set"))
	}
	if c.StartAt != StartAtEnd && c.StartAt != StartAtBeginning {
		errs = append(errs, fmt.Errorf("start_at: must be %q or %q (got %q)", StartAtEnd, StartAtBeginning, c.StartAt))
	}
	if c.RotateGrace <= 0 {
		errs = append(errs, fmt.Errorf("rotate_grace: must be > 0 (got %s)", c.RotateGrace))
	}
	if c.CheckpointInterval <= 0 {
		errs = append(errs, fmt.Errorf("checkpoint_interval: must be > 0 (got %s)", c.CheckpointInterval))
	}
	return errors.Join(errs...)
}

// TailOptions holds the Tail's dependencies.
type TailOptions struct {
	// StateDir is the directory of the positions file (required; created
	// with mode 0700 if missing).
	StateDir string
	// MaxLine is the line limit in bytes, not counting the line ending;
	// longer lines are skipped and counted (0 = DefaultMaxLine).
	MaxLine int
	// Logger receives lifecycle and rotation messages (nil = discard).
	Logger *slog.Logger
	// Registerer receives the source metrics (nil = not registered).
	Registerer prometheus.Registerer
	// Clock drives polling, rotate_grace and checkpoints (nil = wall clock).
	Clock clock.Clock
}

// Tail follows a live log file across rotation and restarts. It hands out
// complete lines only, in Chunks from a fixed pool of buffers (waiting when
// the engine holds them all: the file keeps the data), and saves the position
// the engine has committed in StateDir/positions.json.
//
// Rotation by rename (logrotate "create", Nginx reopening on USR1 later) is
// followed without losing the lines written to the old file after the
// rename: the old file is read until it has not grown for RotateGrace and a
// new file exists (or it was deleted), then the new file is read from 0.
// Truncation in place (copytruncate) is detected by size and by the file's
// first bytes; the unread rest is recovered from the copy when one is found
// beside the file. See docs/SOURCE.md.
//
// Run must be called once; Commit may be called from one other goroutine,
// also after Run has returned.
type Tail struct {
	path      string
	dir       string
	poll      bool
	fromStart bool
	grace     time.Duration
	ckptEvery time.Duration
	stateDir  string
	maxLine   int
	bufSize   int
	log       *slog.Logger
	clk       clock.Clock
	m         *tailMetrics
	started   atomic.Bool

	// Lock order: writeMu before mu.
	writeMu     sync.Mutex // guards the two fields below and serialises positions file writes
	written     uint64     // commitSeq of the last positions file written
	writtenSize int64      // file size in the last positions file written

	mu         sync.Mutex // guards the fields below
	committed  Position
	commitMeta *fileMeta // the file of committed; nil if unknown
	commitSeq  uint64
	emitted    [emitRing]emitRecord
	emitNext   int
	stopped    bool // Run has returned: Commit saves the position itself
}

// emitRecord remembers the file a handed-out chunk came from, keyed by the
// chunk's cumulative line count (which grows with every chunk).
type emitRecord struct {
	lines uint64
	meta  *fileMeta
}

// NewTail validates cfg and returns a Tail. It reads nothing yet.
func NewTail(cfg TailConfig, o TailOptions) (*Tail, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !tailSupported {
		return nil, errTailUnsupported
	}
	if o.StateDir == "" {
		return nil, errors.New("tail: state directory must be set")
	}
	if o.MaxLine < 0 {
		return nil, fmt.Errorf("tail: max line must be >= 0 (got %d)", o.MaxLine)
	}
	if o.MaxLine == 0 {
		o.MaxLine = DefaultMaxLine
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	m, err := newTailMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	path := filepath.Clean(cfg.Path)
	return &Tail{
		path:      path,
		dir:       filepath.Dir(path),
		poll:      cfg.Poll,
		fromStart: cfg.StartAt == StartAtBeginning,
		grace:     cfg.RotateGrace,
		ckptEvery: cfg.CheckpointInterval,
		stateDir:  o.StateDir,
		maxLine:   o.MaxLine,
		bufSize:   bufferSize(DefaultChunkSize, o.MaxLine),
		log:       o.Logger.With("component", "source", "path", path),
		clk:       o.Clock,
		m:         m,
	}, nil
}

// Run follows the file until ctx is done, sending chunks on out, which it
// closes when it returns. It saves the committed position every
// CheckpointInterval and once more before returning. It returns nil when ctx
// is cancelled, unless that final checkpoint fails, and an error when the
// state directory, the positions file or the log cannot be used. A failed
// periodic checkpoint is logged and counted, and following goes on.
func (t *Tail) Run(ctx context.Context, out chan<- *Chunk) error {
	defer close(out)
	if !t.started.CompareAndSwap(false, true) {
		return errors.New("tail: Run called more than once")
	}
	if err := os.MkdirAll(t.stateDir, 0o700); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	f := newFollower(t, out)
	defer f.close()
	if err := f.start(); err != nil {
		return err
	}
	if err := t.checkpoint(); err != nil {
		return err
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { t.checkpointLoop(stop) })
	err := f.run(ctx)
	close(stop)
	wg.Wait()

	t.mu.Lock()
	t.stopped = true
	t.mu.Unlock()
	if cerr := t.checkpoint(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// Commit records that the engine has processed every line up to pos. Calls
// must come from one goroutine, in the order the chunks were received. The
// position is saved at the next checkpoint, or at once if Run has returned.
func (t *Tail) Commit(pos Position) {
	t.mu.Lock()
	t.committed = pos
	t.commitSeq++
	id := fileID{pos.Dev, pos.Ino}
	found := false
	for i := range t.emitted {
		e := &t.emitted[i]
		if e.meta != nil && e.lines == pos.Lines && e.meta.id == id {
			t.commitMeta, found = e.meta, true
			break
		}
	}
	if !found && (t.commitMeta == nil || t.commitMeta.id != id) {
		t.commitMeta = nil // unknown file: saved without a fingerprint
	}
	stopped := t.stopped
	t.mu.Unlock()
	if stopped {
		if err := t.checkpoint(); err != nil {
			t.log.Warn("save position after stop", "err", err)
		}
	}
}

// noteEmitted remembers the file a chunk came from.
func (t *Tail) noteEmitted(lines uint64, meta *fileMeta) {
	t.mu.Lock()
	t.emitted[t.emitNext] = emitRecord{lines: lines, meta: meta}
	t.emitNext = (t.emitNext + 1) % emitRing
	t.mu.Unlock()
}

// setStart makes pos the committed position before anything is handed out.
func (t *Tail) setStart(pos Position, meta *fileMeta) {
	t.mu.Lock()
	t.committed, t.commitMeta = pos, meta
	t.commitSeq++
	t.mu.Unlock()
}

// checkpointLoop saves the committed position every CheckpointInterval until
// stop is closed.
func (t *Tail) checkpointLoop(stop <-chan struct{}) {
	tk := t.clk.NewTicker(t.ckptEvery)
	defer tk.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tk.C():
			if err := t.checkpoint(); err != nil {
				t.log.Warn("save position", "err", err)
			}
		}
	}
}

// checkpoint writes the committed position if it, or the size of its file,
// changed since the last write.
func (t *Tail) checkpoint() error {
	t.writeMu.Lock()
	defer t.writeMu.Unlock()
	t.mu.Lock()
	seq, pos, meta := t.commitSeq, t.committed, t.commitMeta
	t.mu.Unlock()
	fp, size := &fingerprint{}, int64(0)
	if meta != nil && meta.id == (fileID{pos.Dev, pos.Ino}) {
		fp, size = meta.fp.Load(), meta.size.Load()
	}
	size = max(size, pos.Offset)
	if seq == t.written && size == t.writtenSize {
		return nil
	}
	p := positions{
		Version: positionsVersion,
		Path:    t.path,
		Dev:     pos.Dev,
		Ino:     pos.Ino,
		Offset:  pos.Offset,
		Size:    size,
		Lines:   pos.Lines,
		Updated: t.clk.Now().UTC(),
	}
	p.FingerprintLen, p.FingerprintSHA256 = fp.n, fp.sum()
	if err := writePositions(t.stateDir, &p); err != nil {
		t.m.ckptErrors.Inc()
		return err
	}
	t.written, t.writtenSize = seq, size
	return nil
}
