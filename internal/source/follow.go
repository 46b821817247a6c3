package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/clock"
)

// minRead is the least free space worth a read system call; with less, the
// buffer is handed out first.
const minRead = 512

// batchDelay is how long the tailer waits after an inotify wake-up before
// reading. Nginx without buffer= writes each line separately and inotify
// reports each write; reading at once would cost a read cycle and a chunk per
// line. Waiting 1 ms lets the kernel coalesce the events and one read take
// every line written meanwhile, for at most 1 ms of extra latency.
const batchDelay = time.Millisecond

// tfile is one open log file: the followed file, a rotated file still being
// drained, or a copy left by copytruncate.
type tfile struct {
	f          *os.File
	fd         int
	name       string       // the name it was opened under, for logs
	id         fileID       // device and inode
	fp         *fingerprint // what is known of its first bytes; replaced as it grows
	meta       *fileMeta    // fp and size, shared with checkpoints
	off        int64        // offset after the last complete (or skipped) line framed
	readOff    int64        // offset up to which bytes have been read
	size       int64        // size at the last check
	nlink      uint64       // links at the last check (0: deleted)
	draining   bool         // the path names another file (or none): read until it stops growing
	final      bool         // nothing more will be appended: read to the end, then move on
	lastGrowth time.Time    // when a read last returned data (while draining)
}

// follower is the state of one Tail.Run: the files being read and the chunk
// being filled. It is used by Run's goroutine only.
type follower struct {
	t     *Tail
	out   chan<- *Chunk
	pool  *pool
	fr    framer
	st    statter
	n     *notifier
	cur   *tfile   // the file being read, nil while waiting for the path to appear
	queue []*tfile // files to read after cur, oldest first
	tick  clock.Ticker
	batch *time.Timer // batchDelay; a wall-clock timer, as it only groups reads

	c      *Chunk     // the chunk being filled, nil if none
	done   int        // c's buffer[:done] holds complete lines
	end    int        // buffer[done:end] holds the unfinished last line
	scan   int        // buffer[done:scan] is known to hold no '\n'
	pend   frameStats // lines and skipped lines in buffer[:done]
	carry  []byte     // the unfinished line between two chunks
	carryN int
	lines  uint64 // cumulative lines (kept and skipped) through buffer[:done]

	scratch [fpMax]byte // for reading a file's first bytes
	warned  string      // last problem logged while waiting, to log it once
}

func newFollower(t *Tail, out chan<- *Chunk) *follower {
	return &follower{
		t:     t,
		out:   out,
		pool:  newPool(poolSize, t.bufSize),
		fr:    framer{maxLine: t.maxLine},
		carry: make([]byte, t.maxLine+2),
	}
}

// close closes every open file and the notifier.
func (f *follower) close() {
	if f.cur != nil {
		f.cur.f.Close()
		f.cur = nil
	}
	for _, q := range f.queue {
		q.f.Close()
	}
	f.queue = nil
	if f.n != nil {
		f.n.close()
	}
}

// open opens path and reads its identity and first bytes.
func (f *follower) open(path string) (*tfile, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	tf := &tfile{f: file, fd: int(file.Fd()), name: path}
	s, err := f.st.fstat(tf.fd)
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("stat %q: %w", path, err)
	}
	tf.id, tf.size, tf.nlink = s.id, s.size, s.nlink
	tf.fp = &fingerprint{id: s.id}
	n, err := file.ReadAt(tf.fp.head[:min(int64(fpMax), s.size)], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		file.Close()
		return nil, fmt.Errorf("read %q: %w", path, err)
	}
	tf.fp.n = n
	tf.meta = newFileMeta(tf.fp, tf.size)
	return tf, nil
}

// seek sets where reading tf starts.
func (tf *tfile) seek(off int64) { tf.off, tf.readOff = off, off }

