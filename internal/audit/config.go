package audit

import (
	"errors"
	"fmt"
	"path/filepath"
)

// Config is the "audit" section of vigil's configuration. Field tags are the
// YAML keys. The audit log's own path is the top-level key audit_log.
type Config struct {
	// SnapshotDir is where firewall snapshots are written. Empty means
	// <state_dir>/snapshots (the daemon fills it in).
	SnapshotDir string `koanf:"snapshot_dir"`
	// SnapshotKeep is how many snapshot files are kept: after each new one
	// the oldest beyond this count are removed.
	SnapshotKeep int `koanf:"snapshot_keep"`
	// Fsync syncs the audit log to disk after every record, so a record
	// that was written survives a crash or power loss.
	Fsync bool `koanf:"fsync"`
}

// DefaultSnapshotKeep is the default of snapshot_keep.
const DefaultSnapshotKeep = 200

// DefaultConfig returns the defaults: snapshots in the state directory, the
// newest 200 kept, fsync after every record.
func DefaultConfig() Config {
	return Config{SnapshotKeep: DefaultSnapshotKeep, Fsync: true}
}

// Validate returns every problem in c joined, each message starting with
// its key relative to the section.
func (c Config) Validate() error {
	var errs []error
	if c.SnapshotDir != "" && !filepath.IsAbs(c.SnapshotDir) {
		errs = append(errs, fmt.Errorf("snapshot_dir: must be an absolute path (got %q)", c.SnapshotDir))
	}
	if c.SnapshotKeep < 1 {
		errs = append(errs, fmt.Errorf("snapshot_keep: must be >= 1 (got %d)", c.SnapshotKeep))
	}
	return errors.Join(errs...)
}
