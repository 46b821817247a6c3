package store

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/vigil-sec/vigil/internal/respond"
)

// seeds returns stored values of varied records.
func seeds(t testing.TB) [][]byte {
	recs := []*respond.Record{full(), numbered(1), {Prefix: netip.MustParsePrefix("2001:db8::/48")}}
	r := full()
	r.Ban.Evidence.Value, r.Ban.Evidence.Threshold, r.Ban.Evidence.Mean = 1e-9, 1e300, -0.5
	r.Ban.Request.Path = "/\u00e9\u4e16\U0001F600/" + strings.Repeat("\\\"", 10)
	recs = append(recs, r)
	var out [][]byte
	for _, r := range recs {
		v, err := encodeValue(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestFastDecodeReadsOwnOutput(t *testing.T) {
	for _, v := range seeds(t) {
		var env envelope
		if !fastDecode(v, &env, new(scratch)) {
			t.Errorf("fast decoder gave up on encodeValue output: %s", v)
		}
	}
}

func TestFastDecodeGivesUp(t *testing.T) {
	// Inputs encoding/json accepts that the fast decoder leaves to it; the
	// result must still be right (decodeRecord falls back).
	p := netip.MustParsePrefix("192.0.2.1/32")
	k, _ := encodeKey(p)
	tests := []struct {
		name, val string
		want      *respond.Record
	}{
		{"whitespace", `{ "v": 1, "record": {"prefix": "192.0.2.1/32", "offenses": 2} }`,
			&respond.Record{Prefix: p, Offenses: 2}},
		{"case-insensitive key", `{"v":1,"Record":{"PREFIX":"192.0.2.1/32","offenses":2}}`,
			&respond.Record{Prefix: p, Offenses: 2}},
		{"unknown key", `{"v":1,"record":{"prefix":"192.0.2.1/32","offenses":2,"future":[1,2]}}`,
			&respond.Record{Prefix: p, Offenses: 2}},
		{"surrogate pair", `{"v":1,"record":{"prefix":"192.0.2.1/32","ban":{"reason":"\ud83d\ude00"}}}`,
			&respond.Record{Prefix: p, Ban: &respond.Ban{Reason: "\U0001F600"}}},
		{"lone surrogate", `{"v":1,"record":{"prefix":"192.0.2.1/32","ban":{"reason":"\ud800x"}}}`,
			&respond.Record{Prefix: p, Ban: &respond.Ban{Reason: "\ufffdx"}}},
		{"invalid utf-8", "{\"v\":1,\"record\":{\"prefix\":\"192.0.2.1/32\",\"ban\":{\"reason\":\"a\xffb\"}}}",
			&respond.Record{Prefix: p, Ban: &respond.Ban{Reason: "a\ufffdb"}}},
		{"null ban", `{"v":1,"record":{"prefix":"192.0.2.1/32","ban":null}}`,
			&respond.Record{Prefix: p}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var env envelope
			if fastDecode([]byte(tc.val), &env, new(scratch)) {
				t.Fatal("fast decoder accepted it")
			}
			got, err := decodeRecord(k, []byte(tc.val))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, prefixEqual); diff != "" {
				t.Errorf("decodeRecord (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidNumber(t *testing.T) {
	for _, n := range []string{"0", "-0", "1", "-12", "1.5", "1e3", "1E+3", "1.25e-07", "123456789012345678901234567890"} {
		if !validNumber([]byte(n)) {
			t.Errorf("validNumber(%q) = false", n)
		}
	}
	for _, n := range []string{"", "-", "01", "1.", ".5", "1e", "1e+", "+1", "--1", "1.2.3", "1e3e3", "0x10", "Inf", "NaN"} {
		if validNumber([]byte(n)) {
			t.Errorf("validNumber(%q) = true", n)
		}
	}
}

// FuzzFastDecode checks that whatever the fast decoder accepts,
// encoding/json accepts too and decodes to the same value.
func FuzzFastDecode(f *testing.F) {
	for _, v := range seeds(f) {
		f.Add(v)
	}
	f.Add([]byte(`{"v":1,"record":{"prefix":"10.0.0.1/8","ban":{"evidence":{"value":-0,"window":"1h2m"}},"ban":{"rule":"x"}}}`))
	f.Add([]byte(`{"v":1,"record":{"prefix":"::1/128","offenses":1e2}}`))
	f.Add([]byte(`{"v":1,"record":{"last_offense":"2026-01-02T03:04:05+01:00","ban":{"since":"2026-01-02T03:04:05.1Z"}}}`))
	f.Add([]byte(`{"v":1,"record":{"ban":{"reason":"\u0000\u001b\u2028\n\t\/"}}}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		var fast envelope
		if !fastDecode(v, &fast, new(scratch)) {
			return
		}
		var slow envelope
		if err := json.Unmarshal(v, &slow); err != nil {
			t.Fatalf("fast decoder accepted what encoding/json rejects (%v): %q", err, v)
		}
		if diff := cmp.Diff(slow, fast, prefixEqual, cmp.AllowUnexported(envelope{})); diff != "" {
			t.Fatalf("fast decoder differs from encoding/json on %q (-json +fast):\n%s", v, diff)
		}
	})
}

func TestLoadParallel(t *testing.T) {
	// Enough records for several decoding goroutines; one corrupt record in
	// the middle is still named, and otherwise order is kept.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	const n = 3*minPerDecoder + 17
	path := t.TempDir() + "/ledger.db"
	s := open(t, path, Options{})
	fill := func(bad int) {
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i := range n {
				r := numbered(i)
				k, _ := encodeKey(r.Prefix)
				v, err := encodeValue(r)
				if err != nil {
					return err
				}
				if i == bad {
					v = v[:len(v)/2]
				}
				if err := tx.Bucket(bucketRecords).Put(k, v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	fill(2*minPerDecoder + 5)
	_, err := s.Load()
	if err == nil || !strings.Contains(err.Error(), numbered(2*minPerDecoder+5).Prefix.String()) ||
		!strings.Contains(err.Error(), fmt.Sprintf("1 of %d records", n)) {
		t.Fatalf("Load with a corrupt record: %v", err)
	}
	fill(-1)
	recs, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Fatalf("Load: %d records, want %d", len(recs), n)
	}
	for i, r := range recs {
		if r.Prefix != numbered(i).Prefix || r.Ban == nil || r.Ban.Until != t0.Add(10*time.Minute) {
			t.Fatalf("record %d = %+v", i, r)
		}
	}
}
