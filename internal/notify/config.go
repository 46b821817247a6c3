package notify

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/vigil-sec/vigil/internal/respond"
)

// Config is the "notify" section of the configuration.
type Config struct {
	// Slack configures Slack messages.
	Slack SlackConfig `koanf:"slack"`
}

// SlackConfig is the "notify.slack" section. Exactly one destination may be
// set: an incoming webhook (WebhookURL or WebhookURLFile) or a bot token
// (Token or TokenFile, with Channel). With neither, Slack is disabled.
type SlackConfig struct {
	// WebhookURL is an incoming-webhook URL. It is a secret: never logged,
	// never shown in errors.
	WebhookURL string `koanf:"webhook_url"`
	// WebhookURLFile names a file holding the webhook URL (for example a
	// systemd credential); surrounding whitespace is ignored.
	WebhookURLFile string `koanf:"webhook_url_file"`
	// Token is a bot token (xoxb-...), the alternative to a webhook that
	// allows threads. It is a secret: never logged, never shown in errors.
	Token string `koanf:"token"`
	// TokenFile names a file holding the bot token.
	TokenFile string `koanf:"token_file"`
	// Channel is the channel a bot token posts to (name or ID); required
	// with a token, meaningless with a webhook.
	Channel string `koanf:"channel"`
	// APIURL overrides the Web API base URL (default https://slack.com/api/),
	// for proxies and tests.
	APIURL string `koanf:"api_url"`
	// Events lists the decisions to send: ban, unban, alert, recover.
	Events []string `koanf:"events"`
	// Timeout bounds each HTTP request to Slack.
	Timeout time.Duration `koanf:"timeout"`
	// QueueSize is how many decisions may wait to be sent; when the queue is
	// full further decisions are dropped and counted.
	QueueSize int `koanf:"queue_size"`
	// MinInterval is the least time between two sends (Slack accepts about
	// one message per second per webhook or channel).
	MinInterval time.Duration `koanf:"min_interval"`
	// DigestAfter: when more than this many decisions are waiting at send
	// time, they are collapsed into one digest message.
	DigestAfter int `koanf:"digest_after"`
	// MaxRetries is how many times a failed send is retried (rate limits,
	// server errors, network errors, timeouts) before the message is given up.
	MaxRetries int `koanf:"max_retries"`
	// ShowShadow also sends would-be bans of shadow mode.
	ShowShadow bool `koanf:"show_shadow"`
}

// Defaults.
const (
	// DefaultAPIURL is Slack's Web API base URL.
	DefaultAPIURL = "https://slack.com/api/"
	maxQueueSize  = 1_000_000
	maxRetriesCap = 100
)

// DefaultConfig returns the default notification settings: Slack disabled
// (no destination), all events, 10s timeout, a queue of 1000, at most one
// send per second, digests above 5 waiting decisions, 5 retries.
func DefaultConfig() Config {
	return Config{Slack: SlackConfig{
		Events:      []string{"ban", "unban", "alert", "recover"},
		Timeout:     10 * time.Second,
		QueueSize:   1000,
		MinInterval: time.Second,
		DigestAfter: 5,
		MaxRetries:  5,
	}}
}

// Enabled reports whether a Slack destination is configured: a webhook URL
// or a bot token, given directly or through a *_file setting. New reads the
// files; Notifier.Enabled reports the outcome.
func (c Config) Enabled() bool {
	s := c.Slack
	return s.WebhookURL != "" || s.WebhookURLFile != "" || s.Token != "" || s.TokenFile != ""
}

