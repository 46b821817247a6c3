package detect

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// RateConfig configures per-client rate detection (YAML "detect.rate").
// Thresholds apply to the client's requests in its 60 s window.
type RateConfig struct {
	// Mode is enforce, alert or off.
	Mode Mode `koanf:"mode"`
	// ZScore: anomalous when (requests-mean)/stddev exceeds it.
	ZScore float64 `koanf:"zscore"`
	// Multiplier: anomalous when requests exceed Multiplier x mean.
	Multiplier float64 `koanf:"multiplier"`
	// MinRequests is a floor under both thresholds (requests per 60 s).
	MinRequests int `koanf:"min_requests"`
	// Repeat is how long after a rate finding the same client can produce
	// the next one (while it stays over the threshold): short enough to ban
	// again soon after a short ban expires, long enough not to report every
	// request of a flood.
	Repeat time.Duration `koanf:"repeat"`
}

// GlobalConfig configures the global anomaly detector (YAML
// "detect.global"). It compares the average request rate of the last 60 s
// with the baseline's per-second rate; it raises alerts, never bans.
type GlobalConfig struct {
	// Mode is alert (the default; "enforce" means the same) or off.
	Mode Mode `koanf:"mode"`
	// ZScore: an anomaly when (rate-mean)/stddev of the global per-second
	// baseline exceeds it.
	ZScore float64 `koanf:"zscore"`
	// Multiplier: an anomaly when the rate exceeds Multiplier x the global
	// baseline mean.
	Multiplier float64 `koanf:"multiplier"`
	// MinRate is a floor under both thresholds, in requests per second.
	MinRate float64 `koanf:"min_rate"`
	// RecoverAfter is how long traffic must stay under the threshold (times
	// Hysteresis) before a recovery is declared.
	RecoverAfter time.Duration `koanf:"recover_after"`
	// Hysteresis (0..1] scales the threshold for recovery.
	Hysteresis float64 `koanf:"hysteresis"`
	// History is how many past alerts are kept for the API.
	History int `koanf:"history"`
}

// SurgeConfig configures error-surge detection (YAML "detect.error_surge"):
// when a client's 4xx/5xx share surges against the baseline error rate its
// rate thresholds tighten until the share falls back (with hysteresis).
type SurgeConfig struct {
	// MinErrors is the fewest errors in the window before a surge can start.
	MinErrors int `koanf:"min_errors"`
	// Multiplier: a surge starts when the client's error ratio exceeds
	// Multiplier x the baseline error rate ...
	Multiplier float64 `koanf:"multiplier"`
	// MinRatio ... and at least MinRatio (0..1).
	MinRatio float64 `koanf:"min_ratio"`
	// Hysteresis (0..1): the surge ends when the ratio falls below
	// Hysteresis x the start threshold, or errors below Hysteresis x MinErrors.
	Hysteresis float64 `koanf:"hysteresis"`
	// Tighten (0..1] multiplies every threshold of a surging client.
	Tighten float64 `koanf:"tighten"`
}

// EnumerationConfig configures the enumeration detector (YAML
// "detect.enumeration"): many distinct not-found paths from one client.
type EnumerationConfig struct {
	// Mode is enforce, alert or off.
	Mode Mode `koanf:"mode"`
	// Window is how far back distinct paths are counted.
	Window time.Duration `koanf:"window"`
	// Distinct is how many distinct paths answered with one of Statuses make a
	// finding (at most 64).
	Distinct int `koanf:"distinct"`
	// Statuses are the response codes that count (default 404 and 410).
	Statuses []int `koanf:"statuses"`
}

// BruteforceConfig configures the authentication brute-force detector (YAML
// "detect.bruteforce"), like fail2ban's maxretry/findtime, tightened for a
// client whose error rate surges.
type BruteforceConfig struct {
	// Mode is enforce, alert or off.
	Mode Mode `koanf:"mode"`
	// Paths are login endpoints, matched case-insensitively against the
	// request path; an entry ending in "*" is a prefix.
	Paths []string `koanf:"paths"`
	// Statuses are the responses that mean a failed login.
	Statuses []int `koanf:"statuses"`
	// FindTime is the window failures are counted in (a multiple of 60 s).
	FindTime time.Duration `koanf:"findtime"`
	// MaxRetry failures within FindTime make a finding.
	MaxRetry int `koanf:"maxretry"`
}

