package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeBenchLog writes a log of about size bytes of testLine lines and
// returns its path and line count.
func writeBenchLog(b *testing.B, dir string, size int, gz bool) (string, int) {
	b.Helper()
	n := size / len(testLine)
	data := bytes.Repeat([]byte(testLine), n)
	path := filepath.Join(dir, "access.log")
	if gz {
		path += ".gz"
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(data)
		zw.Close()
		data = buf.Bytes()
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return path, n
}

// BenchmarkFiles measures replay reading of a file in the page cache: MB/s
// of log and lines/s (~450-byte lines).
func BenchmarkFiles(b *testing.B) {
	for _, gz := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "gzip"}[gz]
		b.Run(name, func(b *testing.B) {
			path, n := writeBenchLog(b, b.TempDir(), 64<<20, gz)
			b.SetBytes(int64(n * len(testLine)))
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				f, err := NewFiles([]string{path}, FilesConfig{})
				if err != nil {
					b.Fatal(err)
				}
				out := make(chan *Chunk, 4)
				errc := make(chan error, 1)
				go func() { errc <- f.Run(context.Background(), out) }()
				lines := 0
				for c := range out {
					lines += bytes.Count(c.Data, []byte{'\n'})
					c.Release()
				}
				if err := <-errc; err != nil {
					b.Fatal(err)
				}
				if lines != n {
					b.Fatalf("read %d lines, want %d", lines, n)
				}
			}
			b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "lines/s")
		})
	}
}

// BenchmarkTail measures live tailing: a writer appends b.N lines (one write
// per line like Nginx without buffer=, or in 64 KiB writes like Nginx with
// buffer=64k) while the Tail hands them to a consumer that counts and commits
// them. It reports lines/s end to end and the mean lag: how far behind the
// writer the consumer was, in lines, sampled at each chunk.
func BenchmarkTail(b *testing.B) {
	for _, batch := range []int{1, 64 << 10 / len(testLine)} {
		name := map[bool]string{true: "write=line", false: "write=64KiB"}[batch == 1]
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			path := filepath.Join(dir, "access.json")
			lf, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			if err != nil {
				b.Fatal(err)
			}
			defer lf.Close()
			cfg := DefaultTailConfig()
			cfg.Path = path
			cfg.StartAt = StartAtBeginning
			tl, err := NewTail(cfg, TailOptions{StateDir: filepath.Join(dir, "state")})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			out := make(chan *Chunk, 4)
			errc := make(chan error, 1)
			go func() { errc <- tl.Run(ctx, out) }()
			var written, lagSum, samples int64
			writtenc := make(chan int64, 1)
			block := bytes.Repeat([]byte(testLine), batch)
			total := int64(b.N)
			b.SetBytes(int64(len(testLine)))
			b.ResetTimer()
			start := time.Now()
			go func() {
				var n int64
				for n < total {
					k := min(int64(batch), total-n)
					if _, err := lf.Write(block[:k*int64(len(testLine))]); err != nil {
						panic(err)
					}
					n += k
					select {
					case writtenc <- n:
					default:
					}
				}
				writtenc <- n
			}()
			var got int64
			for got < total {
				c := <-out
				got += int64(bytes.Count(c.Data, []byte{'\n'}))
				select {
				case written = <-writtenc:
				default:
				}
				if written > got {
					lagSum += written - got
				}
				samples++
				pos := c.Pos
				c.Release()
				tl.Commit(pos)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			cancel()
			for c := range out {
				c.Release()
			}
			if err := <-errc; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(total)/elapsed.Seconds(), "lines/s")
			if samples > 0 {
				b.ReportMetric(float64(lagSum)/float64(samples), "lag-lines")
			}
		})
	}
}
