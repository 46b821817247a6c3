package contrib_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/knadh/koanf/parsers/yaml"

	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/firewall"
)

// TestExampleConfigChecks runs "vigil check-config" on contrib/vigil.yaml,
// as the systemd unit's ExecStartPre does.
func TestExampleConfigChecks(t *testing.T) {
	bin := vigilBinary(t)
	path := repoPath(t, "contrib", "vigil.yaml")
	out, err := runTool(t, "", cleanEnv(), bin, "check-config", "--config", path)
	if err != nil {
		t.Fatalf("vigil check-config --config contrib/vigil.yaml: %v\n%s", err, out)
	}
	if !strings.Contains(out, "configuration OK") {
		t.Fatalf("check-config output: %s", out)
	}

	// The check must be able to fail: a typo in a key is rejected.
	bad := strings.Replace(string(readRepoFile(t, "contrib", "vigil.yaml")), "  max_per_minute:", "  max_per_minut:", 1)
	badPath := writeTemp(t, "bad.yaml", bad)
	out, err = runTool(t, "", cleanEnv(), bin, "check-config", "--config", badPath)
	if err == nil || !strings.Contains(out, "ban.max_per_minut") {
		t.Fatalf("check-config accepted a misspelt key (err %v):\n%s", err, out)
	}
}

// exampleDeviations lists the keys where contrib/vigil.yaml deliberately
// differs from config.Default(), with the reason.
var exampleDeviations = map[string]string{
	// Default() picks ipset only for root; the service runs as the vigil
	// user with CAP_NET_ADMIN, so the example names the backend.
	"Firewall.Backend": "set explicitly",
}

// TestExampleConfigIsDefaults loads contrib/vigil.yaml and checks that every
// value equals the default, except the documented deviations.
func TestExampleConfigIsDefaults(t *testing.T) {
	got, err := config.Load(config.Sources{File: repoPath(t, "contrib", "vigil.yaml")})
	if err != nil {
		t.Fatalf("load contrib/vigil.yaml: %v", err)
	}
	if got.Firewall.Backend != firewall.BackendIPSet {
		t.Errorf("firewall.backend = %q, want %q", got.Firewall.Backend, firewall.BackendIPSet)
	}
	want := config.Default()
	want.Firewall.Backend = got.Firewall.Backend // see exampleDeviations
	if diff := cmp.Diff(normalized(t, want), normalized(t, *got)); diff != "" {
		t.Errorf("contrib/vigil.yaml differs from the defaults (-default +example); update the example or exampleDeviations:\n%s", diff)
	}
}

// normalized turns a config into generic JSON values with empty slices and
// maps removed, so nil and empty compare equal.
func normalized(t *testing.T, c config.Config) any {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return dropEmpty(v)
}

func dropEmpty(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if e = dropEmpty(e); e != nil {
				out[k] = e
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		if len(x) == 0 {
			return nil
		}
		for i := range x {
			x[i] = dropEmpty(x[i])
		}
		return x
	}
	return v
}

// TestExampleConfigComplete checks that contrib/vigil.yaml spells out every
// configuration key, so operators see every setting in one place, and that
// every section has a comment.
func TestExampleConfigComplete(t *testing.T) {
	raw := readRepoFile(t, "contrib", "vigil.yaml")
	m, err := yaml.Parser().Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	inFile := map[string]bool{}
	flattenYAML(m, "", inFile)
	known := map[string]bool{}
	configKeys(reflect.TypeOf(config.Config{}), "", known)
	if len(known) < 50 {
		t.Fatalf("found only %d configuration keys: the walk is broken", len(known))
	}
	for _, k := range sortedKeys(known) {
		if !inFile[k] {
			t.Errorf("contrib/vigil.yaml does not set %s", k)
		}
	}

	// Every top-level key is preceded by a comment line.
	lines := strings.Split(string(raw), "\n")
	for i, line := range lines {
		if line == "" || line[0] == ' ' || line[0] == '#' {
			continue
		}
		if i == 0 || !strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#") {
			t.Errorf("contrib/vigil.yaml line %d: section %q has no comment", i+1, line)
		}
	}
}

// flattenYAML records the dotted paths of a parsed YAML document's leaves;
// an empty map or a list is a leaf.
func flattenYAML(m map[string]any, prefix string, out map[string]bool) {
	for k, v := range m {
		key := prefix + k
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			flattenYAML(sub, key+".", out)
			continue
		}
		out[key] = true
	}
}

// configKeys records the dotted koanf keys of t's leaves, honouring
// ",squash"; a map-typed field is a leaf.
func configKeys(t reflect.Type, prefix string, out map[string]bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("koanf"), ",")
		if opts == "squash" {
			configKeys(f.Type, prefix, out)
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Time{}) {
			configKeys(f.Type, prefix+name+".", out)
			continue
		}
		out[prefix+name] = true
	}
}
