// Package enforce makes the respond stage's decisions real: it records each
// decision in the audit log, applies bans and unbans to the kernel firewall,
// takes firewall snapshots and hands decisions to notifications. It also
// reconciles the firewall with the ban ledger, at start (restoring every
// active ban in bulk) and periodically (repairing drift, such as a rule
// deleted by hand).
//
// Decide never blocks the detection path: firewall work is queued, and if
// the queue overflows the decision is still in the durable ledger, so the
// next reconciliation (scheduled at once) applies it.
package enforce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/firewall"
	"github.com/vigil-sec/vigil/internal/respond"
)

// Firewall is what enforcement needs from a firewall backend.
type Firewall interface {
	Setup(ctx context.Context) error
	Block(ctx context.Context, bans []firewall.Ban) error
	Unblock(ctx context.Context, prefixes []netip.Prefix) error
	Sync(ctx context.Context, want []firewall.Ban) (firewall.SyncResult, error)
}

// Teardowner is the optional capability of removing everything vigil
// created in the kernel (firewall.remove_on_stop).
type Teardowner interface {
	Teardown(ctx context.Context) error
}

// Auditor records decisions and other events durably.
type Auditor interface {
	Decision(d *respond.Decision) error
	Event(kind string, fields map[string]any) error
}

// Snapshotter writes a copy of the firewall state after changes.
type Snapshotter interface {
	Take(ctx context.Context, reason string) (string, error)
}

// Notifier sends decisions to people; Notify must not block.
type Notifier interface {
	Notify(d *respond.Decision)
}

// Ledger lists the bans that should be in the firewall.
type Ledger interface {
	Enforced(now time.Time) []respond.Target
}

// Config holds the enforcement settings.
type Config struct {
	// ReconcileInterval is how often the kernel is checked against the ledger.
	ReconcileInterval time.Duration
	// RemoveOnStop tears down vigil's chains and sets when vigil stops.
	RemoveOnStop bool
	// QueueSize bounds the firewall work queue.
	QueueSize int
}

// Options holds the dependencies. Nil Audit, Snapshots and Notify are skipped.
type Options struct {
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Clock      clock.Clock
	Firewall   Firewall
	Ledger     Ledger
	Audit      Auditor
	Snapshots  Snapshotter
	Notify     Notifier
}

// job is one decision queued for the firewall.
type job struct {
	d      *respond.Decision
	queued time.Time
}

// Enforcer applies decisions. Decide is safe for concurrent use; Run must be
// called once.
type Enforcer struct {
	cfg   Config
	o     Options
	log   *slog.Logger
	m     *metrics
	queue chan job
	kick  chan struct{} // reconcile as soon as possible

	mu    sync.Mutex // guards ready
	ready bool
}

// New returns an Enforcer.
func New(cfg Config, o Options) (*Enforcer, error) {
	if o.Firewall == nil || o.Ledger == nil {
		return nil, errors.New("enforce: firewall and ledger are required")
	}
	if cfg.ReconcileInterval <= 0 {
		cfg.ReconcileInterval = 30 * time.Second
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 10000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	e := &Enforcer{cfg: cfg, o: o, log: o.Logger.With("component", "enforce"),
		queue: make(chan job, cfg.QueueSize), kick: make(chan struct{}, 1)}
	e.m = newMetrics(o.Registerer)
	return e, nil
}

// Decide implements respond.Sink: it audits the decision, notifies, and
// queues the firewall change. It never blocks on the firewall.
func (e *Enforcer) Decide(d *respond.Decision) {
	if e.o.Audit != nil {
		if err := e.o.Audit.Decision(d); err != nil {
			e.log.Error("audit decision", "err", err)
		}
	}
	if e.o.Notify != nil && !d.Shadow {
		e.o.Notify.Notify(d)
	}
	if d.Shadow || (d.Action != respond.ActionBan && d.Action != respond.ActionUnban) {
		return
	}
	select {
	case e.queue <- job{d: d, queued: e.o.Clock.Now()}:
	default:
		e.m.overflow.Inc()
		e.log.Warn("firewall queue full: reconciling instead", "client_ip", d.IP(), "action", string(d.Action))
		e.Kick()
	}
}

// Kick asks for a reconciliation as soon as possible.
func (e *Enforcer) Kick() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// Ready reports whether the initial reconciliation has completed.
func (e *Enforcer) Ready() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ready
}

// maxBatch bounds how many queued decisions are applied in one firewall call.
const maxBatch = 1024

// Run sets the firewall up, restores every active ban, then applies queued
// decisions and reconciles every ReconcileInterval until ctx is done. A
// failing initial setup is returned as an error; later failures are logged,
// counted and retried.
func (e *Enforcer) Run(ctx context.Context) error {
	start := e.o.Clock.Now()
	if err := e.o.Firewall.Setup(ctx); err != nil {
		return fmt.Errorf("firewall setup: %w", err)
	}
	setup := e.o.Clock.Now()
	res, err := e.reconcile(ctx, "start")
	if err != nil {
		return fmt.Errorf("restore bans: %w", err)
	}
	e.log.Info("firewall ready", "restored", res.Added, "removed_stale", res.Removed,
		"took", e.o.Clock.Now().Sub(start).String(), "setup", setup.Sub(start).String())
	e.mu.Lock()
	e.ready = true
	e.mu.Unlock()

	t := e.o.Clock.NewTicker(e.cfg.ReconcileInterval)
	defer t.Stop()
	batch := make([]job, 0, maxBatch)
	for {
		select {
		case <-ctx.Done():
			e.drain(batch)
			return nil
		case j := <-e.queue:
			batch = e.fill(append(batch[:0], j))
			e.apply(ctx, batch)
		case <-t.C():
			e.reconcile(ctx, "periodic") //nolint:errcheck // logged and counted inside
		case <-e.kick:
			e.reconcile(ctx, "requested") //nolint:errcheck // logged and counted inside
		}
	}
}

