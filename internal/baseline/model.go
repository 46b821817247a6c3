package baseline

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/vigil-sec/vigil/internal/statefile"
)

// Model accumulates closed minutes and computes Snapshots. It is owned by one
// goroutine (the engine's dispatcher) and is not safe for concurrent use; the
// Snapshots it returns are.
type Model struct {
	cfg     Config
	rolling []minute // ring of the last History minutes recorded
	head    int      // index of the oldest entry when full
	slots   [24][]slotDay
	seen    int64 // minutes recorded in total (idle ones included)
	last    int64 // index of the last minute recorded; 0 = none
	learned bool
}

// slotDay aggregates the minutes of one hour-of-day slot on one day.
type slotDay struct {
	Day     int64  `json:"day"` // Unix days
	Minutes int64  `json:"minutes"`
	Data    minute `json:"data"`
}

// New returns an empty Model (learning, if cfg.Learning > 0).
func New(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Model{cfg: cfg}
	m.rolling = make([]minute, 0, cfg.History/time.Minute)
	m.learned = cfg.Learning == 0
	return m, nil
}

// Last returns the index (Unix seconds / 60) of the last minute recorded, or
// 0 when none has been.
func (m *Model) Last() int64 { return m.last }

// Learned reports whether the learning period is over.
func (m *Model) Learned() bool { return m.learned }

// Close records a closed minute. Minutes must be closed in increasing order;
// an older or repeated minute is ignored. Silent minutes between the previous
// one and p.Minute are recorded as idle when the gap is at most MaxGap, and
// treated as missing data otherwise.
func (m *Model) Close(p *Partial) {
	if m.last != 0 && p.Minute <= m.last {
		return
	}
	if m.last != 0 {
		gap := p.Minute - m.last - 1
		if gap > 0 && time.Duration(gap)*time.Minute <= m.cfg.MaxGap {
			for i := m.last + 1; i < p.Minute; i++ {
				idle := Partial{Minute: i}
				m.record(fromPartial(&idle))
			}
		}
	}
	m.record(fromPartial(p))
}

func (m *Model) record(mn minute) {
	if len(m.rolling) < cap(m.rolling) {
		m.rolling = append(m.rolling, mn)
	} else {
		m.rolling[m.head] = mn
		m.head = (m.head + 1) % len(m.rolling)
	}
	sec := mn.Index * 60
	hour := (sec / 3600) % 24
	day := sec / 86400
	days := m.slots[hour]
	found := false
	for i := range days {
		if days[i].Day == day {
			days[i].Minutes++
			days[i].Data.add(&mn)
			found = true
			break
		}
	}
	if !found {
		sd := slotDay{Day: day, Minutes: 1, Data: mn}
		if len(days) < m.cfg.SlotDays {
			days = append(days, sd)
		} else {
			oldest := 0
			for i := range days {
				if days[i].Day < days[oldest].Day {
					oldest = i
				}
			}
			days[oldest] = sd
		}
		m.slots[hour] = days
	}
	m.seen++
	m.last = mn.Index
	if !m.learned && time.Duration(m.seen)*time.Minute >= m.cfg.Learning {
		m.learned = true
	}
}

// Snapshot computes the baseline in effect at time at: the hour-of-day slot of
// at when it holds at least SlotMinimum of data from the last SlotDays days,
// else the rolling history; floors applied.
func (m *Model) Snapshot(at time.Time) *Snapshot {
	at = at.UTC()
	s := &Snapshot{At: at, Learning: !m.learned, Minutes: m.seen}
	var data minute
	source := "rolling"
	var slotMinutes int64
	var slot minute
	today := at.Unix() / 86400
	for _, d := range m.slots[at.Hour()] {
		if today-d.Day < int64(m.cfg.SlotDays) {
			slotMinutes += d.Minutes
			slot.add(&d.Data)
		}
	}
	if time.Duration(slotMinutes)*time.Minute >= m.cfg.SlotMinimum {
		data, source = slot, "hour_slot"
	} else {
		for i := range m.rolling {
			data.add(&m.rolling[i])
		}
	}
	f := m.cfg.Floors
	errRate := 0.0
	if data.Req > 0 {
		errRate = float64(data.Err) / float64(data.Req)
	}
	errRate = max(errRate, f.ErrorRate)
	s.Global = stats(data.Second, source, f.GlobalMean, f.GlobalStddev, errRate)
	s.Client = stats(data.Client, source, f.ClientMean, f.ClientStddev, errRate)
	return s
}

