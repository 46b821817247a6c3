// Package store is vigil's persistent ban ledger: the respond stage's
// records (offense history and active bans) kept in a bbolt file so that
// bans and escalation survive restarts.
//
// The file holds two buckets. "records" maps each address or prefix, in a
// fixed 18-byte binary key (see the ledger section of docs/AUDIT.md), to a
// versioned JSON envelope {"v":1,"record":{...}}. "meta" holds the schema
// version and the time the file was created. Every write is one bbolt
// transaction, synced to disk before Put or Delete returns.
//
// bbolt takes an exclusive lock on the file: only one process can open it.
// Open gives up after Options.Timeout with an error that matches ErrLocked.
package store

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/vigil-sec/vigil/internal/respond"
)

// DefaultTimeout is how long Open waits for another process to release the
// ledger file when Options.Timeout is zero.
const DefaultTimeout = time.Second

// File and directory modes. The ledger lists client addresses, so only
// vigil's user may read it.
const (
	fileMode = 0o600
	dirMode  = 0o700
)

// Sentinel errors, checked with errors.Is.
var (
	// ErrLocked is returned by Open when another process (usually another
	// vigil) holds the ledger file.
	ErrLocked = errors.New("ledger is locked by another process")
	// ErrCorrupt is returned by Load for a record that cannot be decoded;
	// the message names its key.
	ErrCorrupt = errors.New("corrupt ledger record")
	// ErrVersion is returned for a file or record written by a newer vigil
	// with a schema this one does not know.
	ErrVersion = errors.New("unsupported ledger schema version")
)

// Options holds a Store's shared dependencies.
type Options struct {
	// Logger receives the store's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the store's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Timeout is how long Open waits for the file lock; zero means
	// DefaultTimeout. bbolt's own default, waiting forever, is never used.
	Timeout time.Duration
}

// Store is the bbolt-backed ban ledger. It implements respond.Store. It is
// safe for concurrent use: bbolt serialises writers, and each Put or Delete
// is its own durable transaction.
type Store struct {
	db   *bolt.DB
	path string
	m    *metrics
	// n is the number of records in the file, kept in step with every
	// committed write (for the records gauge).
	n atomic.Int64
}

var _ respond.Store = (*Store)(nil)

// Open opens the ledger at path, creating the file (mode 0600) and its
// parent directory (mode 0700) if they are missing. When another process
// holds the file, Open fails after o.Timeout with an error matching
// ErrLocked; a file written with a newer schema fails with ErrVersion.
func Open(path string, o Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("open ledger: empty path")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "store")
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if err := os.MkdirAll(filepath.Dir(path), dirMode); err != nil {
		return nil, fmt.Errorf("create ledger directory: %w", err)
	}
	db, err := bolt.Open(path, fileMode, &bolt.Options{
		Timeout: timeout,
		// The hashmap freelist stays fast when years of bans and unbans
		// have fragmented the file.
		FreelistType: bolt.FreelistMapType,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, &lockedError{path: path, err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("open ledger %q: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.init(); err != nil {
		_ = db.Close()
		return nil, err
	}
	// Metrics are registered only once the file is open and checked, so
	// that a failed Open can be retried with the same registerer.
	m, err := newMetrics(o.Registerer)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	s.m = m
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("ledger file is readable by other users", "path", path, "mode", fi.Mode().Perm().String())
	}
	m.records.Set(float64(s.n.Load()))
	log.Info("ledger open", "path", path, "records", s.n.Load())
	return s, nil
}

// init creates the buckets and the meta entries of a new file, checks the
// schema of an existing one and counts its records.
func (s *Store) init() error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return fmt.Errorf("create bucket %q: %w", bucketMeta, err)
		}
		recs, err := tx.CreateBucketIfNotExists(bucketRecords)
		if err != nil {
			return fmt.Errorf("create bucket %q: %w", bucketRecords, err)
		}
		if v := meta.Get(keySchema); v != nil {
			if err := checkSchema(v); err != nil {
				return err
			}
		} else {
			if err := meta.Put(keySchema, fmt.Appendf(nil, "%d", schemaVersion)); err != nil {
				return fmt.Errorf("write schema version: %w", err)
			}
			// The creation time is informational (offline inspection);
			// the store is not detection code, so the wall clock is right.
			created := time.Now().UTC().AppendFormat(nil, time.RFC3339Nano)
			if err := meta.Put(keyCreated, created); err != nil {
				return fmt.Errorf("write creation time: %w", err)
			}
		}
		s.n.Store(int64(recs.Stats().KeyN))
		return nil
	})
	if err != nil {
		return fmt.Errorf("initialise ledger %q: %w", s.path, err)
	}
	return nil
}

