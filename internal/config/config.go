// Package config loads vigil's configuration: defaults, then one YAML file,
// then VIGIL_* environment variables, then command-line flags. Unknown keys
// are rejected, every problem is reported at once, and every message starts
// with the key (or environment variable) at fault.
package config

import (
	"errors"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/audit"
	"github.com/vigil-sec/vigil/internal/baseline"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/firewall"
	"github.com/vigil-sec/vigil/internal/ident"
	"github.com/vigil-sec/vigil/internal/notify"
	"github.com/vigil-sec/vigil/internal/parse"
	"github.com/vigil-sec/vigil/internal/respond"
	"github.com/vigil-sec/vigil/internal/source"
)

// Config is vigil's whole configuration. Load fills and validates it.
type Config struct {
	// Source is where log lines come from and how they are parsed.
	Source Source `koanf:"source"`
	// StateDir holds the baseline, the ban ledger, read positions and the
	// control socket.
	StateDir string `koanf:"state_dir"`
	// AuditLog is the append-only JSON-lines audit log ("" disables it).
	AuditLog string `koanf:"audit_log"`
	// TrustedProxies are the CIDRs of proxies whose X-Forwarded-For is
	// believed; they are never banned.
	TrustedProxies []string `koanf:"trusted_proxies"`
	// Allowlist are CIDRs never banned.
	Allowlist []string `koanf:"allowlist"`
	// Engine tunes the detection engine.
	Engine engine.Config `koanf:"engine"`
	// Baseline tunes the learned baseline.
	Baseline baseline.Config `koanf:"baseline"`
	// Detect configures the detectors.
	Detect Detect `koanf:"detect"`
	// Ban is the ban policy.
	Ban respond.Config `koanf:"ban"`
	// Audit configures firewall snapshots and audit log syncing.
	Audit audit.Config `koanf:"audit"`
	// Firewall selects and configures the firewall backend.
	Firewall Firewall `koanf:"firewall"`
	// HTTP is the API and metrics listener.
	HTTP api.Config `koanf:"http"`
	// Notify configures notifications.
	Notify notify.Config `koanf:"notify"`
	// Log configures vigil's own logging.
	Log Log `koanf:"log"`

	trusted, allow *ident.Set
}

// Source is the "source" section: the live log to follow and its format.
type Source struct {
	source.TailConfig `koanf:",squash"`
	parse.Config      `koanf:",squash"`
}

// Detect is the "detect" section: every detector's settings.
type Detect struct {
	detect.Config        `koanf:",squash"`
	detect.ContentConfig `koanf:",squash"`
}

// Firewall is the "firewall" section: the backend and how often it is
// reconciled with the ban ledger.
type Firewall struct {
	firewall.Config `koanf:",squash"`
	// ReconcileInterval is how often the kernel is checked against the
	// ledger (drift is repaired).
	ReconcileInterval time.Duration `koanf:"reconcile_interval"`
}

// Log is the "log" section.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `koanf:"level"`
	// Format is text or json.
	Format string `koanf:"format"`
}

// Default returns the default configuration.
func Default() Config {
	tail := source.DefaultTailConfig()
	tail.Path = "/var/log/nginx/access.json"
	return Config{
		Source:         Source{TailConfig: tail, Config: parse.DefaultConfig()},
		StateDir:       "/var/lib/vigil",
		AuditLog:       "/var/log/vigil/audit.jsonl",
		TrustedProxies: []string{},
		Allowlist:      []string{"127.0.0.0/8", "::1/128"},
		Engine:         engine.DefaultConfig(),
		Baseline:       baseline.DefaultConfig(),
		Detect:         Detect{Config: detect.DefaultConfig(), ContentConfig: detect.DefaultContentConfig()},
		Ban:            respond.DefaultConfig(),
		Audit:          audit.DefaultConfig(),
		Firewall:       Firewall{Config: firewall.DefaultConfig(), ReconcileInterval: 30 * time.Second},
		HTTP:           api.DefaultConfig(),
		Notify:         notify.DefaultConfig(),
		Log:            Log{Level: "info", Format: "text"},
	}
}

// Validate checks every section and cross-section rule. It returns all
// problems joined, each starting with its full key.
func (c *Config) Validate() error {
	var errs []error
	section := func(name string, err error) {
		for _, e := range flatten(err) {
			errs = append(errs, fmt.Errorf("%s.%w", name, e))
		}
	}
	section("source", c.Source.TailConfig.Validate())
	section("source", c.Source.Config.Validate())
	section("engine", c.Engine.Validate())
	section("baseline", c.Baseline.Validate())
	section("detect", c.Detect.Config.Validate())
	section("detect", c.Detect.ContentConfig.Validate())
	section("ban", c.Ban.Validate())
	section("firewall", c.Firewall.Config.Validate())
	if c.Firewall.ReconcileInterval < time.Second {
		errs = append(errs, fmt.Errorf("firewall.reconcile_interval: must be >= 1s (got %s)", c.Firewall.ReconcileInterval))
	}
	section("audit", c.Audit.Validate())
	section("http", c.HTTP.Validate())
	section("notify", c.Notify.Validate())
	if c.StateDir == "" {
		errs = append(errs, errors.New("state_dir: must be set"))
	}
	var err error
	if c.trusted, err = ident.ParseSet(c.TrustedProxies); err != nil {
		for _, e := range flatten(err) {
			errs = append(errs, fmt.Errorf("trusted_proxies%w", e))
		}
	}
	if c.allow, err = ident.ParseSet(c.Allowlist); err != nil {
		for _, e := range flatten(err) {
			errs = append(errs, fmt.Errorf("allowlist%w", e))
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level: must be debug, info, warn or error (got %q)", c.Log.Level))
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log.format: must be text or json (got %q)", c.Log.Format))
	}
	// Cross-section: the engine must remember clients at least as long as
	// the longest detector window.
	longest := max(c.Detect.Bruteforce.FindTime, c.Detect.Enumeration.Window, time.Minute)
	if c.Engine.IdleTimeout < longest {
		errs = append(errs, fmt.Errorf("engine.idle_timeout: must be at least the longest detector window (%s, from detect.bruteforce.findtime or detect.enumeration.window) (got %s)",
			longest, c.Engine.IdleTimeout))
	}
	return errors.Join(errs...)
}

// Trusted returns the parsed trusted_proxies (after Validate).
func (c *Config) Trusted() *ident.Set { return c.trusted }

// Allow returns the parsed allowlist (after Validate).
func (c *Config) Allow() *ident.Set { return c.allow }

// flatten splits an errors.Join tree into its leaves.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}
