package contrib_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestPrometheusRules checks the rules and the scrape configuration with
// promtool and runs the rules' unit tests (vigil-rules.test.yml).
func TestPrometheusRules(t *testing.T) {
	promtool := requireTool(t, "promtool", true, "apt-get install prometheus")
	dir := repoPath(t, "contrib", "prometheus")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"check rules", []string{"check", "rules", "vigil-rules.yml"}, "SUCCESS"},
		{"check config", []string{"check", "config", "prometheus.yml"}, "is valid prometheus config file syntax"},
		{"test rules", []string{"test", "rules", "vigil-rules.test.yml"}, "SUCCESS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runTool(t, dir, nil, promtool, tc.args...)
			if err != nil {
				t.Fatalf("promtool %s: %v\n%s", strings.Join(tc.args, " "), err, out)
			}
			if !strings.Contains(out, tc.want) {
				t.Fatalf("promtool %s: output lacks %q:\n%s", strings.Join(tc.args, " "), tc.want, out)
			}
		})
	}
}

// TestAlertRulesComplete checks that the alerts operators rely on exist and
// carry a severity and both annotations, and that every alert is exercised
// by at least one unit test or listed as untested on purpose.
func TestAlertRulesComplete(t *testing.T) {
	rules := string(readRepoFile(t, "contrib", "prometheus", "vigil-rules.yml"))
	tests := string(readRepoFile(t, "contrib", "prometheus", "vigil-rules.test.yml"))
	alertRe := regexp.MustCompile(`(?m)^\s*- alert: (\w+)\s*$`)
	var alerts []string
	for _, m := range alertRe.FindAllStringSubmatch(rules, -1) {
		alerts = append(alerts, m[1])
	}
	have := map[string]bool{}
	for _, a := range alerts {
		have[a] = true
	}
	for _, want := range []string{"VigilDown", "VigilNotReady", "VigilLagHigh", "VigilParseErrorsHigh",
		"VigilBanStorm", "VigilGlobalAnomaly", "VigilNotifyFailing", "VigilReloadFailed",
		"VigilFirewallErrors", "VigilSetFull", "VigilReconcileRepairs"} {
		if !have[want] {
			t.Errorf("alert %s missing from vigil-rules.yml", want)
		}
	}
	// Each alert block must have a severity, a summary and a description.
	blocks := alertRe.Split(rules, -1)[1:]
	for i, a := range alerts {
		for _, key := range []string{"severity: ", "summary: ", "description: "} {
			if !strings.Contains(blocks[i], key) {
				t.Errorf("alert %s has no %s", a, strings.TrimSuffix(key, ": "))
			}
		}
	}
	// Simple threshold alerts on a single counter are left untested.
	untested := map[string]bool{"VigilNotReady": true, "VigilReconcileErrors": true,
		"VigilLedgerWriteErrors": true, "VigilAuditErrors": true, "VigilLogLinesLost": true, "VigilClientTableFull": true}
	for _, a := range alerts {
		tested := strings.Contains(tests, "alertname: "+a+"\n")
		if !tested && !untested[a] {
			t.Errorf("alert %s has no unit test in vigil-rules.test.yml", a)
		}
		if tested && untested[a] {
			t.Errorf("alert %s is tested now: remove it from the untested list", a)
		}
	}
}

// TestAlertmanagerConfig validates the example with amtool and checks the
// routing of a critical and a warning vigil alert.
func TestAlertmanagerConfig(t *testing.T) {
	amtool := requireTool(t, "amtool", true, "apt-get install prometheus-alertmanager")
	dir := repoPath(t, "contrib", "alertmanager")
	out, err := runTool(t, dir, nil, amtool, "check-config", "alertmanager.yml")
	if err != nil || !strings.Contains(out, "SUCCESS") {
		t.Fatalf("amtool check-config: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		labels []string
		want   string
	}{
		{[]string{"alertname=VigilDown", "severity=critical", "instance=web1:9750"}, "ops-pager"},
		{[]string{"alertname=VigilFirewallErrors", "severity=critical", "op=block"}, "ops-pager"},
		{[]string{"alertname=VigilLagHigh", "severity=warning"}, "ops-slack"},
		{[]string{"alertname=SomethingElse", "severity=critical"}, "ops-slack"},
	} {
		args := append([]string{"config", "routes", "test", "--config.file=alertmanager.yml", "--verify.receivers=" + tc.want}, tc.labels...)
		out, err := runTool(t, dir, nil, amtool, args...)
		if err != nil {
			t.Errorf("%v: want receiver %s: %v\n%s", tc.labels, tc.want, err, out)
		}
	}
}
