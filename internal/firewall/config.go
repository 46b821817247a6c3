package firewall

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Backend names accepted in Config.Backend.
const (
	BackendIPTables = "iptables"
	BackendIPSet    = "ipset"
	BackendDryRun   = "dry-run"
)

// Targets accepted in Config.Target.
const (
	TargetDrop   = "DROP"
	TargetReject = "REJECT"
)

// Name limits of the kernel: an xtables chain name has at most 28 characters
// (XT_EXTENSION_MAXNAMELEN minus the NUL) and an ipset name at most 31
// (IPSET_MAXNAMELEN minus the NUL).
const (
	maxChainLen = 28
	maxSetLen   = 31
	// setSuffixLen is what vigil appends to Config.SetName: the family digit
	// ("4" or "6") and, while the set is resized, tmpSetSuffix.
	setSuffixLen = 1 + len(tmpSetSuffix)
	// maxSetNameLen is the longest SetName that leaves room for the suffixes.
	maxSetNameLen = maxSetLen - setSuffixLen
	// maxIPSetElem is the largest maxelem the kernel accepts (u32).
	maxIPSetElem = 1<<32 - 1
	// maxLockWait caps lock_wait: a firewall call must never stall the
	// respond stage for long.
	maxLockWait = 10 * time.Minute
)

// Config is the firewall section of vigil's configuration. Field tags are the
// YAML keys. The zero value is not valid; start from DefaultConfig.
type Config struct {
	// Backend is "iptables", "ipset" or "dry-run".
	Backend string `koanf:"backend"`
	// Chain is the dedicated chain vigil owns in the filter table.
	Chain string `koanf:"chain"`
	// ParentChains are the chains that jump to Chain (rule inserted at
	// position 1): "INPUT" for the host, "DOCKER-USER" for published
	// container ports, "FORWARD" for a router.
	ParentChains []string `koanf:"parent_chains"`
	// Target is what happens to a banned client's packets: "DROP" (silently
	// discarded) or "REJECT" (answered with an ICMP administratively
	// prohibited error, so the client fails fast).
	Target string `koanf:"target"`
	// IPv6 also manages ip6tables and the IPv6 set. When false, banning an
	// IPv6 prefix is an error (ErrIPv6Disabled).
	IPv6 bool `koanf:"ipv6"`
	// SetName is the ipset base name: the sets are SetName+"4" (family inet)
	// and SetName+"6" (family inet6), both hash:net.
	SetName string `koanf:"set_name"`
	// MaxElem is the capacity of each set (ipset maxelem).
	MaxElem int `koanf:"maxelem"`
	// LockWait is how long an iptables call waits for the xtables lock before
	// it fails with ErrLocked. It is rounded up to whole seconds; it is never
	// 0, which would mean waiting forever.
	LockWait time.Duration `koanf:"lock_wait"`
	// RemoveOnStop asks the daemon to call Teardown when it stops. By default
	// bans stay in the kernel (ipset entries keep expiring on their own).
	RemoveOnStop bool `koanf:"remove_on_stop"`
}

// DefaultConfig returns the default firewall configuration. The backend is
// DefaultBackend(): "ipset" when running as root, "dry-run" otherwise.
func DefaultConfig() Config {
	return Config{
		Backend:      DefaultBackend(),
		Chain:        "VIGIL",
		ParentChains: []string{"INPUT"},
		Target:       TargetDrop,
		IPv6:         true,
		SetName:      "vigil",
		MaxElem:      262144,
		LockWait:     5 * time.Second,
	}
}

// DefaultBackend returns "ipset" when the process may change the firewall
// (it holds CAP_NET_ADMIN: root, or a service user given the capability)
// and "dry-run" otherwise.
func DefaultBackend() string {
	if hasNetAdmin() {
		return BackendIPSet
	}
	return BackendDryRun
}

// capNetAdmin is CAP_NET_ADMIN's bit in the capability sets.
const capNetAdmin = 12

