package api

import (
	"sync"
	"testing"

	"github.com/vigil-sec/vigil/internal/detect"
)

func seqs(fs []*detect.Finding) []uint64 {
	out := make([]uint64, len(fs))
	for i, f := range fs {
		out[i] = f.Seq
	}
	return out
}

func TestFindingLog(t *testing.T) {
	tests := []struct {
		name  string
		size  int
		add   int // findings with Seq 1..add
		limit int
		want  []uint64
	}{
		{name: "empty", size: 3, add: 0, limit: 10, want: []uint64{}},
		{name: "partly filled", size: 3, add: 2, limit: 10, want: []uint64{2, 1}},
		{name: "exactly full", size: 3, add: 3, limit: 0, want: []uint64{3, 2, 1}},
		{name: "wrapped keeps the newest", size: 3, add: 7, limit: 0, want: []uint64{7, 6, 5}},
		{name: "limit below size", size: 5, add: 9, limit: 2, want: []uint64{9, 8}},
		{name: "limit above kept", size: 5, add: 9, limit: 100, want: []uint64{9, 8, 7, 6, 5}},
		{name: "size below one keeps one", size: 0, add: 4, limit: 0, want: []uint64{4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := NewFindingLog(tc.size)
			for i := 1; i <= tc.add; i++ {
				l.Add(&detect.Finding{Seq: uint64(i)})
			}
			got := seqs(l.Recent(tc.limit))
			if len(got) != len(tc.want) {
				t.Fatalf("Recent(%d) = %v, want %v", tc.limit, got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("Recent(%d) = %v, want %v", tc.limit, got, tc.want)
				}
			}
			if want := min(tc.add, max(tc.size, 1)); l.Len() != want {
				t.Errorf("Len() = %d, want %d", l.Len(), want)
			}
		})
	}
}

func TestFindingLogNilAndNilFinding(t *testing.T) {
	var l *FindingLog
	l.Add(&detect.Finding{})
	if l.Recent(10) != nil || l.Len() != 0 {
		t.Error("a nil FindingLog should hold nothing")
	}
	l = NewFindingLog(2)
	l.Add(nil)
	if l.Len() != 0 {
		t.Error("Add(nil) should be ignored")
	}
}

func TestFindingLogAddAllocs(t *testing.T) {
	l := NewFindingLog(64)
	f := &detect.Finding{Seq: 1}
	if n := testing.AllocsPerRun(1000, func() { l.Add(f) }); n != 0 {
		t.Fatalf("Add: %v allocs, want 0", n)
	}
}

// TestFindingLogConcurrent runs writers and readers together (meaningful
// under -race) and checks every snapshot is in strictly decreasing order per
// writer.
func TestFindingLogConcurrent(t *testing.T) {
	l := NewFindingLog(16)
	const writers, each = 4, 2000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= each; i++ {
				l.Add(&detect.Finding{Seq: uint64(i), Detector: string(rune('a' + w))})
			}
		}()
	}
	done := make(chan struct{})
	errs := make(chan string, 1)
	go func() {
		defer close(done)
		for range 500 {
			last := map[string]uint64{}
			for _, f := range l.Recent(0) {
				if prev, ok := last[f.Detector]; ok && f.Seq >= prev {
					select {
					case errs <- "a writer's findings are not newest first":
					default:
					}
				}
				last[f.Detector] = f.Seq
			}
		}
	}()
	wg.Wait()
	<-done
	select {
	case e := <-errs:
		t.Fatal(e)
	default:
	}
	if l.Len() != 16 {
		t.Errorf("Len() = %d, want 16", l.Len())
	}
}
