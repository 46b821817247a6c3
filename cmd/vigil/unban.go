package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/escape"
	"github.com/vigil-sec/vigil/internal/respond"
)

func newUnbanCmd(stdout io.Writer) *cobra.Command {
	var (
		reason string
		forget bool
	)
	cmd := &cobra.Command{
		Use:   "unban ADDR",
		Short: "Lift a ban now",
		Long: `unban tells the running daemon, over its control socket
(<state_dir>/vigil.sock), to lift the ban on ADDR (the address or prefix as
"vigil bans" lists it). The address's offense history is kept, so a new
offense escalates further, unless --forget is given.

Exit codes: 0 unbanned, 1 not banned or the daemon is not running, 2
invalid address or usage.`,
		Example: `  vigil unban 203.0.113.7
  vigil unban 2001:db8:1::/64 --forget --reason "customer's NAT gateway"`,
		Args: oneAddr,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := api.ParseTarget(args[0]); err != nil {
				return &exitError{code: 2, err: err}
			}
			c, err := socketClient(cmd)
			if err != nil {
				return err
			}
			dec, err := c.Unban(cmd.Context(), args[0], reason, forget)
			if errors.Is(err, respond.ErrNotBanned) {
				return &exitError{code: 1, err: fmt.Errorf("%w (see vigil bans)", err)}
			}
			if err != nil {
				return clientError(err)
			}
			msg := "unbanned " + escape.Terminal(dec.IP)
			if forget {
				msg += " and forgot its offenses"
			}
			fmt.Fprintln(stdout, msg)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (shown in the audit log and Slack)")
	cmd.Flags().BoolVar(&forget, "forget", false, "also forget the address's offense history (the next ban starts the ladder again)")
	addConfigFlag(cmd)
	usageErrors(cmd)
	return cmd
}
