package detect

import (
	"net/netip"
	"testing"

	"github.com/vigil-sec/vigil/internal/parse"
)

// Application paths are probes only when the site did not serve them; a
// sensitive file is a probe whatever the answer.
func TestProbeDependsOnWhetherTheSiteServedIt(t *testing.T) {
	c, err := NewContent(DefaultContentConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path   string
		status uint16
		want   bool
	}{
		{"/wp-content/themes/site/style.css", 200, false}, // a WordPress site's own asset
		{"/wp-content/themes/site/style.css", 304, false},
		{"/wp-login.php", 404, true}, // not a WordPress site
		{"/wp-login.php", 0, true},   // status unknown
		{"/phpmyadmin/", 403, true},
		{"/fileadmin/images/logo.png", 200, false}, // a TYPO3 site
		{"/admin.php", 404, true},
		{"/node/add/blog", 404, true},
		{"/.env", 200, true}, // served: worse, not better
		{"/.git/config", 404, true},
		{"/wp-content/backup.sql", 200, true}, // a dump inside a CMS path is still a dump
		{"/index.html", 404, false},
	} {
		ev := parse.Event{Client: netip.MustParseAddr("192.0.2.1"), Method: []byte("GET"), Path: []byte(tc.path),
			Status: tc.status, UserAgent: []byte("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")}
		got := false
		for _, m := range c.Inspect(&ev, nil) {
			if m.Detector == DetectorProbe {
				got = true
			}
		}
		if got != tc.want {
			t.Errorf("%s (status %d): probe = %v, want %v", tc.path, tc.status, got, tc.want)
		}
	}
}
