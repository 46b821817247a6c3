package window

import (
	"math/rand/v2"
	"testing"
)

// naive recomputes window sums from a full event list: the oracle.
type naive struct {
	secs []int64
	errs []bool
}

func (n *naive) counts(now int64) (req, errs int) {
	for i, s := range n.secs {
		if s > now-Size && s <= now {
			req++
			if n.errs[i] {
				errs++
			}
		}
	}
	return req, errs
}

func TestWindowMatchesNaiveModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var w Window[uint16]
	var n naive
	sec := int64(1_700_000_000)
	for i := 0; i < 20000; i++ {
		switch r.IntN(10) {
		case 0:
			sec += int64(r.IntN(90)) // sometimes jump past the window
		case 1, 2:
			sec++
		}
		isErr := r.IntN(4) == 0
		w.Add(sec, isErr)
		n.secs = append(n.secs, sec)
		n.errs = append(n.errs, isErr)
		wantReq, wantErr := n.counts(sec)
		if w.Requests() != wantReq || w.Errors() != wantErr {
			t.Fatalf("step %d sec %d: got req=%d err=%d, want req=%d err=%d", i, sec, w.Requests(), w.Errors(), wantReq, wantErr)
		}
	}
}

func TestAdvanceExpiresAndSpan(t *testing.T) {
	var w Window[uint32]
	for s := int64(100); s < 130; s++ {
		w.Add(s, s%2 == 0)
	}
	if got := w.Requests(); got != 30 {
		t.Fatalf("Requests = %d, want 30", got)
	}
	if req, errs := w.Span(100, 109); req != 10 || errs != 5 {
		t.Fatalf("Span(100,109) = %d,%d want 10,5", req, errs)
	}
	w.Advance(165) // seconds <= 105 expire
	if got := w.Requests(); got != 24 {
		t.Fatalf("after Advance(165) Requests = %d, want 24", got)
	}
	if req, _ := w.At(105); req != 0 {
		t.Fatalf("At(105) = %d, want 0 (expired)", req)
	}
	if req, _ := w.At(106); req != 1 {
		t.Fatalf("At(106) = %d, want 1", req)
	}
	w.Advance(1000)
	if w.Requests() != 0 || w.Errors() != 0 {
		t.Fatalf("window not empty after a long gap: %d/%d", w.Requests(), w.Errors())
	}
	w.Advance(10) // backwards: no-op
	if w.Last() != 1000 {
		t.Fatalf("Last = %d after backwards Advance", w.Last())
	}
}

func TestSaturation(t *testing.T) {
	var w Window[uint16]
	for i := 0; i < 70000; i++ {
		w.Add(5, true)
	}
	if got := w.Requests(); got != 65535 {
		t.Fatalf("Requests = %d, want saturation at 65535", got)
	}
	if got := w.Errors(); got != 65535 {
		t.Fatalf("Errors = %d, want 65535", got)
	}
}

func TestAddAllocatesNothing(t *testing.T) {
	var w Window[uint16]
	sec := int64(1)
	if n := testing.AllocsPerRun(1000, func() { sec++; w.Add(sec, false) }); n != 0 {
		t.Fatalf("Add: %v allocs, want 0", n)
	}
}

func BenchmarkAdd(b *testing.B) {
	var w Window[uint16]
	sec := int64(1_700_000_000)
	for i := 0; b.Loop(); i++ {
		if i%50 == 0 {
			sec++
		}
		w.Add(sec, i%7 == 0)
	}
}
