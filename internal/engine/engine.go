// Package engine is vigil's detection core. It reads raw log lines, parses
// them, attributes each request to a client, and runs the detectors with
// event time driving every window and baseline, so a replayed log gives
// exactly the decisions live mode would give.
//
// Inside, one dispatcher goroutine parses lines, keeps the global window and
// the baseline model, and hands each event to the shard that owns its client
// (by address hash). Each shard goroutine owns its clients' state outright: no
// locks on the per-line path. A merger puts the shards' findings back into log
// order before handing them to the Handler, so results are identical whatever
// the number of shards. Once a minute of event time the dispatcher collects
// the shards' contributions to the baseline; the recomputed baseline takes
// effect one minute later, so shards never wait for each other.
package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/internal/baseline"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/ident"
	"github.com/vigil-sec/vigil/internal/parse"
	"github.com/vigil-sec/vigil/internal/source"
)

// Config holds the engine settings (YAML section "engine").
type Config struct {
	// Shards is the number of shard goroutines; 0 means GOMAXPROCS.
	Shards int `koanf:"shards"`
	// MaxClients caps the tracked clients (across shards). At the cap the
	// least recently seen client is evicted (counted).
	MaxClients int `koanf:"max_clients"`
	// IdleTimeout forgets a client not seen for this long (event time). It
	// must cover the longest detector window.
	IdleTimeout time.Duration `koanf:"idle_timeout"`
	// MaxFuture (live mode) clamps event times more than this ahead of the
	// wall clock to the wall clock.
	MaxFuture time.Duration `koanf:"max_future"`
	// IdleDelay (live mode) is how far behind the wall clock idle seconds
	// are closed when no lines arrive.
	IdleDelay time.Duration `koanf:"idle_delay"`
}

// DefaultConfig returns the default engine settings.
func DefaultConfig() Config {
	return Config{MaxClients: 1_000_000, IdleTimeout: 15 * time.Minute, MaxFuture: 5 * time.Second,
		IdleDelay: 2 * time.Second}
}

// Validate reports every invalid setting; messages start with the key.
func (c Config) Validate() error {
	var errs []error
	if c.Shards < 0 || c.Shards > 1024 {
		errs = append(errs, fmt.Errorf("shards: must be between 0 and 1024 (got %d)", c.Shards))
	}
	if c.MaxClients < 1 || c.MaxClients > 100_000_000 {
		errs = append(errs, fmt.Errorf("max_clients: must be between 1 and 100000000 (got %d)", c.MaxClients))
	}
	if c.IdleTimeout < time.Minute {
		errs = append(errs, fmt.Errorf("idle_timeout: must be >= 1m (got %s)", c.IdleTimeout))
	}
	if c.MaxFuture < 0 {
		errs = append(errs, fmt.Errorf("max_future: must be >= 0 (got %s)", c.MaxFuture))
	}
	if c.IdleDelay < 0 || c.IdleDelay > time.Minute {
		errs = append(errs, fmt.Errorf("idle_delay: must be between 0 and 1m (got %s)", c.IdleDelay))
	}
	return errors.Join(errs...)
}

// Handler receives the engine's output in log order, from one goroutine.
type Handler interface {
	// Finding is called for every finding, in log order. f is owned by the
	// handler afterwards.
	Finding(f *detect.Finding)
	// Advance tells the handler that event time has reached now: every
	// finding up to now has been delivered.
	Advance(now time.Time)
}

// Committer is told the source position up to which every line has been
// processed (findings delivered), for checkpointing.
type Committer interface {
	Commit(pos source.Position)
}

// Options holds the engine's dependencies and the settings of the stages it
// runs.
type Options struct {
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Registerer receives the engine's metrics; nil registers nowhere.
	Registerer prometheus.Registerer
	// Clock is the wall clock used in live mode; nil means clock.Real.
	Clock clock.Clock
	// Live enables the wall-clock ticker that closes idle seconds, lag
	// measurement and clamping of future timestamps.
	Live bool
	// Parse configures the log parser.
	Parse parse.Config
	// Detect configures the detectors.
	Detect detect.Config
	// Content returns a new content inspector (one per shard); nil disables
	// content detection.
	Content func() (detect.Inspector, error)
	// ContentModes gives the content detectors' modes by name.
	ContentModes map[string]detect.Mode
	// Baseline is the learned model; the engine owns it while running. Nil
	// means a fresh model with baseline.DefaultConfig().
	Baseline *baseline.Model
	// BaselinePath, when set, is where the model is saved after every update
	// (live mode) and at the end of the run.
	BaselinePath string
	// Resolver attributes requests to clients (trusted proxies); nil trusts
	// no proxy.
	Resolver *ident.Resolver
	// Committer, when set, is told which source positions are fully processed.
	Committer Committer
}

