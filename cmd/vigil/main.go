// Command vigil protects web servers: it reads Nginx access logs, learns what
// normal traffic looks like, bans abusive clients in the kernel firewall and
// explains every decision. Run "vigil help" for the subcommands.
package main

import (
	"io"
	"os"

	"github.com/spf13/cobra"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// run builds the command tree and executes it, returning the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		return exitCode(err)
	}
	return 0
}

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "vigil",
		Short:         "vigil protects web servers from abusive clients",
		SilenceUsage:  true,
		SilenceErrors: false,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(subcommands(stdin, stdout, stderr)...)
	return root
}
