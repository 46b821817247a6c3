// Package netns gives system tests throwaway Linux network namespaces: it
// creates them with unique names (so tests in parallel packages never
// collide), joins them with veth pairs, runs commands inside them, and
// deletes everything when the test ends. Nothing here touches the machine's
// own namespace: links are created directly inside the test's namespaces.
//
// It runs the `ip` command (iproute2) and needs root. Tests call Require
// first: outside CI a missing prerequisite skips the test with a message
// naming it; with CI=true it fails the test.
//
// Programs to run inside a namespace come from re-executing the test binary:
// a package that uses Listen, Dial or DialLoop calls RunHelper from its
// TestMain, which turns the re-executed binary into the helper instead of
// running tests.
package netns

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// cmdTimeout bounds each `ip` command the helpers run.
const cmdTimeout = 30 * time.Second

// NS is a network namespace created by New. Its zero value is not usable.
// NS is safe for concurrent use.
type NS struct {
	// Name is the namespace's name under /run/netns.
	Name string
}

// InCI reports whether the tests run in CI (CI=true), where a missing
// prerequisite is a failure instead of a skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing skips the test with msg, or fails it when running in CI.
func Missing(t testing.TB, msg string) {
	t.Helper()
	missing(t, InCI(), msg)
}

// missing is Missing with the CI switch as a parameter.
func missing(t testing.TB, ci bool, msg string) {
	t.Helper()
	if ci {
		t.Fatalf("system test prerequisite missing (CI=true): %s", msg)
		return
	}
	t.Skipf("system test skipped: %s", msg)
}

// Require checks that the test can create namespaces: it runs as root and
// `ip` plus every named binary is in PATH. Otherwise it skips the test, or
// fails it under CI=true, naming everything that is missing.
func Require(t testing.TB, binaries ...string) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (run as uid 0)")
	}
	for _, b := range append([]string{"ip"}, binaries...) {
		if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, fmt.Sprintf("%q in PATH", b))
		}
	}
	if len(missing) > 0 {
		Missing(t, "needs "+strings.Join(missing, ", "))
	}
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}

// New creates a namespace named "vigil-<prefix>-<random>", brings its
// loopback up and deletes it when the test ends. If the kernel refuses to
// create it, the test is skipped (failed under CI=true).
func New(t testing.TB, prefix string) *NS {
	t.Helper()
	n := &NS{Name: "vigil-" + prefix + "-" + randomHex(4)}
	if out, err := ip(context.Background(), "netns", "add", n.Name); err != nil {
		Missing(t, fmt.Sprintf("cannot create network namespace %s: %v: %s", n.Name, err, out))
	}
	t.Cleanup(func() {
		if out, err := ip(context.Background(), "netns", "del", n.Name); err != nil {
			t.Errorf("delete network namespace %s: %v: %s", n.Name, err, out)
		}
	})
	if out, err := ip(context.Background(), "-n", n.Name, "link", "set", "lo", "up"); err != nil {
		t.Fatalf("bring up lo in %s: %v: %s", n.Name, err, out)
	}
	return n
}

// ip runs the ip command with a timeout and returns its combined output.
func ip(ctx context.Context, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
	defer cancel()
	return exec.CommandContext(ctx, "ip", args...).CombinedOutput()
}

// Command returns a command that runs argv inside the namespace
// (`ip netns exec NAME argv...`). No shell is involved.
func (n *NS) Command(ctx context.Context, argv ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.Name}, argv...)...)
}

// Exec runs argv inside the namespace and returns its combined output.
func (n *NS) Exec(ctx context.Context, argv ...string) ([]byte, error) {
	out, err := n.Command(ctx, argv...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("in %s: %s: %w: %s", n.Name, strings.Join(argv, " "), err, bytes.TrimSpace(out))
	}
	return out, nil
}

// Self returns a command that re-executes the running test binary inside the
// namespace with args and extra environment variables (KEY=VALUE).
func (n *NS) Self(ctx context.Context, env []string, args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the test binary: %w", err)
	}
	cmd := n.Command(ctx, append([]string{exe}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	return cmd, nil
}

// Link joins namespaces a and b with a veth pair, assigns the addresses
// (IPv6 ones with nodad, so they are usable at once) and brings both ends
// up. It returns the interface names in a and b.
func Link(t testing.TB, a *NS, aAddrs []netip.Prefix, b *NS, bAddrs []netip.Prefix) (aIf, bIf string) {
	t.Helper()
	id := randomHex(4)
	aIf, bIf = "v"+id+"a", "v"+id+"b" // at most 15 characters
	ctx := context.Background()
	if out, err := ip(ctx, "link", "add", aIf, "netns", a.Name, "type", "veth", "peer", "name", bIf, "netns", b.Name); err != nil {
		t.Fatalf("create veth pair %s/%s: %v: %s", aIf, bIf, err, out)
	}
	for _, end := range []struct {
		ns    *NS
		dev   string
		addrs []netip.Prefix
	}{{a, aIf, aAddrs}, {b, bIf, bAddrs}} {
		for _, p := range end.addrs {
			args := []string{"-n", end.ns.Name, "addr", "add", p.String(), "dev", end.dev}
			if p.Addr().Is6() {
				args = append(args, "nodad")
			}
			if out, err := ip(ctx, args...); err != nil {
				t.Fatalf("add %s to %s in %s: %v: %s", p, end.dev, end.ns.Name, err, out)
			}
		}
		if out, err := ip(ctx, "-n", end.ns.Name, "link", "set", end.dev, "up"); err != nil {
			t.Fatalf("bring up %s in %s: %v: %s", end.dev, end.ns.Name, err, out)
		}
	}
	return aIf, bIf
}

// ErrHelper is returned by Dial and DialLoop when the helper process failed
// (for Dial: the connection could not be made).
var ErrHelper = errors.New("netns helper failed")
