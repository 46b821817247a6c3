package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/escape"
)

func newBanCmd(stdout io.Writer) *cobra.Command {
	var (
		dur    string
		reason string
	)
	cmd := &cobra.Command{
		Use:   "ban ADDR",
		Short: "Ban an address or prefix now",
		Long: `ban tells the running daemon, over its control socket
(<state_dir>/vigil.sock), to ban ADDR: an IPv4 or IPv6 address, or a CIDR
prefix such as 2001:db8::/64. The ban lasts --for (default 1h; "permanent"
never expires), is recorded as manual with --reason, counts as an offense in
the address's history and is enforced, logged and notified like any other.
Allowlisted addresses and trusted proxies are refused.

Exit codes: 0 banned, 1 the daemon refused or is not running, 2 invalid
address, duration or usage.`,
		Example: `  vigil ban 203.0.113.7
  vigil ban 2001:db8:1::/64 --for 24h --reason "scraper farm"
  vigil ban 198.51.100.23 --for permanent`,
		Args: oneAddr,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := api.ParseTarget(args[0]); err != nil {
				return &exitError{code: 2, err: err}
			}
			d, err := api.ParseBanDuration(dur)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("--for: %w", err)}
			}
			c, err := socketClient(cmd)
			if err != nil {
				return err
			}
			dec, err := c.Ban(cmd.Context(), args[0], d, reason)
			if err != nil {
				return clientError(err)
			}
			ip := escape.Terminal(dec.IP)
			if dec.Until.IsZero() {
				fmt.Fprintf(stdout, "banned %s permanently (offense %d)\n", ip, dec.Offense)
			} else {
				fmt.Fprintf(stdout, "banned %s for %s, until %s (offense %d)\n", ip, human(d),
					dec.Until.Local().Format(time.RFC3339), dec.Offense)
			}
			if dec.Shadow {
				fmt.Fprintln(stdout, "shadow mode: the ban is recorded but not enforced")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dur, "for", "1h", `how long the ban lasts: a duration such as 30m, 12h or 168h, or "permanent"`)
	cmd.Flags().StringVar(&reason, "reason", "", "why (shown in the ban list, the audit log and Slack)")
	addConfigFlag(cmd)
	usageErrors(cmd)
	return cmd
}
