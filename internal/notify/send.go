package notify

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// transport posts one message to Slack.
type transport interface {
	// post sends m, as a reply in thread when thread.ts is set (and the
	// transport has threads), and returns where the message landed.
	post(ctx context.Context, m *message, thread threadRef) (threadRef, error)
	// threaded reports whether replies in threads are possible.
	threaded() bool
}

var (
	_ transport = (*webhook)(nil)
	_ transport = (*bot)(nil)
)

// webhook posts to an incoming webhook. Webhooks have no threads and return
// no message timestamp.
type webhook struct {
	url    string // secret
	client *http.Client
}

func (w *webhook) post(ctx context.Context, m *message, _ threadRef) (threadRef, error) {
	no := false
	msg := &slack.WebhookMessage{Text: m.text, Blocks: &slack.Blocks{BlockSet: m.blocks},
		UnfurlLinks: &no, UnfurlMedia: &no}
	return threadRef{}, slack.PostWebhookCustomHTTPContext(ctx, w.url, w.client, msg)
}

func (w *webhook) threaded() bool { return false }

// bot posts with the Web API's chat.postMessage and a bot token.
type bot struct {
	api     *slack.Client
	channel string
}

func (b *bot) post(ctx context.Context, m *message, thread threadRef) (threadRef, error) {
	opts := []slack.MsgOption{slack.MsgOptionBlocks(m.blocks...), slack.MsgOptionText(m.text, false),
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl()}
	channel := b.channel
	if thread.ts != "" {
		opts = append(opts, slack.MsgOptionTS(thread.ts))
		if thread.channel != "" {
			channel = thread.channel // the ID Slack answered with
		}
	}
	ch, ts, err := b.api.PostMessageContext(ctx, channel, opts...)
	return threadRef{channel: ch, ts: ts}, err
}

func (b *bot) threaded() bool { return true }

// classify maps a send error to a failure reason and, for a rate limit with
// Retry-After, the wait Slack asked for.
func classify(err error) (reason string, retryAfter time.Duration) {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return reasonRateLimited, rl.RetryAfter
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		switch {
		case sc.Code == http.StatusTooManyRequests:
			return reasonRateLimited, 0 // no Retry-After: back off
		case sc.Code >= 400 && sc.Code < 500:
			return reasonClientError, 0
		}
		return reasonServerError, 0
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "ratelimited", "rate_limited", "message_limit_exceeded":
			return reasonRateLimited, 0
		case "internal_error", "fatal_error", "service_unavailable", "request_timeout":
			return reasonServerError, 0
		}
		return reasonClientError, 0 // invalid_auth, channel_not_found, not_in_channel, ...
	}
	var num *strconv.NumError
	if errors.As(err, &num) {
		return reasonRateLimited, 0 // a 429 whose Retry-After is not a number of seconds
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return reasonTimeout, 0
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return reasonTimeout, 0
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return reasonNetwork, 0
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return reasonNetwork, 0
	}
	return reasonServerError, 0 // e.g. an answer that is not Slack's JSON
}

// redactor removes secrets from error text.
type redactor struct {
	secrets []string // longest first
}

const redacted = "[redacted]"

// newRedactor returns a redactor for a webhook URL and a token. The URL is
// also removed in its parsed form and by its path (the secret part of a
// hooks.slack.com URL), since net/http may print it either way.
func newRedactor(webhookURL, token string) redactor {
	var s []string
	add := func(v string) {
		if len(v) >= 4 {
			s = append(s, v)
			if q := url.QueryEscape(v); q != v {
				s = append(s, q)
			}
		}
	}
	if webhookURL != "" {
		add(webhookURL)
		if u, err := url.Parse(webhookURL); err == nil {
			add(u.String())
			add(u.Redacted())
			if u.Path != "/" {
				add(u.Path)
				add(u.EscapedPath())
			}
			add(u.RawQuery)
		}
	}
	add(token)
	sort.Slice(s, func(i, j int) bool { return len(s[i]) > len(s[j]) })
	return redactor{secrets: s}
}

// redact returns err with every secret removed from its text; errors.Is and
// errors.As still see the original chain.
func (r redactor) redact(err error) error {
	if err == nil {
		return nil
	}
	msg := r.string(err.Error())
	return &redactedError{msg: msg, err: err}
}

func (r redactor) string(s string) string {
	for _, v := range r.secrets {
		s = strings.ReplaceAll(s, v, redacted)
	}
	return s
}

// redactedError carries an error whose text had secrets removed.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
