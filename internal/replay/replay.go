// Package replay runs vigil's engine and respond stage over past logs as fast
// as the disk allows, with the firewall and notifications off, and writes
// what would have been decided. It is what `vigil replay` and the scenario
// tests run: the same code path as the daemon, minus the side effects.
package replay

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vigil-sec/vigil/internal/baseline"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/escape"
	"github.com/vigil-sec/vigil/internal/ident"
	"github.com/vigil-sec/vigil/internal/respond"
	"github.com/vigil-sec/vigil/internal/source"
)

// Output formats.
const (
	OutputDecisions = "decisions"
	OutputFindings  = "findings"
	OutputText      = "text"
)

// BaselineFile is the baseline's file name in the state directory.
const BaselineFile = "baseline.json"

// Options configures one replay.
type Options struct {
	// Config is the loaded configuration.
	Config *config.Config
	// Files are the logs to read, in order; "-" is Stdin. ".gz" files are
	// decompressed.
	Files []string
	// Stdin is read for "-".
	Stdin io.Reader
	// Output is decisions, findings or text.
	Output string
	// Out receives the output.
	Out io.Writer
	// StateDir, when set, is where the learned baseline is read from (if
	// present) and saved to at the end.
	StateDir string
	// Shards overrides engine.shards when > 0.
	Shards int
	// Logger defaults to a logger that discards.
	Logger *slog.Logger
}

// Summary describes a finished replay.
type Summary struct {
	Lines     uint64
	Events    uint64
	Rejected  map[string]uint64
	Elapsed   time.Duration
	Findings  map[string]uint64
	Decisions map[respond.Action]int
	Respond   respond.Stats
	Evicted   uint64
	First     time.Time
	Last      time.Time
	Baseline  *baseline.Snapshot
	Alerts    detect.AlertStats
}

// LinesPerSecond returns the replay throughput.
func (s *Summary) LinesPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Lines) / s.Elapsed.Seconds()
}

// Run replays the files and writes the output. A missing file or a bad
// configuration is an error before anything is read.
func Run(ctx context.Context, o Options) (*Summary, error) {
	switch o.Output {
	case OutputDecisions, OutputFindings, OutputText:
	default:
		return nil, fmt.Errorf("output: must be decisions, findings or text (got %q)", o.Output)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	cfg := o.Config
	files, err := source.NewFiles(o.Files, source.FilesConfig{MaxLine: cfg.Source.Limits.MaxLine, Stdin: o.Stdin})
	if err != nil {
		return nil, err
	}
	model, err := baseline.New(cfg.Baseline)
	if err != nil {
		return nil, err
	}
	var baselinePath string
	if o.StateDir != "" {
		if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
		baselinePath = filepath.Join(o.StateDir, BaselineFile)
		if err := model.LoadFile(baselinePath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	w := bufio.NewWriterSize(o.Out, 64<<10)
	sum := &Summary{Decisions: map[respond.Action]int{}}
	sink := respond.SinkFunc(func(d *respond.Decision) {
		sum.Decisions[d.Action]++
		switch o.Output {
		case OutputDecisions:
			writeJSON(w, d)
		case OutputText:
			writeText(w, d)
		}
	})
	resp, err := respond.New(cfg.Ban, respond.Options{Logger: o.Logger, Allowlist: cfg.Allow(), Trusted: cfg.Trusted(),
		Shadow: cfg.Detect.Shadow, Sink: sink})
	if err != nil {
		return nil, err
	}
	var h engine.Handler = resp
	if o.Output == OutputFindings {
		h = &tee{w: w, next: resp}
	}
	ecfg := cfg.Engine
	if o.Shards > 0 {
		ecfg.Shards = o.Shards
	}
	eng, err := engine.New(ecfg, EngineOptions(cfg, engine.Options{Logger: o.Logger, Baseline: model,
		BaselinePath: baselinePath}))
	if err != nil {
		return nil, err
	}
	start := time.Now()
	chunks := make(chan *source.Chunk, 4)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return files.Run(gctx, chunks) })
	g.Go(func() error { return eng.Run(gctx, chunks, h) })
	err = g.Wait()
	sum.Elapsed = time.Since(start)
	if ferr := w.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write output: %w", ferr)
	}
	st := eng.Stats()
	sum.Lines, sum.Events, sum.Rejected, sum.Findings = st.Lines, st.Events, st.Rejected, st.Findings
	sum.Evicted, sum.First, sum.Last, sum.Baseline, sum.Alerts = st.Evicted, st.First, st.Last, st.Baseline, st.Alerts
	sum.Respond = resp.Stats()
	if err != nil {
		return sum, err
	}
	return sum, ctx.Err()
}

