// Package api is vigil's HTTP interface: Prometheus metrics, health checks and
// a JSON API (status, bans, alerts, findings, reload) served on a TCP listener
// (loopback by default) and on a local control socket. Calls that change
// state (ban, unban, reload) need a bearer token over TCP; over the control
// socket, which only the daemon's user can open, they need none. Client is
// the control-socket client that the vigil command line uses.
//
// Everything an attacker controls (paths, user agents, reasons quoting them)
// leaves the API as JSON string data, escaped by encoding/json; it is never
// written into text or HTML.
package api

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// SocketName is the control socket's file name in the state directory.
const SocketName = "vigil.sock"

// minTokenLen is the shortest accepted bearer token: 16 characters is about
// 95 bits of entropy for a random base64 string, beyond online guessing.
const minTokenLen = 16

// Config is the HTTP listener's configuration (YAML section "http").
type Config struct {
	// Listen is the TCP address (IP:port) of the API and /metrics; ""
	// disables the TCP listener (the control socket still works).
	Listen string `koanf:"listen"`
	// Token is the bearer token that state-changing calls (ban, unban,
	// reload) need over TCP. Without one they are refused over TCP. It is
	// never logged.
	Token string `koanf:"token"`
	// TokenFile reads the token from a file instead (surrounding white space
	// is ignored); it is read once, when the server is built.
	TokenFile string `koanf:"token_file"`
}

// DefaultConfig returns the default configuration: loopback port 9750, no
// token (mutations only through the control socket).
func DefaultConfig() Config { return Config{Listen: "127.0.0.1:9750"} }

// Validate reports every invalid setting; each message starts with the key
// relative to the section (e.g. "listen: ..."). It does not read TokenFile.
func (c Config) Validate() error {
	var errs []error
	if c.Listen != "" {
		if ap, err := netip.ParseAddrPort(c.Listen); err != nil || ap.Addr().Zone() != "" {
			errs = append(errs, fmt.Errorf("listen: must be IP:port, e.g. 127.0.0.1:9750 or [::1]:9750 (got %q)", c.Listen))
		}
	}
	if c.Token != "" && c.TokenFile != "" {
		errs = append(errs, errors.New("token: set token or token_file, not both"))
	}
	if c.Token != "" {
		if err := checkToken(c.Token); err != nil {
			errs = append(errs, fmt.Errorf("token: %w", err))
		}
	}
	return errors.Join(errs...)
}

// checkToken rejects tokens that are too short to resist guessing or that
// cannot travel in an Authorization header. The token itself is never part
// of the message.
func checkToken(tok string) error {
	if len(tok) < minTokenLen {
		return fmt.Errorf("must be at least %d characters (got %d); generate one with: head -c 32 /dev/urandom | base64", minTokenLen, len(tok))
	}
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c <= ' ' || c >= 0x7f {
			return errors.New("must be printable ASCII without spaces")
		}
	}
	return nil
}

// loopback reports whether listen (a validated IP:port) binds to loopback only.
func loopback(listen string) bool {
	ap, err := netip.ParseAddrPort(listen)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

// hostIsLocal reports whether an HTTP Host header names the local machine:
// a loopback IP literal or "localhost", with or without a port.
func hostIsLocal(host string) bool {
	h := host
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			h = h[1:i]
		}
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.Count(h, ":") == 1 {
		h = h[:i]
	}
	if strings.EqualFold(h, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.Unmap().IsLoopback()
}