// start decides where to begin, from the positions file or StartAt, and
// records that position as committed.
func (f *follower) start() error {
	t := f.t
	f.n = newNotifier(t.dir, t.poll, t.log)
	saved, err := loadPositions(t.stateDir)
	if errors.Is(err, errCorruptPositions) {
		bad := filepath.Join(t.stateDir, PositionsFile+".corrupt")
		t.log.Error("ignoring corrupt positions file", "err", err, "moved_to", bad)
		_ = os.Rename(filepath.Join(t.stateDir, PositionsFile), bad) // best effort; it is rewritten below
		saved = nil
	} else if err != nil {
		return err
	}
	if saved != nil && saved.Path != t.path {
		t.log.Warn("positions file is for another path, ignoring it", "saved_path", saved.Path)
		saved = nil
	}
	atPath, err := f.open(t.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("open log: %w", err)
	}
	if saved == nil {
		f.startFresh(atPath)
	} else {
		f.resume(saved, atPath)
	}
	pos := Position{Path: t.path, Lines: f.lines}
	var meta *fileMeta
	if f.cur != nil {
		pos.Dev, pos.Ino, pos.Offset = f.cur.id.dev, f.cur.id.ino, f.cur.off
		meta = f.cur.meta
		t.m.offset.Set(float64(f.cur.off))
	}
	t.setStart(pos, meta)
	return nil
}

// startFresh starts without a saved position, following StartAt.
func (f *follower) startFresh(atPath *tfile) {
	t := f.t
	if atPath == nil {
		t.log.Info("waiting for log file to appear")
		return
	}
	f.cur = atPath
	if t.fromStart {
		t.log.Info("starting at the beginning of the log", "size", atPath.size)
		return
	}
	f.startAtEnd(atPath)
	t.log.Info("starting at the end of the log", "offset", atPath.off)
}

// startAtEnd positions tf after its last complete line, so a line being
// written while we start is delivered whole once complete.
func (f *follower) startAtEnd(tf *tfile) {
	window := int64(f.t.maxLine + 2)
	from := max(0, tf.size-window)
	buf := make([]byte, tf.size-from)
	n, _ := tf.f.ReadAt(buf, from) // a short read only moves the start earlier
	if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
		tf.seek(from + int64(i) + 1)
		return
	}
	if from == 0 {
		tf.seek(0) // one unfinished line: deliver it once complete
		return
	}
	// The unfinished last line is already too long: skip the rest of it.
	tf.seek(tf.size)
	f.fr.skipping = true
}

// resume continues from a saved position, following the rules in
// docs/SOURCE.md.
func (f *follower) resume(saved *positions, atPath *tfile) {
	t := f.t
	f.lines = saved.Lines
	savedID := fileID{saved.Dev, saved.Ino}
	lost := max(0, saved.Size-saved.Offset)
	switch {
	case savedID == fileID{}:
		// Nothing had been opened: whatever is at the path now is new.
		f.cur = atPath
	case atPath != nil && atPath.id == savedID &&
		matchesFingerprint(atPath.f, saved.FingerprintLen, saved.FingerprintSHA256) && atPath.size >= saved.Offset:
		atPath.seek(saved.Offset)
		f.cur = atPath
		t.log.Info("resuming", "offset", saved.Offset, "lines", saved.Lines)
	case atPath != nil && atPath.id == savedID:
		// Truncated or rewritten while we were down (or the inode was reused).
		t.m.rotateTruncate.Inc()
		cp := f.findSibling(savedID, saved.Offset, func(c *tfile) bool {
			return c.id != savedID && matchesFingerprint(c.f, saved.FingerprintLen, saved.FingerprintSHA256)
		})
		f.cur = atPath
		if cp != nil {
			t.log.Info("log was truncated while stopped, reading the rest of its copy first", "copy", cp.name, "offset", saved.Offset)
			f.readCopyFirst(cp, saved.Offset)
			return
		}
		f.lose(lost, "log was truncated while stopped and no copy was found")
	default:
		// Rotated while we were down: finish the old file first.
		t.m.rotateRename.Inc()
		old := f.findSibling(savedID, saved.Offset, func(c *tfile) bool {
			return c.id == savedID && matchesFingerprint(c.f, saved.FingerprintLen, saved.FingerprintSHA256)
		})
		since := saved.Updated
		if old != nil {
			if fi, err := old.f.Stat(); err == nil {
				since = fi.ModTime()
			}
		}
		// Files rotated after the old one (two or more rotations while stopped).
		f.queue = f.rotatedAfter(since, savedID, atPath)
		if atPath != nil {
			f.queue = append(f.queue, atPath)
		}
		if old == nil {
			if name, size, ok := f.findCompressed(saved); ok {
				lost = max(0, size-saved.Offset)
				t.log.Warn("log was rotated and compressed while stopped; its unread rest is lost", "old", name, "offset", saved.Offset, "lost_bytes", lost)
				t.m.lostBytes.Add(float64(lost))
			} else {
				f.lose(lost, "log was rotated while stopped and the old file is gone (compressed or deleted)")
			}
			if len(f.queue) > 0 {
				f.cur, f.queue = f.queue[0], f.queue[1:]
			}
			return
		}
		t.log.Info("log was rotated while stopped, finishing the old file first", "old", old.name, "offset", saved.Offset, "then", len(f.queue))
		old.seek(saved.Offset)
		old.draining, old.lastGrowth = true, t.clk.Now()
		f.cur = old
	}
}