// Engine runs the detection pipeline. Build it with New and run it once with
// Run.
type Engine struct {
	cfg     Config
	o       Options
	log     *slog.Logger
	shards  int
	metrics *metrics
	parsers []*parse.Parser
	sets    []*detect.Set
	stats   Stats
	snap    atomic.Pointer[Snapshot]
	reloads chan *reload
	stopped chan struct{} // closed when the dispatcher has stopped
	beat    atomic.Int64  // wall time (Unix ns) of the dispatcher's last loop turn
}

// Alive reports whether the dispatcher turned its loop within the last
// within of wall time (live mode turns at least once a second), for the
// systemd watchdog.
func (e *Engine) Alive(within time.Duration) bool {
	return e.o.Clock.Now().UnixNano()-e.beat.Load() <= int64(within)
}

// reload carries new detector settings to the dispatcher.
type reload struct {
	sets     []*detect.Set
	global   detect.GlobalConfig
	resolver *ident.Resolver
	done     chan struct{} // closed once installed
}

// Reload replaces the detectors' settings, the content detectors and the
// trusted-proxy resolver while Run is running; they take effect from the next
// chunk of input on, in every shard at the same line. Per-client state
// (windows, scores) is kept. It validates everything first and changes
// nothing on error. It returns once the dispatcher has installed the new
// settings, so they apply to all input it reads afterwards (or at once, with
// ErrStopped, when Run is not running). Safe to call from any goroutine.
func (e *Engine) Reload(cfg detect.Config, content func() (detect.Inspector, error), modes map[string]detect.Mode,
	resolver *ident.Resolver) error {
	sets, err := buildSets(e.shards, cfg, content, modes)
	if err != nil {
		return err
	}
	if resolver == nil {
		resolver = ident.NewResolver(nil)
	}
	r := &reload{sets: sets, global: cfg.Global, resolver: resolver, done: make(chan struct{})}
	select {
	case e.reloads <- r:
	case <-e.stopped:
		return ErrStopped
	}
	select {
	case <-r.done:
		return nil
	case <-e.stopped:
		return ErrStopped
	}
}

// ErrStopped is returned by Reload when the engine is not running.
var ErrStopped = errors.New("engine is not running")

func buildSets(n int, cfg detect.Config, content func() (detect.Inspector, error), modes map[string]detect.Mode) ([]*detect.Set, error) {
	var sets []*detect.Set
	for range n {
		var insp detect.Inspector
		if content != nil {
			var err error
			if insp, err = content(); err != nil {
				return nil, fmt.Errorf("content detectors: %w", err)
			}
		}
		s, err := detect.New(cfg, detect.Options{Content: insp, ContentModes: modes})
		if err != nil {
			return nil, fmt.Errorf("detectors: %w", err)
		}
		sets = append(sets, s)
	}
	return sets, nil
}

// New validates the configuration and builds an engine.
func New(cfg Config, o Options) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Resolver == nil {
		o.Resolver = ident.NewResolver(nil)
	}
	if o.Baseline == nil {
		m, err := baseline.New(baseline.DefaultConfig())
		if err != nil {
			return nil, err
		}
		o.Baseline = m
	}
	e := &Engine{cfg: cfg, o: o, log: o.Logger.With("component", "engine")}
	e.shards = cfg.Shards
	if e.shards == 0 {
		e.shards = runtime.GOMAXPROCS(0)
	}
	p, err := parse.New(o.Parse)
	if err != nil {
		return nil, fmt.Errorf("parser: %w", err)
	}
	e.parsers = append(e.parsers, p)
	if e.sets, err = buildSets(e.shards, o.Detect, o.Content, o.ContentModes); err != nil {
		return nil, err
	}
	e.reloads = make(chan *reload)
	e.stopped = make(chan struct{})
	e.metrics = newMetrics(o.Registerer)
	return e, nil
}

// Shards returns the number of shards the engine runs.
func (e *Engine) Shards() int { return e.shards }

// Stats counts what the engine did. Read it after Run returns.
type Stats struct {
	// Lines is every line read (including rejected and skipped ones).
	Lines uint64
	// Events is the number of lines parsed and attributed to a client.
	Events uint64
	// Rejected counts rejected lines by reason (parse reasons, plus
	// "no_client" when trusted-proxy resolution found no client).
	Rejected map[string]uint64
	// Truncated counts events with a field cut to the field limit.
	Truncated uint64
	// Late counts events older than the event clock (counted at the clock).
	Late uint64
	// Future counts events whose time was ahead of the wall clock (live).
	Future uint64
	// Findings counts findings by detector.
	Findings map[string]uint64
	// Evicted counts clients evicted at the cap.
	Evicted uint64
	// First and Last are the first and last event times.
	First, Last time.Time
	// Baseline is the baseline in effect at the end.
	Baseline *baseline.Snapshot
	// Alerts is the global alert history.
	Alerts detect.AlertStats
}

// Stats returns what the engine counted. Call it after Run has returned.
func (e *Engine) Stats() Stats { return e.stats }
