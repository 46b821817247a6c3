package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/respond"
)

// Findings listing limits.
const (
	defaultFindings = 100
	maxFindings     = 1000
	// maxReason caps an operator's ban reason (it goes to Slack and the
	// audit log).
	maxReason = 256
)

// Messages of the authorisation failures (documented in docs/API.md).
const (
	msgNoToken  = "mutating calls need http.token (or use the local socket)"
	msgBadToken = "missing or invalid bearer token"
)

// endpoint is one path with a handler per method.
type endpoint struct {
	name     string // metrics label
	handlers map[string]http.HandlerFunc
}

// Handler returns the API's HTTP handler. local marks connections that came
// through the control socket: they may change state without a token. Over
// TCP, POST and DELETE need "Authorization: Bearer <http.token>", and on a
// loopback listener the Host header must name the local machine (a defence
// against DNS rebinding from a browser on the same host).
func (s *Server) Handler(local bool) http.Handler {
	mux := http.NewServeMux()
	add := func(path, name string, h map[string]http.HandlerFunc) {
		mux.Handle(path, s.wrap(local, endpoint{name: name, handlers: h}))
	}
	add("/healthz", "healthz", map[string]http.HandlerFunc{http.MethodGet: s.healthz})
	add("/readyz", "readyz", map[string]http.HandlerFunc{http.MethodGet: s.readyz})
	if s.o.Gatherer != nil {
		mh := promhttp.HandlerFor(s.o.Gatherer, promhttp.HandlerOpts{ErrorLog: promLogger{s.log},
			ErrorHandling: promhttp.ContinueOnError, Registry: s.o.Registerer,
			Timeout: metricsTimeout, MaxRequestsInFlight: metricsInFlight})
		add("/metrics", "metrics", map[string]http.HandlerFunc{http.MethodGet: mh.ServeHTTP})
	}
	add("/api/v1/status", "status", map[string]http.HandlerFunc{http.MethodGet: s.status})
	add("/api/v1/bans", "bans", map[string]http.HandlerFunc{http.MethodGet: s.listBans,
		http.MethodPost: s.ban, http.MethodDelete: s.unbanQuery})
	add("/api/v1/unban", "unban", map[string]http.HandlerFunc{http.MethodPost: s.unbanBody})
	add("/api/v1/alerts", "alerts", map[string]http.HandlerFunc{http.MethodGet: s.alerts})
	add("/api/v1/findings", "findings", map[string]http.HandlerFunc{http.MethodGet: s.findings})
	add("/api/v1/reload", "reload", map[string]http.HandlerFunc{http.MethodPost: s.reload})
	mux.Handle("/", s.wrap(local, endpoint{name: "other"}))
	return mux
}

// wrap applies what every endpoint shares: security headers, the Host check,
// method dispatch, authorisation of state-changing calls and metrics.
func (s *Server) wrap(local bool, e endpoint) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w := &statusWriter{ResponseWriter: rw}
		defer func() { s.m.request(e.name, w.code()) }()
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		if !local && s.cfg.Listen != "" && loopback(s.cfg.Listen) && !hostIsLocal(r.Host) {
			s.m.denied.WithLabelValues("foreign_host").Inc()
			writeError(w, http.StatusForbidden, fmt.Sprintf("host %q is not this machine; use 127.0.0.1 or localhost", r.Host))
			return
		}
		if e.handlers == nil {
			writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
			return
		}
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		fn := e.handlers[method]
		if fn == nil {
			allow := make([]string, 0, len(e.handlers))
			for m := range e.handlers {
				allow = append(allow, m)
			}
			slices.Sort(allow)
			h.Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed; use %s", r.Method, strings.Join(allow, " or ")))
			return
		}
		if method != http.MethodGet && !local && !s.authorize(w, r) {
			return
		}
		fn(w, r)
	})
}

