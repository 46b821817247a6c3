package engine

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/vigil-sec/vigil/internal/baseline"
	"github.com/vigil-sec/vigil/internal/parse"
	"github.com/vigil-sec/vigil/internal/source"
)

// TestFiguresClientMemory measures the memory held by the client table with
// 100k and 1M distinct clients inside the window. It prints figures for
// docs/BENCHMARKS.md; run it with VIGIL_FIGURES=1.
func TestFiguresClientMemory(t *testing.T) {
	if os.Getenv("VIGIL_FIGURES") != "1" {
		t.Skip("figures: set VIGIL_FIGURES=1")
	}
	t.Logf("client record: %d bytes (detector state %d, window %d); map entry key 16 bytes + int32",
		unsafe.Sizeof(client{}), unsafe.Sizeof(client{}.st), unsafe.Sizeof(client{}.st.Win))
	for _, n := range []int{100_000, 1_000_000} {
		before := heapInuse()
		rssBefore := rss()
		te := newTestEnv()
		te.cfg.MaxClients = 2 * n
		model, _ := baseline.New(te.base)
		e, err := New(te.cfg, Options{Parse: parse.DefaultConfig(), Detect: te.detect, Baseline: model})
		if err != nil {
			t.Fatal(err)
		}
		in := make(chan *source.Chunk, 4)
		hold := make(chan struct{})
		go func() {
			defer close(in)
			var sb strings.Builder
			for i := 0; i < n; i++ {
				a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
				if i%5 == 0 {
					a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)})
				}
				// all within 50 s: every client is in the window at the end
				sb.WriteString(req{at: t0.Add(time.Duration(i*50/n) * time.Second), ip: a.String(), uri: "/p/" + strconv.Itoa(i%1000), status: 200}.line())
				sb.WriteByte('\n')
				if sb.Len() > 200<<10 {
					in <- &source.Chunk{Data: []byte(sb.String())}
					sb.Reset()
				}
			}
			in <- &source.Chunk{Data: []byte(sb.String())}
			<-hold // keep the engine's state alive while we measure
		}()
		done := make(chan error, 1)
		go func() { done <- e.Run(context.Background(), in, &collector{}) }()
		deadline := time.Now().Add(2 * time.Minute)
		for e.metrics.trackedTotal() < n && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if got := e.metrics.trackedTotal(); got != n {
			t.Fatalf("tracked %d clients, want %d", got, n)
		}
		heap, r := heapInuse()-before, rss()-rssBefore
		t.Logf("%8d clients: heap in use +%6.1f MiB (%4.0f bytes/client), RSS +%6.1f MiB", n,
			float64(heap)/(1<<20), float64(heap)/float64(n), float64(r)/(1<<20))
		close(hold)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		runtime.GC()
	}
}

func heapInuse() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// rss returns the resident set size of this process in bytes.
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			var kb uint64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:")), "%d", &kb)
			return kb << 10
		}
	}
	return 0
}
