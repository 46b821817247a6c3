package api

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	const tok = "0123456789abcdefXYZ"
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings, one per expected problem; nil: valid
	}{
		{name: "default", cfg: DefaultConfig()},
		{name: "disabled", cfg: Config{}},
		{name: "ipv6 loopback", cfg: Config{Listen: "[::1]:9750", Token: tok}},
		{name: "any address with token", cfg: Config{Listen: "0.0.0.0:9750", Token: tok}},
		{name: "any address without token is allowed", cfg: Config{Listen: "0.0.0.0:9750"}},
		{name: "host name", cfg: Config{Listen: "localhost:9750"}, want: []string{`listen: must be IP:port`}},
		{name: "no port", cfg: Config{Listen: "127.0.0.1"}, want: []string{`listen: must be IP:port, e.g. 127.0.0.1:9750 or [::1]:9750 (got "127.0.0.1")`}},
		{name: "zone", cfg: Config{Listen: "[fe80::1%eth0]:9750"}, want: []string{"listen: "}},
		{name: "short token", cfg: Config{Listen: "127.0.0.1:1", Token: "short"}, want: []string{"token: must be at least 16 characters (got 5)"}},
		{name: "token with space", cfg: Config{Token: "0123456789 abcdefgh"}, want: []string{"token: must be printable ASCII without spaces"}},
		{name: "token and file", cfg: Config{Token: tok, TokenFile: "/etc/vigil/token"}, want: []string{"token: set token or token_file, not both"}},
		{name: "every problem at once", cfg: Config{Listen: "nope", Token: "x", TokenFile: "/t"},
			want: []string{"listen: ", "token: set token or token_file", "token: must be at least"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tc.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("Validate() reported %d problems, want %d:\n%v", len(lines), len(tc.want), err)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("problem %d = %q, want prefix %q", i, lines[i], w)
				}
			}
			if strings.Contains(err.Error(), tc.cfg.Token) && tc.cfg.Token != "" && len(tc.cfg.Token) > 1 {
				t.Errorf("error %q reveals the token", err)
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in      string
		want    string // prefix; "" when an error is expected
		wantErr string
	}{
		{in: "203.0.113.7", want: "203.0.113.7/32"},
		{in: " 203.0.113.7 ", want: "203.0.113.7/32"},
		{in: "2001:db8::7", want: "2001:db8::7/128"},
		{in: "2001:db8::/64", want: "2001:db8::/64"},
		{in: "198.51.100.0/24", want: "198.51.100.0/24"},
		{in: "::ffff:203.0.113.7", want: "203.0.113.7/32"},
		{in: "::ffff:198.51.100.0/120", want: "198.51.100.0/24"},
		{in: "10.0.0.0/8", want: "10.0.0.0/8"},
		{in: "", wantErr: "ip: missing address"},
		{in: "203.0.113", wantErr: `ip: "203.0.113" is not an IP address or CIDR prefix`},
		{in: "example.com", wantErr: `ip: "example.com" is not an IP address or CIDR prefix`},
		{in: "203.0.113.7/33", wantErr: "is not an IP address or CIDR prefix"},
		{in: "203.0.113.7/24", wantErr: `ip: "203.0.113.7/24" has host bits set; did you mean 203.0.113.0/24?`},
		{in: "fe80::1%eth0", wantErr: "has an IPv6 zone"},
		{in: "0.0.0.0", wantErr: "is not a unicast address"},
		{in: "::", wantErr: "is not a unicast address"},
		{in: "224.0.0.1", wantErr: "is not a unicast address"},
		{in: "255.255.255.255", wantErr: "is not a unicast address"},
		{in: "0.0.0.0/0", wantErr: `ip: "0.0.0.0/0" is too broad; the shortest prefix vigil bans is /8`},
		{in: "10.0.0.0/7", wantErr: "is too broad"},
		{in: "2000::/3", wantErr: "the shortest prefix vigil bans is /16"},
		{in: "::ffff:0.0.0.0/95", wantErr: "mixes IPv4-mapped and IPv6 space"},
		{in: "<script>", wantErr: `"<script>" is not an IP address`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			p, err := ParseTarget(tc.in)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseTarget(%q) = %s, want error %q", tc.in, p, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("ParseTarget(%q) error = %q, want it to contain %q", tc.in, err, tc.wantErr)
				}
				if !errors.Is(err, ErrBadRequest) {
					t.Errorf("ParseTarget(%q) error does not match ErrBadRequest", tc.in)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTarget(%q): %v", tc.in, err)
			}
			if p != netip.MustParsePrefix(tc.want) {
				t.Errorf("ParseTarget(%q) = %s, want %s", tc.in, p, tc.want)
			}
		})
	}
}

func TestParseBanDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "1h", want: time.Hour},
		{in: "90s", want: 90 * time.Second},
		{in: "permanent", want: 0},
		{in: "Permanent", want: 0},
		{in: "1s", want: time.Second},
		{in: "", wantErr: "duration: missing"},
		{in: "500ms", wantErr: `duration: must be a duration of at least 1s, such as "1h", or "permanent" (got "500ms")`},
		{in: "-1h", wantErr: "at least 1s"},
		{in: "0", wantErr: "at least 1s"},
		{in: "forever", wantErr: `(got "forever")`},
		{in: "1d", wantErr: `(got "1d")`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			d, err := ParseBanDuration(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrBadRequest) {
					t.Fatalf("ParseBanDuration(%q) = %v, %v; want a bad request containing %q", tc.in, d, err, tc.wantErr)
				}
				return
			}
			if err != nil || d != tc.want {
				t.Fatalf("ParseBanDuration(%q) = %v, %v; want %v", tc.in, d, err, tc.want)
			}
			if back, err := ParseBanDuration(formatBanDuration(d)); err != nil || back != d {
				t.Errorf("round trip of %v through %q = %v, %v", d, formatBanDuration(d), back, err)
			}
		})
	}
}

func TestHostIsLocal(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"127.0.0.1:9750", true},
		{"127.0.0.1", true},
		{"127.1.2.3:80", true},
		{"localhost:9750", true},
		{"LOCALHOST", true},
		{"[::1]:9750", true},
		{"[::1]", true},
		{"::1", true},
		{"[::ffff:127.0.0.1]:9750", true},
		{"evil.example:9750", false},
		{"localhost.evil.example", false},
		{"192.0.2.1:9750", false},
		{"", false},
		{"[::1", false},
	}
	for _, tc := range tests {
		if got := hostIsLocal(tc.host); got != tc.want {
			t.Errorf("hostIsLocal(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}

func TestTokenFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "token")
	if err := os.WriteFile(good, []byte("  s3cret-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Listen: "127.0.0.1:0", TokenFile: good}, Options{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if string(s.token) != "s3cret-token-0123456789" {
		t.Errorf("token = %q, want the file's content without white space", s.token)
	}
	_, err = New(Config{TokenFile: short}, Options{Logger: discardLogger()})
	if err == nil || !strings.HasPrefix(err.Error(), "token_file: ") || strings.Contains(err.Error(), "abc") {
		t.Errorf("New with a short token file: %v; want a token_file error that does not reveal the token", err)
	}
	_, err = New(Config{TokenFile: filepath.Join(dir, "missing")}, Options{Logger: discardLogger()})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("New with a missing token file: %v, want ErrNotExist", err)
	}
}
