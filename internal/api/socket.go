package api

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// maxSocketPath is the longest path a unix socket address can hold on Linux
// (sun_path is 108 bytes, NUL included).
const maxSocketPath = 107

// controlSocket is the listening control socket and the file it lives in.
type controlSocket struct {
	path string
	l    net.Listener
	fi   fs.FileInfo // the socket file as created: only that one is removed
}

// listenSocket creates the control socket at path with mode 0600, atomically:
// it listens on a socket in a fresh private (0700) directory next to path,
// restricts its mode, then renames it into place, so no other user can ever
// connect to it. An existing socket is replaced only if no daemon answers
// on it; any other file at path is left alone and reported.
func listenSocket(ctx context.Context, path string) (*controlSocket, error) {
	// The temporary socket is DIR/.sNNNNNNNNNN/s: both names must fit.
	if len(path) > maxSocketPath || len(filepath.Dir(path))+15 > maxSocketPath {
		return nil, fmt.Errorf("control socket %q: path too long for a unix socket; use a shorter state_dir", path)
	}
	if err := checkStale(ctx, path); err != nil {
		return nil, err
	}
	tmpDir, err := os.MkdirTemp(filepath.Dir(path), ".s")
	if err != nil {
		return nil, fmt.Errorf("create control socket %s: %w", path, err)
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, "s")
	l, err := (&net.ListenConfig{}).Listen(ctx, "unix", tmp)
	if err != nil {
		return nil, fmt.Errorf("create control socket %s: %w", path, err)
	}
	// The file moves: Close must not unlink the temporary name, and Run
	// removes the final one.
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("create control socket %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		l.Close()
		return nil, fmt.Errorf("create control socket %s: %w", path, err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("create control socket %s: %w", path, err)
	}
	return &controlSocket{path: path, l: l, fi: fi}, nil
}

// checkStale returns nil when path does not exist or is a socket nobody
// answers on (left over by a crash); the rename in listenSocket replaces it.
func checkStale(ctx context.Context, path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check control socket %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("control socket %s: a file that is not a socket is in the way; remove it", path)
	}
	d := net.Dialer{Timeout: time.Second}
	c, err := d.DialContext(ctx, "unix", path)
	if err == nil {
		c.Close()
		return fmt.Errorf("control socket %s: %w (it answers on the socket)", path, errAlreadyRunning)
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return fmt.Errorf("check control socket %s: %w", path, err)
}

// remove deletes the socket file if it is still the one this daemon created.
func (c *controlSocket) remove(log *slog.Logger) {
	fi, err := os.Lstat(c.path)
	if err != nil || !os.SameFile(fi, c.fi) {
		return
	}
	if err := os.Remove(c.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		log.Warn("remove control socket", "path", c.path, "err", err)
	}
}
