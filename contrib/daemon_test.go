package contrib_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// startDaemon runs "vigil run" with contrib/vigil.yaml, redirected to
// scratch paths and the dry-run firewall, and returns its HTTP address once
// /readyz answers 200. The daemon is stopped when the test ends.
func startDaemon(t *testing.T) string {
	t.Helper()
	bin := vigilBinary(t)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.json")
	writeFile(t, logPath, "")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(bin, "run", "--config", repoPath(t, "contrib", "vigil.yaml"))
	cmd.Env = cleanEnv(
		"VIGIL_SOURCE__PATH="+logPath,
		"VIGIL_STATE_DIR="+filepath.Join(dir, "state"),
		"VIGIL_AUDIT_LOG="+filepath.Join(dir, "audit.jsonl"),
		"VIGIL_FIREWALL__BACKEND=dry-run",
		"VIGIL_HTTP__LISTEN="+addr,
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("vigil run exited: %v\n%s", err, out.String())
		default:
		}
		if resp, err := client.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("vigil not ready on %s after 60s:\n%s", addr, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDaemonWithExampleConfig starts the daemon on the example
// configuration and checks what the operations files rely on at run time:
// the container healthcheck passes, the gauges that alerts compare with 0
// are exported, and every label that the rules and the dashboard select or
// group by exists on the metric.
func TestDaemonWithExampleConfig(t *testing.T) {
	addr := startDaemon(t)

	// The Dockerfile's HEALTHCHECK against the real /healthz.
	var script string
	for _, l := range dockerfileLines(t) {
		if strings.HasPrefix(l, "HEALTHCHECK ") {
			m := regexp.MustCompile(`"bash", "-c", "(.*)"\]$`).FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("unexpected HEALTHCHECK form: %s", l)
			}
			script = strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(m[1])
		}
	}
	hc := exec.Command("bash", "-c", script)
	hc.Env = cleanEnv("HEALTHCHECK_ADDR=" + addr)
	if out, err := hc.CombinedOutput(); err != nil {
		t.Errorf("HEALTHCHECK against the running daemon: %v\n%s", err, out)
	}

	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	labels := map[string]map[string]bool{} // metric (series name) → label names
	for name, mf := range families {
		set := map[string]bool{}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				set[lp.GetName()] = true
			}
		}
		labels[name] = set
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			s := map[string]bool{}
			for k := range set {
				s[k] = true
			}
			if suffix == "_bucket" {
				s["le"] = true
			}
			labels[name+suffix] = s
		}
	}

	// Gauges that alerts or stat panels compare with a value must exist
	// from the start, or the alert can never fire.
	for _, g := range []string{"vigil_ready", "vigil_config_last_reload_successful", "vigil_lag_seconds",
		"vigil_learning", "vigil_bans_active", "vigil_build_info"} {
		if _, ok := families[g]; !ok {
			t.Errorf("%s is not exported by a freshly started daemon", g)
		}
	}

	texts := map[string]string{
		"vigil-rules.yml":      string(readRepoFile(t, "contrib", "prometheus", "vigil-rules.yml")),
		"vigil-dashboard.json": strings.ReplaceAll(string(readRepoFile(t, "contrib", "grafana", "vigil-dashboard.json")), `\"`, `"`),
	}
	generic := map[string]bool{"job": true, "instance": true}
	selector := regexp.MustCompile(`(vigil_[a-z0-9_]+)\{([^}]*)\}`)
	matcher := regexp.MustCompile(`([a-z_]+)\s*(=~|!~|!=|=)`)
	grouping := regexp.MustCompile(`by \(([a-z_, ]+)\) \((?:\w+\()*(vigil_[a-z0-9_]+)`)
	checked := 0
	check := func(file, metric, label string) {
		if generic[label] {
			return
		}
		set, exported := labels[metric]
		if !exported {
			return // no series yet (a vector without pre-created labels)
		}
		checked++
		if !set[label] {
			t.Errorf("%s: %s has no label %q (it has %v)", file, metric, label, sortedKeys(set))
		}
	}
	for file, text := range texts {
		for _, m := range selector.FindAllStringSubmatch(text, -1) {
			for _, lm := range matcher.FindAllStringSubmatch(m[2], -1) {
				check(file, m[1], lm[1])
			}
		}
		for _, m := range grouping.FindAllStringSubmatch(text, -1) {
			for _, l := range strings.Split(m[1], ",") {
				check(file, m[2], strings.TrimSpace(l))
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d label uses could be checked against the running daemon", checked)
	}
}