// compressedName reports whether name ends like a compressed rotated log,
// which is never read as a log.
func compressedName(name string) bool {
	for _, s := range [...]string{".gz", ".bz2", ".xz", ".zst", ".lz4", ".lzma", ".Z", ".zip"} {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// rotatedAfter returns the uncompressed files beside the log (named after it)
// that were modified after since, oldest first, except the file with identity
// skip and the file at the path: after several rotations while we were
// stopped, these are the files rotated after the one we were reading.
func (f *follower) rotatedAfter(since time.Time, skip fileID, atPath *tfile) []*tfile {
	t := f.t
	entries, err := os.ReadDir(t.dir)
	if err != nil {
		return nil
	}
	base := filepath.Base(t.path)
	type found struct {
		tf  *tfile
		mod time.Time
	}
	var files []found
	for _, e := range entries {
		name := e.Name()
		if name == base || !strings.HasPrefix(name, base) || compressedName(name) || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.ModTime().After(since) {
			continue
		}
		if id, _ := dirEntryID(info); id == skip || (atPath != nil && id == atPath.id) {
			continue
		}
		tf, err := f.open(filepath.Join(t.dir, name))
		if err != nil {
			continue
		}
		tf.draining = true
		files = append(files, found{tf, info.ModTime()})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mod.Before(files[j].mod) })
	out := make([]*tfile, len(files))
	for i, fd := range files {
		t.m.rotateRename.Inc()
		t.log.Info("log was rotated more than once while stopped, reading a later rotated file", "file", fd.tf.name)
		out[i] = fd.tf
	}
	return out
}

// findCompressed looks for the saved file among gzip-compressed siblings, by
// its fingerprint, and returns its uncompressed size (from the gzip trailer).
func (f *follower) findCompressed(saved *positions) (name string, size int64, ok bool) {
	t := f.t
	if saved.FingerprintLen == 0 {
		return "", 0, false
	}
	entries, err := os.ReadDir(t.dir)
	if err != nil {
		return "", 0, false
	}
	base := filepath.Base(t.path)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), base) || !strings.HasSuffix(e.Name(), ".gz") || !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(t.dir, e.Name())
		if size, ok := gzipMatches(p, saved.FingerprintLen, saved.FingerprintSHA256); ok {
			return p, size, true
		}
	}
	return "", 0, false
}

// gzipMatches reports whether the decompressed first n bytes of the gzip file
// at path hash to sum, and returns its uncompressed size (modulo 4 GiB, as the
// gzip trailer records it).
func gzipMatches(path string, n int, sum string) (int64, bool) {
	file, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer file.Close()
	zr, err := gzip.NewReader(file)
	if err != nil {
		return 0, false
	}
	head := make([]byte, n)
	if _, err := io.ReadFull(zr, head); err != nil {
		return 0, false
	}
	h := sha256.Sum256(head)
	if hex.EncodeToString(h[:]) != sum {
		return 0, false
	}
	fi, err := file.Stat()
	if err != nil || fi.Size() < 4 {
		return 0, false
	}
	var trailer [4]byte
	if _, err := file.ReadAt(trailer[:], fi.Size()-4); err != nil {
		return 0, false
	}
	return int64(binary.LittleEndian.Uint32(trailer[:])), true
}

// lose counts bytes that can no longer be read.
func (f *follower) lose(n int64, msg string) {
	if n > 0 {
		f.t.m.lostBytes.Add(float64(n))
	}
	f.t.log.Warn(msg, "lost_bytes", n)
}

// readCopyFirst makes cp (a copy of the current file's old content, left by
// copytruncate) the file to read from off, and queues the current file, read
// again from 0, after it.
func (f *follower) readCopyFirst(cp *tfile, off int64) {
	cp.seek(off)
	cp.final, cp.draining = true, true
	cur := f.cur
	cur.seek(0)
	f.queue = append([]*tfile{cur}, f.queue...)
	f.cur = cp
}

