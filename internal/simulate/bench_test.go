package simulate

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// benchConfig is the benchmark workload: the default traffic model with an
// unbounded duration.
func benchConfig() Config {
	cfg := DefaultConfig()
	return cfg
}

// BenchmarkGenerate measures generation and JSON formatting into memory:
// the generator's own speed.
func BenchmarkGenerate(b *testing.B) {
	g, err := New(benchConfig())
	if err != nil {
		b.Fatal(err)
	}
	var rec Record
	buf := make([]byte, 0, runBuffer)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if !g.Next(&rec) {
			b.Fatal("generator exhausted")
		}
		buf = WriteJSON(buf, &rec)
		if len(buf) > runBuffer-runSlack {
			buf = buf[:0]
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lines/s")
}

// BenchmarkNext measures the traffic model alone, without formatting.
func BenchmarkNext(b *testing.B) {
	g, err := New(benchConfig())
	if err != nil {
		b.Fatal(err)
	}
	var rec Record
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if !g.Next(&rec) {
			b.Fatal("generator exhausted")
		}
	}
}

// BenchmarkRunFile measures the fast mode end to end: Run writing JSON
// lines to a file.
func BenchmarkRunFile(b *testing.B) {
	cfg := benchConfig()
	cfg.Lines = int64(b.N)
	g, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(filepath.Join(b.TempDir(), "access.json"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	n, err := Run(context.Background(), g, f, FormatJSON)
	if err != nil || n != int64(b.N) {
		b.Fatalf("Run = %d, %v; want %d lines", n, err, b.N)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "lines/s")
}

// BenchmarkWriteJSON and BenchmarkWriteCombined measure formatting alone.
func BenchmarkWriteJSON(b *testing.B)     { benchFormat(b, WriteJSON) }
func BenchmarkWriteCombined(b *testing.B) { benchFormat(b, WriteCombined) }

func benchFormat(b *testing.B, appendLine Appender) {
	g, err := New(benchConfig())
	if err != nil {
		b.Fatal(err)
	}
	recs := make([]Record, 1024)
	for i := range recs {
		g.Next(&recs[i])
		recs[i].URI = append([]byte(nil), recs[i].URI...)
		recs[i].Referer = append([]byte(nil), recs[i].Referer...)
	}
	buf := make([]byte, 0, 4096)
	var n int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		buf = appendLine(buf[:0], &recs[i%len(recs)])
		n += int64(len(buf))
	}
	b.SetBytes(n / int64(max(b.N, 1)))
}
