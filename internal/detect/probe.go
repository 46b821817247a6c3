package detect

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// ProbeConfig configures the probe detector: requests for sensitive files
// and admin or CMS paths that a site does not serve (/.env, /.git/, backups,
// database dumps, web shells, wp-login.php on a site without WordPress, ...).
type ProbeConfig struct {
	// Mode is enforce, alert or off.
	Mode Mode `koanf:"mode"`
	// AllowPaths lists path prefixes this site legitimately serves (e.g.
	// "/wp-admin" on a WordPress site); requests under them are never probes.
	// Matched case-insensitively against the normalised path.
	AllowPaths []string `koanf:"allow_paths"`
	// ExtraPaths lists more probe targets (rule "probe-custom", severity
	// error): an entry starting with "/" is a path prefix, any other entry
	// the exact name of a path segment (a file or directory name).
	ExtraPaths []string `koanf:"extra_paths"`
}

// DefaultProbeConfig returns the default: enforcing, nothing allowed.
func DefaultProbeConfig() ProbeConfig {
	return ProbeConfig{Mode: ModeEnforce}
}

// Validate reports every problem in c (messages start with "probe.").
func (c ProbeConfig) Validate() error {
	var errs []error
	if err := validMode("probe.mode", c.Mode); err != nil {
		errs = append(errs, err)
	}
	for i, p := range c.AllowPaths {
		if !strings.HasPrefix(p, "/") {
			errs = append(errs, fmt.Errorf("probe.allow_paths[%d]: must start with / (got %q)", i, p))
		}
	}
	for i, p := range c.ExtraPaths {
		if p == "" || p == "/" || (!strings.HasPrefix(p, "/") && strings.Contains(p, "/")) {
			errs = append(errs, fmt.Errorf("probe.extra_paths[%d]: must be a path prefix starting with / or a single file or directory name (got %q)", i, p))
		}
	}
	return errors.Join(errs...)
}

// probeHit is a probe rule firing: its id and severity.
type probeHit struct {
	rule string
	sev  Severity
	// app marks an application path (a CMS, admin panel, database admin,
	// editor, console): a probe only when the site did not serve it. On a
	// WordPress site /wp-content/ answered 200 is ordinary traffic; on any
	// other site it is a 404 and a probe. Sensitive files (.env, .git, keys,
	// dumps, web shells) are probes whatever the answer.
	app bool
}

// Probe severities.
// Severity error: files that are never meant to be public and are only asked
// for by someone hunting secrets or shells. Warning: paths of software the
// site may not run (WordPress, phpMyAdmin, ...), which an operator who does
// run it lists in probe.allow_paths, and weaker hints such as backups.

// probePrefix is a probe by canonical-path prefix (at a segment boundary).
type probePrefix struct {
	prefix []byte
	hit    probeHit
}

// extKind is a set of kinds of file extension.
type extKind uint8

// Kinds of file extension (see newProbeTables).
const (
	extBackup extKind = 1 << iota
	extDump
	extArchive
	extKey
	extScript
	extRoot
	extCredential
)

// probeTables are the probe detector's lookup tables. They are built per
// detector (package state stays immutable) and only read afterwards.
type probeTables struct {
	names    *segSet[probeHit] // exact segment names, anywhere in the path
	roots    *segSet[probeHit] // names that are probes as the first segment only
	dirs     *segSet[probeHit] // single-segment paths only
	prefixes []probePrefix
	// exts classifies file extensions (extBackup, extDump, ...).
	exts                                                  *segSet[extKind]
	archiveStems, credentialStems, shellStems, publicText *segSet[bool]
	shellPrefixes                                         [][]byte

	// Hits the classifiers return.
	custom, env, htaccess, vcs, dot, backup, sourceBackup   probeHit
	key, dump, archive, rootFile, shell, shortScript, creds probeHit
	rootText                                                probeHit
}