// fill adds what is queued to batch, up to maxBatch, without waiting.
func (e *Enforcer) fill(batch []job) []job {
	for len(batch) < maxBatch {
		select {
		case j := <-e.queue:
			batch = append(batch, j)
		default:
			return batch
		}
	}
	return batch
}

// drain applies what is still queued at shutdown (bounded by a short
// deadline) and tears down if configured.
func (e *Enforcer) drain(batch []job) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		if batch = e.fill(batch[:0]); len(batch) == 0 {
			break
		}
		e.apply(ctx, batch)
	}
	if e.cfg.RemoveOnStop {
		if td, ok := e.o.Firewall.(Teardowner); ok {
			if err := td.Teardown(ctx); err != nil {
				e.log.Error("firewall teardown", "err", err)
			} else {
				e.log.Info("firewall rules removed (firewall.remove_on_stop)")
			}
		}
	}
}

// apply performs a batch of bans and unbans in order, collapsing each run of
// the same action into one firewall call.
func (e *Enforcer) apply(ctx context.Context, batch []job) {
	now := e.o.Clock.Now()
	var bans []firewall.Ban
	var unbans []netip.Prefix
	flush := func() {
		if len(bans) > 0 {
			if err := e.o.Firewall.Block(ctx, bans); err != nil {
				e.fail("block", err, len(bans))
			}
			bans = bans[:0]
		}
		if len(unbans) > 0 {
			if err := e.o.Firewall.Unblock(ctx, unbans); err != nil {
				e.fail("unblock", err, len(unbans))
			}
			unbans = unbans[:0]
		}
	}
	reason := ""
	for _, j := range batch {
		d := j.d
		switch d.Action {
		case respond.ActionBan:
			if len(unbans) > 0 {
				flush()
			}
			var timeout time.Duration
			if !d.Permanent {
				timeout = d.Until.Sub(d.Time)
				if !d.Manual {
					// The ban started at event time; in live mode that is now.
					timeout = max(time.Second, d.Until.Sub(now))
				}
			}
			bans = append(bans, firewall.Ban{Prefix: d.Target, Timeout: timeout})
		case respond.ActionUnban:
			if len(bans) > 0 {
				flush()
			}
			unbans = append(unbans, d.Target)
		}
		if reason == "" || reason == string(d.Action) {
			reason = string(d.Action)
		} else {
			reason = "batch"
		}
	}
	flush()
	done := e.o.Clock.Now()
	for _, j := range batch {
		e.m.latency.WithLabelValues(string(j.d.Action)).Observe(done.Sub(j.queued).Seconds())
	}
	e.m.applied.Add(float64(len(batch)))
	if e.o.Snapshots != nil {
		if _, err := e.o.Snapshots.Take(ctx, reason); err != nil {
			e.log.Warn("firewall snapshot", "err", err)
		}
	}
}

func (e *Enforcer) fail(op string, err error, n int) {
	e.m.errors.WithLabelValues(op).Inc()
	e.log.Error("firewall "+op+" failed; will repair at the next reconciliation", "err", err, "entries", n)
	e.Kick()
}

// Reconcile makes the kernel match the ledger now.
func (e *Enforcer) Reconcile(ctx context.Context) (firewall.SyncResult, error) {
	return e.reconcile(ctx, "requested")
}

func (e *Enforcer) reconcile(ctx context.Context, why string) (firewall.SyncResult, error) {
	now := e.o.Clock.Now()
	targets := e.o.Ledger.Enforced(now)
	want := make([]firewall.Ban, 0, len(targets))
	for _, b := range targets {
		var timeout time.Duration
		if !b.Until.IsZero() {
			timeout = b.Until.Sub(now)
		}
		want = append(want, firewall.Ban{Prefix: b.Prefix, Timeout: timeout})
	}
	e.m.runs.Inc()
	collected := e.o.Clock.Now()
	res, err := e.o.Firewall.Sync(ctx, want)
	e.log.Debug("reconciled", "why", why, "bans", len(want), "collect", collected.Sub(now).String(),
		"sync", e.o.Clock.Now().Sub(collected).String())
	if err != nil {
		e.m.reconcileErrors.Inc()
		e.log.Error("reconcile firewall with the ledger", "err", err, "why", why)
		return res, err
	}
	if why != "start" && res.Added+res.Removed > 0 {
		e.m.repairs.Add(float64(res.Added + res.Removed))
		e.log.Warn("firewall drift repaired", "added", res.Added, "removed", res.Removed, "why", why)
		if e.o.Audit != nil {
			_ = e.o.Audit.Event("reconcile", map[string]any{"added": res.Added, "removed": res.Removed, "why": why})
		}
	}
	return res, nil
}
