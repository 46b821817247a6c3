package contrib_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// unitFile is a parsed systemd unit: section → key → values (a key may
// repeat).
type unitFile map[string]map[string][]string

func parseUnit(t *testing.T, content string) unitFile {
	t.Helper()
	u := unitFile{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(content))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("unit line %d: %q is not key=value inside a section", n, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

// TestSystemdUnitDirectives checks the directives the daemon and the
// hardening depend on, so the unit cannot silently lose one.
func TestSystemdUnitDirectives(t *testing.T) {
	u := parseUnit(t, string(readRepoFile(t, "systemd", "vigil.service")))
	svc := u["Service"]
	if svc == nil {
		t.Fatal("no [Service] section")
	}
	want := map[string]string{
		"Type":                    "notify",
		"NotifyAccess":            "main",
		"ExecStartPre":            "/usr/local/bin/vigil check-config --config /etc/vigil/vigil.yaml",
		"ExecStart":               "/usr/local/bin/vigil run --config /etc/vigil/vigil.yaml",
		"ExecReload":              "/bin/kill -HUP $MAINPID",
		"Restart":                 "on-failure",
		"WatchdogSec":             "30s",
		"User":                    "vigil",
		"SupplementaryGroups":     "adm",
		"StateDirectory":          "vigil",
		"StateDirectoryMode":      "0700",
		"LogsDirectory":           "vigil",
		"UMask":                   "0077",
		"CapabilityBoundingSet":   "CAP_NET_ADMIN CAP_NET_RAW",
		"AmbientCapabilities":     "CAP_NET_ADMIN CAP_NET_RAW",
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"ProtectKernelTunables":   "yes",
		"ProtectKernelModules":    "yes",
		"ProtectKernelLogs":       "yes",
		"ProtectControlGroups":    "yes",
		"ProtectClock":            "yes",
		"ProtectHostname":         "yes",
		"RestrictNamespaces":      "yes",
		"RestrictRealtime":        "yes",
		"RestrictSUIDSGID":        "yes",
		"LockPersonality":         "yes",
		"MemoryDenyWriteExecute":  "yes",
		"RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6 AF_NETLINK",
		"SystemCallArchitectures": "native",
	}
	for k, v := range want {
		got := svc[k]
		if len(got) != 1 || got[0] != v {
			t.Errorf("[Service] %s = %q, want exactly %q", k, got, v)
		}
	}
	for _, k := range []string{"TimeoutStopSec", "SystemCallFilter"} {
		if len(svc[k]) == 0 {
			t.Errorf("[Service] %s is not set", k)
		}
	}
	if f := svc["SystemCallFilter"]; len(f) == 0 || f[0] != "@system-service" {
		t.Errorf("SystemCallFilter = %q, want @system-service first", f)
	}
	// The service must not be able to write the paths it only reads.
	for _, k := range []string{"ReadWritePaths", "DynamicUser", "PrivateNetwork", "PrivateUsers", "RestartPreventExitStatus"} {
		if len(svc[k]) > 0 {
			t.Errorf("[Service] %s = %q: the unit relies on it being unset", k, svc[k])
		}
	}
	if got := u["Unit"]["StartLimitBurst"]; len(got) != 1 {
		t.Errorf("[Unit] StartLimitBurst = %q: without a limit an invalid configuration restarts forever", got)
	}
	if got := u["Install"]["WantedBy"]; len(got) != 1 || got[0] != "multi-user.target" {
		t.Errorf("[Install] WantedBy = %q", got)
	}
}

// TestSystemdAnalyze runs systemd-analyze verify and security on the unit,
// with the binary path pointed at a freshly built vigil.
func TestSystemdAnalyze(t *testing.T) {
	sa := requireTool(t, "systemd-analyze", true, "apt-get install systemd")
	bin := vigilBinary(t)
	unit := strings.ReplaceAll(string(readRepoFile(t, "systemd", "vigil.service")), "/usr/local/bin/vigil", bin)
	dir := t.TempDir()
	path := filepath.Join(dir, "vigil.service")
	writeFile(t, path, unit)

	out, err := runTool(t, dir, nil, sa, "verify", path)
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify: err %v, output:\n%s", err, out)
	}

	// The exposure score documented in docs/OPERATIONS.md; the threshold
	// makes a weakened unit fail.
	out, err = runTool(t, dir, nil, sa, "security", "--offline=true", "--threshold=20", "--no-pager", path)
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for vigil\.service: (\d+\.\d)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	score, _ := strconv.ParseFloat(m[1], 64)
	const documented = "1.7"
	if m[1] != documented {
		t.Errorf("exposure level %s, docs/OPERATIONS.md says %s: update the docs (or the unit)", m[1], documented)
	}
	if score > 2.0 {
		t.Errorf("exposure level %.1f above 2.0", score)
	}
	if !strings.Contains(string(readRepoFile(t, "docs", "OPERATIONS.md")), "exposure level "+documented) {
		t.Errorf("docs/OPERATIONS.md does not state the exposure level %s", documented)
	}
}

// TestSystemdUserAndLock applies the sysusers and tmpfiles snippets to a
// scratch root: the vigil user appears and /run/xtables.lock is created as
// root:vigil 0640.
func TestSystemdUserAndLock(t *testing.T) {
	sysusers := requireTool(t, "systemd-sysusers", true, "apt-get install systemd")
	tmpfiles := requireTool(t, "systemd-tmpfiles", true, "apt-get install systemd")
	if os.Geteuid() != 0 {
		t.Skip("needs root to create files owned by another user")
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := runTool(t, "", nil, sysusers, "--root="+root, repoPath(t, "systemd", "vigil.sysusers.conf")); err != nil {
		t.Fatalf("systemd-sysusers: %v\n%s", err, out)
	}
	passwd := string(readFile(t, filepath.Join(root, "etc", "passwd")))
	m := regexp.MustCompile(`(?m)^vigil:x:(\d+):(\d+):[^:]*:/var/lib/vigil:/usr/sbin/nologin$`).FindStringSubmatch(passwd)
	if m == nil {
		t.Fatalf("no vigil system user in /etc/passwd:\n%s", passwd)
	}
	gid, _ := strconv.Atoi(m[2])

	// An existing lock created by iptables as root 0600 is fixed up too.
	lock := filepath.Join(root, "run", "xtables.lock")
	if err := os.WriteFile(lock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runTool(t, "", nil, tmpfiles, "--create", "--root="+root, repoPath(t, "systemd", "vigil.tmpfiles.conf")); err != nil {
		t.Fatalf("systemd-tmpfiles: %v\n%s", err, out)
	}
	fi, err := os.Stat(lock)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm() != 0o640 || st.Uid != 0 || int(st.Gid) != gid {
		t.Errorf("/run/xtables.lock: mode %v owner %d:%d, want 0640 0:%d", fi.Mode().Perm(), st.Uid, st.Gid, gid)
	}
}

// TestModulesLoadList checks the modules-load.d file: one module name per
// line, including the ipset ones the default backend needs.
func TestModulesLoadList(t *testing.T) {
	mods := map[string]bool{}
	for i, line := range strings.Split(string(readRepoFile(t, "systemd", "vigil-modules.conf")), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if !regexp.MustCompile(`^[a-z0-9_]+$`).MatchString(line) {
			t.Errorf("line %d: %q is not a module name", i+1, line)
		}
		mods[line] = true
	}
	for _, m := range []string{"ip_set", "ip_set_hash_net", "xt_set", "xt_comment"} {
		if !mods[m] {
			t.Errorf("module %s missing", m)
		}
	}
}

// readFile returns the content of path.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
