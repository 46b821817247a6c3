package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/ident"
	"github.com/vigil-sec/vigil/internal/respond"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is the fake wall clock's start.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const testToken = "test-token-0123456789abcdef"

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// syncBuffer is a bytes.Buffer safe for concurrent writes (log capture).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a Server wired to a real Responder, a fake clock and test doubles
// for the engine's snapshot, readiness and reload.
type env struct {
	srv      *Server
	resp     *respond.Responder
	clk      *clock.Fake
	reg      *prometheus.Registry
	findings *FindingLog
	logs     *syncBuffer
	ready    atomic.Bool
	snap     atomic.Pointer[engine.Snapshot]
	reloads  atomic.Int32
	sock     string
}

// newEnv builds an env; the allowlist protects 192.0.2.0/24. mod may adjust
// the options before New.
func newEnv(t testing.TB, cfg Config, mod func(*Options)) *env {
	t.Helper()
	e := &env{clk: clock.NewFake(t0), reg: prometheus.NewRegistry(), findings: NewFindingLog(50), logs: &syncBuffer{}}
	e.ready.Store(true)
	allow, err := ident.ParseSet([]string{"192.0.2.0/24", "127.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.resp, err = respond.New(respond.DefaultConfig(), respond.Options{Logger: log, Registerer: e.reg, Allowlist: allow})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Logger: log, Gatherer: e.reg, Registerer: e.reg, Clock: e.clk, Bans: e.resp,
		Status: e.snap.Load, Findings: e.findings, Ready: e.ready.Load, Version: "1.2.3-test",
		StartTime: t0.Add(-time.Hour),
		Reload:    func() error { e.reloads.Add(1); return nil }}
	if mod != nil {
		mod(&o)
	}
	e.sock = o.SocketPath
	e.srv, err = New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// run starts Run in the background and waits until every listener answers;
// cleanup cancels it and checks that it returned nil.
func (e *env) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after cancel, want nil", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Run did not return within 15s of cancel")
		}
	})
	waitFor(t, "the server to listen", func() bool {
		select {
		case err := <-done:
			t.Fatalf("Run returned early: %v", err)
		default:
		}
		if e.srv.cfg.Listen != "" && e.srv.Addr() == nil {
			return false
		}
		if e.sock != "" {
			if _, err := NewClient(e.sock).Status(context.Background()); err != nil {
				return false
			}
		}
		return true
	})
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// tcpURL is the base URL of the running server's TCP listener.
func (e *env) tcpURL() string { return "http://" + e.srv.Addr().String() }

// httpClient returns a client that keeps no idle connections (goleak).
func httpClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 20 * time.Second}
}

// unixClient returns a plain HTTP client that dials the socket at path.
func unixClient(path string) *http.Client {
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}}}
}

// result is a response read in full.
type result struct {
	code   int
	header http.Header
	body   string
}

// do sends one request with optional headers ("Name: value" pairs).
func do(t *testing.T, c *http.Client, method, url, body string, headers ...string) result {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return result{code: resp.StatusCode, header: resp.Header, body: string(b)}
}

// socketPath returns a control socket path in a fresh temporary directory.
func socketPath(t *testing.T) string { return filepath.Join(t.TempDir(), SocketName) }

// errorOf extracts the "error" member of a JSON error body.
func errorOf(t *testing.T, r result) string {
	t.Helper()
	var e errorResponse
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Error == "" {
		t.Fatalf("body %q is not a JSON error: %v", r.body, err)
	}
	return e.Error
}