// hasNetAdmin reports whether this process may change the firewall: it
// holds CAP_NET_ADMIN in its effective or ambient set (ambient capabilities
// pass to the iptables and ipset commands it runs), as root or as a
// dedicated user under systemd's AmbientCapabilities.
func hasNetAdmin() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return os.Geteuid() == 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok || (name != "CapEff" && name != "CapAmb") {
			continue
		}
		caps, err := strconv.ParseUint(strings.TrimSpace(val), 16, 64)
		if err == nil && caps&(1<<capNetAdmin) != 0 {
			return true
		}
	}
	return false
}

// reserved reports whether name is a built-in chain or a standard target,
// which vigil's own chain must not be named after.
func reserved(name string) bool {
	switch name {
	case "ACCEPT", "DROP", "REJECT", "RETURN", "QUEUE", "NFQUEUE", "LOG",
		"INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING":
		return true
	}
	return false
}

// Validate reports every problem in c, joined with errors.Join. Each message
// starts with the key relative to the firewall section.
func (c Config) Validate() error {
	var errs []error
	switch c.Backend {
	case BackendIPTables, BackendIPSet, BackendDryRun:
	default:
		errs = append(errs, fmt.Errorf("backend: must be %q, %q or %q (got %q)", BackendIPTables, BackendIPSet, BackendDryRun, c.Backend))
	}
	if err := checkName(c.Chain, maxChainLen); err != nil {
		errs = append(errs, fmt.Errorf("chain: %w", err))
	} else if reserved(c.Chain) {
		errs = append(errs, fmt.Errorf("chain: must not be a built-in chain or target (got %q)", c.Chain))
	}
	if len(c.ParentChains) == 0 {
		errs = append(errs, errors.New("parent_chains: must name at least one chain (e.g. INPUT)"))
	}
	seen := make(map[string]bool, len(c.ParentChains))
	for i, p := range c.ParentChains {
		switch {
		case checkName(p, maxChainLen) != nil:
			errs = append(errs, fmt.Errorf("parent_chains[%d]: %w", i, checkName(p, maxChainLen)))
		case p == c.Chain:
			errs = append(errs, fmt.Errorf("parent_chains[%d]: must differ from chain (got %q)", i, p))
		case seen[p]:
			errs = append(errs, fmt.Errorf("parent_chains[%d]: duplicate %q", i, p))
		case p == "OUTPUT" || (reserved(p) && p != "INPUT" && p != "FORWARD"):
			errs = append(errs, fmt.Errorf("parent_chains[%d]: %q cannot see client traffic; use INPUT, FORWARD or DOCKER-USER", i, p))
		}
		seen[p] = true
	}
	if c.Target != TargetDrop && c.Target != TargetReject {
		errs = append(errs, fmt.Errorf("target: must be DROP or REJECT (got %q)", c.Target))
	}
	if err := checkName(c.SetName, maxSetNameLen); err != nil {
		errs = append(errs, fmt.Errorf("set_name: %w", err))
	}
	if c.MaxElem <= 0 || int64(c.MaxElem) > maxIPSetElem {
		errs = append(errs, fmt.Errorf("maxelem: must be between 1 and %d (got %d)", int64(maxIPSetElem), c.MaxElem))
	}
	if c.LockWait < time.Second || c.LockWait > maxLockWait {
		errs = append(errs, fmt.Errorf("lock_wait: must be between 1s and %s (got %s)", maxLockWait, c.LockWait))
	}
	return errors.Join(errs...)
}

// lockWaitSeconds returns LockWait rounded up to whole seconds, the unit of
// iptables --wait.
func (c Config) lockWaitSeconds() int {
	return int((c.LockWait + time.Second - 1) / time.Second)
}

// checkName validates a chain or set name: 1..max characters from
// [A-Za-z0-9_-], starting with a letter or digit.
func checkName(s string, max int) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	if len(s) > max {
		return fmt.Errorf("must be at most %d characters (got %d in %q)", max, len(s), s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || (i > 0 && (c == '-' || c == '_'))
		if !ok {
			return fmt.Errorf("must contain only letters, digits, '-' and '_' and start with a letter or digit (got %q)", s)
		}
	}
	return nil
}
