// Package notify sends vigil's decisions (bans, unbans, global alerts and
// recoveries) to Slack, through an incoming webhook or a bot token.
//
// Notify only copies the decision into a bounded queue and never blocks: a
// full queue drops the decision and counts it. Run, in its own goroutine,
// sends at most one message per MinInterval, collapses a backlog into one
// digest message, and retries rate limits (honouring Retry-After), server
// errors, network errors and timeouts with exponential backoff. With a bot
// token an unban is posted as a reply in the thread of its ban, and a global
// recovery in the thread of its alert. Every attacker-controlled string
// (paths, queries, user agents, hosts, reasons) is escaped for Slack's mrkdwn.
package notify

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/respond"
)

// Tuning constants.
const (
	// flushTimeout bounds the best-effort send of what is still queued when
	// Run's context is cancelled (never longer than SlackConfig.Timeout).
	flushTimeout = 5 * time.Second
	// backoffBase and backoffMax bound the exponential backoff between
	// retries of errors that carry no Retry-After.
	backoffBase = time.Second
	backoffMax  = time.Minute
	// maxRetryAfter caps a Retry-After asked for by Slack.
	maxRetryAfter = 10 * time.Minute
	// maxThreads bounds the remembered ban messages (for thread replies and
	// ban lengths); the oldest are forgotten first.
	maxThreads = 10_000
	// warnEvery rate-limits the Warn logs of drops and retries.
	warnEvery = time.Minute
)

// Options holds a Notifier's dependencies.
type Options struct {
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Registerer receives the metrics; nil registers nowhere.
	Registerer prometheus.Registerer
	// Clock drives rate limiting, backoff and Retry-After waits; nil means
	// the wall clock. HTTP timeouts always run on the wall clock.
	Clock clock.Clock
	// HTTPClient sends the requests; nil means an own client with
	// SlackConfig.Timeout. Each request is bounded by Timeout either way.
	HTTPClient *http.Client
}

// Notifier sends decisions to Slack. Notify is safe for concurrent use and
// never blocks; Run must be called once, and is the only goroutine that talks
// to Slack. A nil *Notifier, or one built from a config without a Slack
// destination, ignores Notify and its Run waits for cancellation.
type Notifier struct {
	cfg    SlackConfig
	log    *slog.Logger
	clk    clock.Clock
	m      *metrics
	queue  chan item // nil when disabled
	events uint8
	tr     transport
	red    redactor
	own    *http.Transport // closed when Run returns; nil with Options.HTTPClient

	running     atomic.Bool
	pendingLen  atomic.Int64 // len(pending), for the queue gauge
	lastDropLog atomic.Int64 // unix nanoseconds of the last drop warning
	dropsNotLog atomic.Int64 // drops since the last drop warning

	// Owned by the Run goroutine.
	pending  []item
	threads  threads
	alert    threadRef // the open global alert's message
	lastSend time.Time
	rejected bool // a client error was logged at Error since the last success
	lastWarn time.Time
	backoff0 time.Duration // backoffBase; tests shorten it
}

// New builds a notifier. It validates cfg and reads the *_file settings
// (errors name the key, never the secret). It starts no goroutine: call Run.
func New(cfg Config, o Options) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	s := cfg.Slack
	n := &Notifier{cfg: s, log: o.Logger.With("component", "notify"), clk: o.Clock, backoff0: backoffBase,
		threads: threads{max: maxThreads, m: map[netip.Prefix]threadRef{}}}
	m, err := newMetrics(o.Registerer, n.queueLength)
	if err != nil {
		return nil, err
	}
	n.m = m
	if !cfg.Enabled() {
		return n, nil
	}
	r, err := s.resolve()
	if err != nil {
		return nil, err
	}
	n.events = r.events
	n.red = newRedactor(r.webhook, r.token)
	client := o.HTTPClient
	if client == nil {
		n.own = http.DefaultTransport.(*http.Transport).Clone()
		client = &http.Client{Transport: n.own, Timeout: s.Timeout}
	}
	mode := "webhook"
	if r.webhook != "" {
		n.tr = &webhook{url: r.webhook, client: client}
	} else {
		mode = "bot"
		n.tr = &bot{api: slack.New(r.token, slack.OptionAPIURL(r.apiURL), slack.OptionHTTPClient(client)),
			channel: s.Channel}
	}
	n.queue = make(chan item, s.QueueSize)
	n.pending = make([]item, 0, s.DigestAfter+1)
	n.log.Info("slack notifications enabled", "mode", mode, "channel", s.Channel, "events", s.Events,
		"min_interval", s.MinInterval, "digest_after", s.DigestAfter)
	return n, nil
}

