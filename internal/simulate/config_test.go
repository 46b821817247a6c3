package simulate

import (
	"strings"
	"testing"
	"time"
)

func TestParseAttack(t *testing.T) {
	tests := []struct {
		spec    string
		want    Attack
		wantErr string
	}{
		{spec: "flood", want: Attack{Kind: "flood", Start: 3 * time.Minute}},
		{spec: "scanner@90s", want: Attack{Kind: "scanner", Start: 90 * time.Second}},
		{spec: "scanner@0s", want: Attack{Kind: "scanner"}},
		{spec: "bruteforce+10m", want: Attack{Kind: "bruteforce", Start: time.Minute, Duration: 10 * time.Minute}},
		{spec: "ddos:250", want: Attack{Kind: "ddos", Start: 5 * time.Minute, Rate: 250}},
		{spec: "sqli@1m30s+5m:0.25", want: Attack{Kind: "sqli", Start: 90 * time.Second, Duration: 5 * time.Minute, Rate: 0.25}},
		{spec: "xss@2m:1", want: Attack{Kind: "xss", Start: 2 * time.Minute, Rate: 1}},
		{spec: "traversal+30s:3", want: Attack{Kind: "traversal", Start: 4 * time.Minute, Duration: 30 * time.Second, Rate: 3}},
		{spec: "enumeration@1h", want: Attack{Kind: "enumeration", Start: time.Hour}},
		{spec: "badbot@10s+1m:20", want: Attack{Kind: "badbot", Start: 10 * time.Second, Duration: time.Minute, Rate: 20}},

		{spec: "flod@1m", wantErr: `attack "flod@1m": unknown kind "flod" (want one of flood, ddos, scanner, bruteforce, sqli, xss, traversal, enumeration, badbot)`},
		{spec: "", wantErr: `attack "": missing kind`},
		{spec: "@1m", wantErr: `attack "@1m": missing kind`},
		{spec: "FLOOD", wantErr: `unknown kind "FLOOD"`},
		{spec: "flood@soon", wantErr: `attack "flood@soon": start: time: invalid duration "soon"`},
		{spec: "flood@-1m", wantErr: `attack "flood@-1m": start: must be >= 0 (got -1m0s)`},
		{spec: "flood+0s", wantErr: `attack "flood+0s": duration: must be > 0 (got 0s)`},
		{spec: "flood+", wantErr: `attack "flood+": duration: time: invalid duration ""`},
		{spec: "flood:fast", wantErr: `attack "flood:fast": rate: strconv.ParseFloat: parsing "fast": invalid syntax`},
		{spec: "flood:0", wantErr: `attack "flood:0": rate: must be > 0`},
		{spec: "flood:-3", wantErr: `rate: must be > 0`},
		{spec: "flood:NaN", wantErr: `rate: must be > 0`},
		{spec: "flood:5@1m", wantErr: `rate: strconv.ParseFloat: parsing "5@1m"`},
		{spec: "flood+1m@1m", wantErr: `attack "flood+1m@1m": unexpected "@1m" (want KIND[@START][+DURATION][:RATE])`},
		{spec: "flood@1m@2m", wantErr: `unexpected "@2m"`},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := ParseAttack(tc.spec)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseAttack(%q) error = %v, want containing %q", tc.spec, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAttack(%q): %v", tc.spec, err)
			}
			if got != tc.want {
				t.Fatalf("ParseAttack(%q) = %+v, want %+v", tc.spec, got, tc.want)
			}
			// String gives a spec that parses back to the same attack.
			again, err := ParseAttack(got.String())
			if err != nil || again != got {
				t.Fatalf("ParseAttack(%q) = %+v, %v; want %+v", got.String(), again, err, got)
			}
		})
	}
}

func TestKindsHaveDefaults(t *testing.T) {
	for _, k := range Kinds() {
		start, dur, rate, ok := kindDefaults(k)
		if !ok || start < 0 || dur <= 0 || rate < 0 || (rate == 0 && k != KindDDoS) {
			t.Errorf("kindDefaults(%q) = %v, %v, %v, %v", k, start, dur, rate, ok)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
	tests := []struct {
		name string
		edit func(c *Config)
		want []string
	}{
		{"zero start", func(c *Config) { c.Start = time.Time{} }, []string{"start: must be set"}},
		{"negative duration", func(c *Config) { c.Duration = -time.Second }, []string{"duration: must be >= 0 (got -1s)"}},
		{"negative lines", func(c *Config) { c.Lines = -1 }, []string{"lines: must be >= 0 (got -1)"}},
		{"zero rate", func(c *Config) { c.Rate = 0 }, []string{"rate: must be > 0 and <= 1000000 (got 0)"}},
		{"huge rate", func(c *Config) { c.Rate = 2e6 }, []string{"rate: must be > 0"}},
		{"few clients", func(c *Config) { c.Clients = 3 }, []string{"clients: must be between 10 and 10000000 (got 3)"}},
		{"ipv6 share", func(c *Config) { c.IPv6Share = 1.5 }, []string{"ipv6_share: must be between 0 and 1 (got 1.5)"}},
		{"diurnal", func(c *Config) { c.Diurnal = -0.1 }, []string{"diurnal: must be between 0 and 1 (got -0.1)"}},
		{"format", func(c *Config) { c.Format = "xml" }, []string{`format: unknown format "xml" (want json or combined)`}},
		{"host", func(c *Config) { c.Host = "a b" }, []string{`host: must be a host name (got "a b")`}},
		{"attack kind", func(c *Config) { c.Attacks = []Attack{{Kind: "flood"}, {Kind: "nope"}} }, []string{`attacks[1].kind: unknown kind "nope"`}},
		{"attack after end", func(c *Config) {
			c.Duration = 10 * time.Minute
			c.Attacks = []Attack{{Kind: "flood", Start: 10 * time.Minute}}
		}, []string{"attacks[0].start: 10m0s is not before the end of the simulation (duration 10m0s)"}},
		{"attack negative", func(c *Config) {
			c.Attacks = []Attack{{Kind: "flood", Start: -1, Duration: -1, Rate: -1}}
		}, []string{"attacks[0].start: must be >= 0", "attacks[0].duration: must be >= 0", "attacks[0].rate: must be between 0 and 1000000"}},
		{"everything at once", func(c *Config) {
			c.Rate, c.Clients, c.Format = -1, 0, ""
		}, []string{"rate:", "clients:", "format:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
			if n := len(strings.Split(err.Error(), "\n")); n != len(tc.want) {
				t.Errorf("Validate() reported %d problems, want %d: %q", n, len(tc.want), err)
			}
			if _, err := New(c); err == nil {
				t.Error("New accepted an invalid config")
			}
		})
	}
}
