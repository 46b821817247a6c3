package contrib_test

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/knadh/koanf/parsers/yaml"

	"github.com/vigil-sec/vigil/internal/netns"
)

// dockerfileLines returns the Dockerfile's instructions with continuation
// lines joined and comments dropped.
func dockerfileLines(t *testing.T) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(string(readRepoFile(t, "Dockerfile")), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if s, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(trimmed)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

// dockerEnv returns the ENV key=value pairs the runtime stage sets.
func dockerEnv(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{}
	runtime := false
	for _, l := range dockerfileLines(t) {
		if strings.HasPrefix(l, "FROM ") {
			runtime = !strings.Contains(l, " AS ")
		}
		if runtime && strings.HasPrefix(l, "ENV ") {
			for _, kv := range strings.Fields(strings.TrimPrefix(l, "ENV ")) {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					t.Fatalf("Dockerfile: ENV %q is not key=value", kv)
				}
				env[k] = v
			}
		}
	}
	return env
}

// TestDockerfile checks the image recipe: a multi-stage build from
// golang:1.26 to debian:12-slim with iptables and ipset, a non-root user,
// and the exact build command producing a static, versioned binary.
func TestDockerfile(t *testing.T) {
	lines := dockerfileLines(t)
	var froms []string
	var user, entry string
	var installs []string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "FROM "):
			froms = append(froms, l)
		case strings.HasPrefix(l, "USER "):
			user = strings.TrimPrefix(l, "USER ")
		case strings.HasPrefix(l, "ENTRYPOINT "):
			entry = strings.TrimPrefix(l, "ENTRYPOINT ")
		case strings.Contains(l, "apt-get install"):
			installs = append(installs, l)
		}
	}
	if len(froms) != 2 || !strings.Contains(froms[0], "golang:${GO_VERSION} AS build") || froms[1] != "FROM debian:12-slim" {
		t.Errorf("stages %q, want golang:${GO_VERSION} AS build then debian:12-slim", froms)
	}
	if !regexp.MustCompile(`(?m)^ARG GO_VERSION=1\.26$`).Match(readRepoFile(t, "Dockerfile")) {
		t.Error("Dockerfile: want ARG GO_VERSION=1.26")
	}
	if user == "" || user == "root" || user == "0" || strings.HasPrefix(user, "0:") {
		t.Errorf("USER %q: the default user must not be root", user)
	}
	if entry != `["/usr/local/bin/vigil"]` {
		t.Errorf("ENTRYPOINT %s", entry)
	}
	if len(installs) != 1 || !strings.Contains(installs[0], " iptables ") || !strings.Contains(installs[0], " ipset ") {
		t.Errorf("runtime packages %q must include iptables and ipset", installs)
	}

	// The build command, run here: static (no interpreter, no shared
	// libraries) and stamped with the version.
	bin := vigilBinary(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("vigil is dynamically linked (PT_INTERP present); the image needs CGO_ENABLED=0")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("vigil needs shared libraries %v", libs)
	}
	out, err := runTool(t, "", cleanEnv(), bin, "version")
	if err != nil || !strings.HasPrefix(out, "vigil "+buildVersion) {
		t.Errorf("vigil version = %q (err %v), want the -X main.version stamp %q", out, err, buildVersion)
	}
}

// TestDockerEnvIsValidConfig runs check-config with the image's VIGIL_*
// environment on the configuration the image ships: vigil rejects unknown
// VIGIL_* variables, so a wrong ENV would stop the container.
func TestDockerEnvIsValidConfig(t *testing.T) {
	env := dockerEnv(t)
	if env["VIGIL_FIREWALL__BACKEND"] != "dry-run" {
		t.Errorf("ENV VIGIL_FIREWALL__BACKEND = %q, want dry-run (the default user has no capabilities)", env["VIGIL_FIREWALL__BACKEND"])
	}
	var extra []string
	for k, v := range env {
		extra = append(extra, k+"="+v)
	}
	bin := vigilBinary(t)
	out, err := runTool(t, "", cleanEnv(extra...), bin, "check-config", "--config", repoPath(t, "contrib", "vigil.yaml"))
	if err != nil {
		t.Fatalf("check-config with the image's environment %v: %v\n%s", extra, err, out)
	}
}