// Enabled reports whether the notifier sends anything: a Slack destination
// was configured (after the *_file settings were read).
func (n *Notifier) Enabled() bool { return n != nil && n.queue != nil }

// queueLength is the number of decisions waiting: queued plus taken by Run
// but not yet sent.
func (n *Notifier) queueLength() float64 {
	if n.queue == nil {
		return 0
	}
	return float64(len(n.queue) + int(n.pendingLen.Load()))
}

// Notify queues d to be sent, if its action is one of the configured events
// (and, for a shadow-mode ban, if ShowShadow is set). It copies what it needs,
// never blocks and does not allocate: when the queue is full, d is dropped and
// counted in vigil_notify_dropped_total. Notify is safe for concurrent use.
func (n *Notifier) Notify(d *respond.Decision) {
	if n == nil || n.queue == nil || d == nil {
		return
	}
	if n.events&eventBit(d.Action) == 0 || (d.Shadow && !n.cfg.ShowShadow) {
		return
	}
	it := item{d: *d, at: n.clk.Now()}
	it.d.Request = nil
	if d.Request != nil {
		it.req, it.hasReq = *d.Request, true
	}
	select {
	case n.queue <- it:
	default:
		n.m.dropped.Inc()
		n.dropped(it.at)
	}
}

// dropped logs a Warn about drops at most once per warnEvery.
func (n *Notifier) dropped(now time.Time) {
	n.dropsNotLog.Add(1)
	last := n.lastDropLog.Load()
	if last != 0 && now.UnixNano()-last < int64(warnEvery) {
		return
	}
	if !n.lastDropLog.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	n.log.Warn("notification queue full: dropping decisions", "dropped", n.dropsNotLog.Swap(0),
		"queue_size", n.cfg.QueueSize)
}

// ErrRunning is returned by a second concurrent call of Run.
var ErrRunning = errors.New("notify: Run is already running")

// Run sends queued decisions until ctx is cancelled, then makes one
// best-effort attempt (bounded by a short deadline) to send what is still
// queued, and returns nil. All waiting (rate limit, backoff, Retry-After)
// happens here, on the injected clock.
func (n *Notifier) Run(ctx context.Context) error {
	if !n.Enabled() {
		<-ctx.Done()
		return nil
	}
	if !n.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer n.running.Store(false)
	if n.own != nil {
		defer n.own.CloseIdleConnections()
	}
	for {
		if len(n.pending) == 0 {
			select {
			case <-ctx.Done():
				n.flush(ctx)
				return nil
			case it := <-n.queue:
				n.take(it)
			}
		}
		if !n.lastSend.IsZero() {
			if wait := n.lastSend.Add(n.cfg.MinInterval).Sub(n.clk.Now()); wait > 0 && !n.sleep(ctx, wait) {
				n.flush(ctx)
				return nil
			}
		}
		n.drain()
		n.sendNext(ctx)
		if ctx.Err() != nil {
			n.flush(ctx)
			return nil
		}
	}
}

func (n *Notifier) take(it item) {
	n.pending = append(n.pending, it)
	n.pendingLen.Store(int64(len(n.pending)))
}

// drain moves everything queued into pending.
func (n *Notifier) drain() {
	for {
		select {
		case it := <-n.queue:
			n.take(it)
		default:
			return
		}
	}
}

