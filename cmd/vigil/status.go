package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/escape"
	"github.com/vigil-sec/vigil/internal/respond"
)

func newStatusCmd(stdout io.Writer) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what the running daemon is doing",
		Long: `status asks the running daemon, over its control socket
(<state_dir>/vigil.sock), for a summary: mode (learning, enforcing, shadow),
uptime, traffic, the learned baseline, active bans and global alerts.
--json prints the daemon's full status document instead.`,
		Example: `  vigil status
  vigil status --json | jq .baseline`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := socketClient(cmd)
			if err != nil {
				return err
			}
			st, err := c.Status(cmd.Context())
			if err != nil {
				return clientError(err)
			}
			if asJSON {
				return printJSON(stdout, st)
			}
			printStatus(stdout, st)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	addConfigFlag(cmd)
	usageErrors(cmd)
	return cmd
}

// printStatus writes the human summary of st.
func printStatus(w io.Writer, st *api.StatusResponse) {
	mode := escape.Terminal(st.Mode)
	if st.Mode == "learning" {
		mode += " (rate-based bans suspended until the baseline is learned)"
	}
	ready := "ready"
	if !st.Ready {
		ready = "not ready"
	}
	fmt.Fprintf(w, "vigil %s: %s, up %s, %s\n", escape.Terminal(st.Version), mode,
		human(time.Duration(st.UptimeSeconds*float64(time.Second))), ready)
	row := func(k, format string, a ...any) { fmt.Fprintf(w, "%-10s %s\n", k, fmt.Sprintf(format, a...)) }
	if st.EventTime.IsZero() {
		row("traffic", "no requests seen yet")
	} else {
		lag := ""
		if st.Lag != "" {
			lag = fmt.Sprintf(" (lag %s)", human(time.Duration(st.LagSeconds*float64(time.Second))))
		}
		row("log time", "%s%s", st.EventTime.Format(time.RFC3339), lag)
		row("traffic", "%d lines, %d requests, %.1f requests/s over the last 60 s%s",
			st.Lines, st.Requests, st.GlobalRPS, rejected(st.Rejected))
	}
	if b := st.Baseline; b != nil {
		row("baseline", "global %.1f ± %.1f requests/s, %.1f%% errors (%s); client %.1f ± %.1f requests/60 s (%s); %d min of traffic",
			b.Global.Mean, b.Global.Stddev, 100*b.Global.ErrorRate, escape.Terminal(b.Global.Source),
			b.Client.Mean, b.Client.Stddev, escape.Terminal(b.Client.Source), b.Minutes)
	}
	row("clients", "%d tracked", st.TrackedClients)
	bans := fmt.Sprintf("%d active", st.BansActive)
	if st.BansShadow > 0 {
		bans += fmt.Sprintf(", %d in shadow mode (not enforced)", st.BansShadow)
	}
	row("bans", "%s", bans)
	a := st.Alerts
	switch {
	case a.Count == 0:
		row("alerts", "none")
	default:
		active := "none active"
		if a.Active {
			active = "one active now"
		}
		row("alerts", "%d raised, %s; longest %s, average %s", a.Count, active,
			human(time.Duration(a.MaxDurationSeconds*float64(time.Second))),
			human(time.Duration(a.AvgDurationSeconds*float64(time.Second))))
	}
}

// rejected formats the rejected-lines counts, largest first.
func rejected(m map[string]uint64) string {
	if len(m) == 0 {
		return ""
	}
	var total uint64
	keys := make([]string, 0, len(m))
	for k, v := range m {
		total += v
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			if m[a] > m[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", escape.Terminal(k), m[k])
	}
	return fmt.Sprintf("; %d rejected (%s)", total, strings.Join(parts, ", "))
}

// human formats d for people: seconds below a minute, then at most two
// units ("12m30s", "5h12m", "3d4h").
func human(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return d.String()
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", d/time.Minute, d%time.Minute/time.Second)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", d/time.Hour, d%time.Hour/time.Minute)
	}
	return fmt.Sprintf("%dd%dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
}

// socketClient returns a client for the daemon's control socket, found in
// the configured state directory.
func socketClient(cmd *cobra.Command) (*api.Client, error) {
	c, _, err := loadConfig(cmd, nil)
	if err != nil {
		return nil, err
	}
	return api.NewClient(filepath.Join(c.StateDir, api.SocketName)), nil
}

// clientError turns a control-socket error into the command's error and
// exit code: 2 for a request the daemon found invalid, 1 otherwise.
func clientError(err error) error {
	switch {
	case errors.Is(err, api.ErrNotRunning):
		return &exitError{code: 1, err: fmt.Errorf("%w; start it with systemctl start vigil", err)}
	case errors.Is(err, api.ErrBadRequest):
		return &exitError{code: 2, err: err}
	case errors.Is(err, respond.ErrProtected):
		return &exitError{code: 1, err: fmt.Errorf("%w (change allowlist or trusted_proxies in the configuration to ban it)", err)}
	}
	return err
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// noArgs is cobra.NoArgs with exit code 2.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &exitError{code: 2, err: fmt.Errorf("%s takes no arguments (got %q)", cmd.Name(), args)}
	}
	return nil
}

// oneAddr requires exactly one argument, the address, with exit code 2.
func oneAddr(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return &exitError{code: 2, err: fmt.Errorf("%s takes one address or CIDR prefix (got %d arguments); see vigil %s --help",
			cmd.Name(), len(args), cmd.Name())}
	}
	return nil
}

// usageErrors makes flag errors exit with code 2.
func usageErrors(cmd *cobra.Command) {
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: 2, err: err} })
}