// TestDockerHealthcheck runs the image's HEALTHCHECK command against a
// server standing in for vigil's /healthz.
func TestDockerHealthcheck(t *testing.T) {
	bash := requireTool(t, "bash", false, "the image's shell")
	var argv []string
	for _, l := range dockerfileLines(t) {
		if rest, ok := strings.CutPrefix(l, "HEALTHCHECK "); ok {
			i := strings.Index(rest, "CMD ")
			if i < 0 {
				t.Fatalf("HEALTHCHECK without CMD: %s", l)
			}
			if err := json.Unmarshal([]byte(rest[i+4:]), &argv); err != nil {
				t.Fatalf("HEALTHCHECK CMD is not an exec-form JSON array: %v", err)
			}
		}
	}
	if len(argv) != 3 || argv[0] != "bash" || argv[1] != "-c" {
		t.Fatalf("HEALTHCHECK CMD %q, want [bash -c script]", argv)
	}
	env := dockerEnv(t)
	if env["HEALTHCHECK_ADDR"] != "127.0.0.1:9750" {
		t.Errorf("ENV HEALTHCHECK_ADDR = %q, want vigil's default http.listen", env["HEALTHCHECK_ADDR"])
	}

	var mu sync.Mutex // guards the fields below
	status := http.StatusOK
	var gotPath, gotHost string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		gotPath, gotHost = r.URL.Path, r.Host
		w.WriteHeader(status)
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	check := func() error {
		cmd := exec.Command(bash, "-c", argv[2])
		cmd.Env = cleanEnv("HEALTHCHECK_ADDR=" + addr)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}
	if err := check(); err != nil {
		t.Errorf("healthy server: healthcheck failed: %v", err)
	}
	mu.Lock()
	if gotPath != "/healthz" || gotHost != "localhost" {
		t.Errorf("healthcheck asked for %q with Host %q, want /healthz and localhost (vigil refuses foreign Host headers on loopback)", gotPath, gotHost)
	}
	status = http.StatusServiceUnavailable
	mu.Unlock()
	if err := check(); err == nil {
		t.Error("healthcheck passed on a 503")
	}
	srv.Close()
	if err := check(); err == nil {
		t.Error("healthcheck passed with nothing listening")
	}
}

// TestDockerignore checks that the build context keeps what the build needs
// and drops the rest.
func TestDockerignore(t *testing.T) {
	rules := map[string]bool{}
	for _, l := range strings.Split(string(readRepoFile(t, ".dockerignore")), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			rules[l] = true
		}
	}
	for _, need := range []string{"go.mod", "go.sum", "cmd", "internal", "contrib", "contrib/vigil.yaml"} {
		for r := range rules {
			if matched, _ := filepath.Match(r, need); matched || strings.TrimSuffix(r, "/") == need {
				t.Errorf(".dockerignore rule %q drops %s, which the build needs", r, need)
			}
		}
	}
	for _, drop := range []string{".git", "bin"} {
		if !rules[drop] {
			t.Errorf(".dockerignore does not drop %s", drop)
		}
	}
}

