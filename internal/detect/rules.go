package detect

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// builtinRules is the documented rule set shipped with vigil (rules.yaml).
//
//go:embed rules.yaml
var builtinRules []byte

// SignatureRule is one signature rule as written in rules.yaml, in the file
// named by signature.rules_file, or inline under signature.rules. Raw strings
// are compiled once when the detector is built.
type SignatureRule struct {
	// ID is the rule's stable identifier (Match.Rule), e.g. "sqli-union-select".
	ID string `koanf:"id" yaml:"id"`
	// Class is the kind of attack: sqli, xss, traversal, cmdi, probe or other.
	Class Class `koanf:"class" yaml:"class"`
	// Severity is notice, warning, error or critical.
	Severity string `koanf:"severity" yaml:"severity"`
	// Fields lists where the rule looks: path, query, user_agent, referer.
	// Empty means all four.
	Fields []string `koanf:"fields" yaml:"fields"`
	// View is the normalised view the rule reads: "text" (default: decoded,
	// lower-cased, SQL comments as spaces) or "cmdline" (text with shell
	// quoting and empty expansions removed).
	View string `koanf:"view" yaml:"view"`
	// Engine is "regexp" (default; Pattern is a Go RE2 regexp matched
	// against the view), "libinjection_sqli" or "libinjection_xss" (the
	// libinjection classifiers run on the decoded field, per query parameter).
	Engine string `koanf:"engine" yaml:"engine"`
	// Contains is the rule's prefilter: literal, case-insensitive
	// substrings of the view, one of which must be present before the rule
	// runs. A rule without Contains runs on every request.
	Contains []string `koanf:"contains" yaml:"contains"`
	// Pattern is the regexp (engine regexp only). Write it in lower case:
	// views are lower-cased.
	Pattern string `koanf:"pattern" yaml:"pattern"`
	// Description says what the rule catches, for operators.
	Description string `koanf:"description" yaml:"description"`
}

// ruleFile is the layout of rules.yaml and of signature.rules_file.
type ruleFile struct {
	Rules []SignatureRule `yaml:"rules"`
}

// fieldMask is a set of request fields, one bit per field index.
type fieldMask uint8

// Indexes of the fields the signature detector inspects, in inspection order.
const (
	fiQuery = iota
	fiPath
	fiUserAgent
	fiReferer
	numFields
)

// fieldOf maps a field index to its Field.
func fieldOf(f int) Field {
	switch f {
	case fiQuery:
		return FieldQuery
	case fiPath:
		return FieldPath
	case fiUserAgent:
		return FieldUserAgent
	}
	return FieldReferer
}

// ruleView is the normalised view a rule reads.
type ruleView uint8

const (
	viewText ruleView = iota
	viewCmdline
)

// ruleEngine is how a rule decides.
type ruleEngine uint8

const (
	engineRegexp ruleEngine = iota
	engineSQLi
	engineXSS
)

// compiledRule is a SignatureRule ready for the hot path.
type compiledRule struct {
	id       string
	class    Class
	severity Severity
	mode     Mode // from signature.override; "" follows signature.mode (ModeOff rules are dropped)
	fields   fieldMask
	view     ruleView
	engine   ruleEngine
	re       *regexp.Regexp
	contains []string // lower-cased
}

// parseSeverity parses a severity name.
func parseSeverity(s string) (Severity, error) {
	switch strings.ToLower(s) {
	case "notice":
		return SeverityNotice, nil
	case "warning":
		return SeverityWarning, nil
	case "error":
		return SeverityError, nil
	case "critical":
		return SeverityCritical, nil
	}
	return 0, fmt.Errorf("must be one of notice, warning, error, critical (got %q)", s)
}

