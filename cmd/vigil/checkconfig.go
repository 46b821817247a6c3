package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func newCheckConfigCmd(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check-config",
		Short: "Validate the configuration and exit",
		Long: `check-config loads the configuration exactly as "vigil run" would (the file,
then VIGIL_* environment variables) and reports every problem, each naming the
key at fault. It exits 0 when the configuration is valid and 2 otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, path, err := loadConfig(cmd, nil)
			if err != nil {
				return err
			}
			if path == "" {
				path = "defaults"
			}
			fmt.Fprintf(stdout, "configuration OK (%s)\n", path)
			return nil
		},
	}
	addConfigFlag(cmd)
	return cmd
}
