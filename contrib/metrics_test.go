package contrib_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// notMetrics are vigil_* identifiers in the checked files that are not
// metric names.
var notMetrics = map[string]bool{
	"vigil_json": true, // the Nginx log_format name
}

var (
	// metricLiteral finds metric names in Go string literals.
	metricLiteral = regexp.MustCompile(`"(vigil_[a-z0-9_]+)"`)
	// identifier finds PromQL identifiers, recording-rule names (with
	// colons) included.
	identifier = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	// recordingName is the level:metric:operations shape of a recording
	// rule's name.
	recordingName = regexp.MustCompile(`^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$`)
)

// sourceMetrics returns the vigil_* metric names defined in the module's
// non-test Go source (outside contrib).
func sourceMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	root := repoRoot(t)
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range metricLiteral.FindAllSubmatch(b, -1) {
				names[string(m[1])] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(names) < 20 {
		t.Fatalf("found only %d vigil_* metric names in the source; the scan is broken", len(names))
	}
	return names
}

// runtimeMetrics returns the metric names of the Go and process collectors
// that vigil registers, gathered from the real collectors.
func runtimeMetrics(t *testing.T) map[string]bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{"up": true}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	return names
}

// references returns the identifiers in text that name series: vigil_*,
// go_*, process_* metrics, "up", and recording-rule names (with colons).
func references(text string) []string {
	var out []string
	for _, id := range identifier.FindAllString(text, -1) {
		switch {
		case strings.Contains(id, ":"):
			if recordingName.MatchString(id) && strings.Contains(id, "vigil_") {
				out = append(out, id)
			}
		case strings.HasPrefix(id, "vigil_") && !strings.HasSuffix(id, "_") && !notMetrics[id],
			strings.HasPrefix(id, "go_"), strings.HasPrefix(id, "process_"), id == "up":
			out = append(out, id)
		}
	}
	return out
}

// knownSeries reports whether name is a metric vigil exposes (histogram and
// summary series included) or a recording rule.
func knownSeries(name string, defined, runtime, recorded map[string]bool) bool {
	if defined[name] || runtime[name] || recorded[name] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && defined[base] {
			return true
		}
	}
	return false
}

// recordingRules returns the names recorded by contrib/prometheus/vigil-rules.yml.
func recordingRules(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	re := regexp.MustCompile(`(?m)^\s*-\s*record:\s*(\S+)\s*$`)
	for _, m := range re.FindAllStringSubmatch(string(readRepoFile(t, "contrib", "prometheus", "vigil-rules.yml")), -1) {
		out[m[1]] = true
	}
	if len(out) == 0 {
		t.Fatal("vigil-rules.yml defines no recording rules")
	}
	return out
}

// TestMetricReferencesExist checks that every metric the Prometheus rules,
// the Grafana dashboard and docs/OPERATIONS.md name exists in vigil's source
// (or among the Go and process collectors' metrics).
func TestMetricReferencesExist(t *testing.T) {
	defined := sourceMetrics(t)
	rt := runtimeMetrics(t)
	recorded := recordingRules(t)

	files := []string{
		"contrib/prometheus/vigil-rules.yml",
		"contrib/prometheus/prometheus.yml",
		"contrib/grafana/vigil-dashboard.json",
		"docs/OPERATIONS.md",
	}
	used := map[string]bool{}
	for _, f := range files {
		refs := references(string(readRepoFile(t, strings.Split(f, "/")...)))
		for _, name := range refs {
			used[name] = true
			if !knownSeries(name, defined, rt, recorded) {
				t.Errorf("%s: %s is not a metric vigil exposes, nor a recording rule", f, name)
			}
		}
	}
	if !used["vigil_lines_read_total"] || !used["vigil_bans_active"] {
		t.Fatalf("reference scan found %d names, not the obvious ones: the scan is broken", len(used))
	}
}

// dashboard is the part of a Grafana dashboard the tests look at.
type dashboard struct {
	SchemaVersion int `json:"schemaVersion"`
	UID           string
	Title         string
	Inputs        []struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		PluginID string `json:"pluginId"`
	} `json:"__inputs"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string     `json:"name"`
			Datasource datasource `json:"datasource"`
			Definition string     `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int        `json:"id"`
	Type       string     `json:"type"`
	Title      string     `json:"title"`
	Datasource datasource `json:"datasource"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID      string     `json:"refId"`
		Expr       string     `json:"expr"`
		Datasource datasource `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

// loadDashboard parses the dashboard JSON strictly enough to catch typos in
// the fields the tests use.
func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	var d dashboard
	if err := json.Unmarshal(readRepoFile(t, "contrib", "grafana", "vigil-dashboard.json"), &d); err != nil {
		t.Fatalf("vigil-dashboard.json is not valid JSON: %v", err)
	}
	return d
}

