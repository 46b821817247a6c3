package netns

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Environment variables that turn a re-executed test binary into a helper.
const (
	helperEnv     = "VIGIL_NETNS_HELPER"      // role: listen, dial, dial-loop
	helperArgsEnv = "VIGIL_NETNS_HELPER_ARGS" // arguments, separated by helperArgSep
	helperArgSep  = "\x1f"
)

// helperReply is what the listener writes to every connection.
const helperReply = "ok\n"

// RunHelper runs the helper role this process was started for, if any, and
// returns its exit code and true; it returns false in a normal test run. Call
// it first in TestMain:
//
//	func TestMain(m *testing.M) {
//		if code, ok := netns.RunHelper(); ok {
//			os.Exit(code)
//		}
//		os.Exit(m.Run())
//	}
func RunHelper() (code int, ok bool) {
	role := os.Getenv(helperEnv)
	if role == "" {
		return 0, false
	}
	args := strings.Split(os.Getenv(helperArgsEnv), helperArgSep)
	var err error
	switch role {
	case "listen":
		err = helperListen(args)
	case "dial":
		err = helperDial(args)
	case "dial-loop":
		err = helperDialLoop(args)
	default:
		err = fmt.Errorf("unknown helper role %q", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1, true
	}
	return 0, true
}

// helperListen serves helperReply on args[0] until standard input closes.
func helperListen(args []string) error {
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		return fmt.Errorf("listen on %s: %w", args[0], err)
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin) // the parent closes stdin (or dies)
		_ = ln.Close()
	}()
	fmt.Println("ready")
	for {
		c, err := ln.Accept()
		if err != nil {
			return nil
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, helperReply)
		_ = c.Close()
	}
}

// dialOnce connects to addr and reads the listener's reply.
func dialOnce(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read reply from %s: %w", addr, err)
	}
	if line != helperReply {
		return fmt.Errorf("unexpected reply %q from %s", line, addr)
	}
	return nil
}

// helperDial: args = addr, timeout.
func helperDial(args []string) error {
	if len(args) != 2 {
		return errors.New("dial: want addr and timeout")
	}
	timeout, err := time.ParseDuration(args[1])
	if err != nil {
		return err
	}
	return dialOnce(args[0], timeout)
}

// helperDialLoop: args = addr, count, timeout. It prints the elapsed
// nanoseconds of count sequential connections.
func helperDialLoop(args []string) error {
	if len(args) != 3 {
		return errors.New("dial-loop: want addr, count and timeout")
	}
	n, err := strconv.Atoi(args[1])
	if err != nil {
		return err
	}
	timeout, err := time.ParseDuration(args[2])
	if err != nil {
		return err
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := dialOnce(args[0], timeout); err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
	}
	fmt.Println(time.Since(start).Nanoseconds())
	return nil
}

// helper returns a command running role inside the namespace.
func (n *NS) helper(ctx context.Context, role string, args ...string) (*exec.Cmd, error) {
	return n.Self(ctx, []string{helperEnv + "=" + role, helperArgsEnv + "=" + strings.Join(args, helperArgSep)})
}

// Listen starts a TCP listener on addr (e.g. ":8080", dual-stack) inside the
// namespace, answering "ok" to every connection, and waits until it listens.
// It stops when the test ends. The test binary must call RunHelper.
func (n *NS) Listen(t testing.TB, addr string) {
	t.Helper()
	cmd, err := n.helper(context.Background(), "listen", addr)
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start listener in %s: %v", n.Name, err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(cmdTimeout):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err == nil && line != "ready\n" {
			err = fmt.Errorf("unexpected %q", line)
		}
		ready <- err
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("listener in %s did not start: %v: %s", n.Name, err, stderr.String())
		}
	case <-time.After(cmdTimeout):
		t.Fatalf("listener in %s did not start within %s", n.Name, cmdTimeout)
	}
}

// Dial connects to addr from inside the namespace and waits for the
// listener's reply. It returns nil when the connection worked, and an error
// wrapping ErrHelper when it did not (refused, timed out, rejected).
func (n *NS) Dial(ctx context.Context, addr string, timeout time.Duration) error {
	cmd, err := n.helper(ctx, "dial", addr, timeout.String())
	if err != nil {
		return err
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: dial %s from %s: %v: %s", ErrHelper, addr, n.Name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// DialLoop makes count sequential connections to addr from inside the
// namespace and returns the time they took, measured inside the helper
// (process start-up excluded).
func (n *NS) DialLoop(ctx context.Context, addr string, count int, timeout time.Duration) (time.Duration, error) {
	cmd, err := n.helper(ctx, "dial-loop", addr, strconv.Itoa(count), timeout.String())
	if err != nil {
		return 0, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("%w: dial loop to %s from %s: %v: %s", ErrHelper, addr, n.Name, err, strings.TrimSpace(stderr.String()))
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("dial loop output %q: %w", out, err)
	}
	return time.Duration(ns), nil
}
