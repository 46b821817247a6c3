// Package daemon wires vigil's stages into the long-running service behind
// `vigil run`: the live log source, the engine, the respond stage with its
// persistent ledger, enforcement (firewall, audit log, snapshots), Slack
// notifications, the HTTP API and control socket, configuration reloads and
// systemd integration. Everything it runs is supervised by one errgroup; the
// first component to fail stops the rest.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/audit"
	"github.com/vigil-sec/vigil/internal/baseline"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/enforce"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/firewall"
	"github.com/vigil-sec/vigil/internal/ident"
	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/replay"
	"github.com/vigil-sec/vigil/internal/respond"
	"github.com/vigil-sec/vigil/internal/source"
	"github.com/vigil-sec/vigil/internal/store"
)

// File names in the state directory.
const (
	LedgerFile   = "ledger.db"
	BaselineFile = replay.BaselineFile
)

// chunkQueue is how many chunks may wait between the tailer and the engine:
// the tailer applies backpressure beyond it (the file keeps the data).
const chunkQueue = 4

// Options holds what the daemon needs from its caller.
type Options struct {
	// Stderr receives the logs.
	Stderr io.Writer
	// ConfigPath is the configuration file, for messages.
	ConfigPath string
	// Load reads and validates the configuration again (on reload).
	Load func() (*config.Config, error)
	// Reload delivers reload requests (SIGHUP); nil: none.
	Reload <-chan os.Signal
	// Version is reported in metrics and the API.
	Version string
	// Clock is the wall clock; nil: clock.Real.
	Clock clock.Clock
	// Registry collects the metrics; nil: a new one.
	Registry *prometheus.Registry
	// Notify sends systemd notifications; nil: daemon.SdNotify.
	Notify func(state string) error
	// Observe, when set, also receives every decision (the demo prints
	// them). It must not block.
	Observe func(d *respond.Decision)
}

// Daemon is a configured, not yet running, vigil service.
type Daemon struct {
	cfg   *config.Config
	o     Options
	log   *slog.Logger
	level *slog.LevelVar
	reg   *prometheus.Registry
	m     *metrics

	store    *store.Store
	resp     *respond.Responder
	fw       firewall.Backend
	audit    *audit.Log
	notifier *notify.Notifier
	enforcer *enforce.Enforcer
	tail     *source.Tail
	eng      *engine.Engine
	api      *api.Server
	findings *api.FindingLog
	started  time.Time
}

// New builds every component from cfg. Nothing runs and the firewall is not
// touched until Run.
func New(cfg *config.Config, o Options) (d *Daemon, err error) {
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.Notify == nil {
		o.Notify = func(state string) error { _, err := daemon.SdNotify(false, state); return err }
	}
	d = &Daemon{cfg: cfg, o: o, level: new(slog.LevelVar), reg: o.Registry, started: o.Clock.Now()}
	d.log = newLogger(cfg, o.Stderr, d.level)
	reg := d.reg
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	d.m = newMetrics(reg, o.Version)
	defer func() {
		if err != nil {
			d.close()
		}
	}()

	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("state_dir: %w", err)
	}
	if d.store, err = store.Open(filepath.Join(cfg.StateDir, LedgerFile), store.Options{Logger: d.log, Registerer: reg}); err != nil {
		return nil, err
	}
	ledger, err := respond.NewLedger(d.store)
	if err != nil {
		return nil, err
	}
	if d.fw, err = firewall.New(cfg.Firewall.Config, firewall.Options{Logger: d.log, Registerer: reg}); err != nil {
		return nil, err
	}
	snapDir := cfg.Audit.SnapshotDir
	if snapDir == "" {
		snapDir = filepath.Join(cfg.StateDir, "snapshots")
	}
	aopts := audit.Options{Logger: d.log, Registerer: reg, Clock: o.Clock}
	if d.audit, err = audit.Open(cfg.AuditLog, cfg.Audit, aopts); err != nil {
		return nil, err
	}
	snaps, err := audit.NewSnapshots(snapDir, cfg.Audit.SnapshotKeep, d.fw, aopts)
	if err != nil {
		return nil, err
	}
	if d.notifier, err = notify.New(cfg.Notify, notify.Options{Logger: d.log, Registerer: reg, Clock: o.Clock}); err != nil {
		return nil, err
	}
	// The responder hands decisions to the enforcer, which reads the
	// responder's bans to reconcile: build the responder with a sink that
	// forwards to the enforcer created right after it.
	var enf *enforce.Enforcer
	d.resp, err = respond.New(cfg.Ban, respond.Options{Logger: d.log, Registerer: reg, Allowlist: cfg.Allow(),
		Trusted: cfg.Trusted(), Shadow: cfg.Detect.Shadow, Ledger: ledger,
		Sink: respond.SinkFunc(func(dec *respond.Decision) { enf.Decide(dec) })})
	if err != nil {
		return nil, err
	}
	enf, err = enforce.New(enforce.Config{ReconcileInterval: cfg.Firewall.ReconcileInterval, RemoveOnStop: cfg.Firewall.RemoveOnStop},
		enforce.Options{Logger: d.log, Registerer: reg, Clock: o.Clock, Firewall: d.fw, Ledger: d.resp, Audit: d.audit,
			Snapshots: snaps, Notify: notifiers{d.notifier, o.Observe}})
	if err != nil {
		return nil, err
	}
	d.enforcer = enf

	model, err := baseline.New(cfg.Baseline)
	if err != nil {
		return nil, err
	}
	baselinePath := filepath.Join(cfg.StateDir, BaselineFile)
	if err := model.LoadFile(baselinePath); err == nil {
		d.log.Info("baseline restored", "path", baselinePath, "learning", !model.Learned())
	} else if !errors.Is(err, os.ErrNotExist) {
		d.log.Warn("baseline not restored; learning again", "err", err)
	}
	if d.tail, err = source.NewTail(cfg.Source.TailConfig, source.TailOptions{StateDir: cfg.StateDir,
		MaxLine: cfg.Source.Limits.MaxLine, Logger: d.log, Registerer: reg, Clock: o.Clock}); err != nil {
		return nil, err
	}
	if d.eng, err = engine.New(cfg.Engine, replay.EngineOptions(cfg, engine.Options{Logger: d.log, Registerer: reg,
		Clock: o.Clock, Live: true, Baseline: model, BaselinePath: baselinePath, Committer: d.tail})); err != nil {
		return nil, err
	}
	d.findings = api.NewFindingLog(1000)
	if d.api, err = api.New(cfg.HTTP, api.Options{Logger: d.log, Gatherer: reg, Registerer: reg, Clock: o.Clock,
		Bans: d.resp, Status: d.eng.Snapshot, Findings: d.findings, Reload: d.reload, Ready: d.ready,
		Version: o.Version, Mode: d.mode, SocketPath: filepath.Join(cfg.StateDir, api.SocketName),
		StartTime: d.started}); err != nil {
		return nil, err
	}
	return d, nil
}

