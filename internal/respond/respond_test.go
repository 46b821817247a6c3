package respond

import (
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/ident"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

type recorder struct{ ds []*Decision }

func (r *recorder) Decide(d *Decision) { r.ds = append(r.ds, d) }

func banFinding(ip string, at time.Time) *detect.Finding {
	return &detect.Finding{Time: at, Client: netip.MustParseAddr(ip), Detector: "rate", Rule: "zscore",
		Class: detect.ClassRate, Action: detect.ActionBan, Reason: "too many requests",
		Evidence: detect.Evidence{Value: 900, Threshold: 300, Mean: 10, Stddev: 12}}
}

func newResponder(t *testing.T, mut func(*Config), o Options) (*Responder, *recorder) {
	t.Helper()
	cfg := DefaultConfig()
	if mut != nil {
		mut(&cfg)
	}
	rec := &recorder{}
	o.Sink = rec
	r, err := New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	return r, rec
}

func TestEscalationLadderAndUnbans(t *testing.T) {
	r, rec := newResponder(t, nil, Options{})
	ip := "203.0.113.7"
	at := t0
	want := []string{"10m0s", "30m0s", "2h0m0s", Permanent, Permanent}
	for i, w := range want {
		r.Finding(banFinding(ip, at))
		last := rec.ds[len(rec.ds)-1]
		if last.Action != ActionBan || last.DurationString() != w || last.Offense != i+1 {
			t.Fatalf("offense %d: got %s %s offense %d, want ban %s", i+1, last.Action, last.DurationString(), last.Offense, w)
		}
		if last.Permanent {
			// a permanent ban never expires: lift it by hand for the next round
			if _, err := r.Unban(at.Add(time.Minute), netip.MustParsePrefix(ip+"/32"), "", false); err != nil {
				t.Fatal(err)
			}
			at = at.Add(2 * time.Minute)
			continue
		}
		// findings while banned are ignored
		n := len(rec.ds)
		r.Finding(banFinding(ip, at.Add(time.Second)))
		if len(rec.ds) != n {
			t.Fatalf("finding during an active ban produced a decision")
		}
		at = last.Until
		r.Advance(at)
		un := rec.ds[len(rec.ds)-1]
		if un.Action != ActionUnban || un.IP() != ip || !un.Time.Equal(last.Until) {
			t.Fatalf("after expiry: %+v, want unban of %s at %s", un, ip, last.Until)
		}
		at = at.Add(time.Minute)
	}
	if s := r.Stats(); s.Bans != 5 || s.AlreadyBanned != 3 {
		t.Fatalf("stats %+v", s)
	}
}

func TestOffensesForgivenAfterQuietPeriod(t *testing.T) {
	r, rec := newResponder(t, func(c *Config) { c.ForgiveAfter = time.Hour }, Options{})
	r.Finding(banFinding("203.0.113.8", t0))
	r.Advance(t0.Add(11 * time.Minute))
	r.Finding(banFinding("203.0.113.8", t0.Add(20*time.Minute)))
	if d := rec.ds[len(rec.ds)-1]; d.Offense != 2 || d.Duration != 30*time.Minute {
		t.Fatalf("second offense within the hour: %+v", d)
	}
	r.Advance(t0.Add(60 * time.Minute))
	r.Finding(banFinding("203.0.113.8", t0.Add(3*time.Hour)))
	if d := rec.ds[len(rec.ds)-1]; d.Offense != 1 || d.Duration != 10*time.Minute {
		t.Fatalf("offense after the quiet period: offense %d %s, want 1 10m", d.Offense, d.Duration)
	}
}

func TestProtectedClientsAreNeverBanned(t *testing.T) {
	allow, _ := ident.ParseSet([]string{"192.0.2.0/24"})
	trusted, _ := ident.ParseSet([]string{"10.0.0.1"})
	r, rec := newResponder(t, nil, Options{Allowlist: allow, Trusted: trusted})
	r.Finding(banFinding("192.0.2.55", t0))
	r.Finding(banFinding("10.0.0.1", t0))
	if len(rec.ds) != 0 {
		t.Fatalf("protected clients banned: %+v", rec.ds)
	}
	if s := r.Stats(); s.Suppressed["allowlisted"] != 1 || s.Suppressed["trusted_proxy"] != 1 {
		t.Fatalf("suppressed = %v", s.Suppressed)
	}
	if _, err := r.Ban(t0, netip.MustParsePrefix("192.0.2.9/32"), 0, ""); !errors.Is(err, ErrProtected) {
		t.Fatalf("manual ban of an allowlisted address: err = %v, want ErrProtected", err)
	}
	// A prefix holding an allowlisted network is protected too.
	if _, err := r.Ban(t0, netip.MustParsePrefix("192.0.0.0/16"), 0, ""); !errors.Is(err, ErrProtected) {
		t.Fatalf("manual ban of a prefix covering the allowlist: err = %v, want ErrProtected", err)
	}
	if _, err := r.Ban(t0, netip.MustParsePrefix("192.1.0.0/16"), time.Hour, ""); err != nil {
		t.Fatalf("manual ban of an unrelated prefix: %v", err)
	}
}

func TestCircuitBreaker(t *testing.T) {
	r, rec := newResponder(t, func(c *Config) { c.MaxPerMinute = 3 }, Options{})
	for i := 0; i < 6; i++ {
		r.Finding(banFinding("203.0.113."+string(rune('1'+i)), t0.Add(time.Duration(i)*time.Second)))
	}
	var bans, alerts int
	for _, d := range rec.ds {
		switch d.Action {
		case ActionBan:
			bans++
		case ActionAlert:
			alerts++
			if d.Detector != "circuit_breaker" {
				t.Fatalf("alert from %s", d.Detector)
			}
		}
	}
	if bans != 3 || alerts != 1 {
		t.Fatalf("bans=%d alerts=%d, want 3 and 1", bans, alerts)
	}
	if s := r.Stats(); s.Suppressed["circuit_breaker"] != 3 {
		t.Fatalf("suppressed %v", s.Suppressed)
	}
	// A minute later bans flow again.
	r.Finding(banFinding("203.0.113.99", t0.Add(2*time.Minute)))
	if d := rec.ds[len(rec.ds)-1]; d.Action != ActionBan {
		t.Fatalf("after the breaker closed: %+v", d)
	}
}

func TestIPv6SubnetBanSparesAllowlistedNeighbour(t *testing.T) {
	allow, _ := ident.ParseSet([]string{"2001:db8:1:2::10"})
	r, rec := newResponder(t, func(c *Config) { c.IPv6Prefix = 64 }, Options{Allowlist: allow})
	r.Finding(banFinding("2001:db8:1:2::99", t0))
	if len(rec.ds) != 0 {
		t.Fatalf("a /64 ban would cover an allowlisted address: %+v", rec.ds)
	}
}

func TestIPv6PrefixAndManualActions(t *testing.T) {
	r, rec := newResponder(t, func(c *Config) { c.IPv6Prefix = 64 }, Options{})
	r.Finding(banFinding("2001:db8:1:2:3:4:5:6", t0))
	if d := rec.ds[0]; d.IP() != "2001:db8:1:2::/64" {
		t.Fatalf("IPv6 ban target %s, want 2001:db8:1:2::/64", d.IP())
	}
	// Another address in the same /64 is already covered.
	r.Finding(banFinding("2001:db8:1:2::99", t0.Add(time.Second)))
	if len(rec.ds) != 1 {
		t.Fatalf("second address in a banned /64 produced %d decisions", len(rec.ds))
	}
	d, err := r.Ban(t0, netip.MustParsePrefix("::ffff:198.51.100.4/128"), time.Hour, "abuse report")
	if err != nil || d.IP() != "198.51.100.4" || d.Duration != time.Hour || !d.Manual {
		t.Fatalf("manual ban: %+v, %v", d, err)
	}
	if _, err := r.Unban(t0, netip.MustParsePrefix("198.51.100.5/32"), "", false); !errors.Is(err, ErrNotBanned) {
		t.Fatalf("unban of unbanned address: %v", err)
	}
	if _, err := r.Ban(t0, netip.Prefix{}, 0, ""); !errors.Is(err, ErrInvalidTarget) {
		t.Fatalf("ban of invalid target: %v", err)
	}
	if got := len(r.Bans()); got != 2 {
		t.Fatalf("active bans %d, want 2", got)
	}
}

func TestJitterIsDeterministicAndBounded(t *testing.T) {
	var lens []time.Duration
	for run := 0; run < 2; run++ {
		r, rec := newResponder(t, func(c *Config) { c.Jitter = 0.2 }, Options{})
		for i := 0; i < 50; i++ {
			r.Finding(banFinding(netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}).String(), t0))
		}
		for i, d := range rec.ds {
			if d.Duration < 8*time.Minute || d.Duration > 12*time.Minute {
				t.Fatalf("jittered duration %s outside 10m ± 20%%", d.Duration)
			}
			if run == 0 {
				lens = append(lens, d.Duration)
			} else if lens[i] != d.Duration {
				t.Fatalf("jitter not deterministic: %s vs %s", lens[i], d.Duration)
			}
		}
	}
	distinct := map[time.Duration]bool{}
	for _, l := range lens {
		distinct[l] = true
	}
	if len(distinct) < 10 {
		t.Fatalf("only %d distinct jittered durations", len(distinct))
	}
}

