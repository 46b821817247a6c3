package parse

import (
	"strings"
	"testing"
)

func TestDefaultConfigValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
	c := DefaultConfig()
	c.Format = FormatCombined
	if err := c.Validate(); err != nil {
		t.Fatalf("combined: %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   []string // every message expected, in any order
	}{
		{"unknown format", func(c *Config) { c.Format = "xml" }, []string{`format: must be "json" or "combined" (got "xml")`}},
		{"no time keys", func(c *Config) { c.Fields.Time = nil }, []string{"fields.time: must list at least one key"}},
		{"too many time keys", func(c *Config) { c.Fields.Time = strings.Split("a b c d e f g h i", " ") }, []string{"fields.time: at most 8 keys (got 9)"}},
		{"empty key", func(c *Config) { c.Fields.Host = "" }, []string{"fields.host: must not be empty"}},
		{"empty time key", func(c *Config) { c.Fields.Time = []string{"time", ""} }, []string{"fields.time[1]: must not be empty"}},
		{"duplicate key", func(c *Config) { c.Fields.Host = "remote_addr" },
			[]string{`fields.host: key "remote_addr" is already used by fields.remote_addr`}},
		{"duplicate with time key", func(c *Config) { c.Fields.Status = "msec" },
			[]string{`fields.status: key "msec" is already used by fields.time[3]`}},
		{"quote in key", func(c *Config) { c.Fields.Host = `ho"st` }, []string{`fields.host: must not contain '"' or '\'`}},
		{"long key", func(c *Config) { c.Fields.Host = strings.Repeat("h", 257) }, []string{"fields.host: must be at most 256 bytes (got 257)"}},
		{"max_line zero", func(c *Config) { c.Limits.MaxLine = 0 }, []string{"limits.max_line: must be > 0 (got 0)"}},
		{"max_line huge", func(c *Config) { c.Limits.MaxLine = 2 << 20 }, []string{"limits.max_line: must be at most 1048576 (got 2097152)"}},
		{"max_field negative", func(c *Config) { c.Limits.MaxField = -1 }, []string{"limits.max_field: must be > 0 (got -1)"}},
		{"max_field over max_line", func(c *Config) { c.Limits = Limits{MaxLine: 100, MaxField: 200} },
			[]string{"limits.max_field: must be at most limits.max_line (100) (got 200)"}},
		{"every problem at once", func(c *Config) {
			c.Format = ""
			c.Fields.RemoteAddr = ""
			c.Limits = Limits{MaxLine: -5, MaxField: 0}
		}, []string{"format: ", "fields.remote_addr: must not be empty", "limits.max_line: must be > 0 (got -5)", "limits.max_field: must be > 0 (got 0)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.modify(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			msgs := strings.Split(err.Error(), "\n")
			if len(msgs) != len(tc.want) {
				t.Errorf("got %d messages, want %d:\n%v", len(msgs), len(tc.want), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if _, nerr := New(c); nerr == nil || !strings.HasPrefix(nerr.Error(), "parse config: ") {
				t.Errorf("New() = %v, want the wrapped validation error", nerr)
			}
		})
	}
}
