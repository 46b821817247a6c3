package api

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
)

func BenchmarkFindingLogAdd(b *testing.B) {
	l := NewFindingLog(1000)
	f := &detect.Finding{Seq: 1}
	b.ReportAllocs()
	for b.Loop() {
		l.Add(f)
	}
}

// BenchmarkListBans measures GET /api/v1/bans with 10,000 active bans
// (handler only, no network).
func BenchmarkListBans(b *testing.B) {
	e := newEnv(b, Config{}, nil)
	for i := range 10000 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 32)
		if _, err := e.resp.Ban(t0, p, time.Hour, "benchmark"); err != nil {
			b.Fatal(err)
		}
	}
	h := e.srv.Handler(true)
	req := httptest.NewRequest(http.MethodGet, "/api/v1/bans", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