func TestShadowModeRecordsButDoesNotEnforce(t *testing.T) {
	r, rec := newResponder(t, nil, Options{Shadow: true})
	r.Finding(banFinding("203.0.113.50", t0))
	if len(rec.ds) != 1 || !rec.ds[0].Shadow {
		t.Fatalf("shadow decisions %+v", rec.ds)
	}
	r.Advance(t0.Add(time.Hour))
	if len(rec.ds) != 1 {
		t.Fatal("a shadow ban produced an unban decision")
	}
	if s := r.Stats(); s.Shadow != 1 || s.Bans != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestGlobalAlertsPassThrough(t *testing.T) {
	r, rec := newResponder(t, nil, Options{})
	r.Finding(&detect.Finding{Time: t0, Detector: "global", Rule: "zscore", Action: detect.ActionAlert, Reason: "surge"})
	r.Finding(&detect.Finding{Time: t0.Add(time.Minute), Detector: "global", Rule: "recovered", Action: detect.ActionRecover, Reason: "ok"})
	if len(rec.ds) != 2 || rec.ds[0].Action != ActionAlert || rec.ds[1].Action != ActionRecover || rec.ds[0].Target.IsValid() {
		t.Fatalf("decisions %+v", rec.ds)
	}
}

func TestDecisionJSONContract(t *testing.T) {
	r, rec := newResponder(t, nil, Options{})
	f := banFinding("203.0.113.7", t0)
	f.Request = &detect.Request{Method: "GET", Path: "/x", UserAgent: "<script>\"\n"}
	r.Finding(f)
	b, err := json.Marshal(rec.ds[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"time": "2026-01-05T10:00:00Z", "action": "ban", "ip": "203.0.113.7",
		"detector": "rate", "rule": "zscore", "condition": "zscore", "duration": "10m0s", "reason": "too many requests"} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	ev, _ := m["evidence"].(map[string]any)
	if ev["value"] != 900.0 || ev["threshold"] != 300.0 || ev["baseline_mean"] != 10.0 {
		t.Errorf("evidence = %v", ev)
	}
	if strings.Contains(string(b), "\n") {
		t.Error("attacker newline not escaped in JSON")
	}
}

func TestConfigValidate(t *testing.T) {
	c := DefaultConfig()
	c.Ladder = []string{"10m", Permanent, "1h", "soon"}
	c.MaxPerMinute = 0
	c.Jitter = 2
	err := c.Validate()
	for _, key := range []string{"ladder[1]", "ladder[3]", "max_per_minute", "jitter"} {
		if err == nil || !strings.Contains(err.Error(), key+":") {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
}
