package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		reason string
		after  time.Duration
	}{
		{"429 with Retry-After", fmt.Errorf("post: %w", &slack.RateLimitedError{RetryAfter: 3 * time.Second}), reasonRateLimited, 3 * time.Second},
		{"429 bare", slack.StatusCodeError{Code: 429, Status: "429 Too Many Requests"}, reasonRateLimited, 0},
		{"500", slack.StatusCodeError{Code: 500}, reasonServerError, 0},
		{"503", slack.StatusCodeError{Code: 503}, reasonServerError, 0},
		{"404", slack.StatusCodeError{Code: 404}, reasonClientError, 0},
		{"403", slack.StatusCodeError{Code: 403}, reasonClientError, 0},
		{"invalid_auth", slack.SlackErrorResponse{Err: "invalid_auth"}, reasonClientError, 0},
		{"channel_not_found", slack.SlackErrorResponse{Err: "channel_not_found"}, reasonClientError, 0},
		{"ratelimited", slack.SlackErrorResponse{Err: "ratelimited"}, reasonRateLimited, 0},
		{"internal_error", slack.SlackErrorResponse{Err: "internal_error"}, reasonServerError, 0},
		{"Retry-After as a date", &strconv.NumError{Func: "ParseInt", Num: "Wed, 21 Oct", Err: strconv.ErrSyntax}, reasonRateLimited, 0},
		{"deadline", fmt.Errorf("failed to post webhook: %w", &url.Error{Op: "Post", URL: "u", Err: context.DeadlineExceeded}), reasonTimeout, 0},
		{"refused", &url.Error{Op: "Post", URL: "u", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}, reasonNetwork, 0},
		{"bare op error", &net.OpError{Op: "read", Err: errors.New("reset")}, reasonNetwork, 0},
		{"garbage answer", errors.New("invalid character '<' looking for beginning of value"), reasonServerError, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reason, after := classify(tc.err)
			if reason != tc.reason || after != tc.after {
				t.Errorf("classify = %s, %s; want %s, %s", reason, after, tc.reason, tc.after)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	const hook = "https://hooks.slack.com/services/T0/B0/s3cr3tPart"
	r := newRedactor(hook, "xoxb-tok3n")
	tests := []struct{ in, want string }{
		{`Post "` + hook + `": dial tcp: refused`, `Post "[redacted]": dial tcp: refused`},
		{"path /services/T0/B0/s3cr3tPart in a message", "path [redacted] in a message"},
		{"token=xoxb-tok3n&x=1", "token=[redacted]&x=1"},
		{"nothing secret", "nothing secret"},
	}
	for _, tc := range tests {
		err := r.redact(errors.New(tc.in))
		if err.Error() != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, err.Error(), tc.want)
		}
	}
	base := context.DeadlineExceeded
	if err := r.redact(fmt.Errorf("post %s: %w", hook, base)); !errors.Is(err, base) || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("redacted error %q lost its chain or kept the secret", err)
	}
	if r.redact(nil) != nil {
		t.Error("redact(nil) != nil")
	}
}

func TestThreadsBounded(t *testing.T) {
	p := func(i int) netip.Prefix { return netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), 32) }
	th := threads{max: 3, m: map[netip.Prefix]threadRef{}}
	for i := 1; i <= 5; i++ {
		th.put(p(i), threadRef{ts: strconv.Itoa(i)})
	}
	for i := 1; i <= 5; i++ {
		_, ok := th.get(p(i))
		if want := i > 2; ok != want {
			t.Errorf("after 5 puts into 3 slots, %s present = %v, want %v", p(i), ok, want)
		}
	}
	// A target banned again moves to the back: it outlives older ones.
	th.del(p(3))
	th.put(p(3), threadRef{ts: "3b"})
	th.put(p(6), threadRef{ts: "6"})
	if r, ok := th.get(p(3)); !ok || r.ts != "3b" {
		t.Errorf("re-banned target lost: %+v %v", r, ok)
	}
	if _, ok := th.get(p(4)); ok {
		t.Error("the oldest entry survived eviction")
	}
	// Churn keeps the order slice bounded.
	for i := range 10_000 {
		th.put(p(i%200), threadRef{})
		th.del(p((i + 7) % 200))
	}
	if len(th.m) > 3 || len(th.order) > 2*3+64 {
		t.Errorf("after churn: %d entries, order %d", len(th.m), len(th.order))
	}
}
