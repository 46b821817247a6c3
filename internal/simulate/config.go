package simulate

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Output formats accepted by Config.Format, Run and RunLive.
const (
	// FormatJSON is Nginx's escape=json log_format with vigil's default
	// field names (see WriteJSON).
	FormatJSON = "json"
	// FormatCombined is Nginx's stock "combined" format (see WriteCombined).
	FormatCombined = "combined"
)

// Attack kinds accepted by Attack.Kind and ParseAttack.
const (
	KindFlood       = "flood"
	KindDDoS        = "ddos"
	KindScanner     = "scanner"
	KindBruteforce  = "bruteforce"
	KindSQLi        = "sqli"
	KindXSS         = "xss"
	KindTraversal   = "traversal"
	KindEnumeration = "enumeration"
	KindBadbot      = "badbot"
)

// Limits on a Config.
const (
	// MinClients is the smallest population: enough for every client type.
	MinClients = 10
	// MaxClients bounds the population's memory (about 100 bytes per client).
	MaxClients = 10_000_000
	// MaxRate bounds the mean request rate (requests per second).
	MaxRate = 1_000_000
	// MaxAttacks bounds the number of attacks in one simulation (attacker
	// addresses come from a /24 of documentation space).
	MaxAttacks = 64
)

// Kinds returns the attack kinds in a stable order.
func Kinds() []string {
	return []string{KindFlood, KindDDoS, KindScanner, KindBruteforce, KindSQLi, KindXSS, KindTraversal, KindEnumeration, KindBadbot}
}

// kindDefaults returns an attack kind's default start offset, duration and
// rate (requests per second; 0 for ddos, whose default depends on
// Config.Rate). ok is false for an unknown kind.
func kindDefaults(kind string) (start, dur time.Duration, rate float64, ok bool) {
	switch kind {
	case KindFlood:
		return 3 * time.Minute, 2 * time.Minute, 60, true
	case KindDDoS:
		return 5 * time.Minute, 3 * time.Minute, 0, true
	case KindScanner:
		return 2 * time.Minute, 2 * time.Minute, 4, true
	case KindBruteforce:
		return time.Minute, 20 * time.Minute, 1 / 4.5, true
	case KindSQLi, KindXSS, KindTraversal:
		return 4 * time.Minute, 10 * time.Minute, 0.5, true
	case KindEnumeration:
		return 6 * time.Minute, 3 * time.Minute, 10, true
	case KindBadbot:
		return 7 * time.Minute, 5 * time.Minute, 8, true
	}
	return 0, 0, 0, false
}

// ddosRateFactor is the default ddos rate as a multiple of Config.Rate: the
// botnet triples the site's traffic.
const ddosRateFactor = 2

// Attack is one attack injected into the simulated traffic. The zero
// Duration and the zero Rate mean the kind's default; Start is taken as
// given (ParseAttack fills the kind's default start when the spec has none).
type Attack struct {
	// Kind is one of Kinds().
	Kind string `koanf:"kind"`
	// Start is when the attack begins, relative to the simulation start.
	Start time.Duration `koanf:"start"`
	// Duration is how long the attack lasts (0: the kind's default).
	Duration time.Duration `koanf:"duration"`
	// Rate is the attack's request rate in requests per second, summed over
	// all its addresses (0: the kind's default). For sqli, xss and traversal
	// it is the payload rate the attacker ramps up to.
	Rate float64 `koanf:"rate"`
}

// ParseAttack parses an attack spec of the form KIND[@START][+DURATION][:RATE],
// for example "scanner", "flood@2m", "bruteforce@30s+10m:0.5". START and
// DURATION are Go durations; RATE is in requests per second. Omitted parts
// take the kind's defaults.
func ParseAttack(spec string) (Attack, error) {
	bad := func(format string, args ...any) (Attack, error) {
		return Attack{}, fmt.Errorf("attack %q: "+format, append([]any{spec}, args...)...)
	}
	rest := spec
	i := strings.IndexAny(rest, "@+:")
	if i < 0 {
		i = len(rest)
	}
	a := Attack{Kind: rest[:i]}
	rest = rest[i:]
	start, _, _, ok := kindDefaults(a.Kind)
	if !ok {
		if a.Kind == "" {
			return bad("missing kind (want one of %s)", strings.Join(Kinds(), ", "))
		}
		return bad("unknown kind %q (want one of %s)", a.Kind, strings.Join(Kinds(), ", "))
	}
	a.Start = start
	if strings.HasPrefix(rest, "@") {
		v, r := cut(rest[1:], "@+:")
		d, err := time.ParseDuration(v)
		if err != nil {
			return bad("start: %w", err)
		}
		if d < 0 {
			return bad("start: must be >= 0 (got %s)", d)
		}
		a.Start, rest = d, r
	}
	if strings.HasPrefix(rest, "+") {
		v, r := cut(rest[1:], "@+:")
		d, err := time.ParseDuration(v)
		if err != nil {
			return bad("duration: %w", err)
		}
		if d <= 0 {
			return bad("duration: must be > 0 (got %s)", d)
		}
		a.Duration, rest = d, r
	}
	if strings.HasPrefix(rest, ":") {
		f, err := strconv.ParseFloat(rest[1:], 64)
		if err != nil {
			return bad("rate: %w", err)
		}
		if !(f > 0 && f <= MaxRate) {
			return bad("rate: must be > 0 and <= %d (got %s)", MaxRate, rest[1:])
		}
		a.Rate, rest = f, ""
	}
	if rest != "" {
		return bad("unexpected %q (want KIND[@START][+DURATION][:RATE])", rest)
	}
	return a, nil
}