// authorize checks the bearer token of a state-changing call over TCP and
// writes the refusal when it fails.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	if s.token == nil {
		s.m.denied.WithLabelValues("no_token_configured").Inc()
		s.log.Warn("api call refused: no token configured", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
		writeError(w, http.StatusForbidden, msgNoToken)
		return false
	}
	const scheme = "bearer "
	got := r.Header.Get("Authorization")
	ok := len(got) > len(scheme) && strings.EqualFold(got[:len(scheme)], scheme)
	if ok {
		// Hashing first makes the comparison constant-time in the length too.
		a, b := sha256.Sum256([]byte(strings.TrimSpace(got[len(scheme):]))), sha256.Sum256(s.token)
		ok = subtle.ConstantTimeCompare(a[:], b[:]) == 1
	}
	if !ok {
		s.m.denied.WithLabelValues("bad_token").Inc()
		s.log.Warn("api call refused: bad token", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
		w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
		writeError(w, http.StatusUnauthorized, msgBadToken)
		return false
	}
	return true
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok\n")
}

func (s *Server) ready() bool { return s.o.Ready == nil || s.o.Ready() }

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if !s.ready() {
		writeText(w, http.StatusServiceUnavailable, "not ready: start-up (state loading, firewall reconciliation) has not finished\n")
		return
	}
	writeText(w, http.StatusOK, "ready\n")
}

func (s *Server) snapshot() *engine.Snapshot {
	if s.o.Status == nil {
		return nil
	}
	return s.o.Status()
}

func (s *Server) mode(snap *engine.Snapshot) string {
	switch {
	case s.o.Mode != nil:
		return s.o.Mode()
	case snap == nil || snap.Baseline == nil:
		return "starting"
	case snap.Baseline.Learning:
		return "learning"
	}
	return "enforcing"
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	now := s.o.Clock.Now()
	snap := s.snapshot()
	st := newStatus(snap, now)
	st.Version, st.Mode, st.Ready, st.StartTime = s.o.Version, s.mode(snap), s.ready(), s.o.StartTime
	up := max(now.Sub(s.o.StartTime), 0).Round(time.Second)
	st.Uptime, st.UptimeSeconds = up.String(), up.Seconds()
	if s.o.Bans != nil {
		for _, b := range s.o.Bans.Bans() {
			if b.Shadow {
				st.BansShadow++
			} else {
				st.BansActive++
			}
		}
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) listBans(w http.ResponseWriter, _ *http.Request) {
	if !s.haveBans(w) {
		return
	}
	now := s.o.Clock.Now()
	bans := s.o.Bans.Bans()
	out := make([]BanInfo, 0, len(bans))
	for i := range bans {
		out = append(out, newBanInfo(&bans[i], now))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) haveBans(w http.ResponseWriter) bool {
	if s.o.Bans == nil {
		writeError(w, http.StatusServiceUnavailable, "bans are not available in this process")
		return false
	}
	return true
}

func (s *Server) ban(w http.ResponseWriter, r *http.Request) {
	if !s.haveBans(w) {
		return
	}
	var req banRequest
	if !decodeBody(w, r, &req) {
		return
	}
	target, err := ParseTarget(req.IP)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	d, err := ParseBanDuration(req.Duration)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	reason, ok := checkReason(w, req.Reason)
	if !ok {
		return
	}
	dec, err := s.o.Bans.Ban(s.o.Clock.Now(), target, d, reason)
	if err != nil {
		s.decisionError(w, "ban", target, err)
		return
	}
	s.log.Info("manual ban", "client_ip", prefixString(target), "ban_ttl", formatBanDuration(d), "via", via(r))
	writeJSON(w, http.StatusCreated, dec)
}

func (s *Server) unbanQuery(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	forget := false
	if v := q.Get("forget"); v != "" {
		var err error
		if forget, err = strconv.ParseBool(v); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("forget: must be true or false (got %q)", v))
			return
		}
	}
	s.unban(w, r, q.Get("ip"), q.Get("reason"), forget)
}

func (s *Server) unbanBody(w http.ResponseWriter, r *http.Request) {
	var req unbanRequest
	if !decodeBody(w, r, &req) {
		return
	}
	s.unban(w, r, req.IP, req.Reason, req.Forget)
}

func (s *Server) unban(w http.ResponseWriter, r *http.Request, ip, reason string, forget bool) {
	if !s.haveBans(w) {
		return
	}
	target, err := ParseTarget(ip)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	reason, ok := checkReason(w, reason)
	if !ok {
		return
	}
	dec, err := s.o.Bans.Unban(s.o.Clock.Now(), target, reason, forget)
	if err != nil {
		s.decisionError(w, "unban", target, err)
		return
	}
	s.log.Info("manual unban", "client_ip", prefixString(target), "forget", forget, "via", via(r))
	writeJSON(w, http.StatusOK, dec)
}

