package main

import (
	"context"
	"io"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/replay"
)

func newReplayCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var output, stateDir string
	var shards int
	var quiet bool
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "replay [flags] FILE... | -",
		Short: "Run the detection engine over past logs and print what vigil would have done",
		Long: `replay runs the very same engine and respond stage as the daemon over past
access logs, as fast as the disk allows, with the firewall and notifications
off. Files are read in order ("-" is standard input; .gz files are
decompressed). Event time comes from the log, so the decisions are exactly
those live mode would have made.

Output (stdout):
  decisions  one JSON object per decision: time, action (ban|unban|alert|recover),
             ip, detector, rule, condition, class, reason, duration, evidence, request
  findings   one JSON object per finding: time, ip, detector, rule, class,
             severity, action, reason, evidence, request
  text       one line per decision for humans

A summary (lines read, rejected lines by reason, elapsed, lines/s, decisions)
goes to stderr. With --state-dir the learned baseline is loaded from and saved
to DIR/baseline.json, so a later "vigil run" with that state starts warm.`,
		Example: `  vigil replay --output text /var/log/nginx/access.json.1 /var/log/nginx/access.json
  zcat access.json.*.gz | vigil replay -
  vigil replay --config vigil.yaml --state-dir /var/lib/vigil --output decisions access.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, _, err := loadConfig(cmd, nil)
			if err != nil {
				return err
			}
			if cpuProfile != "" {
				stopProfile, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stopProfile()
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if ctx == nil {
				ctx = context.Background()
			}
			sum, err := replay.Run(ctx, replay.Options{Config: cfg, Files: args, Stdin: stdin, Output: output,
				Out: stdout, StateDir: stateDir, Shards: shards})
			if sum != nil && !quiet {
				replay.WriteSummary(stderr, sum)
			}
			return err
		},
	}
	addConfigFlag(cmd)
	f := cmd.Flags()
	f.StringVarP(&output, "output", "o", replay.OutputDecisions, "output format: decisions, findings or text")
	f.StringVar(&stateDir, "state-dir", "", "load the learned baseline from DIR and save it there at the end")
	f.IntVar(&shards, "shards", 0, "number of engine shards (default: engine.shards, or GOMAXPROCS)")
	f.BoolVarP(&quiet, "quiet", "q", false, "do not print the summary on stderr")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile (go tool pprof format) to FILE")
	return cmd
}
