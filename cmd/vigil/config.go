package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/config"
)

// defaultConfigPath is read by the daemon's commands when --config is not
// given and the file exists.
const defaultConfigPath = "/etc/vigil/vigil.yaml"

// loadConfig loads the configuration for cmd: the --config file (or the
// default path when it exists and required is false), the environment and
// the flags listed in flagKeys. Errors are usage errors (exit code 2).
func loadConfig(cmd *cobra.Command, flagKeys map[string]string) (*config.Config, string, error) {
	path, _ := cmd.Flags().GetString("config")
	if path == "" {
		if _, err := os.Stat(defaultConfigPath); err == nil {
			path = defaultConfigPath
		}
	}
	set, _ := cmd.Flags().GetStringArray("set")
	c, err := config.Load(config.Sources{File: path, Environ: os.Environ(), Flags: cmd.Flags(), FlagKeys: flagKeys, Set: set})
	if err != nil {
		name := path
		if name == "" {
			name = "configuration"
		}
		return nil, path, &exitError{code: 2, err: fmt.Errorf("invalid %s:\n%w", name, err)}
	}
	return c, path, nil
}

// addConfigFlag adds --config and --set to cmd.
func addConfigFlag(cmd *cobra.Command) {
	cmd.Flags().String("config", "", "YAML configuration file (default "+defaultConfigPath+" when it exists)")
	cmd.Flags().StringArray("set", nil, "override a configuration key, e.g. --set detect.rate.zscore=6 (repeatable; lists comma-separated)")
}

// newLogger builds the process logger from the log section.
func newLogger(c *config.Config, w *os.File) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Log.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
