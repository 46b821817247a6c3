package notify

import (
	"io"
	"log/slog"
	"testing"
	"time"
)

func benchNotifier(b *testing.B, queue int) *Notifier {
	b.Helper()
	c := webhookConfig("https://hooks.slack.com/services/T/B/x")
	c.Slack.QueueSize = queue
	n, err := New(c, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkNotify measures Notify's queueing (with the matching receive).
func BenchmarkNotify(b *testing.B) {
	n := benchNotifier(b, 1024)
	d := banDecision("192.0.2.1", 1)
	b.ReportAllocs()
	for b.Loop() {
		n.Notify(d)
		<-n.queue
	}
}

// BenchmarkNotifyDropped measures Notify when the queue is full.
func BenchmarkNotifyDropped(b *testing.B) {
	n := benchNotifier(b, 1)
	d := banDecision("192.0.2.1", 1)
	n.Notify(d)
	n.Notify(d) // the first drop logs
	b.ReportAllocs()
	for b.Loop() {
		n.Notify(d)
	}
}

// BenchmarkFormatBan measures building one ban message (per sent message,
// not per request).
func BenchmarkFormatBan(b *testing.B) {
	it := itemOf(hostile())
	b.ReportAllocs()
	for b.Loop() {
		_ = format(&it, extra{})
	}
}

// BenchmarkFormatDigest measures building a digest of 500 decisions.
func BenchmarkFormatDigest(b *testing.B) {
	items := make([]item, 500)
	for i := range items {
		items[i] = itemOf(banDecision("192.0.2.1", 1))
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = formatDigest(items, time.Minute)
	}
}
