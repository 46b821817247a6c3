package firewall

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in      string // "" = zero Prefix
		want    string // "" = error expected
		comment string
	}{
		{"192.0.2.10/32", "192.0.2.10/32", "single v4 address"},
		{"192.0.2.77/24", "192.0.2.0/24", "host bits are masked"},
		{"2001:db8::1/128", "2001:db8::1/128", "single v6 address"},
		{"2001:db8:1:2::5/48", "2001:db8:1::/48", "v6 masked"},
		{"::ffff:192.0.2.10/128", "192.0.2.10/32", "v4-mapped single address unmapped"},
		{"::ffff:198.51.100.0/120", "198.51.100.0/24", "v4-mapped network unmapped"},
		{"::ffff:0.0.0.0/80", "", "v4-mapped shorter than /96"},
		{"10.0.0.0/8", "10.0.0.0/8", "widest v4 allowed"},
		{"10.0.0.0/7", "", "wider than /8"},
		{"2001::/16", "2001::/16", "widest v6 allowed"},
		{"2000::/3", "", "wider than /16"},
		{"0.0.0.0/0", "", "everything"},
		{"::/0", "", "everything v6"},
		{"0.0.0.0/32", "", "unspecified"},
		{"0.1.2.3/8", "", "masks to the unspecified network"},
		{"::/128", "", "unspecified v6"},
		{"127.0.0.1/32", "", "loopback"},
		{"::1/128", "", "loopback v6"},
		{"224.0.0.1/32", "", "multicast"},
		{"ff02::1/128", "", "multicast v6"},
		{"", "", "zero prefix"},
		{"169.254.1.1/32", "169.254.1.1/32", "link-local is a real neighbour"},
	}
	for _, tc := range tests {
		t.Run(tc.comment, func(t *testing.T) {
			var in netip.Prefix
			if tc.in != "" {
				in = netip.MustParsePrefix(tc.in)
			}
			got, err := Normalize(in)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("Normalize(%s) = %s, want error", tc.in, got)
				}
				if !errors.Is(err, ErrInvalidPrefix) {
					t.Errorf("Normalize(%s) error %v is not ErrInvalidPrefix", tc.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize(%s): %v", tc.in, err)
			}
			if got.String() != tc.want {
				t.Errorf("Normalize(%s) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestTimeoutSeconds(t *testing.T) {
	tests := []struct {
		in      time.Duration
		want    uint32
		wantErr bool
	}{
		{0, 0, false},
		{time.Nanosecond, 1, false}, // never rounds down to "permanent"
		{1500 * time.Millisecond, 2, false},
		{10 * time.Minute, 600, false},
		{365 * 24 * time.Hour, maxIPSetTimeout, false},
		{-time.Second, 0, true},
	}
	for _, tc := range tests {
		got, err := timeoutSeconds(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("timeoutSeconds(%s) = %d, %v; want %d, error %t", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestNormalizeBans(t *testing.T) {
	p := netip.MustParsePrefix
	t.Run("duplicates keep the longest timeout", func(t *testing.T) {
		got, err := normalizeBans([]Ban{
			{Prefix: p("192.0.2.1/32"), Timeout: time.Minute},
			{Prefix: p("::ffff:192.0.2.1/128"), Timeout: time.Hour},
			{Prefix: p("192.0.2.1/32"), Timeout: 2 * time.Minute},
			{Prefix: p("198.51.100.9/24"), Timeout: time.Hour},
			{Prefix: p("198.51.100.0/24")}, // permanent wins
			{Prefix: p("2001:db8::1/128"), Timeout: time.Second},
		}, true)
		if err != nil {
			t.Fatal(err)
		}
		want := []entry{
			{p("192.0.2.1/32"), 3600},
			{p("198.51.100.0/24"), 0},
			{p("2001:db8::1/128"), 1},
		}
		if len(got) != len(want) {
			t.Fatalf("normalizeBans = %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("entry %d = %v, want %v", i, got[i], want[i])
			}
		}
	})
	t.Run("ipv6 disabled", func(t *testing.T) {
		_, err := normalizeBans([]Ban{{Prefix: p("192.0.2.1/32")}, {Prefix: p("2001:db8::1/128")}}, false)
		if !errors.Is(err, ErrIPv6Disabled) {
			t.Fatalf("err = %v, want ErrIPv6Disabled", err)
		}
		if _, err := normalizePrefixes([]netip.Prefix{p("2001:db8::1/128")}, false); !errors.Is(err, ErrIPv6Disabled) {
			t.Fatalf("normalizePrefixes err = %v, want ErrIPv6Disabled", err)
		}
	})
	t.Run("one invalid fails all", func(t *testing.T) {
		got, err := normalizeBans([]Ban{{Prefix: p("192.0.2.1/32")}, {Prefix: p("0.0.0.0/0")}, {Prefix: p("192.0.2.2/32"), Timeout: -1}}, true)
		if err == nil || got != nil {
			t.Fatalf("normalizeBans = %v, %v; want nil and an error", got, err)
		}
		if !errors.Is(err, ErrInvalidPrefix) {
			t.Errorf("err = %v, want ErrInvalidPrefix", err)
		}
	})
	t.Run("prefixes deduplicated", func(t *testing.T) {
		got, err := normalizePrefixes([]netip.Prefix{p("192.0.2.1/32"), p("::ffff:192.0.2.1/128"), p("2001:db8::5/64")}, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0] != p("192.0.2.1/32") || got[1] != p("2001:db8::/64") {
			t.Errorf("normalizePrefixes = %v", got)
		}
	})
}
