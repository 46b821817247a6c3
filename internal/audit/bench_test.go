package audit

import (
	"path/filepath"
	"testing"
)

// BenchmarkDecision measures writing one ban record with evidence and
// request, with and without the fsync after every record.
func BenchmarkDecision(b *testing.B) {
	for _, fsync := range []bool{true, false} {
		name := "fsync"
		if !fsync {
			name = "no_fsync"
		}
		b.Run(name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Fsync = fsync
			l, err := Open(filepath.Join(b.TempDir(), "audit.jsonl"), cfg, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			d := decisions()[1]
			b.ReportAllocs()
			for b.Loop() {
				if err := l.Decision(d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
