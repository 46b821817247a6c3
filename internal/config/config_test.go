package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "vigil.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsAreValid(t *testing.T) {
	c, err := Load(Sources{})
	if err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	if c.Source.Path != "/var/log/nginx/access.json" || c.Source.Format != "json" || c.StateDir != "/var/lib/vigil" {
		t.Fatalf("defaults: %+v", c.Source)
	}
	if got := strings.Join(c.Ban.Ladder, ","); got != "10m,30m,2h,permanent" {
		t.Fatalf("ban.ladder = %s", got)
	}
	if !c.Allow().Contains(mustAddr("127.0.0.1")) {
		t.Fatal("default allowlist does not hold loopback")
	}
}

func TestFileEnvFlagPrecedence(t *testing.T) {
	p := writeFile(t, `
source:
  path: /srv/logs/access.json
  format: combined
state_dir: /srv/state
ban:
  ladder: [1m, 5m]
detect:
  rate:
    zscore: 5
  bruteforce:
    paths: [/signin]
trusted_proxies: [10.0.0.0/8]
`)
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.String("state-dir", "", "")
	if err := fs.Parse([]string{"--state-dir", "/from/flag"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Sources{File: p, Environ: []string{"VIGIL_DETECT__RATE__ZSCORE=7", "VIGIL_ALLOWLIST=192.0.2.0/24,198.51.100.1", "PATH=/bin"},
		Flags: fs, FlagKeys: map[string]string{"state-dir": "state_dir"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Source.Path != "/srv/logs/access.json" || c.Source.Format != "combined" {
		t.Errorf("source from file: %+v", c.Source)
	}
	if c.Detect.Rate.ZScore != 7 {
		t.Errorf("detect.rate.zscore = %v, want 7 (env over file)", c.Detect.Rate.ZScore)
	}
	if c.Detect.Rate.Multiplier != 10 {
		t.Errorf("detect.rate.multiplier = %v, want the default 10", c.Detect.Rate.Multiplier)
	}
	if strings.Join(c.Ban.Ladder, ",") != "1m,5m" {
		t.Errorf("ban.ladder = %v: a list in the file must replace the default", c.Ban.Ladder)
	}
	if strings.Join(c.Detect.Bruteforce.Paths, ",") != "/signin" {
		t.Errorf("bruteforce.paths = %v", c.Detect.Bruteforce.Paths)
	}
	if c.StateDir != "/from/flag" {
		t.Errorf("state_dir = %s, want the flag's value", c.StateDir)
	}
	if !c.Allow().Contains(mustAddr("198.51.100.1")) || c.Allow().Contains(mustAddr("127.0.0.1")) {
		t.Errorf("allowlist from env not applied")
	}
	if !c.Trusted().Contains(mustAddr("10.1.2.3")) {
		t.Errorf("trusted_proxies from file not applied")
	}
	if c.Baseline.Learning != 30*time.Minute {
		t.Errorf("baseline.learning = %s", c.Baseline.Learning)
	}
}

func TestUnknownKeysAreRejectedWithTheirOrigin(t *testing.T) {
	p := writeFile(t, "source:\n  pth: /x\ndetect:\n  rate:\n    zscroe: 3\n")
	_, err := Load(Sources{File: p, Environ: []string{"VIGIL_STATEDIR=/x"}})
	if err == nil {
		t.Fatal("unknown keys accepted")
	}
	msg := err.Error()
	for _, want := range []string{"source.pth: unknown key (did you mean source.path?)", "detect.rate.zscroe: unknown key (did you mean detect.rate.zscore?)",
		"statedir: unknown key (did you mean state_dir?) (from environment variable VIGIL_STATEDIR)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not say %q:\n%s", want, msg)
		}
	}
}

func TestEveryProblemNamesItsKey(t *testing.T) {
	p := writeFile(t, `
source:
  format: xml
ban:
  ladder: [10m, never]
  max_per_minute: 0
allowlist: [10.0.0.300/8]
http:
  listen: "localhost"
engine:
  idle_timeout: 2m
detect:
  rate:
    mode: maybe
  bruteforce:
    findtime: 30m
log:
  level: loud
`)
	_, err := Load(Sources{File: p})
	if err == nil {
		t.Fatal("invalid configuration accepted")
	}
	for _, key := range []string{"source.format", "ban.ladder[1]", "ban.max_per_minute", "allowlist[0]", "http.listen",
		"engine.idle_timeout", "detect.rate.mode", "log.level"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s:\n%s", key, err)
		}
	}
}

func TestBadYAMLAndMissingFile(t *testing.T) {
	if _, err := Load(Sources{File: filepath.Join(t.TempDir(), "none.yaml")}); err == nil {
		t.Fatal("missing file accepted")
	}
	p := writeFile(t, "source: [unclosed\n")
	if _, err := Load(Sources{File: p}); err == nil || !strings.Contains(err.Error(), p) {
		t.Fatalf("bad YAML: %v", err)
	}
	p = writeFile(t, "detect:\n  rate:\n    zscore: fast\n")
	if _, err := Load(Sources{File: p}); err == nil || !strings.Contains(err.Error(), "zscore") {
		t.Fatalf("wrong type: %v", err)
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestSetOverridesEverything(t *testing.T) {
	p := writeFile(t, "detect:\n  rate:\n    zscore: 5\n")
	c, err := Load(Sources{File: p, Environ: []string{"VIGIL_DETECT__RATE__ZSCORE=6"},
		Set: []string{"detect.rate.zscore=7", "ban.ladder=1m,2m,permanent", "firewall.backend=dry-run"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Detect.Rate.ZScore != 7 || strings.Join(c.Ban.Ladder, ",") != "1m,2m,permanent" || c.Firewall.Backend != "dry-run" {
		t.Fatalf("zscore=%v ladder=%v backend=%s", c.Detect.Rate.ZScore, c.Ban.Ladder, c.Firewall.Backend)
	}
	_, err = Load(Sources{Set: []string{"detect.rate.zscroe=3", "nonsense"}})
	if err == nil || !strings.Contains(err.Error(), "detect.rate.zscroe: unknown key (did you mean detect.rate.zscore?) (from --set)") ||
		!strings.Contains(err.Error(), `--set "nonsense": want KEY=VALUE`) {
		t.Fatalf("bad --set: %v", err)
	}
}