// consume removes the first k pending items.
func (n *Notifier) consume(k int) {
	rest := copy(n.pending, n.pending[k:])
	clear(n.pending[rest:])
	n.pending = n.pending[:rest]
	n.pendingLen.Store(int64(rest))
}

// sendNext sends the first pending decision, or a digest of all of them when
// more than DigestAfter are waiting. On cancellation the items stay pending
// for flush.
func (n *Notifier) sendNext(ctx context.Context) {
	if len(n.pending) > n.cfg.DigestAfter {
		msg := formatDigest(n.pending, n.clk.Now().Sub(n.pending[0].at))
		ref, err := n.deliver(ctx, &msg, threadRef{})
		if errors.Is(err, errStopped) {
			return
		}
		n.m.digests.Inc()
		n.log.Info("sent a digest", "decisions", len(n.pending), "delivered", err == nil)
		for i := range n.pending {
			n.remember(&n.pending[i], ref, err == nil)
		}
		n.consume(len(n.pending))
		return
	}
	it := &n.pending[0]
	msg, thread := n.prepare(it)
	ref, err := n.deliver(ctx, &msg, thread)
	if errors.Is(err, errStopped) {
		return
	}
	n.remember(it, ref, err == nil)
	n.consume(1)
}

// prepare formats a decision and finds the thread it belongs to.
func (n *Notifier) prepare(it *item) (message, threadRef) {
	var x extra
	var thread threadRef
	switch it.d.Action {
	case respond.ActionUnban:
		if ref, ok := n.threads.get(it.d.Target); ok {
			thread = ref
			if !ref.at.IsZero() && it.d.Time.After(ref.at) {
				x.bannedFor = it.d.Time.Sub(ref.at)
			}
		}
	case respond.ActionRecover:
		thread = n.alert
	}
	if !n.tr.threaded() {
		thread.ts = ""
	}
	return format(it, x), thread
}

// remember records where a ban or alert was posted (for thread replies and
// ban lengths) and forgets it on unban or recovery.
func (n *Notifier) remember(it *item, ref threadRef, delivered bool) {
	if !delivered {
		ref = threadRef{}
	}
	d := &it.d
	switch d.Action {
	case respond.ActionBan:
		if !d.Shadow && d.Target.IsValid() {
			ref.at = d.Time
			n.threads.put(d.Target, ref)
		}
	case respond.ActionUnban:
		n.threads.del(d.Target)
	case respond.ActionAlert:
		if d.Detector == "global" {
			n.alert = ref
		}
	case respond.ActionRecover:
		n.alert = threadRef{}
	}
}

// errStopped reports a send abandoned because Run's context was cancelled;
// the message stays pending for flush.
var errStopped = errors.New("notifier stopping")

// deliver posts msg, retrying per the configuration. It returns where the
// message landed, the (redacted) last error, or errStopped.
//
// Retrying is not idempotent: a request that timed out or failed with a 5xx
// may still have been posted, so a retry can show a message twice. That is
// accepted (rare, and better than losing a ban notice).
func (n *Notifier) deliver(ctx context.Context, msg *message, thread threadRef) (threadRef, error) {
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, n.cfg.Timeout)
		ref, err := n.tr.post(actx, msg, thread)
		cancel()
		n.lastSend = n.clk.Now()
		if err == nil {
			n.m.sent.Inc()
			n.rejected = false
			return ref, nil
		}
		if ctx.Err() != nil {
			return threadRef{}, errStopped
		}
		reason, retryAfter := classify(err)
		n.m.failures.WithLabelValues(reason).Inc()
		err = n.red.redact(err)
		if reason == reasonClientError {
			n.m.undelivered.Inc()
			if !n.rejected {
				n.rejected = true
				n.log.Error("slack rejected a message: check the webhook URL, token and channel",
					"err", err)
			} else {
				n.log.Debug("slack rejected a message", "err", err)
			}
			return threadRef{}, err
		}
		if attempt >= n.cfg.MaxRetries {
			n.m.undelivered.Inc()
			n.log.Warn("giving up on a slack message", "err", err, "reason", reason, "attempts", attempt+1)
			return threadRef{}, err
		}
		wait := min(retryAfter, maxRetryAfter)
		if wait <= 0 {
			wait = n.backoff(attempt)
		}
		wait = max(wait, n.cfg.MinInterval)
		n.m.retries.Inc()
		if now := n.clk.Now(); n.lastWarn.IsZero() || now.Sub(n.lastWarn) >= warnEvery {
			n.lastWarn = now
			n.log.Warn("slack send failed, retrying", "err", err, "reason", reason, "retry_in", wait)
		} else {
			n.log.Debug("slack send failed, retrying", "err", err, "reason", reason, "retry_in", wait)
		}
		if !n.sleep(ctx, wait) {
			return threadRef{}, errStopped
		}
	}
}