// TestCompose validates docker-compose.yml with docker compose (or
// docker-compose) when available, and always checks its structure: the
// files it mounts exist, vigil runs in the host network namespace with only
// NET_ADMIN and NET_RAW, and its environment is a valid configuration.
func TestCompose(t *testing.T) {
	root := repoRoot(t)
	raw := readRepoFile(t, "docker-compose.yml")
	m, err := yaml.Parser().Unmarshal(raw)
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	services, _ := m["services"].(map[string]any)
	for _, name := range []string{"nginx", "vigil", "prometheus"} {
		if services[name] == nil {
			t.Errorf("service %s missing", name)
		}
	}
	for name, s := range services {
		svc, _ := s.(map[string]any)
		vols, _ := svc["volumes"].([]any)
		for _, v := range vols {
			src, _, _ := strings.Cut(fmt.Sprint(v), ":")
			if strings.HasPrefix(src, "./") {
				if _, err := os.Stat(filepath.Join(root, src)); err != nil {
					t.Errorf("service %s mounts %s: %v", name, src, err)
				}
			}
		}
	}
	vigil, _ := services["vigil"].(map[string]any)
	if vigil["network_mode"] != "host" {
		t.Errorf("vigil network_mode = %v, want host (bans must land in the host's firewall)", vigil["network_mode"])
	}
	if got := fmt.Sprint(vigil["cap_add"]); got != "[NET_ADMIN NET_RAW]" {
		t.Errorf("vigil cap_add = %s, want [NET_ADMIN NET_RAW]", got)
	}
	if got := fmt.Sprint(vigil["cap_drop"]); got != "[ALL]" {
		t.Errorf("vigil cap_drop = %s, want [ALL]", got)
	}
	envMap, _ := vigil["environment"].(map[string]any)
	var env []string
	for k, v := range envMap {
		env = append(env, fmt.Sprintf("%s=%v", k, v))
	}
	if len(env) == 0 {
		t.Error("vigil has no environment")
	}
	bin := vigilBinary(t)
	out, err := runTool(t, "", cleanEnv(env...), bin, "check-config", "--config", repoPath(t, "contrib", "vigil.yaml"))
	if err != nil {
		t.Errorf("check-config with the compose environment %v: %v\n%s", env, err, out)
	}

	// The real validator, when one is installed (no Docker engine needed).
	var cmd []string
	if p, err := exec.LookPath("docker"); err == nil {
		if _, err := runTool(t, root, nil, p, "compose", "version"); err == nil {
			cmd = []string{p, "compose"}
		}
	}
	if cmd == nil {
		if p, err := exec.LookPath("docker-compose"); err == nil {
			cmd = []string{p}
		}
	}
	if cmd == nil {
		netns.Missing(t, "neither `docker compose` nor docker-compose is installed (apt-get install docker-compose); structure checked only")
	}
	for _, profile := range [][]string{nil, {"--profile", "alerting"}} {
		args := append(append(append([]string{}, cmd[1:]...), profile...), "config", "-q")
		if out, err := runTool(t, root, nil, cmd[0], args...); err != nil {
			t.Errorf("%s %s: %v\n%s", cmd[0], strings.Join(args, " "), err, out)
		}
	}
}

// TestLogrotate checks the logrotate file's essentials and, when logrotate
// is installed, parses it in debug mode (which changes nothing and runs no
// script).
func TestLogrotate(t *testing.T) {
	conf := string(readRepoFile(t, "contrib", "logrotate", "nginx-vigil"))
	blocks := regexp.MustCompile(`(?s)(/var/log/\S+) \{(.*?)\n\}`).FindAllStringSubmatch(conf, -1)
	byPath := map[string]string{}
	for _, b := range blocks {
		byPath[b[1]] = b[2]
	}
	for _, tc := range []struct {
		path string
		want []string
		deny []string
	}{
		{"/var/log/nginx/access.json", []string{"\tcreate ", "\tdelaycompress", "postrotate", "kill -USR1", "/run/nginx.pid"}, []string{"copytruncate"}},
		{"/var/log/vigil/audit.jsonl", []string{"\tcreate 0640 vigil ", "\tdelaycompress", "postrotate", "HUP", "vigil.service"}, []string{"copytruncate"}},
	} {
		body, ok := byPath[tc.path]
		if !ok {
			t.Errorf("no block for %s", tc.path)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: missing %q", tc.path, w)
			}
		}
		for _, d := range tc.deny {
			if regexp.MustCompile(`(?m)^\s*` + d).MatchString(body) {
				t.Errorf("%s: must not use %s", tc.path, d)
			}
		}
	}

	lr := requireTool(t, "logrotate", true, "apt-get install logrotate")
	// The vigil user may not exist on this machine: logrotate resolves
	// owners while parsing, so use a user that exists.
	dir := t.TempDir()
	path := filepath.Join(dir, "nginx-vigil")
	writeFile(t, path, strings.ReplaceAll(conf, "create 0640 vigil adm", "create 0640 root adm"))
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runTool(t, dir, nil, lr, "-d", "-s", filepath.Join(dir, "state"), path)
	if err != nil || strings.Contains(out, "error:") {
		t.Fatalf("logrotate -d: %v\n%s", err, out)
	}
	for _, p := range []string{"/var/log/nginx/access.json", "/var/log/vigil/audit.jsonl"} {
		if !strings.Contains(out, "considering log "+p) {
			t.Errorf("logrotate did not consider %s:\n%s", p, out)
		}
	}
}