func stats(a agg, source string, floorMean, floorStd, errRate float64) Stats {
	mean, std := a.meanStd()
	st := Stats{Mean: mean, Stddev: std, ErrorRate: errRate, Samples: a.N, Source: source}
	if a.N == 0 || mean < floorMean {
		st.Mean = floorMean
		st.Source = "floor"
	}
	if std < floorStd {
		st.Stddev = floorStd
	}
	return st
}

// Floor returns the snapshot in effect before any data: the floors, and
// learning unless learning is disabled.
func (m *Model) Floor(at time.Time) *Snapshot {
	return (&Model{cfg: m.cfg, learned: m.learned, seen: m.seen}).Snapshot(at)
}

// persisted is the on-disk form of a Model.
type persisted struct {
	Version int             `json:"version"`
	Learned bool            `json:"learned"`
	Seen    int64           `json:"minutes_seen"`
	Last    int64           `json:"last_minute"`
	Rolling []minute        `json:"rolling"`
	Slots   [24][]slotDay   `json:"slots"`
	Config  persistedConfig `json:"config"`
}

type persistedConfig struct {
	History string `json:"history"`
}

const persistVersion = 1

// Save writes the model as JSON to w.
func (m *Model) Save(w io.Writer) error {
	p := persisted{Version: persistVersion, Learned: m.learned, Seen: m.seen, Last: m.last, Slots: m.slots,
		Config: persistedConfig{History: m.cfg.History.String()}}
	// oldest first
	if len(m.rolling) == cap(m.rolling) {
		p.Rolling = append(append(p.Rolling, m.rolling[m.head:]...), m.rolling[:m.head]...)
	} else {
		p.Rolling = append(p.Rolling, m.rolling...)
	}
	enc := json.NewEncoder(w)
	return enc.Encode(&p)
}

// Load replaces the model's data with a saved one. Rolling history beyond the
// configured length keeps only the newest minutes.
func (m *Model) Load(r io.Reader) error {
	var p persisted
	if err := json.NewDecoder(r).Decode(&p); err != nil {
		return fmt.Errorf("decode baseline: %w", err)
	}
	if p.Version != persistVersion {
		return fmt.Errorf("decode baseline: unsupported version %d", p.Version)
	}
	fresh, _ := New(m.cfg)
	*m = *fresh
	keep := p.Rolling
	if n := cap(m.rolling); len(keep) > n {
		keep = keep[len(keep)-n:]
	}
	m.rolling = append(m.rolling, keep...)
	if len(m.rolling) == cap(m.rolling) {
		m.head = 0
	}
	for h := range p.Slots {
		days := p.Slots[h]
		if len(days) > m.cfg.SlotDays {
			days = days[len(days)-m.cfg.SlotDays:]
		}
		m.slots[h] = days
	}
	m.seen, m.last = p.Seen, p.Last
	m.learned = p.Learned || m.cfg.Learning == 0 || time.Duration(m.seen)*time.Minute >= m.cfg.Learning
	return nil
}

// SaveFile writes the model atomically to path (mode 0600).
func (m *Model) SaveFile(path string) error {
	var b jsonBuffer
	if err := m.Save(&b); err != nil {
		return err
	}
	return statefile.Write(path, b, 0o600)
}

// LoadFile loads a model saved with SaveFile. A missing file returns an error
// that matches os.ErrNotExist.
func (m *Model) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open baseline: %w", err)
	}
	defer f.Close()
	if err := m.Load(f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

type jsonBuffer []byte

func (b *jsonBuffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }
