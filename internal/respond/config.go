// Package respond turns findings into decisions: bans with an escalation
// ladder (offenses are forgiven after a quiet period), unbans when bans
// expire, and global alerts and recoveries. It never bans an allowlisted or
// trusted-proxy address, and a circuit breaker caps bans per minute so a
// mis-tuned rule cannot lock out the world.
//
// Time is event time: the engine tells the Responder how far the log has got,
// so a replay expires bans exactly as live mode would. Bans and offense
// history live in a Ledger backed by a Store (kept in memory for replay,
// persisted by the daemon).
package respond

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Permanent is the ladder step (and JSON duration) of a ban that never
// expires.
const Permanent = "permanent"

// Config holds the ban policy (YAML section "ban").
type Config struct {
	// Ladder is the ban duration for the 1st, 2nd, ... offense; the last
	// step repeats. "permanent" (only as the last step) never expires.
	Ladder []string `koanf:"ladder"`
	// ForgiveAfter forgets a client's offenses after this long without one.
	ForgiveAfter time.Duration `koanf:"forgive_after"`
	// MaxPerMinute is the circuit breaker: at most this many bans per minute
	// of event time; further bans are suppressed and counted.
	MaxPerMinute int `koanf:"max_per_minute"`
	// Jitter (0..0.5) lengthens or shortens each ban by up to this fraction,
	// deterministically per client and offense, so bots cannot time the
	// unban.
	Jitter float64 `koanf:"jitter"`
	// IPv6Prefix is the prefix length banned for an IPv6 client (128 bans
	// exactly the address; 64 its whole subnet).
	IPv6Prefix int `koanf:"ipv6_prefix"`

	steps []time.Duration // parsed Ladder; 0 = permanent
}

// DefaultConfig returns the default ban policy.
func DefaultConfig() Config {
	return Config{Ladder: []string{"10m", "30m", "2h", Permanent}, ForgiveAfter: 24 * time.Hour,
		MaxPerMinute: 60, IPv6Prefix: 128}
}

// Validate reports every invalid setting (messages start with the key) and
// parses the ladder.
func (c *Config) Validate() error {
	var errs []error
	c.steps = c.steps[:0]
	if len(c.Ladder) == 0 {
		errs = append(errs, errors.New("ladder: must have at least one step"))
	}
	for i, s := range c.Ladder {
		if strings.EqualFold(strings.TrimSpace(s), Permanent) {
			if i != len(c.Ladder)-1 {
				errs = append(errs, fmt.Errorf("ladder[%d]: %q can only be the last step", i, s))
			}
			c.steps = append(c.steps, 0)
			continue
		}
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || d < time.Second {
			errs = append(errs, fmt.Errorf("ladder[%d]: must be a duration >= 1s or %q (got %q)", i, Permanent, s))
			continue
		}
		c.steps = append(c.steps, d)
	}
	if c.ForgiveAfter < time.Minute {
		errs = append(errs, fmt.Errorf("forgive_after: must be >= 1m (got %s)", c.ForgiveAfter))
	}
	if c.MaxPerMinute < 1 {
		errs = append(errs, fmt.Errorf("max_per_minute: must be >= 1 (got %d)", c.MaxPerMinute))
	}
	if c.Jitter < 0 || c.Jitter > 0.5 || math.IsNaN(c.Jitter) {
		errs = append(errs, fmt.Errorf("jitter: must be between 0 and 0.5 (got %v)", c.Jitter))
	}
	if c.IPv6Prefix < 32 || c.IPv6Prefix > 128 {
		errs = append(errs, fmt.Errorf("ipv6_prefix: must be between 32 and 128 (got %d)", c.IPv6Prefix))
	}
	return errors.Join(errs...)
}

// Step returns the ban duration for the n-th offense (n >= 1); 0 means
// permanent. The last step repeats. Validate must have succeeded.
func (c *Config) Step(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > len(c.steps) {
		n = len(c.steps)
	}
	return c.steps[n-1]
}