// newProbeTables builds the built-in probe tables.
func newProbeTables() *probeTables {
	t := &probeTables{}
	hitGit := probeHit{"probe-vcs", SeverityError, false}
	hitEnv := probeHit{"probe-env", SeverityError, false}
	hitHtaccess := probeHit{"probe-htaccess", SeverityError, false}
	hitSecretDot := probeHit{"probe-secret-dotfile", SeverityError, false}
	hitDotfile := probeHit{"probe-dotfile", SeverityWarning, false}
	hitSSHKey := probeHit{"probe-ssh-key", SeverityError, false}
	hitCreds := probeHit{"probe-credentials", SeverityError, false}
	hitConfig := probeHit{"probe-config", SeverityError, false}
	hitBackup := probeHit{"probe-backup", SeverityWarning, false}
	hitDump := probeHit{"probe-dump", SeverityError, false}
	hitArchive := probeHit{"probe-site-archive", SeverityWarning, false}
	hitLog := probeHit{"probe-log", SeverityWarning, false}
	hitRootFile := probeHit{"probe-root-file", SeverityWarning, false}
	hitKey := probeHit{"probe-private-key", SeverityError, false}
	hitShell := probeHit{"probe-webshell", SeverityError, false}
	hitShortShell := probeHit{"probe-short-script", SeverityWarning, false}
	hitPHPInfo := probeHit{"probe-phpinfo", SeverityWarning, false}
	hitPHPUnit := probeHit{"probe-phpunit", SeverityError, false}
	hitWordPress := probeHit{"probe-wordpress", SeverityWarning, true}
	hitCMS := probeHit{"probe-cms", SeverityWarning, true}
	hitDocroot := probeHit{"probe-docroot", SeverityWarning, true}
	hitDBAdmin := probeHit{"probe-dbadmin", SeverityWarning, true}
	hitActuator := probeHit{"probe-actuator", SeverityWarning, true}
	hitHeapdump := probeHit{"probe-actuator", SeverityError, false}
	hitStatus := probeHit{"probe-server-status", SeverityWarning, true}
	hitCGI := probeHit{"probe-cgi-bin", SeverityWarning, true}
	hitDevice := probeHit{"probe-device", SeverityError, false}
	hitConsole := probeHit{"probe-debug-console", SeverityWarning, true}
	hitIgnition := probeHit{"probe-ignition", SeverityError, false}
	hitExchange := probeHit{"probe-exchange", SeverityWarning, true}
	hitJava := probeHit{"probe-java-admin", SeverityWarning, true}
	hitVite := probeHit{"probe-vite-fs", SeverityError, false}
	hitEditor := probeHit{"probe-file-manager", SeverityWarning, true}

	t.names = newSegSet(map[string]probeHit{
		".git": hitGit, ".svn": hitGit, ".hg": hitGit, ".bzr": hitGit, "_darcs": hitGit,
		".gitignore": hitDotfile, ".git-credentials": hitSecretDot, ".gitconfig": hitSecretDot,
		".env":      hitEnv,
		".htaccess": hitHtaccess, ".htpasswd": hitHtaccess, ".htgroup": hitHtaccess, ".htdigest": hitHtaccess,
		".aws": hitSecretDot, ".ssh": hitSecretDot, ".docker": hitSecretDot, ".kube": hitSecretDot,
		".npmrc": hitSecretDot, ".pypirc": hitSecretDot, ".netrc": hitSecretDot, ".pgpass": hitSecretDot,
		".my.cnf": hitSecretDot, ".s3cfg": hitSecretDot, ".boto": hitSecretDot, ".azure": hitSecretDot,
		".gnupg": hitSecretDot, ".bash_history": hitSecretDot, ".zsh_history": hitSecretDot,
		".sh_history": hitSecretDot, ".history": hitSecretDot, ".mysql_history": hitSecretDot,
		".psql_history": hitSecretDot, ".rhosts": hitSecretDot, ".passwd": hitSecretDot,
		".viminfo": hitSecretDot, ".lesshst": hitSecretDot, ".python_history": hitSecretDot,
		"id_rsa": hitSSHKey, "id_dsa": hitSSHKey, "id_ecdsa": hitSSHKey, "id_ed25519": hitSSHKey,
		"authorized_keys": hitSSHKey, "known_hosts": hitSSHKey, "id_rsa.pub": hitSSHKey,
		"passwd": hitCreds, "master.passwd": hitCreds, "shadow": hitCreds, "htpasswd": hitCreds,
		"htgroup": hitCreds, "passlist": hitCreds, "pwd.db": hitCreds, "spwd.db": hitCreds,
		"auth_user_file": hitCreds, "administrators.pwd": hitCreds, "service.pwd": hitCreds,
		"secring.pgp": hitCreds, "secring.skr": hitCreds, "secring.gpg": hitCreds, "secring.bak": hitCreds,
		"wand.dat": hitCreds, "wcx_ftp.ini": hitCreds, "ws_ftp.ini": hitCreds, "sites.ini": hitCreds,
		"flashfxp.ini": hitCreds, "serv-u.ini": hitCreds, "filezilla.xml": hitCreds,
		"sitemanager.xml": hitCreds, "recentservers.xml": hitCreds, "sftp-config.json": hitCreds,
		"credentials": hitCreds, "credentials.json": hitCreds, "credentials.xml": hitCreds,
		"unattend.txt": hitCreds, "unattend.xml": hitCreds, "sysprep.inf": hitCreds,
		"wp-config.php": hitConfig, "config.php": hitConfig, "configuration.php": hitConfig,
		"conf.php": hitConfig, "config.inc.php": hitConfig, "conf_global.php": hitConfig,
		"localsettings.php": hitConfig, "settings.php": hitConfig, "database.php": hitConfig,
		"db.php": hitConfig, "connect.php": hitConfig, "dbconnect.php": hitConfig, "db_connect.php": hitConfig,
		"mk_conf.php": hitConfig, "parameters.yml": hitConfig, "docker-compose.yml": hitConfig,
		"docker-compose.yaml": hitConfig, "web.config": hitConfig, "php.ini": hitConfig, ".user.ini": hitConfig,
		"config.bin": hitConfig, "local.xml": hitConfig, "appsettings.json": hitConfig,
		"connect.inc": hitConfig, "globals.inc": hitConfig, "config.inc": hitConfig, "db.inc": hitConfig,
		"vtund.conf": hitConfig, "slapd.conf": hitConfig, "wvdial.conf": hitConfig, "zebra.conf": hitConfig,
		"ospfd.conf": hitConfig, "lilo.conf": hitConfig, "mrtg.cfg": hitConfig, "server.cfg": hitConfig,
		"default.config": hitConfig, "sec.config": hitConfig,
		"debug.log": hitLog, "error.log": hitLog, "errors.log": hitLog, "error_log": hitLog,
		"access.log": hitLog, "access_log": hitLog, "php_error.log": hitLog, "php_errors.log": hitLog,
		"laravel.log": hitLog, "install.log": hitLog, "npm-debug.log": hitLog, "yarn-error.log": hitLog,
		"log.txt": hitLog, "logs.txt": hitLog, "l0gs.txt": hitLog, "password.log": hitCreds,
		"ccbill.log": hitLog, "ws_ftp.log": hitLog,
		"phpinfo.php": hitPHPInfo, "info.php": hitPHPInfo, "php_info.php": hitPHPInfo, "phpinfo": hitPHPInfo,
		"eval-stdin.php": hitPHPUnit, "phpunit": hitPHPUnit,
		"wp-login.php": hitWordPress, "xmlrpc.php": hitWordPress, "wp-admin": hitWordPress,
		"wp-content": hitWordPress, "wp-includes": hitWordPress, "wlwmanifest.xml": hitWordPress,
		"phpmyadmin": hitDBAdmin, "myadmin": hitDBAdmin, "mysqladmin": hitDBAdmin, "phppgadmin": hitDBAdmin,
		"adminer": hitDBAdmin, "adminer.php": hitDBAdmin, "sqlbuddy": hitDBAdmin, "pma": hitDBAdmin,
		"heapdump": hitHeapdump, "jolokia": hitActuator, "actuator": hitActuator,
		"cgi-bin": hitCGI, "cgi-sys": hitCGI,
		"fckeditor": hitEditor, "ckfinder": hitEditor, "kcfinder": hitEditor, "elfinder": hitEditor,
		"uploadify.php": hitEditor, "uploadify": hitEditor,
		"admin.php":        hitCMS,
		"execute-solution": hitIgnition,
		"jmx-console":      hitJava, "web-console": hitJava, "invoker": hitJava, "host-manager": hitJava,
	})

	t.roots = newSegSet(map[string]probeHit{
		"server-status": hitStatus, "server-info": hitStatus,
		"boaform": hitDevice, "hnap1": hitDevice, "goform": hitDevice,
		"console": hitConsole, "_ignition": hitIgnition,
		"owa": hitExchange, "ecp": hitExchange, "autodiscover": hitExchange, "autodiscover.xml": hitExchange,
		"@fs": hitVite, "@id": hitVite,
		"public_html": hitDocroot, "htdocs": hitDocroot, "wwwroot": hitDocroot,

		"administrator": hitCMS, "joomla": hitCMS, "wordpress": hitWordPress, "wp": hitWordPress,
		"_admin": hitCMS, "fileadmin": hitCMS,
	})

	// Directories asked for by themselves (a listing or a default page),
	// only when the whole path is that one directory: include directories,
	// template engines and hosting panels that are never meant to be browsed.
	t.dirs = newSegSet(map[string]probeHit{
		"inc": hitDocroot, "include": hitDocroot, "includes": hitDocroot,
		"smarty": hitCMS, "whm": hitCMS, "whmcs": hitCMS, "maincp": hitCMS, "mysql": hitDBAdmin,
	})
	t.prefixes = []probePrefix{
		{[]byte("/solr/admin"), hitJava},
		{[]byte("/manager/html"), hitJava},
		{[]byte("/vendor/phpunit"), hitPHPUnit},
		{[]byte("/node/add"), hitCMS}, {[]byte("/user/register"), hitCMS}, // Drupal
	}

	// backupExts are editor, backup-tool and hand-made backup suffixes.
	backupExts := map[string]bool{"bak": true, "old": true, "orig": true, "save": true, "sav": true,
		"swp": true, "swo": true, "backup": true, "bk": true, "bkp": true, "copy": true, "tmp": true, "un~": true}
	// dumpExts are database files and dumps.
	dumpExts := map[string]bool{"sql": true, "mdb": true, "accdb": true, "sqlite": true, "sqlite3": true,
		"db": true, "dump": true, "dmp": true}
	// archiveExts are archive formats (also after ".tar").
	archiveExts := map[string]bool{"zip": true, "gz": true, "tgz": true, "tar": true, "bz2": true,
		"tbz2": true, "7z": true, "rar": true, "xz": true, "txz": true, "war": true}
	// keyExts are private keys and key stores.
	keyExts := map[string]bool{"pem": true, "key": true, "p12": true, "pfx": true, "jks": true,
		"keystore": true, "kdbx": true, "ppk": true, "ovpn": true}
	// scriptExts are server-side script extensions (web shells).
	scriptExts := map[string]bool{"php": true, "php3": true, "php4": true, "php5": true, "phtml": true,
		"asp": true, "aspx": true, "jsp": true, "jspx": true, "cfm": true, "cgi": true, "pl": true}
	// rootExts are extensions that no site serves from its document root:
	// shell scripts, configuration, logs, includes, data files.
	rootExts := map[string]bool{"sh": true, "bash": true, "log": true, "conf": true, "cfg": true,
		"cnf": true, "ini": true, "inc": true, "dat": true, "bin": true, "config": true, "tpl": true,
		"env": true, "pwd": true}
	// archiveStems are names of whole-site or database archives.
	archiveStems := map[string]bool{"backup": true, "backups": true, "site": true, "www": true,
		"wwwroot": true, "htdocs": true, "html": true, "public_html": true, "web": true, "webroot": true,
		"db": true, "database": true, "dump": true, "data": true, "sql": true, "mysql": true, "base": true,
		"all": true, "old": true, "new": true, "archive": true, "src": true, "source": true, "app": true,
		"wordpress": true, "wp": true, "home": true, "root": true, "bak": true, "test": true}
	// credentialStems are file names that hold passwords or account lists
	// (with a data or text extension).
	credentialStems := map[string]bool{"passwd": true, "password": true, "passwords": true, "pass": true,
		"passes": true, "pw": true, "pws": true, "pwd": true, "pazz": true, "pazzezs": true,
		"passlist": true, "logins": true, "accounts": true, "usernames": true, "users": true,
		"members": true, "database": true, "grabbed": true, "secrets": true, "secret": true, "credentials": true, "creds": true}
	// credentialExts are the extensions credentialStems count with.
	credentialExts := map[string]bool{"txt": true, "dat": true, "log": true, "csv": true, "xls": true,
		"xlsx": true, "bak": true, "lst": true, "list": true, "db": true, "sql": true, "html": true, "htm": true}
	// shellStems are names of well-known web shells and backdoors.
	shellStems := map[string]bool{"c99": true, "c99shell": true, "c100": true, "r57": true, "r58": true,
		"wso": true, "b374k": true, "alfa": true, "indoxploit": true, "sdoor": true, "cmd": true,
		"cmdasp": true, "cmdexec": true, "spexec": true, "ntdaddy": true, "elmaliseker": true,
		"zehir": true, "zehir4": true, "efso": true, "remexp": true, "aspy": true, "aspydrv": true,
		"3fexe": true, "webr00t": true, "priv8": true, "bypass": true, "uploader": true, "up": true,
		"filesystembrowser": true, "reverse": true, "backdoor": true, "dra": true, "ddos": true,
		"mailer": true, "decoded": true, "tool": true, "sql": true, "fileupload": true, "colog": true,
		"fun": true, "sys": true, "b64": true, "aspxsh": true, "aspxspy": true, "wso2": true}
	// Text files a site legitimately serves from its root; any other
	// root .txt is a guess at a credential or log dump (phishing kits write
	// their loot there).
	publicText := map[string]bool{"robots": true, "humans": true, "security": true, "ads": true, "app-ads": true,
		"llms": true, "llms-full": true, "sellers": true, "readme": true, "license": true, "changelog": true, "keybase": true,
		"brave-rewards-verification": true, "google-site-verification": true}
	t.archiveStems, t.credentialStems = newSegSet(archiveStems), newSegSet(credentialStems)
	t.shellStems, t.publicText = newSegSet(shellStems), newSegSet(publicText)
	exts := map[string]extKind{}
	for kind, set := range map[extKind]map[string]bool{extBackup: backupExts, extDump: dumpExts,
		extArchive: archiveExts, extKey: keyExts, extScript: scriptExts, extRoot: rootExts,
		extCredential: credentialExts} {
		for e := range set {
			exts[e] |= kind
		}
	}
	t.exts = newSegSet(exts)
	t.rootText = probeHit{"probe-root-text", SeverityWarning, false}
	t.shellPrefixes = [][]byte{[]byte("b374k"), []byte("c99"), []byte("r57"), []byte("webr00t"), []byte("cmd")}
	t.custom = probeHit{"probe-custom", SeverityError, false}
	t.env, t.htaccess, t.vcs, t.dot = hitEnv, hitHtaccess, hitGit, hitDotfile
	t.backup, t.sourceBackup = hitBackup, probeHit{hitBackup.rule, SeverityError, false}
	t.key, t.dump, t.archive, t.rootFile = hitKey, hitDump, hitArchive, hitRootFile
	t.shell, t.shortScript, t.creds = hitShell, hitShortShell, hitCreds
	return t
}

