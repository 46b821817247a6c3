package clock

import (
	"testing"
	"time"
)

func TestFakeTickerFiresOnAdvance(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := NewFake(start)
	tk := f.NewTicker(time.Second)
	select {
	case <-tk.C():
		t.Fatal("ticker fired before Advance")
	default:
	}
	f.Advance(1500 * time.Millisecond)
	select {
	case got := <-tk.C():
		if want := start.Add(time.Second); !got.Equal(want) {
			t.Fatalf("tick at %v, want %v", got, want)
		}
	default:
		t.Fatal("ticker did not fire after Advance")
	}
	if got := f.Now(); !got.Equal(start.Add(1500 * time.Millisecond)) {
		t.Fatalf("Now() = %v", got)
	}
	tk.Stop()
	f.Advance(5 * time.Second)
	select {
	case <-tk.C():
		t.Fatal("stopped ticker fired")
	default:
	}
}
