//go:build ignore

// generate writes the scenario logs (access.log.gz) and attacker labels
// (labels.jsonl) from vigil's traffic simulator, deterministically:
//
//	go run testdata/scenarios/generate.go
//
// Review the logs' decisions with `go test ./internal/replay -run
// TestScenarios -args -update` afterwards. Each scenario's config.yaml is
// written by hand, not by this program.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/vigil-sec/vigil/internal/simulate"
)

type scenario struct {
	name     string
	seed     uint64
	duration time.Duration
	rate     float64
	attacks  []string
	cdn      bool // rewrite: every request arrives through one of three CDN edges
}

var scenarios = []scenario{
	{name: "flood", seed: 11, duration: 14 * time.Minute, rate: 6, attacks: []string{"flood@9m+90s:40"}},
	{name: "bruteforce-slow", seed: 12, duration: 14 * time.Minute, rate: 6, attacks: []string{"bruteforce@6m+6m"}},
	{name: "scanner-404", seed: 13, duration: 12 * time.Minute, rate: 6, attacks: []string{"enumeration@7m+2m"}},
	{name: "normal-traffic", seed: 14, duration: 20 * time.Minute, rate: 8},
	{name: "learning-attack", seed: 15, duration: 16 * time.Minute, rate: 6,
		attacks: []string{"flood@1m+3m:40", "flood@13m+90s:40"}},
	{name: "ddos", seed: 16, duration: 18 * time.Minute, rate: 6, attacks: []string{"ddos@9m+3m"}},
	{name: "cdn-front", seed: 17, duration: 14 * time.Minute, rate: 6, attacks: []string{"flood@9m+90s:40", "sqli@7m+3m"}, cdn: true},
	{name: "sqli-browsing", seed: 18, duration: 12 * time.Minute, rate: 6, attacks: []string{"sqli@4m+5m"}},
	{name: "scanner-ua", seed: 19, duration: 10 * time.Minute, rate: 6, attacks: []string{"scanner@4m+3m"}},
}

var (
	remote = regexp.MustCompile(`"remote_addr":"([^"]*)"`)
	xff    = regexp.MustCompile(`"http_x_forwarded_for":"([^"]*)"`)
)

func main() {
	dir := filepath.Join("testdata", "scenarios")
	for _, s := range scenarios {
		if err := generate(filepath.Join(dir, s.name), s); err != nil {
			log.Fatalf("%s: %v", s.name, err)
		}
	}
}

func generate(dir string, s scenario) error {
	c := simulate.DefaultConfig()
	c.Seed, c.Duration, c.Rate, c.Clients, c.Diurnal = s.seed, s.duration, s.rate, 150, 0
	c.Start = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	for _, spec := range s.attacks {
		a, err := simulate.ParseAttack(spec)
		if err != nil {
			return err
		}
		c.Attacks = append(c.Attacks, a)
	}
	g, err := simulate.New(c)
	if err != nil {
		return err
	}
	var raw bytes.Buffer
	if _, err := simulate.Run(context.Background(), g, &raw, simulate.FormatJSON); err != nil {
		return err
	}
	data := raw.Bytes()
	if s.cdn {
		data = throughCDN(data)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.ModTime = time.Time{}
	zw.Write(data)
	zw.Close()
	if err := os.WriteFile(filepath.Join(dir, "access.log.gz"), gz.Bytes(), 0o644); err != nil {
		return err
	}
	var labels bytes.Buffer
	if err := simulate.WriteLabels(&labels, g.Labels()); err != nil {
		return err
	}
	fmt.Printf("%-16s %7d lines %7d bytes gz, %d attackers\n", s.name, bytes.Count(data, []byte("\n")), gz.Len(), len(g.Labels()))
	return os.WriteFile(filepath.Join(dir, "labels.jsonl"), labels.Bytes(), 0o644)
}

// throughCDN moves every client address into X-Forwarded-For (after any
// address the client sent itself) and makes one of three CDN edges the peer.
func throughCDN(data []byte) []byte {
	var out bytes.Buffer
	n := 0
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		m := remote.FindSubmatch(line)
		if m == nil {
			out.Write(line)
			continue
		}
		client := string(m[1])
		edge := fmt.Sprintf("172.16.5.%d", 1+n%3)
		n++
		line = remote.ReplaceAll(line, []byte(`"remote_addr":"`+edge+`"`))
		line = xff.ReplaceAllFunc(line, func(b []byte) []byte {
			prev := xff.FindSubmatch(b)[1]
			v := client
			if len(prev) > 0 {
				v = string(prev) + ", " + client
			}
			return []byte(`"http_x_forwarded_for":"` + v + `"`)
		})
		out.Write(line)
	}
	return out.Bytes()
}
