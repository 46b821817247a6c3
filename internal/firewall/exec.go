package firewall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// maxStderr caps how much of a command's standard error an error message
// carries.
const maxStderr = 512

// lookPath resolves the binary a backend needs, with an error that names
// both.
func lookPath(backend, name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("firewall backend %q needs %q in PATH: %w", backend, name, err)
	}
	return p, nil
}

// run executes path with args (never through a shell), feeding stdin when
// it is not nil, and returns standard output. Failures carry the command,
// its exit status and standard error, and wrap ErrLocked or ErrSetFull when
// standard error says so.
func run(ctx context.Context, path string, args []string, stdin []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("run %s: %w", describe(path, args), ctxErr)
		}
		return nil, commandError(describe(path, args), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// commandError wraps err from the command described by what, recognising
// the conditions callers check with errors.Is.
func commandError(what string, err error, stderr string) error {
	msg := strings.TrimSpace(stderr)
	if len(msg) > maxStderr {
		msg = msg[:maxStderr] + "…"
	}
	if s := sentinelFor(msg); s != nil {
		return fmt.Errorf("run %s: %w: %w: %s", what, s, err, msg)
	}
	if msg == "" {
		return fmt.Errorf("run %s: %w", what, err)
	}
	return fmt.Errorf("run %s: %w: %s", what, err, msg)
}

// sentinelFor maps a command's error text to a sentinel error, or nil.
// iptables (legacy) prints "Another app is currently holding the xtables
// lock"; ipset prints "Hash is full, cannot add more elements" and, on
// older kernels, mentions maxelem.
func sentinelFor(msg string) error {
	switch {
	case strings.Contains(msg, "xtables lock"):
		return ErrLocked
	case strings.Contains(msg, "Hash is full"), strings.Contains(msg, "maxelem"):
		return ErrSetFull
	}
	return nil
}

// wrapXT classifies an error returned by go-iptables, whose message carries
// the command's standard error.
func wrapXT(what string, err error) error {
	if err == nil {
		return nil
	}
	if s := sentinelFor(err.Error()); s != nil && !errors.Is(err, s) {
		return fmt.Errorf("%s: %w: %w", what, s, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// describe renders a command for error messages: the binary's base name and
// at most the first few arguments.
func describe(path string, args []string) string {
	name := path
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	const maxArgs = 6
	if len(args) > maxArgs {
		args = append(args[:maxArgs:maxArgs], "…")
	}
	return strings.TrimSpace(name + " " + strings.Join(args, " "))
}