// probe is the compiled probe detector.
type probe struct {
	mode  Mode
	allow [][]byte // lower-cased path prefixes
	extra [][]byte // lower-cased path prefixes
	t     *probeTables
}

func newProbe(cfg ProbeConfig) (*probe, error) {
	p := &probe{mode: cfg.Mode, t: newProbeTables()}
	for _, a := range cfg.AllowPaths {
		p.allow = append(p.allow, []byte(strings.ToLower(a)))
	}
	for _, e := range cfg.ExtraPaths {
		e = strings.ToLower(e)
		if strings.HasPrefix(e, "/") {
			p.extra = append(p.extra, []byte(e))
			continue
		}
		p.t.names.add(e, p.t.custom)
	}
	return p, nil
}

// inspect appends at most one probe match for the request in v: the most
// severe hit (the first found among equals).
func (p *probe) inspect(v *requestViews, status uint16, dst []Match) []Match {
	if len(v.raw(fiPath)) == 0 {
		return dst
	}
	path, _ := v.canonicalPath()
	for _, a := range p.allow {
		if bytes.HasPrefix(path, a) {
			return dst
		}
	}
	t := p.t
	var best probeHit
	for _, e := range p.extra {
		if bytes.HasPrefix(path, e) {
			best = best.max(t.custom)
		}
	}
	for i := range t.prefixes {
		pp := &t.prefixes[i]
		if bytes.HasPrefix(path, pp.prefix) &&
			(len(path) == len(pp.prefix) || path[len(pp.prefix)] == '/') {
			best = best.max(pp.hit)
		}
	}
	rest := path[1:]
	if d := bytes.TrimSuffix(rest, []byte("/")); len(d) > 0 && bytes.IndexByte(d, '/') < 0 {
		if h, ok := t.dirs.get(d); ok {
			best = best.max(h)
		}
	}
	first := true
	for len(rest) > 0 {
		seg, last := rest, true
		if i := bytes.IndexByte(rest, '/'); i >= 0 {
			// A segment followed by '/' is a directory, even the last one.
			seg, rest, last = rest[:i], rest[i+1:], false
		} else {
			rest = nil
		}
		if h, ok := t.names.get(seg); ok {
			best = best.max(h)
		}
		if first {
			if h, ok := t.roots.get(seg); ok {
				best = best.max(h)
			}
		}
		if len(seg) > 1 && seg[0] == '.' {
			best = best.max(t.dotfile(seg))
		}
		if last {
			best = best.max(t.file(seg, first))
		}
		first = false
	}
	if best.sev == 0 || (best.app && status >= 200 && status < 400) {
		return dst
	}
	return append(dst, Match{Detector: DetectorProbe, Rule: best.rule, Class: ClassProbe, Severity: best.sev, Field: FieldPath})
}