// findSibling looks in the log's directory for a file other than the path
// itself that is at least minSize bytes long and satisfies ok: the old file
// after a rotation (matched by inode, e.g. access.json.1 or
// access.json-20261122) or the copy left by copytruncate (matched by its
// first bytes). Among several it takes the most recently modified. Files are
// matched by identity first when want is set, so a rotated file is found
// whatever its name; content matches only consider names starting with the
// log's name.
func (f *follower) findSibling(want fileID, minSize int64, ok func(*tfile) bool) *tfile {
	t := f.t
	entries, err := os.ReadDir(t.dir)
	if err != nil {
		t.log.Warn("list log directory", "err", err)
		return nil
	}
	base := filepath.Base(t.path)
	var (
		best    *tfile
		bestMod time.Time
	)
	for _, e := range entries {
		if e.Name() == base || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		id, _ := dirEntryID(info)
		if id != want && !strings.HasPrefix(e.Name(), base) {
			continue
		}
		if info.Size() < minSize {
			continue
		}
		c, err := f.open(filepath.Join(t.dir, e.Name()))
		if err != nil {
			continue
		}
		if !ok(c) || (best != nil && !info.ModTime().After(bestMod)) {
			c.f.Close()
			continue
		}
		if best != nil {
			best.f.Close()
		}
		best, bestMod = c, info.ModTime()
	}
	return best
}

// run follows until ctx is done.
func (f *follower) run(ctx context.Context) error {
	f.tick = f.t.clk.NewTicker(pollInterval)
	defer f.tick.Stop()
	f.batch = time.NewTimer(batchDelay)
	defer f.batch.Stop()
	for {
		if f.cur == nil {
			f.openPath()
		}
		if f.cur != nil {
			switched, err := f.step(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			if switched {
				continue
			}
		}
		f.n.ensure()
		select {
		case <-ctx.Done():
			return nil
		case <-f.tick.C():
		case ev := <-f.n.events():
			f.n.seen(ev)
			f.batch.Reset(batchDelay)
			select {
			case <-f.batch.C:
			case <-ctx.Done():
				return nil
			}
			f.n.drain()
		case err := <-f.n.errors():
			f.t.log.Debug("inotify", "err", err)
		}
	}
}

// busy handles a wake-up while waiting for the engine (a free buffer or room
// in out): it keeps watching the path, so rotations are noticed promptly even
// when the engine is slow, and a file that is rotated twice in quick
// succession is still opened while it is at the path.
func (f *follower) busy() {
	tf := f.cur
	if tf == nil || tf.final {
		return
	}
	// Track the size too: if the file vanishes or is truncated before it is
	// read, the loss is known (and saved) more closely.
	if s, err := f.st.fstat(tf.fd); err == nil && s.size > tf.size {
		tf.size = s.size
		tf.meta.size.Store(s.size)
	}
	f.checkPath(tf, f.t.clk.Now())
}

// getChunk returns a free chunk, waiting for the engine to release one.
func (f *follower) getChunk(ctx context.Context) (*Chunk, error) {
	select {
	case c := <-f.pool.free:
		return c, nil
	default:
	}
	for {
		select {
		case c := <-f.pool.free:
			return c, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-f.tick.C():
			f.busy()
		case ev := <-f.n.events():
			f.n.seen(ev)
			f.busy()
		}
	}
}

// send hands c to the engine, waiting for room in out.
func (f *follower) send(ctx context.Context, c *Chunk) error {
	select {
	case f.out <- c:
		return nil
	default:
	}
	for {
		select {
		case f.out <- c:
			return nil
		case <-ctx.Done():
			c.Release()
			return ctx.Err()
		case <-f.tick.C():
			f.busy()
		case ev := <-f.n.events():
			f.n.seen(ev)
			f.busy()
		}
	}
}

// openPath opens the path after it appeared (it is new: read from 0).
func (f *follower) openPath() {
	tf, err := f.open(f.t.path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && err.Error() != f.warned {
			f.warned = err.Error()
			f.t.log.Warn("cannot open log, retrying", "err", err)
		}
		return
	}
	f.warned = ""
	f.t.log.Info("log file appeared")
	f.cur = tf
}

// step reads what the current file has and, at its end, handles rotation. It
// reports whether it moved on to another file (then there may be more to
// read at once).
func (f *follower) step(ctx context.Context) (switched bool, err error) {
	tf := f.cur
	grew, err := f.readAvailable(ctx)
	if err != nil || f.cur != tf {
		return true, err
	}
	now := f.t.clk.Now()
	if grew {
		tf.lastGrowth = now
	}
	if !tf.final {
		f.checkPath(tf, now)
	}
	if tf.final || (tf.draining && (len(f.queue) > 0 || tf.nlink == 0) && now.Sub(tf.lastGrowth) >= f.t.grace) {
		return true, f.finishCur(ctx)
	}
	return false, nil
}

// checkPath looks at what the path names now. If it is no longer tf, tf was
// rotated: it is drained from now on, and a new file at the path is opened
// and queued.
func (f *follower) checkPath(tf *tfile, now time.Time) {
	s, err := f.st.stat(f.t.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			f.rotated(tf, now)
		} else if err.Error() != f.warned {
			f.warned = err.Error()
			f.t.log.Warn("cannot stat log", "err", err)
		}
		return
	}
	if s.id == tf.id {
		if tf.draining && !tf.final {
			tf.draining = false // renamed back: follow it as before
		}
		return
	}
	for _, q := range f.queue {
		if q.id == s.id {
			f.rotated(tf, now)
			return
		}
	}
	nf, err := f.open(f.t.path)
	if err != nil {
		return // replaced again meanwhile: the next check sees it
	}
	if nf.id == tf.id {
		nf.f.Close()
		return
	}
	for _, q := range f.queue {
		if q.id == nf.id {
			nf.f.Close()
			f.rotated(tf, now)
			return
		}
	}
	f.queue = append(f.queue, nf)
	f.rotated(tf, now)
}

