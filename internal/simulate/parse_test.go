package simulate

import (
	"bytes"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/parse"
)

// TestVigilParserReadsOutput feeds every simulated line, attacks included,
// to vigil's own parser in both formats and checks that each one is
// accepted and reads back as the request the generator meant.
func TestVigilParserReadsOutput(t *testing.T) {
	for _, format := range []string{FormatJSON, FormatCombined} {
		t.Run(format, func(t *testing.T) {
			pcfg := parse.DefaultConfig()
			pcfg.Format = parse.Format(format)
			p, err := parse.New(pcfg)
			if err != nil {
				t.Fatal(err)
			}
			appendLine, err := AppenderFor(format)
			if err != nil {
				t.Fatal(err)
			}
			var ev parse.Event
			var n int
			generate(t, testConfig(t, 10*time.Minute, allAttacks...), func(r *Record) {
				line := appendLine(nil, r)
				if err := p.Parse(bytes.TrimSuffix(line, []byte("\n")), &ev); err != nil {
					t.Fatalf("parse rejects %q: %v", line, err)
				}
				path, query, _ := bytes.Cut(r.URI, []byte("?"))
				ua := r.UserAgent
				if ua == "-" {
					ua = "" // Nginx's placeholder for a missing header
				}
				ok := ev.Remote == r.Addr && string(ev.Method) == r.Method && bytes.Equal(ev.Path, path) &&
					bytes.Equal(ev.Query, query) && int(ev.Status) == r.Status && ev.Bytes == r.Bytes &&
					string(ev.UserAgent) == ua && bytes.Equal(ev.Referer, r.Referer) &&
					ev.Time.Equal(r.Time.Truncate(time.Second))
				if format == FormatJSON {
					ok = ok && string(ev.Host) == r.Host && string(ev.ForwardedFor) == r.ForwardedFor &&
						ev.RequestTime == r.RequestTime.Truncate(time.Millisecond)
				}
				if !ok {
					t.Fatalf("line %q parsed as %+v", line, ev)
				}
				n++
			})
			if n < 10000 {
				t.Fatalf("only %d lines", n)
			}
		})
	}
}