// max returns the more severe of h and o, h on a tie.
func (h probeHit) max(o probeHit) probeHit {
	if o.sev > h.sev || (o.sev == h.sev && h.app && !o.app) { // a sensitive file wins a tie
		return o
	}
	return h
}

// dotfile classifies a path segment that starts with '.'.
func (t *probeTables) dotfile(seg []byte) probeHit {
	switch {
	case string(seg) == ".well-known" || string(seg) == "..":
		return probeHit{}
	case bytes.HasPrefix(seg, []byte(".env")):
		return t.env // .env.local, .env.production, .env.bak
	case bytes.HasPrefix(seg, []byte(".ht")):
		return t.htaccess // .htaccess.old, .htpasswd~
	case bytes.HasPrefix(seg, []byte(".git")):
		return t.vcs
	}
	return t.dot
}

// file classifies the last path segment (a file name) by its extension and
// stem. root reports whether it is also the first segment.
func (t *probeTables) file(seg []byte, root bool) probeHit {
	if len(seg) > 1 && seg[len(seg)-1] == '~' {
		return t.backup // editor backup: config.php~
	}
	dot := bytes.LastIndexByte(seg, '.')
	if dot <= 0 || dot == len(seg)-1 {
		return probeHit{}
	}
	ext, stem := seg[dot+1:], seg[:dot]
	kind, _ := t.exts.get(ext)
	fullStem := stem
	// A compound extension: name.sql.gz, name.tar.gz, wp-config.php.bak.
	var inner extKind
	if d2 := bytes.LastIndexByte(stem, '.'); d2 > 0 {
		if k, ok := t.exts.get(stem[d2+1:]); ok {
			inner, stem = k, stem[:d2]
		}
	}
	// A sensitive file with a copy suffix: config.php2, wp-config.php_, db.inc~1.
	if trimmed := trimCopySuffix(seg); len(trimmed) < len(seg) {
		if h, ok := t.names.get(trimmed); ok && h.sev >= SeverityError {
			return t.sourceBackup
		}
	}
	var best probeHit
	switch {
	case kind&extKey != 0:
		best = t.key
	case kind&extDump != 0 || (kind&extArchive != 0 && inner&extDump != 0):
		best = t.dump
	case kind&extArchive != 0:
		if inSet(t.archiveStems, stem) || inSet(t.archiveStems, fullStem) {
			best = t.dump
		} else if root {
			best = t.archive
		}
	case kind&extBackup != 0:
		best = t.backup
		if inner&(extScript|extRoot) != 0 {
			best = t.sourceBackup
		}
	case kind&extScript != 0 && inner == 0:
		switch {
		case inSet(t.shellStems, stem) || bytes.Contains(stem, []byte("shell")) || t.hasShellPrefix(stem):
			best = t.shell
		case len(stem) == 1 || isShortNumbered(stem):
			best = t.shortScript
		}
	case root && kind&extRoot != 0:
		best = t.rootFile
	case root && string(ext) == "txt" && !inSet(t.publicText, fullStem):
		best = t.rootText
	}
	if kind&extCredential != 0 && inSet(t.credentialStems, fullStem) {
		best = best.max(t.creds)
	}
	return best
}

