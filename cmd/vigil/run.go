package main

import (
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/daemon"
)

func newRunCmd(stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the daemon: follow the access log, detect abuse, ban in the firewall",
		Long: `run is vigil's daemon. It follows source.path across log rotation, learns the
baseline, detects abusive clients and malicious requests, bans them in the
firewall (firewall.backend: iptables, ipset or dry-run) with escalating
durations, lifts expired bans, writes the audit log, notifies Slack and serves
the HTTP API and /metrics on http.listen.

Signals: SIGHUP reloads the configuration (a bad file keeps the old one);
SIGTERM and SIGINT stop it (bans stay in the firewall unless
firewall.remove_on_stop). Under systemd it reports readiness and pings the
watchdog (Type=notify).`,
		Example: `  vigil run --config /etc/vigil/vigil.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, path, err := loadConfig(cmd, nil)
			if err != nil {
				return err
			}
			reload := func() (*config.Config, error) {
				c, _, err := loadConfig(cmd, nil)
				if err != nil {
					return nil, err
				}
				return c, nil
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			d, err := daemon.New(cfg, daemon.Options{Stderr: stderr, ConfigPath: path, Load: reload, Reload: hup,
				Version: version})
			if err != nil {
				return err
			}
			return d.Run(ctx)
		},
	}
	addConfigFlag(cmd)
	return cmd
}
