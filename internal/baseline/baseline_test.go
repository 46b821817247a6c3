package baseline

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func cfgFor(t *testing.T, mut func(*Config)) Config {
	t.Helper()
	c := DefaultConfig()
	c.Floors = Floors{GlobalMean: 0.001, GlobalStddev: 0.001, ClientMean: 0.001, ClientStddev: 0.001}
	if mut != nil {
		mut(&c)
	}
	return c
}

// minuteOf fills a partial with a constant per-second rate and n clients doing per requests each.
func minuteOf(idx int64, perSec uint32, errPerSec uint32, clients []uint64) *Partial {
	p := &Partial{Minute: idx}
	for i := range p.Req {
		p.Req[i] = perSec
		p.Err[i] = errPerSec
	}
	for _, c := range clients {
		p.AddClient(c)
	}
	return p
}

const base = int64(29_000_000) // a minute index (UTC 2025-02-19)

func TestSnapshotMatchesNaiveStatistics(t *testing.T) {
	m, err := New(cfgFor(t, func(c *Config) { c.Learning = 0 }))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 7))
	var secs, clients []float64
	var req, errs float64
	for i := int64(0); i < 45; i++ { // more than History: only the last 30 count
		p := &Partial{Minute: base + i}
		for s := range p.Req {
			p.Req[s] = uint32(r.IntN(100))
			p.Err[s] = uint32(r.IntN(5))
		}
		var cl []uint64
		for c := 0; c < 20; c++ {
			cl = append(cl, uint64(r.IntN(300)))
		}
		for _, c := range cl {
			p.AddClient(c)
		}
		m.Close(p)
		if i >= 15 {
			for s := range p.Req {
				secs = append(secs, float64(p.Req[s]))
				req += float64(p.Req[s])
				errs += float64(p.Err[s])
			}
			for _, c := range cl {
				clients = append(clients, float64(c))
			}
		}
	}
	s := m.Snapshot(time.Unix((base+45)*60, 0))
	wm, ws := meanStd(secs)
	cm, cs := meanStd(clients)
	check := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9*math.Max(1, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("global mean", s.Global.Mean, wm)
	check("global stddev", s.Global.Stddev, ws)
	check("client mean", s.Client.Mean, cm)
	check("client stddev", s.Client.Stddev, cs)
	check("error rate", s.Global.ErrorRate, errs/req)
	if s.Global.Source != "rolling" || s.Global.Samples != 1800 {
		t.Errorf("source/samples = %s/%d, want rolling/1800", s.Global.Source, s.Global.Samples)
	}
	if s.Learning {
		t.Error("Learning with learning disabled")
	}
}

func meanStd(v []float64) (float64, float64) {
	var sum float64
	for _, x := range v {
		sum += x
	}
	mean := sum / float64(len(v))
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(v)))
}

func TestMergeOrderDoesNotMatter(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 9))
	parts := make([]*Partial, 5)
	for i := range parts {
		parts[i] = &Partial{Minute: base}
		for s := range parts[i].Req {
			parts[i].Req[s] = uint32(r.IntN(1000))
		}
		for c := 0; c < 100; c++ {
			parts[i].AddClient(uint64(r.IntN(5000)))
		}
	}
	a, b := &Partial{Minute: base}, &Partial{Minute: base}
	for i := range parts {
		a.Merge(parts[i])
		b.Merge(parts[len(parts)-1-i])
	}
	if *a != *b {
		t.Fatal("merging partials in a different order changed the result")
	}
}

func TestIdleGapsAndMissingData(t *testing.T) {
	m, _ := New(cfgFor(t, func(c *Config) { c.Learning = 0; c.MaxGap = 10 * time.Minute }))
	m.Close(minuteOf(base, 10, 0, nil))
	m.Close(minuteOf(base+5, 10, 0, nil)) // 4 idle minutes in between
	s := m.Snapshot(time.Unix((base+6)*60, 0))
	if s.Minutes != 6 {
		t.Fatalf("minutes seen = %d, want 6 (2 recorded + 4 idle)", s.Minutes)
	}
	if want := 10.0 * 2 / 6; math.Abs(s.Global.Mean-want) > 1e-9 {
		t.Fatalf("mean = %v, want %v (idle seconds included)", s.Global.Mean, want)
	}
	m.Close(minuteOf(base+100, 10, 0, nil)) // gap > MaxGap: missing data, not idle
	if s := m.Snapshot(time.Unix((base+101)*60, 0)); s.Minutes != 7 {
		t.Fatalf("minutes seen after a long gap = %d, want 7", s.Minutes)
	}
	m.Close(minuteOf(base+50, 99, 0, nil)) // older: ignored
	if m.Last() != base+100 {
		t.Fatalf("Last = %d, want %d", m.Last(), base+100)
	}
}

