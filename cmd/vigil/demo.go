package main

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/daemon"
	"github.com/vigil-sec/vigil/internal/escape"
	"github.com/vigil-sec/vigil/internal/replay"
	"github.com/vigil-sec/vigil/internal/respond"
	"github.com/vigil-sec/vigil/internal/simulate"
)

//go:embed demo.yaml
var demoConfig []byte

// demoAttacks is the demo's script, relative to its start: content attacks
// are banned from the first request, rate attacks once the baseline is
// learned (one minute of traffic, applied the minute after).
var demoAttacks = []string{"scanner@30s+60s", "sqli@50s+90s", "bruteforce@65s+2m", "enumeration@100s+60s",
	"flood@140s+60s:60", "ddos@170s+50s"}

func newDemoCmd(stdout, stderr io.Writer) *cobra.Command {
	var duration time.Duration
	var rate float64
	var keep bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Watch vigil learn and ban: the daemon on live simulated traffic (dry-run firewall)",
		Long: `demo runs the real daemon ("vigil run") with a bundled configuration against
live traffic from the simulator ("vigil simulate --live"): normal browsing,
API clients and crawlers, then a scanner, SQL injection, password guessing,
path enumeration, a flood and a distributed flood. vigil learns the baseline
for a minute, then you see its decisions with their reasons as they happen.

The firewall backend is dry-run: nothing on this machine is changed. Files
(log, state, audit log, vigil's own log) go to a temporary directory, removed
at the end unless --keep. The demo stops by itself after --duration.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), stdout, stderr, duration, rate, keep)
		},
	}
	cmd.Flags().DurationVar(&duration, "duration", 4*time.Minute, "how long the demo runs")
	cmd.Flags().Float64Var(&rate, "rate", 40, "background traffic in requests/s")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary directory (log, state, audit log)")
	return cmd
}

func runDemo(parent context.Context, stdout, stderr io.Writer, duration time.Duration, rate float64, keep bool) error {
	dir, err := os.MkdirTemp("", "vigil-demo-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	cfgPath := filepath.Join(dir, "vigil.yaml")
	if err := os.WriteFile(cfgPath, demoConfig, 0o600); err != nil {
		return err
	}
	logPath := filepath.Join(dir, "access.json")
	env := append(os.Environ(), "VIGIL_SOURCE__PATH="+logPath, "VIGIL_STATE_DIR="+filepath.Join(dir, "state"),
		"VIGIL_AUDIT_LOG="+filepath.Join(dir, "audit.jsonl"))
	load := func() (*config.Config, error) { return config.Load(config.Sources{File: cfgPath, Environ: env}) }
	cfg, err := load()
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if err := os.WriteFile(logPath, nil, 0o644); err != nil {
		return err
	}
	daemonLog, err := os.Create(filepath.Join(dir, "vigil.log"))
	if err != nil {
		return err
	}
	defer daemonLog.Close()

	sim := simulate.DefaultConfig()
	sim.Rate, sim.Clients, sim.Seed = rate, 400, uint64(time.Now().UnixNano())
	for _, spec := range demoAttacks {
		a, err := simulate.ParseAttack(spec)
		if err != nil {
			return err
		}
		sim.Attacks = append(sim.Attacks, a)
	}
	sim.Start = time.Now()
	gen, err := simulate.New(sim)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(parent, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()

	printer := &demoPrinter{w: stdout}
	d, err := daemon.New(cfg, daemon.Options{Stderr: daemonLog, ConfigPath: cfgPath, Load: load, Version: version,
		Observe: printer.decision, Notify: func(string) error { return nil }})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "vigil demo: %s of live traffic at ~%.0f requests/s; firewall: dry-run (nothing is changed)\n", duration, rate)
	fmt.Fprintf(stdout, "  access log  %s\n  vigil log   %s\n  audit log   %s\n", logPath, daemonLog.Name(), cfg.AuditLog)
	fmt.Fprintf(stdout, "vigil learns the baseline for 1 minute (rate bans wait); content attacks are banned from the first request.\n\n")

	done := make(chan error, 2)
	go func() { done <- d.Run(ctx) }()
	go func() {
		done <- simulate.RunLive(ctx, gen, clock.Real{}, logPath, simulate.FormatJSON, stdout)
	}()
	go printer.status(ctx, d)
	var first error
	for range 2 {
		if err := <-done; err != nil && first == nil && ctx.Err() == nil {
			first = err
			cancel()
		}
	}
	if first != nil {
		return first
	}
	s := d.Responder().Stats()
	fmt.Fprintf(stdout, "\ndemo over: %d bans, %d unbans, %d global alerts, %d recoveries.", s.Bans, s.Unbans, s.Alerts, s.Recoveries)
	if addr := d.APIAddr(); addr != "" {
		fmt.Fprintf(stdout, " (The API was at http://%s/api/v1/status.)", addr)
	}
	fmt.Fprintln(stdout)
	if keep {
		fmt.Fprintf(stdout, "files kept in %s\n", dir)
	}
	return nil
}

// demoPrinter prints decisions and a periodic status line.
type demoPrinter struct {
	w io.Writer
}

func (p *demoPrinter) decision(d *respond.Decision) {
	fmt.Fprintln(p.w, replay.FormatText(d))
}

func (p *demoPrinter) status(ctx context.Context, d *daemon.Daemon) {
	t := time.NewTicker(20 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s := d.Status()
			if s == nil || s.Baseline == nil {
				continue
			}
			state := "enforcing"
			if s.Baseline.Learning {
				state = "learning "
			}
			fmt.Fprintln(p.w, escape.Terminal(fmt.Sprintf("%s status  %s  %d requests, %.1f req/s now; baseline %.1f ± %.1f req/s (%s), %d clients tracked",
				time.Now().UTC().Format(time.RFC3339), state, s.Events, s.GlobalRate, s.Baseline.Global.Mean,
				s.Baseline.Global.Stddev, s.Baseline.Global.Source, s.Tracked)))
		}
	}
}
