package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/escape"
)

// defaultWidth is the table width when the terminal's is unknown.
const defaultWidth = 80

func newBansCmd(stdout io.Writer) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "bans",
		Short: "List the active bans",
		Long: `bans asks the running daemon, over its control socket
(<state_dir>/vigil.sock), for the active bans and prints them as a table:
address or prefix, when the ban expires, the offense count, the detector and
rule, and the reason. Lines are cut to the terminal's width (80 columns when
it is unknown; COLUMNS overrides); --json prints every ban in full, with its
evidence and the request that triggered it.`,
		Example: `  vigil bans
  vigil bans --json | jq '.[] | select(.detector == "rate")'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := socketClient(cmd)
			if err != nil {
				return err
			}
			bans, err := c.Bans(cmd.Context())
			if err != nil {
				return clientError(err)
			}
			if asJSON {
				if bans == nil {
					bans = []api.BanInfo{}
				}
				return printJSON(stdout, bans)
			}
			_, err = io.WriteString(stdout, bansTable(bans, termWidth(stdout)))
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the bans as a JSON array")
	addConfigFlag(cmd)
	usageErrors(cmd)
	return cmd
}

// bansTable formats bans as an aligned table whose lines are at most width
// columns. Every string the daemon sends is escaped for the terminal: reasons
// quote attacker-controlled requests.
func bansTable(bans []api.BanInfo, width int) string {
	if len(bans) == 0 {
		return "no active bans\n"
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "IP\tEXPIRES\tOFFENSE\tDETECTOR\tREASON")
	permanent, shadow := 0, 0
	for _, b := range bans {
		expires := "permanent"
		if b.Permanent {
			permanent++
		} else {
			expires = "in " + human(time.Duration(b.RemainingSeconds*float64(time.Second)))
		}
		det := b.Detector
		if b.Rule != "" {
			det += "/" + b.Rule
		}
		if b.Shadow {
			shadow++
			det += " (shadow)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", escape.Terminal(b.IP), expires, b.Offense,
			escape.Terminal(det), escape.Terminal(b.Reason))
	}
	tw.Flush()
	var out strings.Builder
	for line := range strings.Lines(buf.String()) {
		out.WriteString(truncate(strings.TrimRight(line, " \n"), width))
		out.WriteByte('\n')
	}
	summary := fmt.Sprintf("%d bans", len(bans))
	if len(bans) == 1 {
		summary = "1 ban"
	}
	if permanent > 0 {
		summary += fmt.Sprintf(", %d permanent", permanent)
	}
	if shadow > 0 {
		summary += fmt.Sprintf(", %d in shadow mode (not enforced)", shadow)
	}
	out.WriteString(truncate(summary, width) + "\n")
	return out.String()
}

// truncate cuts s to at most width runes, marking the cut with "…".
func truncate(s string, width int) string {
	if width < 1 || utf8.RuneCountInString(s) <= width {
		return s
	}
	n := 0
	for i := range s {
		if n == width-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// termWidth returns w's terminal width, else $COLUMNS, else 80.
func termWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if n := ttyWidth(f); n > 0 {
			return n
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return defaultWidth
}
