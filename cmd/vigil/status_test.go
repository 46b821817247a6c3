package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/baseline"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/ident"
	"github.com/vigil-sec/vigil/internal/respond"
)

// apiT0 is the fake wall clock of the daemons the CLI tests talk to.
var apiT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeDaemon is a real api.Server on a control socket in a temporary state
// directory, backed by a real Responder (192.0.2.0/24 allowlisted).
type fakeDaemon struct {
	dir, config string
	resp        *respond.Responder
	clk         *clock.Fake
	snap        atomic.Pointer[engine.Snapshot]
}

// stateDirConfig writes a configuration whose state_dir is dir and returns
// its path.
func stateDirConfig(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "vigil.yaml")
	if err := os.WriteFile(path, []byte("state_dir: "+dir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func startDaemon(t *testing.T) *fakeDaemon {
	t.Helper()
	d := &fakeDaemon{dir: t.TempDir(), clk: clock.NewFake(apiT0)}
	d.config = stateDirConfig(t, d.dir)
	allow, err := ident.ParseSet([]string{"192.0.2.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if d.resp, err = respond.New(respond.DefaultConfig(), respond.Options{Logger: log, Allowlist: allow}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(d.dir, api.SocketName)
	srv, err := api.New(api.Config{}, api.Options{Logger: log, Clock: d.clk, Bans: d.resp, Status: d.snap.Load,
		Version: "9.9.9-test", StartTime: apiT0.Add(-time.Hour), SocketPath: sock})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("api.Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("api.Run did not return after cancel")
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := api.NewClient(sock).Status(context.Background()); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the control socket did not come up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return d
}

// cli runs the vigil command line and returns its exit code and output.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestStatusCommand(t *testing.T) {
	d := startDaemon(t)
	code, out, _ := cli(t, "status", "--config", d.config)
	if code != 0 || !strings.Contains(out, "vigil 9.9.9-test: starting, up 1h00m, ready") || !strings.Contains(out, "no requests seen yet") {
		t.Errorf("status before traffic: exit %d\n%s", code, out)
	}

	d.snap.Store(&engine.Snapshot{Wall: apiT0, At: apiT0.Add(-2 * time.Second), Lines: 5000, Events: 4990,
		Rejected: map[string]uint64{"malformed": 7, "too_long": 3}, GlobalRate: 41.66, Tracked: 321, Lag: 2 * time.Second,
		Baseline: &baseline.Snapshot{Minutes: 95,
			Global: baseline.Stats{Mean: 40, Stddev: 6.5, ErrorRate: 0.031, Source: "rolling"},
			Client: baseline.Stats{Mean: 22, Stddev: 9, Source: "floor"}},
		Alerts: detect.AlertStats{Count: 3, Active: true, Max: 5 * time.Minute, Avg: 150 * time.Second}})
	if _, err := d.resp.Ban(apiT0, netipPrefix(t, "203.0.113.9"), time.Hour, ""); err != nil {
		t.Fatal(err)
	}
	code, out, _ = cli(t, "status", "--config", d.config)
	if code != 0 {
		t.Fatalf("status: exit %d", code)
	}
	for _, want := range []string{
		"vigil 9.9.9-test: enforcing, up 1h00m, ready\n",
		"log time   2026-03-01T11:59:58Z (lag 2s)\n",
		"traffic    5000 lines, 4990 requests, 41.7 requests/s over the last 60 s; 10 rejected (malformed 7, too_long 3)\n",
		"baseline   global 40.0 ± 6.5 requests/s, 3.1% errors (rolling); client 22.0 ± 9.0 requests/60 s (floor); 95 min of traffic\n",
		"clients    321 tracked\n",
		"bans       1 active\n",
		"alerts     3 raised, one active now; longest 5m00s, average 2m30s\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = cli(t, "status", "--json", "--config", d.config)
	var st api.StatusResponse
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != 0 {
		t.Fatalf("status --json: exit %d, %v\n%s", code, err, out)
	}
	if st.Mode != "enforcing" || st.Requests != 4990 || st.BansActive != 1 || st.Baseline == nil || st.Baseline.Global.Mean != 40 {
		t.Errorf("status --json = %+v", st)
	}
}

func TestCommandsWhenNotRunning(t *testing.T) {
	dir := t.TempDir()
	config := stateDirConfig(t, dir)
	want := "vigil is not running (no control socket at " + filepath.Join(dir, api.SocketName) + "); start it with systemctl start vigil"
	for _, args := range [][]string{{"status"}, {"status", "--json"}, {"bans"}, {"ban", "203.0.113.1"}, {"unban", "203.0.113.1"}} {
		code, out, errOut := cli(t, append(args, "--config", config)...)
		if code != 1 || !strings.Contains(errOut, want) || out != "" {
			t.Errorf("%v without a daemon: exit %d, stdout %q, stderr %q; want exit 1 and %q", args, code, out, errOut, want)
		}
	}
}

func TestHuman(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{1500 * time.Millisecond, "2s"},
		{59 * time.Second, "59s"},
		{time.Minute, "1m00s"},
		{12*time.Minute + 30*time.Second, "12m30s"},
		{time.Hour, "1h00m"},
		{5*time.Hour + 12*time.Minute + 59*time.Second, "5h12m"},
		{47 * time.Hour, "47h00m"},
		{48 * time.Hour, "2d0h"},
		{76*time.Hour + 30*time.Minute, "3d4h"},
	}
	for _, tc := range tests {
		if got := human(tc.d); got != tc.want {
			t.Errorf("human(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// statusLine matches any line of the human status (sanity for the format).
var statusLine = regexp.MustCompile(`^(vigil |[a-z ]{10} )`)

func TestStatusLinesAreLabelled(t *testing.T) {
	var buf bytes.Buffer
	printStatus(&buf, &api.StatusResponse{Version: "v\x1b[2J", Mode: "learning", Ready: false,
		Alerts: api.AlertSummary{Count: 1}})
	out := buf.String()
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !statusLine.MatchString(l) {
			t.Errorf("unexpected status line %q", l)
		}
	}
	if strings.Contains(out, "\x1b") || !strings.Contains(out, `v\x1b[2J`) {
		t.Errorf("the version is not escaped for the terminal: %q", out)
	}
	if !strings.Contains(out, "learning (rate-based bans suspended") || !strings.Contains(out, "not ready") {
		t.Errorf("learning/not ready not shown: %q", out)
	}
}
