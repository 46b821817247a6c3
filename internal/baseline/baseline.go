// Package baseline learns what normal traffic looks like. Every minute of event
// time the engine closes, its shards contribute a Partial (per-second request
// and error counts, and per-client request counts, of clients not flagged by
// any detector); the Model folds the merged minute into a rolling history
// (default 30 minutes, idle seconds included) and into 24 hour-of-day slots,
// and recomputes a Snapshot: mean, standard deviation and error rate of the
// global per-second rate and of a normal client's requests per minute.
//
// Sums are kept as integers, so a baseline does not depend on how clients were
// spread over shards or in which order partials were merged. The Model is
// persisted in the state directory so a restart resumes enforcing.
package baseline

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"time"

	"github.com/vigil-sec/vigil/internal/window"
)

// Config holds the baseline settings (YAML section "baseline").
type Config struct {
	// History is the length of the rolling history (whole minutes).
	History time.Duration `koanf:"history"`
	// Learning is how much traffic (event time) vigil observes at first start
	// before rate-based bans are enforced. 0 disables learning mode.
	Learning time.Duration `koanf:"learning"`
	// SlotMinimum is how much traffic an hour-of-day slot must have seen
	// (summed over recent days) before it replaces the rolling baseline.
	SlotMinimum time.Duration `koanf:"slot_minimum"`
	// SlotDays is how many past days each hour-of-day slot remembers.
	SlotDays int `koanf:"slot_days"`
	// MaxGap is the longest silence in event time that counts as idle seconds;
	// a longer gap is treated as missing data (vigil was not watching).
	MaxGap time.Duration `koanf:"max_gap"`
	// Floors keep quiet periods from producing hair-trigger thresholds.
	Floors Floors `koanf:"floors"`
}

// Floors are lower bounds applied to the learned statistics.
type Floors struct {
	// GlobalMean is the lowest mean of the global rate (requests/s).
	GlobalMean float64 `koanf:"global_mean"`
	// GlobalStddev is the lowest standard deviation of the global rate
	// (requests/s).
	GlobalStddev float64 `koanf:"global_stddev"`
	// ClientMean is the lowest mean of a normal client's requests per 60 s.
	ClientMean float64 `koanf:"client_mean"`
	// ClientStddev is the lowest standard deviation of a normal client's
	// requests per 60 s.
	ClientStddev float64 `koanf:"client_stddev"`
	// ErrorRate bounds the baseline 4xx/5xx share (0..1).
	ErrorRate float64 `koanf:"error_rate"`
}

// DefaultConfig returns the default baseline settings.
func DefaultConfig() Config {
	return Config{
		History:     30 * time.Minute,
		Learning:    30 * time.Minute,
		SlotMinimum: 2 * time.Hour,
		SlotDays:    7,
		MaxGap:      30 * time.Minute,
		Floors: Floors{
			GlobalMean:   1,
			GlobalStddev: 1,
			ClientMean:   10,
			ClientStddev: 10,
			ErrorRate:    0.05,
		},
	}
}

// Validate reports every invalid setting; messages start with the key.
func (c Config) Validate() error {
	var errs []error
	if c.History < time.Minute || c.History%time.Minute != 0 {
		errs = append(errs, fmt.Errorf("history: must be a whole number of minutes >= 1m (got %s)", c.History))
	}
	if c.History > 24*time.Hour {
		errs = append(errs, fmt.Errorf("history: must be <= 24h (got %s)", c.History))
	}
	if c.Learning < 0 {
		errs = append(errs, fmt.Errorf("learning: must be >= 0 (got %s)", c.Learning))
	}
	if c.SlotMinimum < time.Minute {
		errs = append(errs, fmt.Errorf("slot_minimum: must be >= 1m (got %s)", c.SlotMinimum))
	}
	if c.SlotDays < 1 || c.SlotDays > 28 {
		errs = append(errs, fmt.Errorf("slot_days: must be between 1 and 28 (got %d)", c.SlotDays))
	}
	if c.MaxGap < time.Minute {
		errs = append(errs, fmt.Errorf("max_gap: must be >= 1m (got %s)", c.MaxGap))
	}
	f := c.Floors
	for _, v := range []struct {
		key string
		val float64
	}{{"floors.global_mean", f.GlobalMean}, {"floors.global_stddev", f.GlobalStddev}, {"floors.client_mean", f.ClientMean}, {"floors.client_stddev", f.ClientStddev}} {
		if v.val <= 0 || math.IsNaN(v.val) || math.IsInf(v.val, 0) {
			errs = append(errs, fmt.Errorf("%s: must be > 0 (got %v)", v.key, v.val))
		}
	}
	if f.ErrorRate < 0 || f.ErrorRate > 1 || math.IsNaN(f.ErrorRate) {
		errs = append(errs, fmt.Errorf("floors.error_rate: must be between 0 and 1 (got %v)", f.ErrorRate))
	}
	return errors.Join(errs...)
}

