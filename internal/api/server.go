package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/respond"
)

// HTTP server limits. Nothing the API serves streams, so every response fits
// in WriteTimeout.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 16 << 10
	// maxBodyBytes caps request bodies: a ban request is well under 1 KiB.
	maxBodyBytes = 4 << 10
	// shutdownTimeout bounds the graceful shutdown of both listeners.
	shutdownTimeout = 5 * time.Second
	// metricsTimeout and metricsInFlight bound /metrics scrapes.
	metricsTimeout  = 10 * time.Second
	metricsInFlight = 4
)

// Banner is what the API needs from the respond stage (a *respond.Responder).
type Banner interface {
	// Bans returns the active bans.
	Bans() []respond.Ban
	// Ban bans target for d (0 = permanent) as an operator's decision.
	Ban(now time.Time, target netip.Prefix, d time.Duration, reason string) (respond.Decision, error)
	// Unban lifts the ban on target; forget also clears its offense history.
	Unban(now time.Time, target netip.Prefix, reason string, forget bool) (respond.Decision, error)
}

var _ Banner = (*respond.Responder)(nil)

// Options holds a Server's dependencies. Nil fields get the documented
// defaults.
type Options struct {
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Gatherer is served on /metrics; nil: no /metrics (404).
	Gatherer prometheus.Gatherer
	// Registerer receives the API's own metrics (requests by handler and
	// code) and promhttp's error counter; nil registers nowhere.
	Registerer prometheus.Registerer
	// Clock is the wall clock (uptime, manual ban times); nil: clock.Real.
	Clock clock.Clock
	// Bans lists, adds and lifts bans; nil: the ban endpoints answer 503.
	Bans Banner
	// Status returns the engine's latest snapshot (nil before the first
	// event); nil: the status has no traffic data.
	Status func() *engine.Snapshot
	// Findings holds the recent findings; nil: none are listed.
	Findings *FindingLog
	// Reload reloads the configuration (as SIGHUP does); nil: 501.
	Reload func() error
	// Ready reports readiness for /readyz; nil: always ready.
	Ready func() bool
	// Version is reported by /api/v1/status.
	Version string
	// Mode returns "learning", "enforcing", "shadow", ...; nil: derived
	// from the snapshot's baseline ("starting" before the first snapshot).
	Mode func() string
	// SocketPath is the control socket (created mode 0600); "": none.
	SocketPath string
	// StartTime is when the daemon started; zero: when New was called.
	StartTime time.Time
}

// Server serves the API on a TCP listener and on the control socket. Build
// it with New and run it with Run; its methods are safe for concurrent use.
type Server struct {
	cfg   Config
	o     Options
	log   *slog.Logger
	token []byte // nil: mutations over TCP are refused
	m     *metrics

	mu   sync.Mutex // guards the fields below
	addr net.Addr   // bound TCP address while Run listens
}

// New returns a Server for cfg (validated here). It reads cfg.TokenFile.
func New(cfg Config, o Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.StartTime.IsZero() {
		o.StartTime = o.Clock.Now()
	}
	s := &Server{cfg: cfg, o: o, log: o.Logger.With("component", "api")}
	tok := cfg.Token
	if cfg.TokenFile != "" {
		b, err := os.ReadFile(cfg.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("token_file: read %q: %w", cfg.TokenFile, err)
		}
		tok = strings.TrimSpace(string(b))
		if err := checkToken(tok); err != nil {
			return nil, fmt.Errorf("token_file: token in %q %w", cfg.TokenFile, err)
		}
		if fi, err := os.Stat(cfg.TokenFile); err == nil && fi.Mode().Perm()&0o077 != 0 {
			s.log.Warn("token file is readable by other users", "path", cfg.TokenFile, "mode", fi.Mode().Perm().String())
		}
	}
	if tok != "" {
		s.token = []byte(tok)
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	s.m = m
	return s, nil
}

// Addr returns the bound TCP address while Run is listening, else nil.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Run serves the TCP listener (when cfg.Listen is set) and the control socket
// (when Options.SocketPath is set) until ctx is done, then shuts both down
// gracefully (at most 5 s) and removes the socket file. It returns nil after
// ctx is cancelled and an error if a listener cannot be opened or fails.
func (s *Server) Run(ctx context.Context) error {
	var (
		servers []*http.Server
		lns     []net.Listener
	)
	closeAll := func() {
		for _, l := range lns {
			l.Close()
		}
	}
	if s.cfg.Listen != "" {
		l, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.cfg.Listen)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
		}
		lns = append(lns, l)
		servers = append(servers, s.httpServer(s.Handler(false)))
		s.mu.Lock()
		s.addr = l.Addr()
		s.mu.Unlock()
		if !loopback(s.cfg.Listen) && s.token == nil {
			s.log.Warn("api listens beyond loopback without http.token: anyone who can reach it reads status and bans; ban, unban and reload are refused over TCP",
				"addr", l.Addr().String())
		}
		s.log.Info("api listening", "addr", l.Addr().String(), "token", s.token != nil)
	}
	var sock *controlSocket
	if s.o.SocketPath != "" {
		var err error
		if sock, err = listenSocket(ctx, s.o.SocketPath); err != nil {
			closeAll()
			s.clearAddr()
			return err
		}
		lns = append(lns, sock.l)
		servers = append(servers, s.httpServer(s.Handler(true)))
		s.log.Info("control socket listening", "path", s.o.SocketPath)
	}
	if len(servers) == 0 {
		<-ctx.Done()
		return nil
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(lns[i]) }()
	}
	var runErr error
	select {
	case <-ctx.Done():
	case err := <-errc:
		runErr = fmt.Errorf("serve api: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil {
			s.log.Warn("api shutdown", "err", err)
			srv.Close()
		}
	}
	// Every Serve returns once its server is shut down; collect them so no
	// goroutine outlives Run.
	for range len(servers) - btoi(runErr != nil) {
		<-errc
	}
	if sock != nil {
		sock.remove(s.log)
	}
	s.clearAddr()
	return runErr
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *Server) clearAddr() {
	s.mu.Lock()
	s.addr = nil
	s.mu.Unlock()
}

func (s *Server) httpServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
}

// errAlreadyRunning is returned when another daemon answers on the socket.
var errAlreadyRunning = errors.New("another vigil daemon is running")