// cut splits s at the first byte in seps.
func cut(s, seps string) (before, after string) {
	if i := strings.IndexAny(s, seps); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

// String formats a as a spec that ParseAttack accepts.
func (a Attack) String() string {
	s := a.Kind + "@" + a.Start.String()
	if a.Duration > 0 {
		s += "+" + a.Duration.String()
	}
	if a.Rate > 0 {
		s += ":" + strconv.FormatFloat(a.Rate, 'g', -1, 64)
	}
	return s
}

// Config describes one simulation. The zero value is not valid; start from
// DefaultConfig.
type Config struct {
	// Seed makes the output reproducible: the same Config gives the same
	// lines, byte for byte, on the same architecture.
	Seed uint64 `koanf:"seed"`
	// Start is the event time of the first moment simulated.
	Start time.Time `koanf:"start"`
	// Duration is how much event time to simulate (0: unbounded, or until
	// Lines).
	Duration time.Duration `koanf:"duration"`
	// Lines stops the simulation after this many lines (0: no limit).
	Lines int64 `koanf:"lines"`
	// Rate is the mean background request rate in requests per second,
	// averaged over a day. Attacks add to it.
	Rate float64 `koanf:"rate"`
	// Clients is the size of the normal client population.
	Clients int `koanf:"clients"`
	// IPv6Share is the fraction of clients (and attackers) with an IPv6
	// address, 0..1.
	IPv6Share float64 `koanf:"ipv6_share"`
	// Diurnal is the amplitude of the daily traffic cycle, 0..1: the rate
	// peaks at 15:00 at (1+Diurnal) times the mean and bottoms out at 03:00
	// at (1-Diurnal) times the mean (hours in Start's time zone).
	Diurnal float64 `koanf:"diurnal"`
	// Format is the log format the command writes, FormatJSON or
	// FormatCombined.
	Format string `koanf:"format"`
	// Host is the site's host name ($host).
	Host string `koanf:"host"`
	// Attacks are injected on top of the background traffic.
	Attacks []Attack `koanf:"attacks"`
}

// DefaultStart is the default simulation start: a Monday at midnight UTC.
func DefaultStart() time.Time { return time.Date(2026, time.January, 5, 0, 0, 0, 0, time.UTC) }

// DefaultConfig returns the default simulation: 50 requests/s from 2000
// clients, 20% of them on IPv6, with a 30% daily cycle, no attacks, no end.
func DefaultConfig() Config {
	return Config{
		Seed:      1,
		Start:     DefaultStart(),
		Rate:      50,
		Clients:   2000,
		IPv6Share: 0.2,
		Diurnal:   0.3,
		Format:    FormatJSON,
		Host:      "www.example.com",
	}
}

// Validate reports every problem with c, joined; each message starts with
// the key it is about.
func (c Config) Validate() error {
	var errs []error
	if c.Start.IsZero() {
		errs = append(errs, errors.New("start: must be set"))
	}
	if c.Duration < 0 {
		errs = append(errs, fmt.Errorf("duration: must be >= 0 (got %s)", c.Duration))
	}
	if c.Lines < 0 {
		errs = append(errs, fmt.Errorf("lines: must be >= 0 (got %d)", c.Lines))
	}
	if !(c.Rate > 0 && c.Rate <= MaxRate) {
		errs = append(errs, fmt.Errorf("rate: must be > 0 and <= %d (got %g)", MaxRate, c.Rate))
	}
	if c.Clients < MinClients || c.Clients > MaxClients {
		errs = append(errs, fmt.Errorf("clients: must be between %d and %d (got %d)", MinClients, MaxClients, c.Clients))
	}
	if !(c.IPv6Share >= 0 && c.IPv6Share <= 1) {
		errs = append(errs, fmt.Errorf("ipv6_share: must be between 0 and 1 (got %g)", c.IPv6Share))
	}
	if !(c.Diurnal >= 0 && c.Diurnal <= 1) {
		errs = append(errs, fmt.Errorf("diurnal: must be between 0 and 1 (got %g)", c.Diurnal))
	}
	if c.Format != FormatJSON && c.Format != FormatCombined {
		errs = append(errs, fmt.Errorf("format: unknown format %q (want %s or %s)", c.Format, FormatJSON, FormatCombined))
	}
	if c.Host == "" || strings.ContainsAny(c.Host, " \t\r\n\"\\/") {
		errs = append(errs, fmt.Errorf("host: must be a host name (got %q)", c.Host))
	}
	if len(c.Attacks) > MaxAttacks {
		errs = append(errs, fmt.Errorf("attacks: at most %d attacks (got %d)", MaxAttacks, len(c.Attacks)))
	}
	for i, a := range c.Attacks {
		if _, _, _, ok := kindDefaults(a.Kind); !ok {
			errs = append(errs, fmt.Errorf("attacks[%d].kind: unknown kind %q (want one of %s)", i, a.Kind, strings.Join(Kinds(), ", ")))
		}
		if a.Start < 0 {
			errs = append(errs, fmt.Errorf("attacks[%d].start: must be >= 0 (got %s)", i, a.Start))
		} else if c.Duration > 0 && a.Start >= c.Duration {
			errs = append(errs, fmt.Errorf("attacks[%d].start: %s is not before the end of the simulation (duration %s)", i, a.Start, c.Duration))
		}
		if a.Duration < 0 {
			errs = append(errs, fmt.Errorf("attacks[%d].duration: must be >= 0 (got %s)", i, a.Duration))
		}
		if !(a.Rate >= 0 && a.Rate <= MaxRate) {
			errs = append(errs, fmt.Errorf("attacks[%d].rate: must be between 0 and %d (got %g)", i, MaxRate, a.Rate))
		}
	}
	return errors.Join(errs...)
}
