package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/baseline"
	"github.com/vigil-sec/vigil/internal/parse"
	"github.com/vigil-sec/vigil/internal/source"
)

// BenchmarkEngine measures parse + engine per line over normal traffic,
// reporting lines/s. Allocations are per line.
func BenchmarkEngine(b *testing.B) {
	reqs := traffic(9, 30*time.Minute, 200, nil)
	var sb strings.Builder
	for _, r := range reqs {
		sb.WriteString(r.line() + "\n")
	}
	data := []byte(sb.String())
	var chunks [][]byte
	for len(data) > 0 {
		n := min(256<<10, len(data))
		if n < len(data) {
			n = strings.LastIndexByte(string(data[:n]), '\n') + 1
		}
		chunks = append(chunks, data[:n])
		data = data[n:]
	}
	te := newTestEnv()
	b.ReportAllocs()
	b.ResetTimer()
	lines := 0
	for b.Loop() {
		model, _ := baseline.New(te.base)
		e, err := New(te.cfg, Options{Parse: parse.DefaultConfig(), Detect: te.detect, Baseline: model})
		if err != nil {
			b.Fatal(err)
		}
		in := make(chan *source.Chunk, 4)
		go func() {
			defer close(in)
			for _, c := range chunks {
				in <- &source.Chunk{Data: c}
			}
		}()
		if err := e.Run(context.Background(), in, &collector{}); err != nil {
			b.Fatal(err)
		}
		lines += len(reqs)
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(lines), "ns/line")
}