func newLogger(cfg *config.Config, w io.Writer, level *slog.LevelVar) *slog.Logger {
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Run runs the daemon until ctx is done or a component fails.
func (d *Daemon) Run(ctx context.Context) error {
	defer d.close()
	cfg := d.cfg
	d.log.Info("vigil starting", "version", d.o.Version, "config", d.o.ConfigPath, "source", cfg.Source.Path,
		"firewall", d.fw.Name(), "shards", d.eng.Shards(), "state_dir", cfg.StateDir)
	_ = d.audit.Event("start", map[string]any{"version": d.o.Version, "firewall": d.fw.Name()})
	// Lift the bans that expired while vigil was not running.
	d.resp.Advance(d.o.Clock.Now())

	g, ctx := errgroup.WithContext(ctx)
	chunks := make(chan *source.Chunk, chunkQueue)
	g.Go(func() error { return d.enforcer.Run(ctx) })
	g.Go(func() error { return d.notifier.Run(ctx) })
	g.Go(func() error { return d.api.Run(ctx) })
	g.Go(func() error { return d.tail.Run(ctx, chunks) })
	g.Go(func() error {
		err := d.eng.Run(ctx, chunks, handler{resp: d.resp, findings: d.findings})
		// Drain whatever the tailer still sends so it can stop.
		for c := range chunks {
			c.Release()
		}
		return err
	})
	g.Go(func() error { return d.supervise(ctx) })
	err := g.Wait()
	_ = d.o.Notify(daemon.SdNotifyStopping)
	_ = d.audit.Event("stop", map[string]any{"error": errString(err)})
	if err != nil && !errors.Is(err, context.Canceled) {
		d.log.Error("vigil stopped", "err", err)
		return err
	}
	d.log.Info("vigil stopped")
	return nil
}

func errString(err error) string {
	if err == nil || errors.Is(err, context.Canceled) {
		return ""
	}
	return err.Error()
}

// supervise reports readiness to systemd, pings the watchdog while the
// engine is alive, and handles reload requests.
func (d *Daemon) supervise(ctx context.Context) error {
	wd, _ := daemon.SdWatchdogEnabled(false)
	every := time.Second
	if wd > 0 {
		every = min(every, wd/2)
	}
	t := d.o.Clock.NewTicker(every)
	defer t.Stop()
	notified := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-d.o.Reload:
			_ = d.o.Notify(fmt.Sprintf("%s\nMONOTONIC_USEC=%d", daemon.SdNotifyReloading, monotonicUsec()))
			if err := d.reload(); err != nil {
				d.log.Error("reload failed; keeping the running configuration", "err", err)
			}
			_ = d.o.Notify(daemon.SdNotifyReady)
		case <-t.C():
			ready := d.ready()
			d.m.ready.Set(b2f(ready))
			if ready && !notified {
				notified = true
				_ = d.o.Notify(daemon.SdNotifyReady)
				d.log.Info("vigil ready")
			}
			if wd > 0 && d.eng.Alive(5*time.Second) {
				_ = d.o.Notify(daemon.SdNotifyWatchdog)
			}
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (d *Daemon) ready() bool { return d.enforcer.Ready() && d.eng.Alive(5*time.Second) }

func (d *Daemon) mode() string {
	if d.cfg.Detect.Shadow {
		return "shadow"
	}
	if s := d.eng.Snapshot(); s != nil && s.Baseline != nil {
		if s.Baseline.Learning {
			return "learning"
		}
		return "enforcing"
	}
	return "starting"
}

// reload loads the configuration again and applies what can change while
// running. A configuration that does not load changes nothing.
func (d *Daemon) reload() error {
	if d.o.Load == nil {
		return errors.New("reload not supported")
	}
	cfg, err := d.o.Load()
	if err != nil {
		d.m.reloadOK.Set(0)
		return err
	}
	content := cfg.Detect.ContentConfig
	if err := d.eng.Reload(cfg.Detect.Config, detect.ContentFactory(content),
		contentModes(content), ident.NewResolver(cfg.Trusted())); err != nil {
		d.m.reloadOK.Set(0)
		return fmt.Errorf("detectors: %w", err)
	}
	if err := d.resp.Reconfigure(cfg.Ban, cfg.Allow(), cfg.Trusted(), cfg.Detect.Shadow); err != nil {
		d.m.reloadOK.Set(0)
		return fmt.Errorf("ban: %w", err)
	}
	_ = d.level.UnmarshalText([]byte(cfg.Log.Level))
	if err := d.audit.Reopen(); err != nil { // after logrotate
		d.log.Warn("reopen audit log", "err", err)
	}
	if restart := needsRestart(d.cfg, cfg); len(restart) > 0 {
		d.log.Warn("changed settings that need a restart to take effect", "keys", strings.Join(restart, ", "))
	}
	d.cfg = cfg
	d.m.reloadOK.Set(1)
	d.m.reloadTime.Set(float64(d.o.Clock.Now().Unix()))
	_ = d.audit.Event("reload", map[string]any{"config": d.o.ConfigPath})
	d.log.Info("configuration reloaded")
	return nil
}

func contentModes(c detect.ContentConfig) map[string]detect.Mode {
	return map[string]detect.Mode{"signature": c.Signature.Mode, "useragent": c.UserAgent.Mode, "probe": c.Probe.Mode}
}

// needsRestart lists the top-level sections that changed but are only read
// at start.
func needsRestart(old, cur *config.Config) []string {
	var out []string
	for _, s := range []struct {
		key      string
		old, cur any
	}{
		{"source", old.Source, cur.Source}, {"state_dir", old.StateDir, cur.StateDir},
		{"audit_log", old.AuditLog, cur.AuditLog}, {"audit", old.Audit, cur.Audit},
		{"engine", old.Engine, cur.Engine}, {"baseline", old.Baseline, cur.Baseline},
		{"firewall", old.Firewall, cur.Firewall}, {"http", old.HTTP, cur.HTTP},
		{"notify", old.Notify, cur.Notify}, {"log.format", old.Log.Format, cur.Log.Format},
	} {
		if !reflect.DeepEqual(s.old, s.cur) {
			out = append(out, s.key)
		}
	}
	return out
}

// close releases what New opened.
func (d *Daemon) close() {
	if d.audit != nil {
		if err := d.audit.Close(); err != nil {
			d.log.Warn("close audit log", "err", err)
		}
	}
	if d.store != nil {
		if err := d.store.Close(); err != nil {
			d.log.Warn("close ledger", "err", err)
		}
	}
}

// Status returns the engine's latest snapshot (nil before the first event).
func (d *Daemon) Status() *engine.Snapshot { return d.eng.Snapshot() }

// Responder returns the respond stage (bans, stats).
func (d *Daemon) Responder() *respond.Responder { return d.resp }

// APIAddr returns the API's TCP address once it listens, or "".
func (d *Daemon) APIAddr() string {
	if a := d.api.Addr(); a != nil {
		return a.String()
	}
	return ""
}

// notifiers sends decisions to Slack and to the optional observer.
type notifiers struct {
	slack   *notify.Notifier
	observe func(*respond.Decision)
}

func (n notifiers) Notify(d *respond.Decision) {
	n.slack.Notify(d)
	if n.observe != nil {
		n.observe(d)
	}
}

// handler passes findings to the responder and keeps the recent ones for
// the API.
type handler struct {
	resp     *respond.Responder
	findings *api.FindingLog
}

func (h handler) Finding(f *detect.Finding) {
	h.findings.Add(f)
	h.resp.Finding(f)
}

func (h handler) Advance(now time.Time) { h.resp.Advance(now) }
