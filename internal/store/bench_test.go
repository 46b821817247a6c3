package store

import (
	"encoding/json"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkPut measures one durable Put of a new record with a ban,
// evidence and request: one bbolt transaction, synced to disk. The figure
// is dominated by the disk's sync latency.
func BenchmarkPut(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "ledger.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	i := 0
	for b.Loop() {
		if err := s.Put(numbered(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkLoad100k measures Load of a ledger holding 100,000 timed bans
// with evidence and requests (what the daemon restores at start).
func BenchmarkLoad100k(b *testing.B) {
	const n = 100_000
	path := filepath.Join(b.TempDir(), "ledger.db")
	s, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	// Fill the file in one transaction: 100k synced Puts would take minutes.
	err = s.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketRecords)
		for i := range n {
			r := numbered(i)
			k, err := encodeKey(r.Prefix)
			if err != nil {
				return err
			}
			v, err := encodeValue(r)
			if err != nil {
				return err
			}
			if err := bk.Put(k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	cpu := cpuTime(b)
	for b.Loop() {
		recs, err := s.Load()
		if err != nil {
			b.Fatal(err)
		}
		if len(recs) != n {
			b.Fatalf("Load: %d records, want %d", len(recs), n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
	b.ReportMetric(cpu().Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime returns a function that reports the CPU time (user and system,
// all threads, so garbage collection included) the process used since the
// call. On a shared machine it is steadier than wall-clock ns/op.
func cpuTime(b *testing.B) func() time.Duration {
	read := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := read()
	return func() time.Duration { return read() - start }
}

// BenchmarkDecode compares the fast decoder with encoding/json on one
// typical record (a timed signature ban with evidence and request).
func BenchmarkDecode(b *testing.B) {
	r := numbered(5)
	k, _ := encodeKey(r.Prefix)
	v, err := encodeValue(r)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeRecord(k, v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var env envelope
			if err := json.Unmarshal(v, &env); err != nil {
				b.Fatal(err)
			}
			_ = fromV1(env.Record)
		}
	})
}