// ScoreConfig configures the scoring policy (YAML "detect.score"): content
// findings add their severity to the client's score over Window, and the
// client is banned when the score reaches Threshold.
type ScoreConfig struct {
	// Window is how long points count (whole seconds, at most 60 s).
	Window time.Duration `koanf:"window"`
	// Threshold is the score that bans.
	Threshold int `koanf:"threshold"`
}

// Config configures every detector (YAML section "detect").
type Config struct {
	// Shadow computes bans but never enforces them (the respond stage counts
	// would-be bans).
	Shadow bool `koanf:"shadow"`
	// Cooldown is how long a client stays flagged (excluded from the
	// baseline) after its last finding.
	Cooldown time.Duration `koanf:"cooldown"`

	// Rate is per-client rate detection.
	Rate RateConfig `koanf:"rate"`
	// Global is global anomaly detection.
	Global GlobalConfig `koanf:"global"`
	// ErrorSurge tightens the thresholds of clients whose errors surge.
	ErrorSurge SurgeConfig `koanf:"error_surge"`
	// Enumeration detects path enumeration (many distinct 404s).
	Enumeration EnumerationConfig `koanf:"enumeration"`
	// Bruteforce detects password guessing.
	Bruteforce BruteforceConfig `koanf:"bruteforce"`
	// Score is the content scoring policy.
	Score ScoreConfig `koanf:"score"`
}

// DefaultConfig returns the default detector settings.
func DefaultConfig() Config {
	return Config{
		Cooldown: 10 * time.Minute,
		Rate:     RateConfig{Mode: ModeEnforce, ZScore: 8, Multiplier: 10, MinRequests: 300, Repeat: 10 * time.Second},
		Global: GlobalConfig{Mode: ModeAlert, ZScore: 4, Multiplier: 3, MinRate: 5,
			RecoverAfter: 60 * time.Second, Hysteresis: 0.8, History: 100},
		ErrorSurge: SurgeConfig{MinErrors: 10, Multiplier: 5, MinRatio: 0.5, Hysteresis: 0.5, Tighten: 0.5},
		Enumeration: EnumerationConfig{Mode: ModeEnforce, Window: 60 * time.Second, Distinct: 20,
			Statuses: []int{404, 410}},
		Bruteforce: BruteforceConfig{Mode: ModeEnforce,
			Paths: []string{"/login", "/signin", "/sign_in", "/users/sign_in", "/user/login", "/account/login",
				"/admin/login", "/auth/login", "/api/login", "/api/*/login", "/api/auth/*", "/session", "/sessions",
				"/wp-login.php", "/xmlrpc.php", "/oauth/token", "/j_security_check", "/administrator/index.php"},
			Statuses: []int{401, 403}, FindTime: 10 * time.Minute, MaxRetry: 10},
		Score: ScoreConfig{Window: 60 * time.Second, Threshold: 25},
	}
}

