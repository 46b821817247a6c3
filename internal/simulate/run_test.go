package simulate

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigil-sec/vigil/internal/clock"
)

// dueLines returns the JSON lines a generator for cfg produces with event
// times up to and including t.
func dueLines(t *testing.T, cfg Config, until time.Time) [][]byte {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	var r Record
	for g.Next(&r) && !r.Time.After(until) {
		out = append(out, WriteJSON(nil, &r))
	}
	return out
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))[:bytes.Count(b, []byte("\n"))]
}

func TestRunLive(t *testing.T) {
	defer goleak.VerifyNone(t)
	start := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	cfg := DefaultConfig()
	cfg.Start = clk.Now()
	cfg.Attacks = []Attack{{Kind: KindScanner, Start: 2 * time.Second, Duration: 3 * time.Second, Rate: 5}}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "access.json")
	existing := []byte("{\"kept\":true}\n")
	if err := os.WriteFile(path, existing, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var narration bytes.Buffer // written by RunLive, read only after it returns
	errc := make(chan error, 1)
	go func() { errc <- RunLive(ctx, g, clk, path, FormatJSON, &narration) }()

	// Move the clock in ticks. After each, every line due by then must
	// reach the file (flushed) without the clock moving again, and no line
	// from the future may appear.
	for range 6 * time.Second / liveTick {
		clk.Advance(liveTick)
		now := clk.Now()
		want := dueLines(t, cfg, now)
		deadline := time.Now().Add(200 * time.Millisecond)
		for len(readLines(t, path)) < 1+len(want) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	now := clk.Now()
	want := dueLines(t, cfg, now)
	waitFor(t, "the due lines to be flushed", func() bool { return len(readLines(t, path)) >= 1+len(want) })
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("RunLive: %v", err)
	}

	got := readLines(t, path)
	if !bytes.Equal(got[0], existing) {
		t.Fatalf("existing content overwritten: first line %q", got[0])
	}
	got = got[1:]
	if len(got) != len(want) || len(want) < 200 {
		t.Fatalf("%d lines written, want %d (all lines due by %s)", len(got), len(want), now.Format(time.TimeOnly))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("line %d:\n got %s\nwant %s", i, got[i], want[i])
		}
		l, err := decodeStrict(got[i])
		if err != nil {
			t.Fatal(err)
		}
		at, err := time.Parse(time.RFC3339, l.Time)
		if err != nil || at.Before(start.Truncate(time.Second)) || at.After(now) {
			t.Fatalf("line time %s outside the fake clock's [%s, %s]", l.Time, start, now)
		}
	}
	attacker := g.Attacks()[0].Addrs[0].String()
	if !bytes.Contains(bytes.Join(got, nil), []byte(`"remote_addr":"`+attacker+`"`)) {
		t.Errorf("no line from the scanner %s", attacker)
	}
	for _, w := range []string{"attack scanner started from " + attacker, "attack scanner from " + attacker + " ended"} {
		if !strings.Contains(narration.String(), w) {
			t.Errorf("narration %q lacks %q", narration.String(), w)
		}
	}
}

func TestRunLiveStopsAfterDuration(t *testing.T) {
	defer goleak.VerifyNone(t)
	clk := clock.NewFake(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
	cfg := DefaultConfig()
	cfg.Start, cfg.Duration, cfg.Format = clk.Now(), 2*time.Second, FormatCombined
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "new", "access.log")
	if err := os.Mkdir(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- RunLive(context.Background(), g, clk, path, FormatCombined, nil) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		clk.Advance(liveTick)
		select {
		case err := <-errc:
			if err != nil {
				t.Fatalf("RunLive: %v", err)
			}
			want := len(dueLines(t, cfg, cfg.Start.Add(time.Hour)))
			if got := len(readLines(t, path)); got != want || want == 0 {
				t.Fatalf("%d lines, want %d", got, want)
			}
			for _, l := range readLines(t, path) {
				if !combinedRE.Match(bytes.TrimSuffix(l, []byte("\n"))) {
					t.Fatalf("not a combined line: %q", l)
				}
			}
			return
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("RunLive did not stop after the configured duration")
		}
	}
}

func TestRunLiveErrors(t *testing.T) {
	g, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(DefaultStart())
	missing := filepath.Join(t.TempDir(), "no", "such", "dir", "access.json")
	if err := RunLive(context.Background(), g, clk, missing, FormatJSON, nil); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("RunLive into a missing directory: %v, want a not-exist error", err)
	}
	if err := RunLive(context.Background(), g, clk, filepath.Join(t.TempDir(), "x"), "xml", nil); err == nil {
		t.Error("RunLive accepted an unknown format")
	}
}

func TestRunCancelled(t *testing.T) {
	g, err := New(DefaultConfig()) // unbounded
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var buf bytes.Buffer
	n, err := Run(ctx, g, &buf, FormatJSON)
	if err != nil || n == 0 || int64(bytes.Count(buf.Bytes(), []byte("\n"))) != n {
		t.Fatalf("Run with a cancelled context = %d, %v (%d lines written); want it to stop after one buffer", n, err, bytes.Count(buf.Bytes(), []byte("\n")))
	}
}

type failingWriter struct{}

var errDiskFull = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestRunWriteError(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Lines = 10
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), g, failingWriter{}, FormatJSON); !errors.Is(err, errDiskFull) {
		t.Fatalf("Run = %v, want the write error", err)
	}
}
