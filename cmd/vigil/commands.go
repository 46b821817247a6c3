package main

import (
	"io"

	"github.com/spf13/cobra"
)

// subcommands lists vigil's subcommands; each lives in its own file.
func subcommands(stdin io.Reader, stdout, stderr io.Writer) []*cobra.Command {
	return []*cobra.Command{
		newRunCmd(stderr),
		newDemoCmd(stdout, stderr),
		newReplayCmd(stdin, stdout, stderr),
		newCheckConfigCmd(stdout),
		newVersionCmd(stdout),
		newSimulateCmd(stdout, stderr),
		newStatusCmd(stdout),
		newBansCmd(stdout),
		newBanCmd(stdout),
		newUnbanCmd(stdout),
	}
}