// rotated marks tf as renamed away from the path (or deleted).
func (f *follower) rotated(tf *tfile, now time.Time) {
	if tf.draining {
		return
	}
	tf.draining, tf.lastGrowth = true, now
	f.t.m.rotateRename.Inc()
	f.t.log.Info("log rotated, draining the old file", "offset", tf.readOff, "rotate_grace", f.t.grace)
}

// finishCur hands out the rest of the current file, including an unfinished
// last line (the file is complete), closes it and moves on to the next file.
func (f *follower) finishCur(ctx context.Context) error {
	tf := f.cur
	if err := f.ensureBuffer(ctx); err != nil {
		return err
	}
	done, st := f.fr.finish(f.c.buffer(), f.done, f.end)
	f.addFramed(tf, done, done, st)
	if err := f.emit(ctx); err != nil {
		return err
	}
	if f.c != nil { // nothing was handed out: drop the empty buffer
		f.c.Release()
		f.c = nil
	}
	f.t.log.Info("finished rotated file", "file", tf.name, "offset", tf.off)
	tf.f.Close()
	f.fr.reset()
	f.carryN = 0
	f.cur = nil
	if len(f.queue) > 0 {
		f.cur = f.queue[0]
		f.queue = f.queue[1:]
		f.cur.lastGrowth = f.t.clk.Now()
	}
	return nil
}

// ensureBuffer makes sure a chunk is being filled, starting it with the
// unfinished line carried over from the previous chunk.
func (f *follower) ensureBuffer(ctx context.Context) error {
	if f.c != nil {
		return nil
	}
	c, err := f.getChunk(ctx)
	if err != nil {
		return err
	}
	n := copy(c.buffer(), f.carry[:f.carryN])
	f.carryN = 0
	f.c, f.done, f.end, f.scan = c, 0, n, n
	return nil
}

// addFramed records the result of framing.
func (f *follower) addFramed(tf *tfile, done, end int, st frameStats) {
	f.done, f.end, f.scan = done, end, end
	tf.off += st.consumed
	f.lines += uint64(st.lines + st.skipped)
	f.pend.lines += st.lines
	f.pend.skipped += st.skipped
}

// emit hands out the complete lines of the current chunk, keeping the
// unfinished line for the next one.
func (f *follower) emit(ctx context.Context) error {
	c := f.c
	if c == nil || (f.done == 0 && f.pend.skipped == 0) {
		return nil
	}
	tf := f.cur
	buf := c.buffer()
	f.carryN = copy(f.carry, buf[f.done:f.end])
	c.Data = buf[:f.done]
	c.Skipped = f.pend.skipped
	c.Pos = Position{Path: f.t.path, Dev: tf.id.dev, Ino: tf.id.ino, Offset: tf.off, Lines: f.lines}
	m := f.t.m
	m.lines.Add(float64(f.pend.lines))
	if f.pend.skipped > 0 {
		m.skippedLong.Add(float64(f.pend.skipped))
	}
	m.offset.Set(float64(tf.off))
	f.t.noteEmitted(f.lines, tf.meta)
	f.c, f.done, f.end, f.scan, f.pend = nil, 0, 0, 0, frameStats{}
	return f.send(ctx, c)
}

