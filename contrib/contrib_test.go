// Package contrib_test checks the packaging and operations files that ship
// beside the vigil binary: the Nginx log_format, logrotate, Prometheus rules,
// the Alertmanager example, the Grafana dashboard, the example configuration,
// the systemd unit and the container files. Where the real tool is installed
// (promtool, amtool, nginx, systemd-analyze, logrotate, docker compose) the
// files are checked with it; otherwise the test skips with a message, and
// fails under CI=true (.ci/run installs them all).
package contrib_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/netns"
)

// toolTimeout bounds every external command a test runs.
const toolTimeout = 2 * time.Minute

// repoRoot returns the repository root (the parent of this directory).
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test source file")
	}
	return filepath.Dir(filepath.Dir(file))
}

// repoPath joins parts below the repository root.
func repoPath(t testing.TB, parts ...string) string {
	return filepath.Join(append([]string{repoRoot(t)}, parts...)...)
}

// readRepoFile returns the content of a file below the repository root.
func readRepoFile(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(repoPath(t, parts...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// requireTool returns the path of an external program. When it is missing
// the test is skipped, or, if ci is true and CI=true, failed.
func requireTool(t testing.TB, name string, ci bool, hint string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := name + " not found in PATH (" + hint + ")"
	if ci {
		netns.Missing(t, msg)
	} else {
		t.Skip(msg + "; skipped, also in CI")
	}
	return ""
}

// runTool runs a command with a timeout and returns its combined output and
// error.
func runTool(t testing.TB, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = env
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

// cleanEnv returns the environment without VIGIL_* variables, so a
// developer's settings cannot change what vigil check-config sees.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VIGIL_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// vigilBuild is the binary built once per test run with the Dockerfile's
// build command.
var vigilBuild struct {
	once sync.Once
	dir  string
	path string
	out  string
	err  error
}

// buildVersion is the version stamped into the test binary.
const buildVersion = "contrib-test"

// dockerBuildFlags extracts the arguments of the Dockerfile's "go build"
// command with ${VERSION} substituted, e.g. [-trimpath -ldflags "-s -w ..."].
func dockerBuildFlags(t testing.TB) []string {
	t.Helper()
	df := string(readRepoFile(t, "Dockerfile"))
	m := regexp.MustCompile(`go build (.*?) -o /out/vigil \./cmd/vigil`).FindStringSubmatch(df)
	if m == nil {
		t.Fatal(`Dockerfile: no "go build ... -o /out/vigil ./cmd/vigil" command`)
	}
	args := splitShellWords(strings.ReplaceAll(m[1], "${VERSION}", buildVersion))
	if len(args) == 0 {
		t.Fatal("Dockerfile: go build has no flags")
	}
	return args
}

// splitShellWords splits s on blanks, honouring double quotes (enough for
// the build line; no escapes).
func splitShellWords(s string) []string {
	var out []string
	var cur strings.Builder
	inQuote, have := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote = !inQuote
			have = true
		case (r == ' ' || r == '\t') && !inQuote:
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}

// vigilBinary builds cmd/vigil once, with the Dockerfile's flags and
// CGO_ENABLED=0, and returns its path.
func vigilBinary(t *testing.T) string {
	t.Helper()
	flags := dockerBuildFlags(t)
	vigilBuild.once.Do(func() {
		vigilBuild.dir, vigilBuild.err = os.MkdirTemp("", "vigil-contrib-test-")
		if vigilBuild.err != nil {
			return
		}
		vigilBuild.path = filepath.Join(vigilBuild.dir, "vigil")
		args := append([]string{"build"}, flags...)
		args = append(args, "-o", vigilBuild.path, "./cmd/vigil")
		vigilBuild.out, vigilBuild.err = runTool(t, repoRoot(t), cleanEnv("CGO_ENABLED=0"), "go", args...)
	})
	if vigilBuild.err != nil {
		t.Fatalf("go build %v: %v\n%s", flags, vigilBuild.err, vigilBuild.out)
	}
	return vigilBuild.path
}

// TestMain removes the shared binary after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if vigilBuild.dir != "" {
		os.RemoveAll(vigilBuild.dir)
	}
	os.Exit(code)
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// writeTemp writes content to a file named name in a fresh temporary
// directory and returns its path.
func writeTemp(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
