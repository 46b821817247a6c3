package detect

import (
	"testing"
)

func TestProbe(t *testing.T) {
	tests := []struct {
		path string
		rule string // "" = not a probe
		sev  Severity
	}{
		{"/.env", "probe-env", SeverityError},
		{"/.env.production", "probe-env", SeverityError},
		{"/app/.env.local", "probe-env", SeverityError},
		{"/%2e%65%6e%76", "probe-env", SeverityError},
		{"/.ENV", "probe-env", SeverityError},
		{"/.git/config", "probe-vcs", SeverityError},
		{"/.git/HEAD", "probe-vcs", SeverityError},
		{"/.svn/entries", "probe-vcs", SeverityError},
		{"/.DS_Store", "probe-dotfile", SeverityWarning},
		{"/.claude/settings.json", "probe-dotfile", SeverityWarning},
		{"/.htpasswd", "probe-htaccess", SeverityError},
		{"/.aws/credentials", "probe-secret-dotfile", SeverityError},
		{"/home/.ssh/id_rsa", "probe-secret-dotfile", SeverityError},
		{"/id_rsa", "probe-ssh-key", SeverityError},
		{"/wp-config.php", "probe-config", SeverityError},
		{"/wp-config.php.bak", "probe-backup", SeverityError},
		{"/wp-config.php~", "probe-backup", SeverityWarning},
		{"/config.php2", "probe-backup", SeverityError},
		{"/index.php.old", "probe-backup", SeverityError},
		{"/db.sql", "probe-dump", SeverityError},
		{"/dump.sql.gz", "probe-dump", SeverityError},
		{"/backup.zip", "probe-dump", SeverityError},
		{"/www.tar.gz", "probe-dump", SeverityError},
		{"/example-com.zip", "probe-site-archive", SeverityWarning},
		{"/server.key", "probe-private-key", SeverityError},
		{"/passwords.txt", "probe-credentials", SeverityError},
		{"/data.txt", "probe-root-text", SeverityWarning},
		{"/c99.php", "probe-webshell", SeverityError},
		{"/uploads/shell.php", "probe-webshell", SeverityError},
		{"/b374k-2.5.php", "probe-webshell", SeverityError},
		{"/x.php", "probe-short-script", SeverityWarning},
		{"/wp-login.php", "probe-wordpress", SeverityWarning},
		{"/blog/wp-admin/", "probe-wordpress", SeverityWarning},
		{"/xmlrpc.php", "probe-wordpress", SeverityWarning},
		{"/phpmyadmin/index.php", "probe-dbadmin", SeverityWarning},
		{"/actuator/env", "probe-actuator", SeverityWarning},
		{"/actuator/heapdump", "probe-actuator", SeverityError},
		{"/server-status", "probe-server-status", SeverityWarning},
		{"/cgi-bin/luci", "probe-cgi-bin", SeverityWarning},
		{"/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "probe-phpunit", SeverityError},
		{"/_ignition/execute-solution", "probe-ignition", SeverityError},
		{"/boaform/admin/formLogin", "probe-device", SeverityError},
		{"/HNAP1/", "probe-device", SeverityError},
		{"/solr/admin/cores", "probe-java-admin", SeverityWarning},
		{"/console", "probe-debug-console", SeverityWarning},
		{"/owa/auth/logon.aspx", "probe-exchange", SeverityWarning},
		{"/@fs/etc/passwd", "probe-vite-fs", SeverityError},
		{"/storage/logs/laravel.log", "probe-log", SeverityWarning},
		{"/includes", "probe-docroot", SeverityWarning},
		{"/static/..;/.git/config", "probe-vcs", SeverityError},
		// Not probes.
		{"/", "", 0},
		{"/.well-known/security.txt", "", 0},
		{"/.well-known/acme-challenge/abc", "", 0},
		{"/robots.txt", "", 0},
		{"/humans.txt", "", 0},
		{"/blog/2024/my-post", "", 0},
		{"/includes/js/app.js", "", 0},
		{"/docs/console/usage", "", 0},
		{"/files/xdotool-2.20101014.tar.gz", "", 0},
		{"/scripts/wrap.backup/", "", 0},
		{"/misc/backup/", "", 0},
		{"/www/delivery/lg.php", "", 0},
		{"/static/js/vendor~main.8f3a1c.js", "", 0},
		{"/users/password/edit", "", 0},
		{"/files/dhcpd.conf", "", 0},
		{"/api/v1/backup-status", "", 0},
	}
	cfg := DefaultContentConfig()
	cfg.Signature.Mode, cfg.UserAgent.Mode = ModeOff, ModeOff
	c := mustContent(t, cfg)
	for _, tc := range tests {
		ms := c.Inspect(uriEvent(tc.path, browserUA), nil)
		switch {
		case tc.rule == "" && len(ms) != 0:
			t.Errorf("%s: matched %v, want nothing", tc.path, rulesOf(ms))
		case tc.rule != "" && (len(ms) != 1 || ms[0].Rule != tc.rule || ms[0].Severity != tc.sev):
			t.Errorf("%s: got %+v, want %s (%s)", tc.path, ms, tc.rule, tc.sev)
		case len(ms) == 1 && (ms[0].Class != ClassProbe || ms[0].Field != FieldPath || ms[0].Detector != DetectorProbe):
			t.Errorf("%s: malformed %+v", tc.path, ms[0])
		}
	}
}

func TestProbeAllowAndExtra(t *testing.T) {
	cfg := DefaultContentConfig()
	cfg.Signature.Mode, cfg.UserAgent.Mode = ModeOff, ModeOff
	cfg.Probe.AllowPaths = []string{"/WP-", "/xmlrpc.php"}
	cfg.Probe.ExtraPaths = []string{"/internal/", "legacy-admin"}
	c := mustContent(t, cfg)
	tests := []struct{ path, rule string }{
		{"/wp-admin/edit.php", ""},
		{"/wp-login.php", ""},
		{"/xmlrpc.php", ""},
		{"/blog/wp-admin/", "probe-wordpress"},
		{"/internal/metrics", "probe-custom"},
		{"/shop/legacy-admin/login", "probe-custom"},
		{"/.env", "probe-env"},
	}
	for _, tc := range tests {
		got := rulesOf(c.Inspect(uriEvent(tc.path, browserUA), nil))
		if (tc.rule == "" && len(got) != 0) || (tc.rule != "" && (len(got) != 1 || got[0] != tc.rule)) {
			t.Errorf("%s: %v, want %q", tc.path, got, tc.rule)
		}
	}
}