// backoff returns the wait before retry number attempt+1: backoff0 doubled
// per attempt, capped at backoffMax, with jitter in [d/2, d].
func (n *Notifier) backoff(attempt int) time.Duration {
	d := backoffMax
	if attempt < 20 {
		d = min(n.backoff0<<attempt, backoffMax)
	}
	return d/2 + rand.N(d/2+1)
}

// sleep waits d on the clock; false if ctx was cancelled first.
func (n *Notifier) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := n.clk.NewTicker(d)
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
		return false
	}
}

// flush makes one attempt, bounded by flushTimeout, to send what is still
// queued after cancellation: one message, a digest if several are waiting.
func (n *Notifier) flush(ctx context.Context) {
	n.drain()
	if len(n.pending) == 0 {
		return
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(flushTimeout, n.cfg.Timeout))
	defer cancel()
	var msg message
	var thread threadRef
	if len(n.pending) == 1 {
		msg, thread = n.prepare(&n.pending[0])
	} else {
		msg = formatDigest(n.pending, n.clk.Now().Sub(n.pending[0].at))
	}
	_, err := n.tr.post(fctx, &msg, thread)
	count := len(n.pending)
	n.consume(count)
	if err != nil {
		reason, _ := classify(err)
		n.m.failures.WithLabelValues(reason).Inc()
		n.m.undelivered.Inc()
		n.log.Warn("could not send queued notifications at shutdown", "err", n.red.redact(err), "decisions", count)
		return
	}
	n.m.sent.Inc()
	if count > 1 {
		n.m.digests.Inc()
	}
}

// threadRef is where a message was posted.
type threadRef struct {
	channel, ts string    // empty with a webhook
	at          time.Time // event time of the ban (threads only)
	seq         uint64
}

// threads remembers the latest ban message per target, bounded: beyond max
// entries the oldest are forgotten.
type threads struct {
	max   int
	seq   uint64
	m     map[netip.Prefix]threadRef
	order []threadKey // insertion order; entries whose seq no longer matches are stale
}

type threadKey struct {
	p   netip.Prefix
	seq uint64
}

func (t *threads) get(p netip.Prefix) (threadRef, bool) {
	r, ok := t.m[p]
	return r, ok
}

func (t *threads) del(p netip.Prefix) { delete(t.m, p) }

func (t *threads) put(p netip.Prefix, r threadRef) {
	t.seq++
	r.seq = t.seq
	t.m[p] = r
	t.order = append(t.order, threadKey{p, r.seq})
	for len(t.m) > t.max && len(t.order) > 0 {
		k := t.order[0]
		t.order = t.order[1:]
		if cur, ok := t.m[k.p]; ok && cur.seq == k.seq {
			delete(t.m, k.p)
		}
	}
	if len(t.order) > 2*t.max+64 {
		live := make([]threadKey, 0, len(t.m))
		for _, k := range t.order {
			if cur, ok := t.m[k.p]; ok && cur.seq == k.seq {
				live = append(live, k)
			}
		}
		t.order = live
	}
}