// compileRule checks and compiles r. Every problem is returned, each message
// starting with key (the rule's key path, e.g. "signature.rules[2]").
func compileRule(key string, r SignatureRule) (compiledRule, error) {
	var errs []error
	c := compiledRule{id: r.ID, class: r.Class}
	if r.ID == "" {
		errs = append(errs, fmt.Errorf("%s.id: must not be empty", key))
	} else if strings.ContainsAny(r.ID, " \t.") {
		errs = append(errs, fmt.Errorf("%s.id: must not contain spaces or dots (got %q)", key, r.ID))
	}
	switch r.Class {
	case ClassSQLi, ClassXSS, ClassTraversal, ClassCmdi, ClassProbe, ClassOther:
	default:
		errs = append(errs, fmt.Errorf("%s.class: must be one of sqli, xss, traversal, cmdi, probe, other (got %q)", key, string(r.Class)))
	}
	sev, err := parseSeverity(r.Severity)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s.severity: %w", key, err))
	}
	c.severity = sev
	if len(r.Fields) == 0 {
		c.fields = 1<<numFields - 1
	}
	for i, f := range r.Fields {
		switch f {
		case "query":
			c.fields |= 1 << fiQuery
		case "path":
			c.fields |= 1 << fiPath
		case "user_agent":
			c.fields |= 1 << fiUserAgent
		case "referer":
			c.fields |= 1 << fiReferer
		default:
			errs = append(errs, fmt.Errorf("%s.fields[%d]: must be one of path, query, user_agent, referer (got %q)", key, i, f))
		}
	}
	switch r.View {
	case "", "text":
		c.view = viewText
	case "cmdline":
		c.view = viewCmdline
	default:
		errs = append(errs, fmt.Errorf("%s.view: must be text or cmdline (got %q)", key, r.View))
	}
	switch r.Engine {
	case "", "regexp":
		c.engine = engineRegexp
		if r.Pattern == "" {
			errs = append(errs, fmt.Errorf("%s.pattern: must not be empty", key))
		} else if re, err := regexp.Compile(r.Pattern); err != nil {
			errs = append(errs, fmt.Errorf("%s.pattern: %w", key, err))
		} else {
			c.re = re
		}
	case "libinjection_sqli", "libinjection_xss":
		c.engine = engineSQLi
		if r.Engine == "libinjection_xss" {
			c.engine = engineXSS
		}
		if r.Pattern != "" {
			errs = append(errs, fmt.Errorf("%s.pattern: must be empty with engine %s", key, r.Engine))
		}
	default:
		errs = append(errs, fmt.Errorf("%s.engine: must be regexp, libinjection_sqli or libinjection_xss (got %q)", key, r.Engine))
	}
	for i, lit := range r.Contains {
		if lit == "" {
			errs = append(errs, fmt.Errorf("%s.contains[%d]: must not be empty", key, i))
			continue
		}
		c.contains = append(c.contains, strings.ToLower(lit))
	}
	return c, errors.Join(errs...)
}

// decodeRuleFile parses a rules file strictly (unknown keys are errors).
func decodeRuleFile(data []byte) ([]SignatureRule, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f ruleFile
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return f.Rules, nil
}

// ruleSet is the compiled, ordered rule list of a signature configuration.
// Order is priority: built-in rules in file order, then rules_file, then
// inline rules.
type ruleSet struct {
	rules []compiledRule
}

// compileRuleSet builds the rule set of cfg: built-in rules, rules_file,
// inline rules, minus disabled ones, with overrides applied. Every problem is
// returned joined, each message starting with its key path relative to the
// detect section.
func compileRuleSet(cfg SignatureConfig) (*ruleSet, error) {
	var errs []error
	var rules []compiledRule
	index := map[string]string{} // id → where it was defined
	add := func(where, key string, r SignatureRule) {
		c, err := compileRule(key, r)
		if err != nil {
			errs = append(errs, err)
			return
		}
		if prev, dup := index[c.id]; dup {
			errs = append(errs, fmt.Errorf("%s.id: duplicate rule id %q (already defined in %s)", key, c.id, prev))
			return
		}
		index[c.id] = where
		rules = append(rules, c)
	}

	builtin, err := decodeRuleFile(builtinRules)
	if err != nil {
		// Only a broken build can get here; tests load the file.
		return nil, fmt.Errorf("signature: built-in rules.yaml: %w", err)
	}
	for i, r := range builtin {
		add("the built-in rules", fmt.Sprintf("signature: built-in rules[%d]", i), r)
	}
	if cfg.RulesFile != "" {
		data, err := os.ReadFile(cfg.RulesFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("signature.rules_file: %w", err))
		} else if extra, err := decodeRuleFile(data); err != nil {
			errs = append(errs, fmt.Errorf("signature.rules_file: %s: %w", cfg.RulesFile, err))
		} else {
			for i, r := range extra {
				add("signature.rules_file", fmt.Sprintf("signature.rules_file: %s: rules[%d]", cfg.RulesFile, i), r)
			}
		}
	}
	for i, r := range cfg.Rules {
		add("signature.rules", fmt.Sprintf("signature.rules[%d]", i), r)
	}

	disabled := map[string]bool{}
	for i, id := range cfg.Disable {
		if _, ok := index[id]; !ok {
			errs = append(errs, fmt.Errorf("signature.disable[%d]: unknown rule id %q", i, id))
			continue
		}
		disabled[id] = true
	}
	byID := map[string]int{}
	for i := range rules {
		byID[rules[i].id] = i
	}
	for id, o := range cfg.Override {
		key := "signature.override." + id
		i, ok := byID[id]
		if !ok {
			if _, known := index[id]; !known {
				errs = append(errs, fmt.Errorf("%s: unknown rule id %q", key, id))
			}
			continue
		}
		if o.Severity != "" {
			sev, err := parseSeverity(o.Severity)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.severity: %w", key, err))
			} else {
				rules[i].severity = sev
			}
		}
		if o.Mode != "" {
			if err := validMode(key+".mode", o.Mode); err != nil {
				errs = append(errs, err)
			} else {
				rules[i].mode = o.Mode
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	rs := &ruleSet{}
	for _, r := range rules {
		if disabled[r.id] || r.mode == ModeOff {
			continue
		}
		rs.rules = append(rs.rules, r)
	}
	return rs, nil
}
