package source

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/vigil-sec/vigil/internal/statefile"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// PositionsFile is the name of the Tail's positions file in its state
// directory.
const PositionsFile = "positions.json"

// positionsVersion is the format version written to the positions file.
const positionsVersion = 1

// fpMax is the number of leading bytes of a file that make up its
// fingerprint.
const fpMax = 1024

// fingerprint identifies a file's content by its first bytes: it tells a file
// apart from one that reuses its inode, and notices a file rewritten in place.
// A fingerprint is immutable once made.
type fingerprint struct {
	id   fileID
	head [fpMax]byte
	n    int // bytes of head in use: min(fpMax, bytes the file had when read)
}

// sum returns the hex SHA-256 of the fingerprint's bytes.
func (f *fingerprint) sum() string {
	h := sha256.Sum256(f.head[:f.n])
	return hex.EncodeToString(h[:])
}

// fileMeta is what the checkpoint writer needs to know about one file (one
// content generation of it: a truncation starts a new one): its fingerprint
// and its latest size. The follower updates it; checkpoints read it.
type fileMeta struct {
	id   fileID
	fp   atomic.Pointer[fingerprint]
	size atomic.Int64
}

// newFileMeta returns the metadata of a new generation of file id.
func newFileMeta(fp *fingerprint, size int64) *fileMeta {
	m := &fileMeta{id: fp.id}
	m.fp.Store(fp)
	m.size.Store(size)
	return m
}

// positions is the content of the positions file.
type positions struct {
	// Version is the format version (1).
	Version int `json:"version"`
	// Path is the configured path of the followed log.
	Path string `json:"path"`
	// Dev and Ino identify the file the offset belongs to (it may have been
	// renamed away from Path since).
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
	// FingerprintLen is how many leading bytes of the file FingerprintSHA256
	// covers (at most 1024).
	FingerprintLen int `json:"fingerprint_len"`
	// FingerprintSHA256 is the hex SHA-256 of the file's first
	// FingerprintLen bytes.
	FingerprintSHA256 string `json:"fingerprint_sha256"`
	// Offset is the byte offset just after the last committed line.
	Offset int64 `json:"offset"`
	// Size is the file's size when last seen: if the file vanishes before it
	// is read to the end, at least Size-Offset bytes are lost.
	Size int64 `json:"size"`
	// Lines is the cumulative number of lines (kept and skipped) committed
	// since the positions file was created.
	Lines uint64 `json:"lines"`
	// Updated is when the positions file was written.
	Updated time.Time `json:"updated"`
}

// errCorruptPositions marks a positions file that cannot be understood.
var errCorruptPositions = errors.New("corrupt positions file")

// loadPositions reads the positions file in dir. It returns nil, nil when
// there is none.
func loadPositions(dir string) (*positions, error) {
	path := filepath.Join(dir, PositionsFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read positions file %q: %w", path, err)
	}
	var p positions
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("%w %q: %w", errCorruptPositions, path, err)
	}
	if p.Version != positionsVersion || p.Offset < 0 || p.FingerprintLen < 0 || p.FingerprintLen > fpMax {
		return nil, fmt.Errorf("%w %q: unsupported version %d or out-of-range field", errCorruptPositions, path, p.Version)
	}
	return &p, nil
}

// writePositions atomically replaces the positions file in dir with p: the
// data goes to a temporary file in dir (mode 0600), is synced and renamed over
// the old file, and the directory is synced, so a crash leaves the old or the
// new content, never a mix.
func writePositions(dir string, p *positions) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encode positions: %w", err)
	}
	data = append(data, '\n')
	return statefile.Write(filepath.Join(dir, PositionsFile), data, 0o600)
}

// matchesFingerprint reports whether the first n bytes of f hash to sum.
func matchesFingerprint(f *os.File, n int, sum string) bool {
	var head [fpMax]byte
	if n > fpMax {
		return false
	}
	if _, err := f.ReadAt(head[:n], 0); err != nil {
		return false
	}
	h := sha256.Sum256(head[:n])
	return hex.EncodeToString(h[:]) == sum
}