func TestLearningEndsAfterConfiguredTraffic(t *testing.T) {
	m, _ := New(cfgFor(t, func(c *Config) { c.Learning = 5 * time.Minute }))
	for i := int64(0); i < 5; i++ {
		if s := m.Snapshot(time.Unix((base+i)*60, 0)); !s.Learning {
			t.Fatalf("not learning after %d minutes", i)
		}
		m.Close(minuteOf(base+i, 1, 0, nil))
	}
	if s := m.Snapshot(time.Unix((base+5)*60, 0)); s.Learning {
		t.Fatal("still learning after 5 minutes")
	}
}

func TestHourSlotReplacesRollingOnceFull(t *testing.T) {
	m, _ := New(cfgFor(t, func(c *Config) { c.Learning = 0; c.SlotMinimum = 60 * time.Minute; c.MaxGap = 24 * time.Hour }))
	day0 := (base / 1440) * 1440 // midnight
	// Day 0, 10:00-11:00 at 100/s; 11:00-12:00 at 10/s.
	for i := int64(0); i < 120; i++ {
		rate := uint32(100)
		if i >= 60 {
			rate = 10
		}
		m.Close(minuteOf(day0+600+i, rate, 0, nil))
	}
	// Next day 09:59: slot 09 is empty -> rolling (the last 30 minutes: 10/s).
	at := time.Unix((day0+1440+599)*60, 0)
	if s := m.Snapshot(at); s.Global.Source != "rolling" || s.Global.Mean != 10 {
		t.Fatalf("09:59 next day: %+v, want rolling mean 10", s.Global)
	}
	// Next day 10:30: slot 10 holds 60 minutes at 100/s -> used.
	at = time.Unix((day0+1440+630)*60, 0)
	if s := m.Snapshot(at); s.Global.Source != "hour_slot" || s.Global.Mean != 100 {
		t.Fatalf("10:30 next day: %+v, want hour_slot mean 100", s.Global)
	}
	// Eight days later the slot data is too old.
	at = time.Unix((day0+8*1440+630)*60, 0)
	if s := m.Snapshot(at); s.Global.Source != "rolling" {
		t.Fatalf("8 days later: source %s, want rolling", s.Global.Source)
	}
}

func TestFloorsApply(t *testing.T) {
	c := DefaultConfig()
	c.Learning = 0
	m, _ := New(c)
	s := m.Snapshot(time.Unix(base*60, 0))
	if s.Global.Source != "floor" || s.Global.Mean != c.Floors.GlobalMean || s.Client.Stddev != c.Floors.ClientStddev {
		t.Fatalf("empty model snapshot = %+v", s)
	}
	m.Close(minuteOf(base, 0, 0, []uint64{1, 1, 1}))
	s = m.Snapshot(time.Unix((base+1)*60, 0))
	if s.Client.Mean != c.Floors.ClientMean || s.Client.Stddev != c.Floors.ClientStddev || s.Global.ErrorRate != c.Floors.ErrorRate {
		t.Fatalf("quiet snapshot not floored: %+v", s)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	cfg := cfgFor(t, func(c *Config) { c.Learning = 10 * time.Minute })
	m, _ := New(cfg)
	r := rand.New(rand.NewPCG(3, 4))
	for i := int64(0); i < 40; i++ {
		p := &Partial{Minute: base + i}
		for s := range p.Req {
			p.Req[s] = uint32(r.IntN(50))
		}
		p.AddClient(uint64(r.IntN(100)))
		m.Close(p)
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	m2, _ := New(cfg)
	if err := m2.Load(&buf); err != nil {
		t.Fatal(err)
	}
	at := time.Unix((base+41)*60, 0)
	a, b := m.Snapshot(at), m2.Snapshot(at)
	if *a != *b {
		t.Fatalf("snapshot after reload differs:\n%+v\n%+v", a, b)
	}
	// Both continue identically.
	next := minuteOf(base+40, 7, 1, []uint64{3})
	m.Close(next)
	m2.Close(next)
	if *m.Snapshot(at) != *m2.Snapshot(at) {
		t.Fatal("models diverge after reload")
	}
	if err := m2.Load(bytes.NewBufferString("{nope")); err == nil {
		t.Fatal("Load accepted garbage")
	}
}

func TestValidateNamesKeys(t *testing.T) {
	c := DefaultConfig()
	c.History = 90 * time.Second
	c.Floors.ClientMean = 0
	c.SlotDays = 0
	err := c.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, key := range []string{"history:", "floors.client_mean:", "slot_days:"} {
		if !bytes.Contains([]byte(err.Error()), []byte(key)) {
			t.Errorf("error %q does not name %s", err, key)
		}
	}
}