// TestGrafanaDashboard checks the dashboard's structure: schema version,
// datasource input, unique ids, a grid without overlaps, and targets that
// query existing metrics through the ${DS_PROMETHEUS} datasource.
func TestGrafanaDashboard(t *testing.T) {
	d := loadDashboard(t)
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion = %d, want >= 36", d.SchemaVersion)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q and title %q must be set", d.UID, d.Title)
	}
	if len(d.Inputs) != 1 || d.Inputs[0].Name != "DS_PROMETHEUS" || d.Inputs[0].PluginID != "prometheus" {
		t.Errorf("__inputs = %+v, want one prometheus datasource input DS_PROMETHEUS", d.Inputs)
	}
	const ds = "${DS_PROMETHEUS}"
	for _, v := range d.Templating.List {
		if v.Datasource.UID != ds {
			t.Errorf("variable %s: datasource uid %q, want %q", v.Name, v.Datasource.UID, ds)
		}
	}

	defined, rt, recorded := sourceMetrics(t), runtimeMetrics(t), recordingRules(t)
	ids := map[int]string{}
	type cell struct{ x, y int }
	grid := map[cell]string{}
	var flat []panel
	for _, p := range d.Panels {
		flat = append(flat, p)
		flat = append(flat, p.Panels...)
	}
	queries := 0
	for _, p := range flat {
		name := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if prev, dup := ids[p.ID]; dup {
			t.Errorf("%s: id already used by %s", name, prev)
		}
		ids[p.ID] = name
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("%s: gridPos %+v outside the 24-column grid", name, g)
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, taken := grid[cell{x, y}]; taken {
					t.Errorf("%s overlaps %s at column %d row %d", name, other, x, y)
				}
				grid[cell{x, y}] = name
			}
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource.UID != ds {
			t.Errorf("%s: datasource uid %q, want %q", name, p.Datasource.UID, ds)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no targets", name)
		}
		for _, tg := range p.Targets {
			queries++
			if tg.Datasource.UID != ds {
				t.Errorf("%s target %s: datasource uid %q, want %q", name, tg.RefID, tg.Datasource.UID, ds)
			}
			refs := references(tg.Expr)
			if len(refs) == 0 {
				t.Errorf("%s target %s: %q queries no metric", name, tg.RefID, tg.Expr)
			}
			for _, r := range refs {
				if !knownSeries(r, defined, rt, recorded) {
					t.Errorf("%s target %s: %s is not a metric vigil exposes", name, tg.RefID, r)
				}
			}
		}
	}
	if queries < 20 {
		t.Errorf("only %d queries in the dashboard", queries)
	}
}

// grafanaVars replaces the dashboard's variables with values Prometheus
// accepts, so the queries can be checked as PromQL.
var grafanaVars = strings.NewReplacer(
	"$__rate_interval", "5m",
	"$__interval", "1m",
	`"$job"`, `"vigil"`,
	`"$instance"`, `".*"`,
)

// TestGrafanaQueriesArePromQL writes every dashboard query as a recording
// rule and has promtool parse them all.
func TestGrafanaQueriesArePromQL(t *testing.T) {
	promtool := requireTool(t, "promtool", true, "apt-get install prometheus")
	d := loadDashboard(t)
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	n := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			n++
			expr := grafanaVars.Replace(tg.Expr)
			if strings.Contains(expr, "$") {
				t.Errorf("panel %q: unknown variable left in %q", p.Title, expr)
			}
			q, _ := json.Marshal(expr) // a JSON string is a valid YAML double-quoted scalar
			fmt.Fprintf(&b, "      - record: dashboard:query_%d\n        expr: %s\n", n, q)
		}
	}
	for _, v := range d.Templating.List {
		// label_values(<selector>, label): check the selector.
		m := regexp.MustCompile(`^label_values\((.*),\s*\w+\)$`).FindStringSubmatch(v.Definition)
		if m == nil {
			t.Errorf("variable %s: definition %q is not label_values(selector, label)", v.Name, v.Definition)
			continue
		}
		n++
		q, _ := json.Marshal(grafanaVars.Replace(m[1]))
		fmt.Fprintf(&b, "      - record: dashboard:query_%d\n        expr: %s\n", n, q)
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runTool(t, "", nil, promtool, "check", "rules", path)
	if err != nil {
		t.Fatalf("promtool check rules on the dashboard's %d queries: %v\n%s", n, err, out)
	}
	if !strings.Contains(out, fmt.Sprintf("SUCCESS: %d rules found", n)) {
		t.Fatalf("promtool did not check all %d queries:\n%s", n, out)
	}
}
