package detect

import (
	"strings"
	"testing"
)

// TestBuiltinRules checks the shipped rules.yaml: it loads, every rule is
// documented and prefiltered, and the generic classifiers come last.
func TestBuiltinRules(t *testing.T) {
	rules, err := decodeRuleFile(builtinRules)
	if err != nil {
		t.Fatalf("rules.yaml: %v", err)
	}
	if len(rules) < 40 {
		t.Fatalf("rules.yaml has %d rules", len(rules))
	}
	seen := map[string]bool{}
	for i, r := range rules {
		if _, err := compileRule("rules["+r.ID+"]", r); err != nil {
			t.Errorf("rule %s: %v", r.ID, err)
		}
		if seen[r.ID] {
			t.Errorf("duplicate id %s", r.ID)
		}
		seen[r.ID] = true
		if len(strings.Fields(r.Description)) < 4 {
			t.Errorf("rule %s: description %q too short", r.ID, r.Description)
		}
		if len(r.Contains) == 0 {
			t.Errorf("rule %s: no contains prefilter (it would run on every request)", r.ID)
		}
		for _, l := range r.Contains {
			if l != strings.ToLower(l) {
				t.Errorf("rule %s: contains %q is not lower case", r.ID, l)
			}
		}
		if r.Pattern != strings.ToLower(r.Pattern) && !strings.Contains(r.Pattern, `\P`) && !strings.Contains(r.Pattern, `\D`) &&
			!strings.Contains(r.Pattern, `\S`) && !strings.Contains(r.Pattern, `\W`) && !strings.Contains(r.Pattern, `\B`) {
			t.Errorf("rule %s: pattern has upper case letters, but views are lower-cased", r.ID)
		}
		if (r.Engine == "libinjection_sqli" || r.Engine == "libinjection_xss") && i < len(rules)-2 {
			t.Errorf("rule %s: generic classifiers must come after the specific rules", r.ID)
		}
	}
}

func TestDecodeRuleFileStrict(t *testing.T) {
	if _, err := decodeRuleFile([]byte("rules:\n  - id: x\n    colour: red\n")); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Errorf("unknown key accepted: %v", err)
	}
	rules, err := decodeRuleFile([]byte("# nothing yet\n"))
	if err != nil || len(rules) != 0 {
		t.Errorf("empty file: %v %v", rules, err)
	}
}

func TestCompileRule(t *testing.T) {
	ok := SignatureRule{ID: "a", Class: ClassXSS, Severity: "warning", Fields: []string{"query"}, Contains: []string{"ABC"}, Pattern: "abc"}
	c, err := compileRule("k", ok)
	if err != nil {
		t.Fatal(err)
	}
	if c.severity != SeverityWarning || c.fields != 1<<fiQuery || c.contains[0] != "abc" || c.view != viewText || c.engine != engineRegexp {
		t.Errorf("compiled %+v", c)
	}
	lib := SignatureRule{ID: "b", Class: ClassSQLi, Severity: "critical", Engine: "libinjection_sqli", Pattern: "x"}
	if _, err := compileRule("k", lib); err == nil || !strings.Contains(err.Error(), "k.pattern: must be empty") {
		t.Errorf("pattern with libinjection engine: %v", err)
	}
	bad := SignatureRule{ID: "has space", Class: ClassSQLi, Severity: "critical", Engine: "magic", Contains: []string{""}}
	err = compileRule2(bad)
	for _, want := range []string{"k.id: must not contain", "k.engine: must be", "k.contains[0]: must not be empty"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

func compileRule2(r SignatureRule) error {
	_, err := compileRule("k", r)
	return err
}