// readAvailable reads the current file to its end, handing out chunks as
// they fill and once more at the end. It reports whether anything was read.
// After a truncation f.cur may have changed.
func (f *follower) readAvailable(ctx context.Context) (grew bool, err error) {
	tf := f.cur
	for {
		if err := ctx.Err(); err != nil { // the fast paths below never block
			return grew, err
		}
		if err := f.ensureBuffer(ctx); err != nil {
			return grew, err
		}
		buf := f.c.buffer()
		if len(buf)-f.end < minRead {
			if err := f.emit(ctx); err != nil {
				return grew, err
			}
			continue
		}
		n, rerr := tf.f.ReadAt(buf[f.end:], tf.readOff)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return grew, fmt.Errorf("read %q: %w", tf.name, rerr)
		}
		intact, err := f.verify(tf, n)
		if err != nil {
			return grew, err
		}
		if !intact {
			if err := f.truncated(ctx, tf); err != nil || f.cur != tf {
				return grew, err
			}
			continue // read the file again from its start
		}
		if n > 0 {
			grew = true
			tf.readOff += int64(n)
			f.t.m.bytes.Add(float64(n))
			done, end, st := f.fr.frame(buf, f.done, f.scan, f.end+n)
			f.addFramed(tf, done, end, st)
		}
		if rerr != nil { // io.EOF: read everything there is
			return grew, f.emit(ctx)
		}
	}
}

// verify checks, after reading n bytes at tf.readOff, that the file still
// holds what was read: it is not shorter than what was read and its first
// bytes did not change. Either means the file was truncated (and perhaps
// written again) in place, and the bytes just read may belong to its new
// content. It also learns more of the first bytes while the file is short.
func (f *follower) verify(tf *tfile, n int) (bool, error) {
	s, err := f.st.fstat(tf.fd)
	if err != nil {
		return false, fmt.Errorf("stat %q: %w", tf.name, err)
	}
	tf.nlink = s.nlink
	if s.size < tf.readOff+int64(n) {
		return false, nil
	}
	if s.size != tf.size {
		tf.size = s.size
		tf.meta.size.Store(s.size)
	}
	k := int(min(s.size, int64(fpMax)))
	if k == 0 {
		return true, nil
	}
	m, _ := tf.f.ReadAt(f.scratch[:k], 0)
	known := tf.fp.n
	if m < known || !bytes.Equal(f.scratch[:known], tf.fp.head[:known]) {
		return false, nil
	}
	if m > known {
		fp := &fingerprint{id: tf.id, n: m}
		copy(fp.head[:], f.scratch[:m])
		tf.fp = fp
		tf.meta.fp.Store(fp)
	}
	return true, nil
}

// truncated handles a file truncated in place: the complete lines read before
// are handed out (they were verified when read), the unfinished line is
// dropped, and reading restarts at 0 — after reading the rest of the old
// content from the copy copytruncate left beside the file, if there is one.
func (f *follower) truncated(ctx context.Context, tf *tfile) error {
	f.end, f.scan = f.done, f.done
	if err := f.emit(ctx); err != nil {
		return err
	}
	f.fr.reset()
	f.carryN = 0
	t := f.t
	oldOff, oldSize := tf.off, tf.size
	if tf.draining || tf.final {
		// A rotated file changed under us: give up the rest of it.
		f.lose(oldSize-oldOff, "rotated file was truncated before it was read to the end")
		return f.finishCur(ctx)
	}
	t.m.rotateTruncate.Inc()
	var cp *tfile
	if tf.fp.n > 0 {
		old := tf.fp
		cp = f.findSibling(tf.id, oldOff+1, func(c *tfile) bool {
			return c.id != tf.id && c.fp.n >= old.n && bytes.Equal(c.fp.head[:old.n], old.head[:old.n])
		})
	}
	tf.fp = &fingerprint{id: tf.id} // a new generation of the file
	tf.size = 0
	tf.meta = newFileMeta(tf.fp, 0)
	if cp != nil {
		t.log.Info("log truncated, reading the rest of its copy first", "copy", cp.name, "offset", oldOff)
		f.readCopyFirst(cp, oldOff)
		return nil
	}
	t.log.Info("log truncated, reading it again from the start", "offset", oldOff)
	tf.seek(0)
	if oldSize > oldOff {
		f.lose(oldSize-oldOff, "log truncated before it was read to the end and no copy was found")
	}
	return nil
}
