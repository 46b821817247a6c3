package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/vigil-sec/vigil/internal/respond"
)

// Client limits: a listing of 100k bans is about 40 MB of JSON.
const (
	clientTimeout      = 30 * time.Second
	maxClientResponse  = 128 << 20
	maxClientErrorBody = 64 << 10
)

// ErrNotRunning is returned by Client calls when the control socket does not
// exist or nobody answers on it. The error's message reads "vigil is not
// running (no control socket at PATH)".
var ErrNotRunning = errors.New("vigil is not running")

// APIError is an error response from the daemon. It matches ErrBadRequest
// (status 400), respond.ErrProtected (409) and, from Unban,
// respond.ErrNotBanned (404) with errors.Is.
type APIError struct {
	// StatusCode is the HTTP status; Message the daemon's explanation.
	StatusCode int
	Message    string

	kind error // the sentinel the status stands for, if any
}

// Error returns the daemon's message.
func (e *APIError) Error() string { return e.Message }

// Is reports whether target is the sentinel error the status stands for.
func (e *APIError) Is(target error) bool { return e.kind != nil && target == e.kind }

// Client talks to a running daemon over its control socket (no token
// needed: the socket is only open to the daemon's user). It is safe for
// concurrent use and holds no idle connections, so it needs no closing.
type Client struct {
	path string
	hc   *http.Client
}

// NewClient returns a client for the control socket at socketPath.
func NewClient(socketPath string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socketPath)
		},
		DisableKeepAlives:  true,
		DisableCompression: true,
	}
	return &Client{path: socketPath, hc: &http.Client{Transport: tr, Timeout: clientTimeout}}
}

// Status returns the daemon's status.
func (c *Client) Status(ctx context.Context) (*StatusResponse, error) {
	var st StatusResponse
	if err := c.do(ctx, http.MethodGet, "/api/v1/status", nil, &st, nil); err != nil {
		return nil, err
	}
	return &st, nil
}

// Bans returns the active bans, oldest first.
func (c *Client) Bans(ctx context.Context) ([]BanInfo, error) {
	var bans []BanInfo
	if err := c.do(ctx, http.MethodGet, "/api/v1/bans", nil, &bans, nil); err != nil {
		return nil, err
	}
	return bans, nil
}

// Ban bans target (an address or CIDR prefix) for d (0 = permanent) with
// reason ("" for the default).
func (c *Client) Ban(ctx context.Context, target string, d time.Duration, reason string) (*Decision, error) {
	var dec Decision
	req := banRequest{IP: target, Duration: formatBanDuration(d), Reason: reason}
	if err := c.do(ctx, http.MethodPost, "/api/v1/bans", req, &dec, nil); err != nil {
		return nil, err
	}
	return &dec, nil
}

// Unban lifts the ban on target; forget also clears its offense history, so
// a later ban starts the escalation ladder again.
func (c *Client) Unban(ctx context.Context, target, reason string, forget bool) (*Decision, error) {
	var dec Decision
	req := unbanRequest{IP: target, Reason: reason, Forget: forget}
	if err := c.do(ctx, http.MethodPost, "/api/v1/unban", req, &dec, respond.ErrNotBanned); err != nil {
		return nil, err
	}
	return &dec, nil
}

// do sends one request and decodes a 2xx JSON body into out. notFound is
// the sentinel a 404 stands for, if any.
func (c *Client) do(ctx context.Context, method, path string, body, out any, notFound error) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://vigil"+path, rd)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.dialError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e errorResponse
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxClientErrorBody))
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = fmt.Sprintf("daemon answered %s", resp.Status)
		}
		ae := &APIError{StatusCode: resp.StatusCode, Message: e.Error}
		switch resp.StatusCode {
		case http.StatusBadRequest:
			ae.kind = ErrBadRequest
		case http.StatusConflict:
			ae.kind = respond.ErrProtected
		case http.StatusNotFound:
			ae.kind = notFound
		}
		return ae
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxClientResponse)).Decode(out); err != nil {
		return fmt.Errorf("decode response from %s: %w", path, err)
	}
	return nil
}

// dialError explains a failed request: no daemon, no permission, or other.
func (c *Client) dialError(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w (no control socket at %s)", ErrNotRunning, c.path)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("open control socket %s: permission denied; run as root or as the user vigil runs as: %w", c.path, err)
	}
	return fmt.Errorf("query vigil at %s: %w", c.path, err)
}