// Put implements respond.Store: it saves r, replacing the record for
// r.Prefix, in one transaction that is on disk when Put returns. Strings
// that are not valid UTF-8 are stored with U+FFFD in place of the invalid
// bytes, and non-finite evidence values as 0.
func (s *Store) Put(r *respond.Record) (err error) {
	defer s.m.observe(opPut, time.Now(), &err)
	if r == nil {
		return errors.New("put ledger record: nil record")
	}
	key, err := encodeKey(r.Prefix)
	if err != nil {
		return fmt.Errorf("put ledger record: %w", err)
	}
	val, err := encodeValue(r)
	if err != nil {
		return fmt.Errorf("put ledger record %s: %w", r.Prefix, err)
	}
	var added bool
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		added = b.Get(key) == nil
		return b.Put(key, val)
	})
	if err != nil {
		return fmt.Errorf("put ledger record %s: %w", r.Prefix, err)
	}
	if added {
		s.m.records.Set(float64(s.n.Add(1)))
	}
	return nil
}

// Delete implements respond.Store: it forgets the record for p, durably.
// Deleting an absent record is not an error.
func (s *Store) Delete(p netip.Prefix) (err error) {
	defer s.m.observe(opDelete, time.Now(), &err)
	key, err := encodeKey(p)
	if err != nil {
		return fmt.Errorf("delete ledger record: %w", err)
	}
	var removed bool
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		removed = b.Get(key) != nil
		if !removed {
			return nil
		}
		return b.Delete(key)
	})
	if err != nil {
		return fmt.Errorf("delete ledger record %s: %w", p, err)
	}
	if removed {
		s.m.records.Set(float64(s.n.Add(-1)))
	}
	return nil
}

// maxCorruptListed caps how many corrupt keys one Load error names.
const maxCorruptListed = 10

// minPerDecoder is the fewest records worth a decoding goroutine of their
// own: below it, starting goroutines costs more than it saves.
const minPerDecoder = 4096

// Load implements respond.Store: it returns every record, ordered by key
// (IPv4 before IPv6, then by address and prefix length). A record that
// cannot be decoded fails the whole Load with an error matching ErrCorrupt
// that names its key: bans are never dropped silently. Large ledgers are
// decoded on up to GOMAXPROCS goroutines (the daemon restores every ban at
// start, before it enforces anything).
func (s *Store) Load() ([]*respond.Record, error) {
	var (
		out  []*respond.Record
		errs []error
		bad  int
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		// Keys and values alias the memory map: valid until the
		// transaction ends, so decoding finishes inside it.
		kvs := make([][2][]byte, 0, s.n.Load())
		b := tx.Bucket(bucketRecords)
		if err := b.ForEach(func(k, v []byte) error {
			kvs = append(kvs, [2][]byte{k, v})
			return nil
		}); err != nil {
			return err
		}
		out = make([]*respond.Record, len(kvs))
		failed := make([]error, len(kvs))
		workers := max(1, min(runtime.GOMAXPROCS(0), len(kvs)/minPerDecoder))
		per := (len(kvs) + workers - 1) / workers
		var wg sync.WaitGroup
		for lo := 0; lo < len(kvs); lo += per {
			hi := min(lo+per, len(kvs))
			wg.Go(func() {
				for i := lo; i < hi; i++ {
					out[i], failed[i] = decodeRecord(kvs[i][0], kvs[i][1])
				}
			})
		}
		wg.Wait()
		for _, err := range failed {
			if err != nil {
				if bad++; bad <= maxCorruptListed {
					errs = append(errs, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load ledger %q: %w", s.path, err)
	}
	if bad > 0 {
		if bad > maxCorruptListed {
			errs = append(errs, fmt.Errorf("and %d more corrupt records", bad-maxCorruptListed))
		}
		return nil, fmt.Errorf("load ledger %q: %d of %d records unreadable (move the file aside to start afresh; see docs/AUDIT.md): %w",
			s.path, bad, len(out), errors.Join(errs...))
	}
	s.n.Store(int64(len(out)))
	s.m.records.Set(float64(len(out)))
	return out, nil
}

// Path returns the file the store was opened from.
func (s *Store) Path() string { return s.path }

// Close closes the file and releases its lock. Calls after the first return
// nil.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close ledger %q: %w", s.path, err)
	}
	return nil
}

// lockedError is Open's error when the file lock could not be taken. It
// matches ErrLocked and bbolt's timeout error.
type lockedError struct {
	path string
	err  error
}

func (e *lockedError) Error() string {
	return fmt.Sprintf("ledger %q is locked (is another vigil running?)", e.path)
}

func (e *lockedError) Unwrap() []error { return []error{ErrLocked, e.err} }
