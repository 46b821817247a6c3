package replay

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/simulate"
)

// BenchmarkReplay measures the whole replay path (read, parse, engine with
// every detector, respond) on 200,000 lines of simulated traffic with
// attacks, reporting lines/s. Run it with -cpu 1 for the single-core figure.
func BenchmarkReplay(b *testing.B) {
	c := simulate.DefaultConfig()
	c.Lines = 200_000
	for _, spec := range []string{"flood@10m", "scanner@20m", "sqli@30m", "bruteforce@40m", "enumeration@50m"} {
		a, err := simulate.ParseAttack(spec)
		if err != nil {
			b.Fatal(err)
		}
		c.Attacks = append(c.Attacks, a)
	}
	g, err := simulate.New(c)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := simulate.Run(context.Background(), g, &buf, simulate.FormatJSON); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "access.json")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load(config.Sources{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	var lines uint64
	var elapsed time.Duration
	for b.Loop() {
		sum, err := Run(context.Background(), Options{Config: cfg, Files: []string{path}, Output: OutputDecisions, Out: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
		lines += sum.Lines
		elapsed += sum.Elapsed
	}
	b.ReportMetric(float64(lines)/elapsed.Seconds(), "lines/s")
}
