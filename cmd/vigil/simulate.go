package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/simulate"
)

// defaultSimDuration is how much traffic a fast-mode run simulates when
// neither --duration nor --lines is given.
const defaultSimDuration = time.Hour

func newSimulateCmd(stdout, stderr io.Writer) *cobra.Command {
	return newSimulateCmdClock(stdout, stderr, clock.Real{})
}

// newSimulateCmdClock builds the simulate command with the clock that live
// mode paces itself by.
func newSimulateCmdClock(stdout, stderr io.Writer, clk clock.Clock) *cobra.Command {
	def := simulate.DefaultConfig()
	cfg := def
	var (
		out, start, labels string
		specs              []string
		live               bool
	)
	cmd := &cobra.Command{
		Use:   "simulate [flags]",
		Short: "Generate realistic Nginx access-log traffic, optionally with attacks",
		Long: `simulate writes a realistic Nginx access log: browsers loading pages and their
assets in bursts, with think time, searches, logins and the odd 404; API
clients polling steadily; search-engine crawlers; uptime monitors. Traffic
follows a daily cycle with random noise. Attacks can be injected on top with
--attack. The output is deterministic for a given --seed.

By default it writes as fast as possible, event times starting at --start,
until --duration of event time or --lines lines (one hour of traffic when
neither is given). With --live it appends to --out in real time, flushing
every 50 ms, so "vigil run" can tail the file; attacks then start relative
to the moment simulate started, and each is announced on stderr.

Lines use the vigil_json log_format (see docs/SIMULATE.md) or, with
--format combined, Nginx's stock combined format.

Attack specs: KIND[@START][+DURATION][:RATE]
  START, DURATION  Go durations (30s, 5m, 1h30m) from the simulation start
  RATE             requests per second of the attack (all its addresses)
Kinds (default start, duration, rate):
  flood        one client hammering pages and the API (3m, 2m, 60/s)
  ddos         300 addresses, each modest, together tripling traffic (5m, 3m, 2x --rate)
  scanner      vulnerability scanner: probes, 404s, payloads, scanner UA (2m, 2m, 4/s)
  bruteforce   POST /login answered 401 every 3-6 s (1m, 20m, 0.22/s)
  sqli         browses normally, mixes in SQL injection, faster over time (4m, 10m, 0.5/s)
  xss          the same with cross-site scripting payloads (4m, 10m, 0.5/s)
  traversal    the same with path traversal payloads (4m, 10m, 0.5/s)
  enumeration  content discovery: many distinct missing paths, browser UA (6m, 3m, 10/s)
  badbot       empty or malformed user agents crawling aggressively (7m, 5m, 8/s)
Attackers use 198.51.100.0/24, 198.18.0.0/15 and 2001:db8:bad::/48,
2001:db8:dd05::/48; no normal client does. --labels writes the ground truth.`,
		Example: `  # A 1M-line benchmark log, as fast as possible:
  vigil simulate --lines 1000000 --out /tmp/access.json

  # One day of traffic with a scanner at 09:00 and a brute-force attack at noon:
  vigil simulate --duration 24h --attack scanner@9h --attack bruteforce@12h+30m \
      --labels /tmp/labels.json --out /tmp/day.json

  # The demo: live traffic for "vigil run" to tail, attacks after a few minutes:
  vigil simulate --live --out /var/log/nginx/access.json \
      --attack scanner@4m --attack flood@6m+1m:80 --attack bruteforce@5m`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &exitError{code: 2, err: fmt.Errorf("simulate takes no arguments (got %q); did you mean --out %s?", args, args[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			usage := func(err error) error { return &exitError{code: 2, err: err} }
			if live {
				if cmd.Flags().Changed("start") {
					return usage(errors.New("--start cannot be used with --live: live mode starts now"))
				}
				if out == "-" {
					return usage(errors.New("--live needs --out FILE"))
				}
				cfg.Start = clk.Now()
			} else {
				t, err := time.Parse(time.RFC3339, start)
				if err != nil {
					return usage(fmt.Errorf("--start: want an RFC 3339 time like 2026-01-05T00:00:00Z: %w", err))
				}
				cfg.Start = t
				if cfg.Duration == 0 && cfg.Lines == 0 {
					cfg.Duration = defaultSimDuration
				}
			}
			for _, s := range specs {
				a, err := simulate.ParseAttack(s)
				if err != nil {
					return usage(err)
				}
				cfg.Attacks = append(cfg.Attacks, a)
			}
			g, err := simulate.New(cfg)
			if err != nil {
				return usage(err)
			}
			if labels != "" {
				if err := writeLabelsFile(labels, g.Labels()); err != nil {
					return err
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if live {
				fmt.Fprintf(stderr, "simulating %g requests/s into %s (Ctrl-C to stop)\n", cfg.Rate, out)
				return simulate.RunLive(ctx, g, clk, out, cfg.Format, stderr)
			}
			return runSimulateFast(ctx, g, out, cfg.Format, stdout, stderr)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: 2, err: err} })
	f := cmd.Flags()
	f.StringVarP(&out, "out", "o", "-", `file to write ("-" for standard output; --live appends)`)
	f.StringVar(&cfg.Format, "format", def.Format, "log format: json (vigil_json log_format) or combined")
	f.Uint64Var(&cfg.Seed, "seed", def.Seed, "random seed; the same seed and flags give the same output")
	f.StringVar(&start, "start", def.Start.Format(time.RFC3339), "event time of the start, RFC 3339 (not with --live)")
	f.DurationVar(&cfg.Duration, "duration", 0, "event time to simulate, e.g. 30m or 24h (default 1h unless --lines; --live: until interrupted)")
	f.Int64Var(&cfg.Lines, "lines", 0, "stop after this many lines")
	f.Float64Var(&cfg.Rate, "rate", def.Rate, "mean background requests per second, averaged over a day")
	f.IntVar(&cfg.Clients, "clients", def.Clients, "number of normal clients (browsers, API clients, crawlers, monitors)")
	f.Float64Var(&cfg.IPv6Share, "ipv6-share", def.IPv6Share, "fraction of clients and attackers with IPv6 addresses, 0..1")
	f.Float64Var(&cfg.Diurnal, "diurnal", def.Diurnal, "daily cycle amplitude 0..1: traffic peaks at 15:00, bottoms out at 03:00")
	f.StringVar(&cfg.Host, "host", def.Host, "the site's host name ($host)")
	f.StringArrayVarP(&specs, "attack", "a", nil, "inject an attack: KIND[@START][+DURATION][:RATE] (repeatable; see above)")
	f.BoolVar(&live, "live", false, "write in real time, appending to --out, until --duration or Ctrl-C")
	f.StringVar(&labels, "labels", "", "write the attackers' ground truth to this file as JSON lines")
	return cmd
}

// runSimulateFast writes the whole simulation to out ("-": stdout) as fast
// as possible and reports the speed on stderr.
func runSimulateFast(ctx context.Context, g *simulate.Generator, out, format string, stdout, stderr io.Writer) (err error) {
	w := stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return fmt.Errorf("create output: %w", err)
		}
		defer func() {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("close output: %w", cerr)
			}
		}()
		w = f
	}
	began := time.Now()
	n, err := simulate.Run(ctx, g, w, format)
	if err != nil {
		return err
	}
	secs := time.Since(began).Seconds()
	name := out
	if out == "-" {
		name = "standard output"
	}
	fmt.Fprintf(stderr, "wrote %d lines to %s in %.2fs (%.0f lines/s)\n", n, name, secs, float64(n)/max(secs, 1e-9))
	return nil
}

// writeLabelsFile writes the attack ground truth to path.
func writeLabelsFile(path string, labels []simulate.Label) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create labels file: %w", err)
	}
	w := bufio.NewWriter(f)
	if err := simulate.WriteLabels(w, labels); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write labels file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close labels file: %w", err)
	}
	return nil
}