// Partial is one shard's contribution to one minute: what its clients that
// were not flagged did. Partials of the same minute merge by addition.
type Partial struct {
	// Minute is the minute's index: Unix seconds / 60.
	Minute int64
	// Req and Err are per-second request and 4xx/5xx counts, indexed by the
	// second within the minute.
	Req, Err [window.Size]uint32
	// Clients is the number of clients active in the minute; ClientReq the sum
	// of their request counts and ClientSq the sum of squares of those counts.
	Clients   uint64
	ClientReq uint64
	ClientSq  uint64
}

// AddClient records one active client's requests in the minute.
func (p *Partial) AddClient(requests uint64) {
	p.Clients++
	p.ClientReq += requests
	p.ClientSq += requests * requests
}

// Merge adds q into p. Both must describe the same minute.
func (p *Partial) Merge(q *Partial) {
	for i := range p.Req {
		p.Req[i] += q.Req[i]
		p.Err[i] += q.Err[i]
	}
	p.Clients += q.Clients
	p.ClientReq += q.ClientReq
	p.ClientSq += q.ClientSq
}

// agg is an additive aggregate of samples: count, sum and sum of squares.
type agg struct {
	N    uint64 `json:"n"`
	Sum  uint64 `json:"sum"`
	SqHi uint64 `json:"sq_hi,omitempty"`
	SqLo uint64 `json:"sq_lo"`
}

func (a *agg) addSq(v uint64) {
	var c uint64
	a.SqLo, c = bits.Add64(a.SqLo, v, 0)
	a.SqHi += c
}

func (a *agg) add(b agg) {
	a.N += b.N
	a.Sum += b.Sum
	var c uint64
	a.SqLo, c = bits.Add64(a.SqLo, b.SqLo, 0)
	a.SqHi += b.SqHi + c
}

// meanStd returns the mean and population standard deviation.
func (a agg) meanStd() (mean, std float64) {
	if a.N == 0 {
		return 0, 0
	}
	n := float64(a.N)
	mean = float64(a.Sum) / n
	sq := float64(a.SqHi)*0x1p64 + float64(a.SqLo)
	v := sq/n - mean*mean
	if v < 0 {
		v = 0
	}
	return mean, math.Sqrt(v)
}

// minute is the merged aggregate of one closed minute.
type minute struct {
	Index  int64  `json:"minute"`
	Second agg    `json:"second"` // per-second request counts (60 samples)
	Client agg    `json:"client"` // per-client request counts
	Req    uint64 `json:"req"`
	Err    uint64 `json:"err"`
}

func (m *minute) add(o *minute) {
	m.Second.add(o.Second)
	m.Client.add(o.Client)
	m.Req += o.Req
	m.Err += o.Err
}

func fromPartial(p *Partial) minute {
	m := minute{Index: p.Minute}
	for i := range p.Req {
		v := uint64(p.Req[i])
		m.Second.N++
		m.Second.Sum += v
		m.Second.addSq(v * v)
		m.Req += v
		m.Err += uint64(p.Err[i])
	}
	m.Client = agg{N: p.Clients, Sum: p.ClientReq, SqLo: p.ClientSq}
	return m
}

// Stats describes one learned distribution.
type Stats struct {
	// Mean and Stddev are the learned (floored) mean and standard deviation.
	Mean   float64 `json:"mean"`
	Stddev float64 `json:"stddev"`
	// ErrorRate is the 4xx/5xx share of requests (floored).
	ErrorRate float64 `json:"error_rate"`
	// Samples is the number of samples behind Mean and Stddev.
	Samples uint64 `json:"samples"`
	// Source is "rolling", "hour_slot" or "floor" (no data yet, or the floors
	// were above the learned values).
	Source string `json:"source"`
}

// Snapshot is the baseline in effect. It is immutable once published and safe
// to share between goroutines.
type Snapshot struct {
	// At is the event time the snapshot was computed at (a minute boundary).
	At time.Time `json:"at"`
	// Learning reports that vigil is still learning: rate-based bans are
	// suspended.
	Learning bool `json:"learning"`
	// Global describes the per-second request rate of all normal traffic.
	Global Stats `json:"global"`
	// Client describes a normal client's requests per 60 s.
	Client Stats `json:"client"`
	// Minutes is how many minutes of traffic the model has seen in total.
	Minutes int64 `json:"minutes"`
}