// EngineOptions fills the parts of engine.Options that come from the
// configuration: parser, detectors, content inspectors, trusted proxies.
func EngineOptions(cfg *config.Config, o engine.Options) engine.Options {
	o.Parse = cfg.Source.Config
	o.Detect = cfg.Detect.Config
	content := cfg.Detect.ContentConfig
	o.Content = detect.ContentFactory(content)
	o.ContentModes = map[string]detect.Mode{"signature": content.Signature.Mode,
		"useragent": content.UserAgent.Mode, "probe": content.Probe.Mode}
	o.Resolver = ident.NewResolver(cfg.Trusted())
	return o
}

// tee writes each finding as a JSON line and passes it on.
type tee struct {
	w    *bufio.Writer
	next engine.Handler
}

func (t *tee) Finding(f *detect.Finding) {
	writeJSON(t.w, f)
	t.next.Finding(f)
}

func (t *tee) Advance(now time.Time) { t.next.Advance(now) }

func writeJSON(w *bufio.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"error":%q}`, err.Error()))
	}
	w.Write(b)
	w.WriteByte('\n')
}

// writeText writes one decision for a human, terminal-safe.
func writeText(w *bufio.Writer, d *respond.Decision) {
	w.WriteString(FormatText(d))
	w.WriteByte('\n')
}

// FormatText formats one decision as a line for humans, terminal-safe
// (attacker-controlled text is escaped).
func FormatText(d *respond.Decision) string {
	t := d.Time.Format(time.RFC3339)
	var line string
	switch d.Action {
	case respond.ActionBan:
		line = fmt.Sprintf("%s BAN     %-39s %-9s offense %d  %s/%s: %s", t, d.IP(), d.DurationString(), d.Offense,
			d.Detector, d.Rule, d.Reason)
	case respond.ActionUnban:
		line = fmt.Sprintf("%s UNBAN   %-39s %s", t, d.IP(), d.Reason)
	case respond.ActionAlert:
		line = fmt.Sprintf("%s ALERT   %s", t, d.Reason)
	case respond.ActionRecover:
		line = fmt.Sprintf("%s RECOVER %s", t, d.Reason)
	}
	if d.Shadow {
		line += " [shadow: not enforced]"
	}
	return escape.Terminal(line)
}

// WriteSummary writes the human summary that replay prints on stderr.
func WriteSummary(w io.Writer, s *Summary) {
	fmt.Fprintf(w, "lines read:    %d (%d requests)\n", s.Lines, s.Events)
	if len(s.Rejected) > 0 {
		var parts []string
		for _, k := range sortedKeys(s.Rejected) {
			parts = append(parts, fmt.Sprintf("%s=%d", k, s.Rejected[k]))
		}
		fmt.Fprintf(w, "rejected:      %s\n", strings.Join(parts, " "))
	} else {
		fmt.Fprintf(w, "rejected:      0\n")
	}
	if !s.First.IsZero() {
		fmt.Fprintf(w, "log span:      %s .. %s (%s)\n", s.First.Format(time.RFC3339), s.Last.Format(time.RFC3339),
			s.Last.Sub(s.First).Round(time.Second))
	}
	fmt.Fprintf(w, "elapsed:       %s (%.0f lines/s)\n", s.Elapsed.Round(time.Millisecond), s.LinesPerSecond())
	fmt.Fprintf(w, "decisions:     ban=%d unban=%d alert=%d recover=%d\n", s.Decisions[respond.ActionBan],
		s.Decisions[respond.ActionUnban], s.Decisions[respond.ActionAlert], s.Decisions[respond.ActionRecover])
	if len(s.Findings) > 0 {
		var parts []string
		for _, k := range sortedKeys(s.Findings) {
			parts = append(parts, fmt.Sprintf("%s=%d", k, s.Findings[k]))
		}
		fmt.Fprintf(w, "findings:      %s\n", strings.Join(parts, " "))
	}
	r := s.Respond
	if r.Shadow > 0 || len(r.Suppressed) > 0 {
		fmt.Fprintf(w, "not banned:    shadow=%d allowlisted=%d trusted_proxy=%d circuit_breaker=%d\n", r.Shadow,
			r.Suppressed["allowlisted"], r.Suppressed["trusted_proxy"], r.Suppressed["circuit_breaker"])
	}
	if s.Evicted > 0 {
		fmt.Fprintf(w, "evicted:       %d clients (engine.max_clients reached)\n", s.Evicted)
	}
	if b := s.Baseline; b != nil {
		state := "enforcing"
		if b.Learning {
			state = "learning"
		}
		fmt.Fprintf(w, "baseline:      %s; global %.2f ± %.2f req/s, client %.1f ± %.1f req/60s, errors %.1f%% (%s, %d minutes seen)\n",
			state, b.Global.Mean, b.Global.Stddev, b.Client.Mean, b.Client.Stddev, 100*b.Global.ErrorRate, b.Global.Source, b.Minutes)
	}
	if s.Alerts.Count > 0 {
		fmt.Fprintf(w, "global alerts: %d (longest %s, average %s)\n", s.Alerts.Count, s.Alerts.Max.Round(time.Second),
			s.Alerts.Avg.Round(time.Second))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
