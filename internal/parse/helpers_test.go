package parse

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// eventOpts compares Events: addresses by value, nil and empty slices alike.
var eventOpts = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmpopts.EquateEmpty(),
}

func mustNew(t testing.TB, cfg Config) *Parser {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func combinedConfig() Config {
	c := DefaultConfig()
	c.Format = FormatCombined
	return c
}

// describe renders a parse result as one line of text for golden files and
// failure messages. Long values are shortened to a prefix and their length.
func describe(ev *Event, err error) string {
	if err != nil {
		return "error " + err.(*Error).Reason
	}
	q := func(b []byte) string {
		if len(b) > 60 {
			return fmt.Sprintf("%q…(%d bytes)", b[:60], len(b))
		}
		return fmt.Sprintf("%q", b)
	}
	var s strings.Builder
	fmt.Fprintf(&s, "time=%s remote=%s", ev.Time.Format("2006-01-02T15:04:05.999999999Z07:00"), ev.Remote)
	if ev.Client != ev.Remote {
		fmt.Fprintf(&s, " client=%s", ev.Client)
	}
	fmt.Fprintf(&s, " method=%s host=%s path=%s query=%s status=%d bytes=%d ua=%s referer=%s xff=%s rt=%s",
		q(ev.Method), q(ev.Host), q(ev.Path), q(ev.Query), ev.Status, ev.Bytes,
		q(ev.UserAgent), q(ev.Referer), q(ev.ForwardedFor), ev.RequestTime)
	if ev.Truncated {
		s.WriteString(" truncated")
	}
	return s.String()
}

// checkInvariants checks what must hold for every accepted line: fields
// within MaxField, and every byte slice aliasing the line or the Parser's
// scratch buffer (never fresh memory).
func checkInvariants(t testing.TB, p *Parser, line []byte, ev *Event) {
	t.Helper()
	fields := []struct {
		name string
		b    []byte
	}{
		{"Method", ev.Method}, {"Host", ev.Host}, {"Path", ev.Path}, {"Query", ev.Query},
		{"UserAgent", ev.UserAgent}, {"Referer", ev.Referer}, {"ForwardedFor", ev.ForwardedFor},
	}
	for _, f := range fields {
		if len(f.b) > p.maxField {
			t.Errorf("%s: %d bytes, over MaxField %d", f.name, len(f.b), p.maxField)
		}
		if len(f.b) > 0 && !within(f.b, line) && !within(f.b, p.scratch[:cap(p.scratch)]) {
			t.Errorf("%s aliases neither the line nor the scratch buffer", f.name)
		}
	}
	if !ev.Remote.IsValid() || ev.Client != ev.Remote || ev.Remote.Is4In6() || ev.Remote.Zone() != "" {
		t.Errorf("Remote %v / Client %v: want a valid, unmapped, zone-less address in both", ev.Remote, ev.Client)
	}
	if ev.Time.IsZero() {
		t.Error("Time is zero on an accepted line")
	}
	if ev.Status > 999 || ev.Bytes < 0 || ev.RequestTime < 0 {
		t.Errorf("numbers out of range: status %d bytes %d request time %v", ev.Status, ev.Bytes, ev.RequestTime)
	}
}

// within reports whether sub lies inside buf's memory.
func within(sub, buf []byte) bool {
	if len(buf) == 0 {
		return false
	}
	s := uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
	b := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	return s >= b && s+uintptr(len(sub)) <= b+uintptr(len(buf))
}
