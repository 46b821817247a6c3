package api

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func mustPrefix(s string) netip.Prefix {
	p, err := ParseTarget(s)
	if err != nil {
		panic(err)
	}
	return p
}

// TestRunServesAndShutsDown runs both listeners, checks the socket's mode,
// then cancels and checks that Run returns and cleans up.
func TestRunServesAndShutsDown(t *testing.T) {
	dir := t.TempDir()
	sp := filepath.Join(dir, SocketName)
	e := newEnv(t, Config{Listen: "127.0.0.1:0", Token: testToken}, func(o *Options) { o.SocketPath = sp })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Run(ctx) }()
	waitFor(t, "the control socket", func() bool {
		_, err := NewClient(sp).Status(context.Background())
		return err == nil
	})
	waitFor(t, "the TCP listener", func() bool { return e.srv.Addr() != nil })

	fi, err := os.Lstat(sp)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("control socket mode = %v, want a socket with 0600", fi.Mode())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("state dir holds %d entries, want only the socket (temporary directory left behind?)", len(entries))
	}
	if r := do(t, httpClient(), "GET", "http://"+e.srv.Addr().String()+"/healthz", ""); r.code != 200 {
		t.Errorf("TCP healthz = %d", r.code)
	}
	if !strings.Contains(e.logs.String(), "api listening") || !strings.Contains(e.logs.String(), "control socket listening") {
		t.Errorf("start-up not logged:\n%s", e.logs.String())
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil after cancel", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return within 15s of cancel")
	}
	if _, err := os.Lstat(sp); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("control socket still exists after Run: %v", err)
	}
	if e.srv.Addr() != nil {
		t.Error("Addr() is not nil after Run returned")
	}
	if _, err := NewClient(sp).Status(context.Background()); !errors.Is(err, ErrNotRunning) {
		t.Errorf("client after shutdown: %v, want ErrNotRunning", err)
	}
	if strings.Contains(e.logs.String(), testToken) {
		t.Error("the token appears in the logs")
	}
	// No server, connection or client goroutine outlives Run.
	goleak.VerifyNone(t)
}

// TestRunWarnsWithoutTokenBeyondLoopback checks the start-up warning for an
// exposed listener that cannot authorise mutations.
func TestRunWarnsWithoutTokenBeyondLoopback(t *testing.T) {
	e := newEnv(t, Config{Listen: "0.0.0.0:0"}, nil)
	e.run(t)
	if !strings.Contains(e.logs.String(), "level=WARN msg=\"api listens beyond loopback without http.token") {
		t.Errorf("no warning for a non-loopback listener without token:\n%s", e.logs.String())
	}
	e2 := newEnv(t, Config{Listen: "127.0.0.1:0"}, nil)
	e2.run(t)
	if strings.Contains(e2.logs.String(), "level=WARN") {
		t.Errorf("unexpected warning for a loopback listener:\n%s", e2.logs.String())
	}
}

func TestRunReplacesStaleSocket(t *testing.T) {
	sp := socketPath(t)
	l, err := net.Listen("unix", sp)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close() // a crash leaves the file behind
	if _, err := NewClient(sp).Status(context.Background()); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("client on a stale socket: %v, want ErrNotRunning", err)
	}
	e := newEnv(t, Config{}, func(o *Options) { o.SocketPath = sp })
	e.run(t)
	if _, err := NewClient(sp).Status(context.Background()); err != nil {
		t.Errorf("status over the replaced socket: %v", err)
	}
}

func TestRunRefusesLiveSocketAndOtherFiles(t *testing.T) {
	sp := socketPath(t)
	first := newEnv(t, Config{}, func(o *Options) { o.SocketPath = sp })
	first.run(t)
	before, err := os.Lstat(sp)
	if err != nil {
		t.Fatal(err)
	}
	second := newEnv(t, Config{}, func(o *Options) { o.SocketPath = sp })
	err = second.srv.Run(context.Background())
	if !errors.Is(err, errAlreadyRunning) || !strings.Contains(err.Error(), sp) {
		t.Errorf("second Run on a live socket = %v, want errAlreadyRunning naming the path", err)
	}
	after, err := os.Lstat(sp)
	if err != nil || !os.SameFile(before, after) {
		t.Errorf("the running daemon's socket was replaced or removed: %v", err)
	}

	file := filepath.Join(t.TempDir(), SocketName)
	if err := os.WriteFile(file, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	third := newEnv(t, Config{}, func(o *Options) { o.SocketPath = file })
	if err := third.srv.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("Run with a regular file at the socket path = %v", err)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "keep me" {
		t.Errorf("the file in the way was modified: %q, %v", b, err)
	}
	long := filepath.Join(t.TempDir(), strings.Repeat("d", 100), SocketName)
	fourth := newEnv(t, Config{}, func(o *Options) { o.SocketPath = long })
	if err := fourth.srv.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "path too long") {
		t.Errorf("Run with a too long socket path = %v", err)
	}
}

func TestRunListenError(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	sp := socketPath(t)
	e := newEnv(t, Config{Listen: busy.Addr().String()}, func(o *Options) { o.SocketPath = sp })
	err = e.srv.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "listen on "+busy.Addr().String()) {
		t.Errorf("Run on a busy port = %v", err)
	}
	if _, err := os.Lstat(sp); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a control socket was left behind after a failed start: %v", err)
	}
}

func TestRunNothingToServe(t *testing.T) {
	e := newEnv(t, Config{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Run(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestClientNotRunning(t *testing.T) {
	sp := filepath.Join(t.TempDir(), SocketName)
	_, err := NewClient(sp).Bans(context.Background())
	if !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Bans without a daemon: %v, want ErrNotRunning", err)
	}
	if want := "vigil is not running (no control socket at " + sp + ")"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}