// trimCopySuffix returns seg without trailing digits, '~', '_' and '-'
// (the suffixes of hand-made copies: config.php2, db.inc~1).
func trimCopySuffix(seg []byte) []byte {
	i := len(seg)
	for i > 0 {
		c := seg[i-1]
		if (c < '0' || c > '9') && c != '~' && c != '_' && c != '-' {
			break
		}
		i--
	}
	return seg[:i]
}

// segSet maps short strings (path segments, stems, extensions) to values.
// Most lookups of ordinary segments miss; a 4096-bit filter of hashes
// answers those without the map. Read-only once built (add is for
// construction only).
type segSet[V any] struct {
	filter [64]uint64
	m      map[string]V
}

// newSegSet builds a segSet holding m's entries.
func newSegSet[V any](m map[string]V) *segSet[V] {
	s := &segSet[V]{m: map[string]V{}}
	for k, v := range m {
		s.add(k, v)
	}
	return s
}

// add sets the value of k.
func (s *segSet[V]) add(k string, v V) {
	h := segHash([]byte(k))
	s.filter[h>>6&63] |= 1 << (h & 63)
	s.m[k] = v
}

// get returns the value of b.
func (s *segSet[V]) get(b []byte) (V, bool) {
	h := segHash(b)
	if s.filter[h>>6&63]&(1<<(h&63)) == 0 {
		var zero V
		return zero, false
	}
	v, ok := s.m[string(b)]
	return v, ok
}

// inSet reports whether b is in the set s.
func inSet(s *segSet[bool], b []byte) bool {
	v, _ := s.get(b)
	return v
}

// segHash is FNV-1a of b.
func segHash(b []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	return h
}

// isShortNumbered reports whether a script name is one or two letters and a
// number (bs2, c171, x1): the shape of dropped web shells' names.
func isShortNumbered(stem []byte) bool {
	i := 0
	for i < len(stem) && i < 3 && isLetter(stem[i]) {
		i++
	}
	if i == 0 || i > 2 || i == len(stem) || len(stem)-i > 3 {
		return false
	}
	for _, c := range stem[i:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// hasShellPrefix reports whether a script name starts like a versioned
// well-known web shell (b374k-2.5, c99_mod, r57shell).
func (t *probeTables) hasShellPrefix(stem []byte) bool {
	for _, p := range t.shellPrefixes {
		if bytes.HasPrefix(stem, p) {
			return true
		}
	}
	return false
}
