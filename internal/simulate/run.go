package simulate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/vigil-sec/vigil/internal/clock"
)

// Run's output buffer: one large write per megabyte keeps system calls rare.
// A line is at most a few kilobytes, so the buffer is written out once it
// is within runSlack of full.
const (
	runBuffer = 1 << 20
	runSlack  = 16 << 10
)

// liveTick is how often RunLive wakes up to write the lines that have come
// due and flush them: well under the 100 ms within which a tailer should see
// a line.
const liveTick = 50 * time.Millisecond

// Run writes g's records to w in the given format as fast as possible until
// the generator is exhausted (Config.Duration or Config.Lines) or ctx is
// cancelled, and returns the number of lines written. Cancellation is not an
// error: Run writes what it has generated and returns nil.
func Run(ctx context.Context, g *Generator, w io.Writer, format string) (int64, error) {
	appendLine, err := AppenderFor(format)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 0, runBuffer)
	var rec Record
	var n, pending int64
	for g.Next(&rec) {
		buf = appendLine(buf, &rec)
		pending++
		if len(buf) < runBuffer-runSlack {
			continue
		}
		if _, err := w.Write(buf); err != nil {
			return n, fmt.Errorf("write simulated log: %w", err)
		}
		n += pending
		buf, pending = buf[:0], 0
		if ctx.Err() != nil {
			return n, nil
		}
	}
	if len(buf) > 0 {
		if _, err := w.Write(buf); err != nil {
			return n, fmt.Errorf("write simulated log: %w", err)
		}
		n += pending
	}
	return n, nil
}

// RunLive appends g's records to the file at path (created if missing,
// opened for appending) as their event times come due on clk, writing and
// flushing the due lines every 50 ms, so that a tailer sees each line
// promptly. g should start at clk.Now() (Config.Start), so attack offsets
// count from the moment the command started. When an attack starts or ends,
// RunLive writes one line about it to narrate, e.g.
// "attack scanner started from 198.51.100.23 (4 req/s until 10:06:05)".
//
// RunLive returns nil when the generator is exhausted (Config.Duration) or
// ctx is cancelled, and an error if the file cannot be opened or written.
func RunLive(ctx context.Context, g *Generator, clk clock.Clock, path string, format string, narrate io.Writer) (err error) {
	appendLine, err := AppenderFor(format)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open simulated log: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close simulated log: %w", cerr)
		}
	}()
	if narrate == nil {
		narrate = io.Discard
	}
	notes := attackNotes(g.Attacks())

	tick := clk.NewTicker(liveTick)
	defer tick.Stop()
	buf := make([]byte, 0, 64<<10)
	var rec Record
	have := false // rec holds a record not yet due
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C():
		}
		now := clk.Now()
		exhausted := false
		for {
			if !have {
				if !g.Next(&rec) {
					exhausted = true
					break
				}
				have = true
			}
			if rec.Time.After(now) {
				break
			}
			for len(notes) > 0 && !notes[0].at.After(rec.Time) {
				fmt.Fprintln(narrate, notes[0].text)
				notes = notes[1:]
			}
			buf = appendLine(buf, &rec)
			have = false
			if len(buf) >= cap(buf)-runSlack {
				if _, err := f.Write(buf); err != nil {
					return fmt.Errorf("write simulated log: %w", err)
				}
				buf = buf[:0]
			}
		}
		for len(notes) > 0 && !notes[0].at.After(now) {
			fmt.Fprintln(narrate, notes[0].text)
			notes = notes[1:]
		}
		if len(buf) > 0 {
			if _, err := f.Write(buf); err != nil {
				return fmt.Errorf("write simulated log: %w", err)
			}
			buf = buf[:0]
		}
		if exhausted {
			return nil
		}
	}
}

type note struct {
	at   time.Time
	text string
}

// attackNotes returns the narration lines for the attacks' starts and ends,
// in time order.
func attackNotes(attacks []AttackInfo) []note {
	var notes []note
	for _, a := range attacks {
		from := a.Addrs[0].String()
		if len(a.Addrs) > 1 {
			from = fmt.Sprintf("%d addresses (%s, %s, ...)", len(a.Addrs), a.Addrs[0], a.Addrs[1])
		}
		notes = append(notes,
			note{a.From, fmt.Sprintf("attack %s started from %s (%.3g req/s until %s)",
				a.Attack.Kind, from, a.Attack.Rate, a.Until.Format(time.TimeOnly))},
			note{a.Until, fmt.Sprintf("attack %s from %s ended", a.Attack.Kind, from)})
	}
	sort.SliceStable(notes, func(i, j int) bool { return notes[i].at.Before(notes[j].at) })
	return notes
}

// WriteLabels writes one JSON line per label to w:
// {"ip":"198.51.100.23","kind":"scanner","start":"2026-01-05T00:02:00Z","end":"2026-01-05T00:04:00Z"}.
func WriteLabels(w io.Writer, labels []Label) error {
	enc := json.NewEncoder(w)
	for _, l := range labels {
		if err := enc.Encode(l); err != nil {
			return fmt.Errorf("write labels: %w", err)
		}
	}
	return nil
}
