package ident

import (
	"net/netip"
	"testing"
)

func TestSetOverlaps(t *testing.T) {
	s, err := ParseSet([]string{"192.0.2.0/24", "2001:db8:1::/48", "198.51.100.7"})
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{
		"192.0.2.5/32": true, "192.0.0.0/16": true, "0.0.0.0/0": true, "192.0.3.0/24": false,
		"198.51.100.0/24": true, "198.51.100.8/32": false, "2001:db8::/32": true, "2001:db8:1:5::/64": true,
		"2001:db8:2::/48": false, "::ffff:192.0.2.9/128": true,
	} {
		if got := s.Overlaps(netip.MustParsePrefix(p)); got != want {
			t.Errorf("Overlaps(%s) = %v, want %v", p, got, want)
		}
	}
	var empty *Set
	if empty.Overlaps(netip.MustParsePrefix("0.0.0.0/0")) {
		t.Error("nil set overlaps")
	}
}