// Validate reports every invalid setting, each message starting with the key
// path relative to the "notify" section. Secrets are never quoted.
func (c Config) Validate() error {
	s := c.Slack
	var errs []error
	hook := s.WebhookURL != "" || s.WebhookURLFile != ""
	bot := s.Token != "" || s.TokenFile != ""
	if s.WebhookURL != "" && s.WebhookURLFile != "" {
		errs = append(errs, errors.New("slack.webhook_url_file: set slack.webhook_url or slack.webhook_url_file, not both"))
	}
	if s.Token != "" && s.TokenFile != "" {
		errs = append(errs, errors.New("slack.token_file: set slack.token or slack.token_file, not both"))
	}
	if hook && bot {
		errs = append(errs, errors.New("slack.token: set an incoming webhook (slack.webhook_url) or a bot token (slack.token), not both"))
	}
	if s.WebhookURL != "" {
		if err := checkURL(s.WebhookURL, false); err != nil {
			errs = append(errs, fmt.Errorf("slack.webhook_url: %w", err))
		}
	}
	if s.Token != "" {
		if err := checkToken(s.Token); err != nil {
			errs = append(errs, fmt.Errorf("slack.token: %w", err))
		}
	}
	switch {
	case bot && strings.TrimSpace(s.Channel) == "":
		errs = append(errs, errors.New("slack.channel: must be set with slack.token"))
	case !bot && s.Channel != "":
		errs = append(errs, errors.New("slack.channel: only used with slack.token (an incoming webhook posts to the channel it was created for)"))
	}
	if s.APIURL != "" {
		if err := checkURL(s.APIURL, true); err != nil {
			errs = append(errs, fmt.Errorf("slack.api_url: %w", err))
		}
	}
	if len(s.Events) == 0 {
		errs = append(errs, errors.New("slack.events: must list at least one of ban, unban, alert, recover"))
	}
	for i, e := range s.Events {
		if eventBit(respond.Action(e)) == 0 {
			errs = append(errs, fmt.Errorf("slack.events[%d]: unknown event %q (want ban, unban, alert or recover)", i, e))
		}
	}
	if s.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("slack.timeout: must be > 0 (got %s)", s.Timeout))
	}
	if s.QueueSize < 1 || s.QueueSize > maxQueueSize {
		errs = append(errs, fmt.Errorf("slack.queue_size: must be between 1 and %d (got %d)", maxQueueSize, s.QueueSize))
	}
	if s.MinInterval < 0 {
		errs = append(errs, fmt.Errorf("slack.min_interval: must be >= 0 (got %s)", s.MinInterval))
	}
	if s.DigestAfter < 1 {
		errs = append(errs, fmt.Errorf("slack.digest_after: must be >= 1 (got %d)", s.DigestAfter))
	}
	if s.MaxRetries < 0 || s.MaxRetries > maxRetriesCap {
		errs = append(errs, fmt.Errorf("slack.max_retries: must be between 0 and %d (got %d)", maxRetriesCap, s.MaxRetries))
	}
	return errors.Join(errs...)
}

// checkURL accepts an absolute https URL, or http for a loopback host (local
// tests and proxies). With show false the URL is a secret and stays out of
// the error.
func checkURL(raw string, show bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		if show {
			return fmt.Errorf("must be an absolute https URL (got %q)", raw)
		}
		return errors.New("must be an absolute https URL (value not shown: it is a secret)")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return errors.New("must use https (http is accepted only for a loopback host)")
	}
	return fmt.Errorf("must use https (got scheme %q)", u.Scheme)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

func checkToken(tok string) error {
	for _, r := range tok {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return errors.New("must not contain whitespace or control characters (value not shown: it is a secret)")
		}
	}
	return nil
}

// readSecret reads a secret from path, trimming surrounding whitespace (a
// trailing newline is usual). key names the setting in errors.
func readSecret(key, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: read %q: %w", key, path, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s: %q is empty", key, path)
	}
	return s, nil
}

// resolved is the validated, parsed form of SlackConfig that New works from.
type resolved struct {
	webhook string // secret
	token   string // secret
	apiURL  string // with a trailing slash
	events  uint8
}

// resolve reads the *_file settings and parses what the notifier needs.
// Validate must have succeeded.
func (s SlackConfig) resolve() (resolved, error) {
	r := resolved{webhook: s.WebhookURL, token: s.Token, apiURL: s.APIURL}
	var err error
	if s.WebhookURLFile != "" {
		if r.webhook, err = readSecret("slack.webhook_url_file", s.WebhookURLFile); err != nil {
			return r, err
		}
		if err := checkURL(r.webhook, false); err != nil {
			return r, fmt.Errorf("slack.webhook_url_file: content of %q: %w", s.WebhookURLFile, err)
		}
	}
	if s.TokenFile != "" {
		if r.token, err = readSecret("slack.token_file", s.TokenFile); err != nil {
			return r, err
		}
		if err := checkToken(r.token); err != nil {
			return r, fmt.Errorf("slack.token_file: content of %q: %w", s.TokenFile, err)
		}
	}
	if r.apiURL == "" {
		r.apiURL = DefaultAPIURL
	}
	if !strings.HasSuffix(r.apiURL, "/") {
		r.apiURL += "/"
	}
	for _, e := range s.Events {
		r.events |= eventBit(respond.Action(e))
	}
	return r, nil
}

// eventBit maps an action to its bit in the events mask; 0 for unknown ones.
func eventBit(a respond.Action) uint8 {
	switch a {
	case respond.ActionBan:
		return 1
	case respond.ActionUnban:
		return 2
	case respond.ActionAlert:
		return 4
	case respond.ActionRecover:
		return 8
	}
	return 0
}
