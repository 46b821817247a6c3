package enforce

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/firewall"
	"github.com/vigil-sec/vigil/internal/respond"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type auditRec struct {
	mu     sync.Mutex
	ds     []respond.Action
	events []string
}

func (a *auditRec) Decision(d *respond.Decision) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ds = append(a.ds, d.Action)
	return nil
}

func (a *auditRec) Event(kind string, _ map[string]any) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, kind)
	return nil
}

type notifyRec struct {
	mu sync.Mutex
	n  int
}

func (n *notifyRec) Notify(*respond.Decision) { n.mu.Lock(); n.n++; n.mu.Unlock() }

type setup struct {
	fw     *firewall.DryRun
	resp   *respond.Responder
	enf    *Enforcer
	audit  *auditRec
	notify *notifyRec
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, cfg Config, queue int) *setup {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	fw, err := firewall.NewDryRun(firewall.DefaultConfig(), firewall.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	s := &setup{fw: fw, audit: &auditRec{}, notify: &notifyRec{}}
	cfg.QueueSize = queue
	var sinkEnf *Enforcer
	resp, err := respond.New(respond.DefaultConfig(), respond.Options{Logger: log,
		Sink: respond.SinkFunc(func(d *respond.Decision) { sinkEnf.Decide(d) })})
	if err != nil {
		t.Fatal(err)
	}
	s.resp = resp
	s.enf, err = New(cfg, Options{Logger: log, Firewall: fw, Ledger: resp, Audit: s.audit, Notify: s.notify})
	if err != nil {
		t.Fatal(err)
	}
	sinkEnf = s.enf
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.done = make(chan error, 1)
	go func() { s.done <- s.enf.Run(ctx) }()
	waitFor(t, "ready", s.enf.Ready)
	t.Cleanup(func() {
		cancel()
		if err := <-s.done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return s
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func inKernel(fw *firewall.DryRun, p string) bool {
	for _, b := range fw.Bans() {
		if b.Prefix == netip.MustParsePrefix(p) {
			return true
		}
	}
	return false
}

func finding(ip string) *detect.Finding {
	return &detect.Finding{Time: time.Now(), Client: netip.MustParseAddr(ip), Detector: "rate", Rule: "zscore",
		Action: detect.ActionBan, Reason: "flood"}
}

func TestBanAndUnbanReachTheFirewall(t *testing.T) {
	s := start(t, Config{}, 100)
	s.resp.Finding(finding("203.0.113.7"))
	waitFor(t, "ban applied", func() bool { return inKernel(s.fw, "203.0.113.7/32") })
	if _, err := s.resp.Unban(time.Now(), netip.MustParsePrefix("203.0.113.7/32"), "", false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "unban applied", func() bool { return !inKernel(s.fw, "203.0.113.7/32") })
	s.audit.mu.Lock()
	defer s.audit.mu.Unlock()
	if len(s.audit.ds) != 2 || s.audit.ds[0] != respond.ActionBan || s.audit.ds[1] != respond.ActionUnban {
		t.Fatalf("audited %v, want [ban unban]", s.audit.ds)
	}
	s.notify.mu.Lock()
	defer s.notify.mu.Unlock()
	if s.notify.n != 2 {
		t.Fatalf("notified %d decisions, want 2", s.notify.n)
	}
}

func TestQueueOverflowIsRepairedByReconciliation(t *testing.T) {
	s := start(t, Config{ReconcileInterval: time.Hour}, 1)
	// Many bans at once overflow a queue of 1; every ban must still arrive.
	for i := 1; i <= 50; i++ {
		s.resp.Finding(finding(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}).String()))
	}
	waitFor(t, "all 50 bans in the firewall", func() bool { return len(s.fw.Bans()) == 50 })
}

func TestDriftIsRepaired(t *testing.T) {
	s := start(t, Config{ReconcileInterval: 50 * time.Millisecond}, 100)
	s.resp.Finding(finding("192.0.2.10"))
	waitFor(t, "ban applied", func() bool { return inKernel(s.fw, "192.0.2.10/32") })
	// Someone deletes the entry by hand, and adds a stray one of ours.
	if err := s.fw.Unblock(context.Background(), []netip.Prefix{netip.MustParsePrefix("192.0.2.10/32")}); err != nil {
		t.Fatal(err)
	}
	if err := s.fw.Block(context.Background(), []firewall.Ban{{Prefix: netip.MustParsePrefix("192.0.2.99/32")}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "drift repaired", func() bool { return inKernel(s.fw, "192.0.2.10/32") && !inKernel(s.fw, "192.0.2.99/32") })
	waitFor(t, "reconcile audited", func() bool {
		s.audit.mu.Lock()
		defer s.audit.mu.Unlock()
		for _, e := range s.audit.events {
			if e == "reconcile" {
				return true
			}
		}
		return false
	})
}

func TestStartRestoresLedgerBans(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := &respond.MemStore{}
	now := time.Now()
	for i, until := range []time.Time{now.Add(time.Hour), {}, now.Add(-time.Minute)} {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(i + 1)}), 32)
		_ = store.Put(&respond.Record{Prefix: p, Offenses: 1, Ban: &respond.Ban{Prefix: p, Since: now.Add(-2 * time.Minute), Until: until}})
	}
	ledger, err := respond.NewLedger(store)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := respond.New(respond.DefaultConfig(), respond.Options{Logger: log, Ledger: ledger})
	fw, _ := firewall.NewDryRun(firewall.DefaultConfig(), firewall.Options{Logger: log})
	enf, _ := New(Config{}, Options{Logger: log, Firewall: fw, Ledger: resp})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- enf.Run(ctx) }()
	waitFor(t, "ready", enf.Ready)
	// The expired ban is not restored; the timed and the permanent ones are.
	if !inKernel(fw, "203.0.113.1/32") || !inKernel(fw, "203.0.113.2/32") || inKernel(fw, "203.0.113.3/32") {
		t.Fatalf("restored %v", fw.Bans())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
