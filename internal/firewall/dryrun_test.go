package firewall

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func newDryRun(t *testing.T, modify func(*Config)) (*DryRun, *prometheus.Registry, *bytes.Buffer) {
	t.Helper()
	c := DefaultConfig()
	c.Backend = BackendDryRun
	if modify != nil {
		modify(&c)
	}
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	d, err := NewDryRun(c, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	return d, reg, &logs
}

func TestDryRunModel(t *testing.T) {
	ctx := context.Background()
	p := netip.MustParsePrefix
	d, _, logs := newDryRun(t, nil)
	if err := d.Setup(ctx); err != nil || !d.Ready() {
		t.Fatalf("Setup: %v, ready %t", err, d.Ready())
	}
	steps := []struct {
		name string
		do   func() error
		want []Ban
	}{
		{"block", func() error {
			return d.Block(ctx, []Ban{{Prefix: p("192.0.2.1/32"), Timeout: 10 * time.Minute}, {Prefix: p("2001:db8::1:2/64")}})
		}, []Ban{{p("192.0.2.1/32"), 10 * time.Minute}, {p("2001:db8::/64"), 0}}},
		{"re-block updates the timeout", func() error {
			return d.Block(ctx, []Ban{{Prefix: p("::ffff:192.0.2.1/128"), Timeout: 1500 * time.Millisecond}})
		}, []Ban{{p("192.0.2.1/32"), 2 * time.Second}, {p("2001:db8::/64"), 0}}},
		{"unblock absent is fine", func() error {
			return d.Unblock(ctx, []netip.Prefix{p("203.0.113.1/32")})
		}, []Ban{{p("192.0.2.1/32"), 2 * time.Second}, {p("2001:db8::/64"), 0}}},
		{"unblock", func() error {
			return d.Unblock(ctx, []netip.Prefix{p("2001:db8::/64")})
		}, []Ban{{p("192.0.2.1/32"), 2 * time.Second}}},
		{"invalid block changes nothing", func() error {
			err := d.Block(ctx, []Ban{{Prefix: p("198.51.100.1/32")}, {Prefix: p("127.0.0.1/32")}})
			if !errors.Is(err, ErrInvalidPrefix) {
				t.Errorf("Block with loopback: err = %v, want ErrInvalidPrefix", err)
			}
			return nil
		}, []Ban{{p("192.0.2.1/32"), 2 * time.Second}}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if diff := cmp.Diff(s.want, d.Bans(), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
			t.Fatalf("%s: bans (-want +got):\n%s", s.name, diff)
		}
	}
	if !strings.Contains(logs.String(), "dry run: would block") || !strings.Contains(logs.String(), "client_ip=2001:db8::/64") {
		t.Errorf("logs lack the would-block lines:\n%s", logs)
	}
	if err := d.Teardown(ctx); err != nil || d.Ready() || len(d.Bans()) != 0 {
		t.Fatalf("Teardown: %v, ready %t, bans %v", err, d.Ready(), d.Bans())
	}
}

func TestDryRunSync(t *testing.T) {
	ctx := context.Background()
	p := netip.MustParsePrefix
	d, reg, _ := newDryRun(t, nil)
	if err := d.Block(ctx, []Ban{{Prefix: p("192.0.2.1/32")}, {Prefix: p("192.0.2.2/32")}, {Prefix: p("2001:db8::1/128")}}); err != nil {
		t.Fatal(err)
	}
	res, err := d.Sync(ctx, []Ban{{Prefix: p("192.0.2.2/32"), Timeout: time.Hour}, {Prefix: p("192.0.2.3/32")}, {Prefix: p("192.0.2.3/32")}})
	if err != nil {
		t.Fatal(err)
	}
	if res != (SyncResult{Added: 1, Removed: 2}) {
		t.Errorf("Sync = %+v, want {Added:1 Removed:2}", res)
	}
	want := []Ban{{p("192.0.2.2/32"), time.Hour}, {p("192.0.2.3/32"), 0}}
	if diff := cmp.Diff(want, d.Bans(), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("bans after Sync (-want +got):\n%s", diff)
	}
	res, err = d.Sync(ctx, want)
	if err != nil || res != (SyncResult{}) {
		t.Errorf("second Sync = %+v, %v; want no changes", res, err)
	}
	snap, err := d.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantSnap := "# dry-run chain VIGIL target DROP\n192.0.2.2/32 timeout 3600\n192.0.2.3/32 timeout 0\n"
	if string(snap) != wantSnap {
		t.Errorf("Snapshot:\n%s\nwant:\n%s", snap, wantSnap)
	}
	if _, err := d.Sync(ctx, []Ban{{Prefix: p("0.0.0.0/0")}}); !errors.Is(err, ErrInvalidPrefix) || len(d.Bans()) != 2 {
		t.Errorf("Sync with an invalid prefix: err %v, bans %v; want ErrInvalidPrefix and no change", err, d.Bans())
	}

	// Metrics.
	entries := func(f string) float64 {
		g, err := d.m.entries.GetMetricWithLabelValues(f)
		if err != nil {
			t.Fatal(err)
		}
		return testutil.ToFloat64(g)
	}
	if entries("ipv4") != 2 || entries("ipv6") != 0 {
		t.Errorf("entries gauge = %v/%v, want 2/0", entries("ipv4"), entries("ipv6"))
	}
	if n := testutil.ToFloat64(d.m.ops.WithLabelValues(opSync, "ok")); n != 2 {
		t.Errorf("sync ok = %v, want 2", n)
	}
	if n := testutil.ToFloat64(d.m.ops.WithLabelValues(opSync, "error")); n != 1 {
		t.Errorf("sync error = %v, want 1", n)
	}
	if n, err := testutil.GatherAndCount(reg, "vigil_firewall_operation_duration_seconds"); err != nil || n != 3 {
		t.Errorf("latency histograms = %d, %v; want 3 (block, sync, snapshot)", n, err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("metric lint: %v %v", problems, err)
	}
}

func TestDryRunIPv6Disabled(t *testing.T) {
	d, _, _ := newDryRun(t, func(c *Config) { c.IPv6 = false })
	err := d.Block(context.Background(), []Ban{{Prefix: netip.MustParsePrefix("2001:db8::1/128")}})
	if !errors.Is(err, ErrIPv6Disabled) || !strings.Contains(err.Error(), "2001:db8::1/128") {
		t.Fatalf("Block v6 with ipv6 off: %v, want ErrIPv6Disabled naming the prefix", err)
	}
}

func TestDryRunCancelled(t *testing.T) {
	d, _, _ := newDryRun(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Block(ctx, []Ban{{Prefix: netip.MustParsePrefix("192.0.2.1/32")}}); !errors.Is(err, context.Canceled) || len(d.Bans()) != 0 {
		t.Fatalf("Block with a cancelled context: %v, bans %v", err, d.Bans())
	}
}

func TestMetricsRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := DefaultConfig()
	c.Backend = BackendDryRun
	if _, err := New(c, Options{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(c, Options{Registerer: reg}); err == nil {
		t.Error("second backend on the same registry: want a registration error")
	}
	if _, err := New(c, Options{}); err != nil {
		t.Errorf("nil registerer: %v", err)
	}
	if _, err := New(c, Options{Registerer: prometheus.NewRegistry()}); err != nil {
		t.Errorf("two backends with their own registries: %v", err)
	}
}
