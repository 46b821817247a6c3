package firewall

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v, want nil", err)
	}
	if c.Chain != "VIGIL" || c.Target != TargetDrop || !c.IPv6 || c.SetName != "vigil" || c.MaxElem != 262144 ||
		c.LockWait != 5*time.Second || c.RemoveOnStop || len(c.ParentChains) != 1 || c.ParentChains[0] != "INPUT" {
		t.Errorf("DefaultConfig() = %+v, differs from the documented defaults", c)
	}
	if c.Backend != DefaultBackend() {
		t.Errorf("DefaultConfig().Backend = %q, want DefaultBackend() %q", c.Backend, DefaultBackend())
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   []string // substrings, each must appear; nil = valid
	}{
		{"defaults", func(*Config) {}, nil},
		{"iptables reject docker", func(c *Config) {
			c.Backend, c.Target, c.ParentChains = BackendIPTables, TargetReject, []string{"DOCKER-USER", "FORWARD"}
		}, nil},
		{"backend", func(c *Config) { c.Backend = "nft" }, []string{`backend: must be "iptables", "ipset" or "dry-run" (got "nft")`}},
		{"target", func(c *Config) { c.Target = "ACCEPT" }, []string{`target: must be DROP or REJECT (got "ACCEPT")`}},
		{"chain empty", func(c *Config) { c.Chain = "" }, []string{"chain: must not be empty"}},
		{"chain long", func(c *Config) { c.Chain = strings.Repeat("V", 29) }, []string{"chain: must be at most 28 characters"}},
		{"chain 28 ok", func(c *Config) { c.Chain = strings.Repeat("V", 28) }, nil},
		{"chain charset", func(c *Config) { c.Chain = "VIG IL;" }, []string{"chain: must contain only letters"}},
		{"chain leading dash", func(c *Config) { c.Chain = "-j" }, []string{"chain: must contain only letters"}},
		{"chain builtin", func(c *Config) { c.Chain = "INPUT"; c.ParentChains = []string{"FORWARD"} }, []string{"chain: must not be a built-in"}},
		{"parents empty", func(c *Config) { c.ParentChains = nil }, []string{"parent_chains: must name at least one chain"}},
		{"parent dup", func(c *Config) { c.ParentChains = []string{"INPUT", "INPUT"} }, []string{`parent_chains[1]: duplicate "INPUT"`}},
		{"parent self", func(c *Config) { c.ParentChains = []string{"VIGIL"} }, []string{"parent_chains[0]: must differ from chain"}},
		{"parent output", func(c *Config) { c.ParentChains = []string{"OUTPUT"} }, []string{`parent_chains[0]: "OUTPUT" cannot see client traffic`}},
		{"parent bad", func(c *Config) { c.ParentChains = []string{"INPUT", "a b"} }, []string{"parent_chains[1]: must contain only letters"}},
		{"set name long", func(c *Config) { c.SetName = strings.Repeat("s", 27) }, []string{"set_name: must be at most 26 characters"}},
		{"set name 26 ok", func(c *Config) { c.SetName = strings.Repeat("s", 26) }, nil},
		{"maxelem", func(c *Config) { c.MaxElem = 0 }, []string{"maxelem: must be between 1 and 4294967295 (got 0)"}},
		{"lock wait zero", func(c *Config) { c.LockWait = 0 }, []string{"lock_wait: must be between 1s and 10m0s (got 0s)"}},
		{"lock wait huge", func(c *Config) { c.LockWait = time.Hour }, []string{"lock_wait: must be between 1s and 10m0s (got 1h0m0s)"}},
		{"all at once", func(c *Config) {
			c.Backend, c.Target, c.MaxElem, c.LockWait = "x", "y", -1, -time.Second
		}, []string{"backend:", "target:", "maxelem:", "lock_wait:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			c.Backend = BackendDryRun
			tc.modify(&c)
			err := c.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors containing %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
			// Each problem is its own line, starting with its key.
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.Contains(line, ": ") || strings.HasPrefix(line, " ") {
					t.Errorf("message %q does not start with a key", line)
				}
			}
		})
	}
}

func TestLockWaitSeconds(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want int
	}{{time.Second, 1}, {1500 * time.Millisecond, 2}, {5 * time.Second, 5}}
	for _, tc := range tests {
		if got := (Config{LockWait: tc.in}).lockWaitSeconds(); got != tc.want {
			t.Errorf("lockWaitSeconds(%s) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	c := DefaultConfig()
	c.Target = "ACCEPT"
	_, err := New(c, Options{})
	if err == nil || !strings.Contains(err.Error(), "target: must be DROP or REJECT") {
		t.Fatalf("New with bad target: err = %v, want the validation error", err)
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Errorf("New error %v does not wrap the joined validation errors", err)
	}
}