// Validate reports every invalid setting; messages start with the key
// relative to the detect section.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	mode := func(key string, m Mode) {
		if !m.Valid() {
			add(key, "must be enforce, alert or off (got %q)", m)
		}
	}
	pos := func(key string, v float64) {
		if !(v > 0) || math.IsInf(v, 0) {
			add(key, "must be > 0 (got %v)", v)
		}
	}
	frac := func(key string, v float64) {
		if !(v > 0 && v <= 1) {
			add(key, "must be in (0, 1] (got %v)", v)
		}
	}
	if c.Cooldown < 0 {
		add("cooldown", "must be >= 0 (got %s)", c.Cooldown)
	}
	mode("rate.mode", c.Rate.Mode)
	pos("rate.zscore", c.Rate.ZScore)
	pos("rate.multiplier", c.Rate.Multiplier)
	if c.Rate.MinRequests < 1 {
		add("rate.min_requests", "must be >= 1 (got %d)", c.Rate.MinRequests)
	}
	if c.Rate.Repeat < time.Second || c.Rate.Repeat > time.Hour {
		add("rate.repeat", "must be between 1s and 1h (got %s)", c.Rate.Repeat)
	}
	mode("global.mode", c.Global.Mode)
	pos("global.zscore", c.Global.ZScore)
	pos("global.multiplier", c.Global.Multiplier)
	pos("global.min_rate", c.Global.MinRate)
	frac("global.hysteresis", c.Global.Hysteresis)
	if c.Global.RecoverAfter < time.Second {
		add("global.recover_after", "must be >= 1s (got %s)", c.Global.RecoverAfter)
	}
	if c.Global.History < 0 {
		add("global.history", "must be >= 0 (got %d)", c.Global.History)
	}
	if c.ErrorSurge.MinErrors < 1 {
		add("error_surge.min_errors", "must be >= 1 (got %d)", c.ErrorSurge.MinErrors)
	}
	pos("error_surge.multiplier", c.ErrorSurge.Multiplier)
	frac("error_surge.min_ratio", c.ErrorSurge.MinRatio)
	frac("error_surge.hysteresis", c.ErrorSurge.Hysteresis)
	frac("error_surge.tighten", c.ErrorSurge.Tighten)
	mode("enumeration.mode", c.Enumeration.Mode)
	if c.Enumeration.Window < time.Second || c.Enumeration.Window > time.Hour {
		add("enumeration.window", "must be between 1s and 1h (got %s)", c.Enumeration.Window)
	}
	if c.Enumeration.Distinct < 2 || c.Enumeration.Distinct > distinctCap {
		add("enumeration.distinct", "must be between 2 and %d (got %d)", distinctCap, c.Enumeration.Distinct)
	}
	statuses("enumeration.statuses", c.Enumeration.Statuses, add)
	mode("bruteforce.mode", c.Bruteforce.Mode)
	if len(c.Bruteforce.Paths) == 0 && c.Bruteforce.Mode != ModeOff {
		add("bruteforce.paths", "must list at least one login path")
	}
	for i, p := range c.Bruteforce.Paths {
		if !strings.HasPrefix(p, "/") || strings.Count(p, "*") > 1 {
			add(fmt.Sprintf("bruteforce.paths[%d]", i), "must start with / and hold at most one * (got %q)", p)
		}
	}
	statuses("bruteforce.statuses", c.Bruteforce.Statuses, add)
	if c.Bruteforce.FindTime < time.Minute || c.Bruteforce.FindTime%time.Minute != 0 || c.Bruteforce.FindTime > 24*time.Hour {
		add("bruteforce.findtime", "must be a whole number of minutes between 1m and 24h (got %s)", c.Bruteforce.FindTime)
	}
	if c.Bruteforce.MaxRetry < 1 || c.Bruteforce.MaxRetry > 10000 {
		add("bruteforce.maxretry", "must be between 1 and 10000 (got %d)", c.Bruteforce.MaxRetry)
	}
	if c.Score.Window < time.Second || c.Score.Window > 60*time.Second || c.Score.Window%time.Second != 0 {
		add("score.window", "must be whole seconds between 1s and 60s (got %s)", c.Score.Window)
	}
	if c.Score.Threshold < 1 || c.Score.Threshold > 10000 {
		add("score.threshold", "must be between 1 and 10000 (got %d)", c.Score.Threshold)
	}
	return errors.Join(errs...)
}

func statuses(key string, s []int, add func(string, string, ...any)) {
	if len(s) == 0 {
		add(key, "must list at least one status code")
	}
	for i, v := range s {
		if v < 100 || v > 599 {
			add(fmt.Sprintf("%s[%d]", key, i), "must be an HTTP status code (got %d)", v)
		}
	}
}