func checkReason(w http.ResponseWriter, reason string) (string, bool) {
	reason = strings.TrimSpace(reason)
	if len(reason) > maxReason {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("reason: at most %d bytes (got %d)", maxReason, len(reason)))
		return "", false
	}
	return reason, true
}

// decisionError maps the Banner's errors to HTTP statuses.
func (s *Server) decisionError(w http.ResponseWriter, op string, target netip.Prefix, err error) {
	ip := prefixString(target)
	switch {
	case errors.Is(err, respond.ErrInvalidTarget):
		writeError(w, http.StatusBadRequest, fmt.Sprintf("ip: %s: %v", ip, err))
	case errors.Is(err, respond.ErrProtected):
		writeError(w, http.StatusConflict, fmt.Sprintf("%s is protected: it is in the allowlist or trusted_proxies, which vigil never bans", ip))
	case errors.Is(err, respond.ErrNotBanned):
		writeError(w, http.StatusNotFound, fmt.Sprintf("%s is not banned", ip))
	default:
		s.log.Error("manual "+op+" failed", "client_ip", ip, "err", err)
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("%s %s: %v", op, ip, err))
	}
}

func (s *Server) alerts(w http.ResponseWriter, _ *http.Request) {
	resp := AlertsResponse{AlertSummary: newAlertSummary(&detect.AlertStats{}), Alerts: []AlertInfo{}}
	if snap := s.snapshot(); snap != nil {
		resp.AlertSummary = newAlertSummary(&snap.Alerts)
		for _, a := range snap.Alerts.Recent {
			d := max(a.Duration(snap.At), 0).Round(time.Second)
			resp.Alerts = append(resp.Alerts, AlertInfo{Alert: a, Ongoing: a.End.IsZero(), Duration: d.String(),
				DurationSeconds: d.Seconds()})
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) findings(w http.ResponseWriter, r *http.Request) {
	limit := defaultFindings
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit: must be a whole number from 1 to %d (got %q)", maxFindings, v))
			return
		}
		limit = min(n, maxFindings)
	}
	out := s.o.Findings.Recent(limit)
	if out == nil {
		out = []*detect.Finding{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) reload(w http.ResponseWriter, r *http.Request) {
	if s.o.Reload == nil {
		writeError(w, http.StatusNotImplemented, "this process cannot reload its configuration")
		return
	}
	s.log.Info("reload requested", "via", via(r))
	if err := s.o.Reload(); err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("reload: %v", err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "reloaded"})
}

// via names the listener a request came through, for logs.
func via(r *http.Request) string {
	if _, err := netip.ParseAddrPort(r.RemoteAddr); err != nil {
		return "socket" // unix peers have no IP:port
	}
	return "tcp " + r.RemoteAddr
}

// decodeBody strictly decodes a JSON object of at most maxBodyBytes into v
// and writes a 400 (or 413) naming the problem when it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			err = errors.New("unexpected data after the JSON object")
		}
	}
	if err == nil {
		return true
	}
	var (
		mbe *http.MaxBytesError
		ute *json.UnmarshalTypeError
		se  *json.SyntaxError
	)
	switch {
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body: larger than %d bytes", maxBodyBytes))
		return false
	case errors.Is(err, io.EOF):
		err = errors.New("empty; expected a JSON object")
	case errors.As(err, &ute):
		err = fmt.Errorf("field %q: must be a JSON %s", ute.Field, jsonKind(ute.Type.Kind().String()))
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		err = fmt.Errorf("invalid JSON: %w", err)
	default:
		// encoding/json reports unknown fields as `json: unknown field "x"`.
		err = errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	writeError(w, http.StatusBadRequest, "body: "+err.Error())
	return false
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	}
	return k
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(errorResponse{Error: "encode response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorResponse{Error: msg})
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, body)
}

// statusWriter records the status code for metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// promLogger adapts slog to promhttp.Logger.
type promLogger struct{ log *slog.Logger }

// Println implements promhttp.Logger.
func (l promLogger) Println(v ...any) { l.log.Warn("serve metrics", "err", fmt.Sprint(v...)) }
