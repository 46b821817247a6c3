package netns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if code, ok := RunHelper(); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

func TestNamespacesAndLinks(t *testing.T) {
	Require(t)
	ctx := context.Background()
	var names []string
	t.Run("topology", func(t *testing.T) {
		srv, cli := New(t, "srv"), New(t, "cli")
		names = []string{srv.Name, cli.Name}
		if srv.Name == cli.Name || !strings.HasPrefix(srv.Name, "vigil-srv-") {
			t.Fatalf("names %q and %q: want unique vigil-<prefix>-<random>", srv.Name, cli.Name)
		}
		p := netip.MustParsePrefix
		srvIf, cliIf := Link(t, srv, []netip.Prefix{p("10.66.0.1/24"), p("fd66::1/64")}, cli, []netip.Prefix{p("10.66.0.2/24"), p("fd66::2/64")})
		out, err := srv.Exec(ctx, "ip", "-o", "addr", "show", "dev", srvIf)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), "10.66.0.1/24") || !strings.Contains(string(out), "fd66::1/64") {
			t.Errorf("server interface %s lacks its addresses:\n%s", srvIf, out)
		}
		// The link lives in the namespaces only.
		if err := exec.Command("ip", "link", "show", cliIf).Run(); err == nil {
			t.Errorf("interface %s is visible in the test's own namespace", cliIf)
		}

		srv.Listen(t, ":8080")
		for _, addr := range []string{"10.66.0.1:8080", "[fd66::1]:8080"} {
			if err := cli.Dial(ctx, addr, 5*time.Second); err != nil {
				t.Errorf("dial %s: %v", addr, err)
			}
		}
		if err := cli.Dial(ctx, "10.66.0.1:8081", 5*time.Second); !errors.Is(err, ErrHelper) {
			t.Errorf("dial to a closed port: err = %v, want ErrHelper", err)
		}
		d, err := cli.DialLoop(ctx, "10.66.0.1:8080", 20, 5*time.Second)
		if err != nil || d <= 0 {
			t.Errorf("DialLoop = %v, %v", d, err)
		}
	})
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.Contains(string(out), n) {
			t.Errorf("namespace %s still exists after the test:\n%s", n, out)
		}
	}
}

// recordTB records Fatalf and Skipf instead of stopping the test.
type recordTB struct {
	testing.TB
	fatal, skip string
}

func (r *recordTB) Helper()                      {}
func (r *recordTB) Fatalf(f string, args ...any) { r.fatal = fmt.Sprintf(f, args...) }
func (r *recordTB) Skipf(f string, args ...any)  { r.skip = fmt.Sprintf(f, args...) }

func TestMissing(t *testing.T) {
	tests := []struct {
		ci                  bool
		wantFatal, wantSkip bool
	}{{true, true, false}, {false, false, true}}
	for _, tc := range tests {
		r := &recordTB{TB: t}
		missing(r, tc.ci, "no ipset")
		if (r.fatal != "") != tc.wantFatal || (r.skip != "") != tc.wantSkip {
			t.Errorf("missing(ci=%t): fatal %q, skip %q", tc.ci, r.fatal, r.skip)
		}
		if !strings.Contains(r.fatal+r.skip, "no ipset") {
			t.Errorf("missing(ci=%t) message lacks the reason: %q", tc.ci, r.fatal+r.skip)
		}
	}
}
