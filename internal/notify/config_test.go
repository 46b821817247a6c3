package notify

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
	if c.Enabled() {
		t.Error("the default config must not enable Slack")
	}
	s := c.Slack
	if s.Timeout != 10*time.Second || s.QueueSize != 1000 || s.MinInterval != time.Second || s.DigestAfter != 5 ||
		s.MaxRetries != 5 || s.ShowShadow || strings.Join(s.Events, ",") != "ban,unban,alert,recover" {
		t.Errorf("unexpected defaults: %+v", s)
	}
}

func TestValidate(t *testing.T) {
	const secretURL = "https://hooks.slack.com/services/T000/B000/SUPERSECRETPATH"
	const secretToken = "xoxb-123-SUPERSECRETTOKEN"
	tests := []struct {
		name string
		edit func(s *SlackConfig)
		want []string // substrings, each must appear; nil = valid
	}{
		{"webhook", func(s *SlackConfig) { s.WebhookURL = secretURL }, nil},
		{"webhook on loopback http", func(s *SlackConfig) { s.WebhookURL = "http://127.0.0.1:8080/hook" }, nil},
		{"webhook on localhost http", func(s *SlackConfig) { s.WebhookURL = "http://localhost/hook" }, nil},
		{"webhook on ::1 http", func(s *SlackConfig) { s.WebhookURL = "http://[::1]:99/hook" }, nil},
		{"bot", func(s *SlackConfig) { s.Token, s.Channel = secretToken, "#security" }, nil},
		{"bot from file", func(s *SlackConfig) { s.TokenFile, s.Channel = "/run/credentials/vigil/slack", "#sec" }, nil},
		{"bot with api_url", func(s *SlackConfig) {
			s.Token, s.Channel, s.APIURL = secretToken, "C1", "https://slack-proxy.internal/api"
		}, nil},
		{"webhook over plain http", func(s *SlackConfig) { s.WebhookURL = "http://hooks.slack.com/services/x" },
			[]string{"slack.webhook_url: must use https"}},
		{"webhook not a URL", func(s *SlackConfig) { s.WebhookURL = "hooks.slack.com/SUPERSECRETPATH" },
			[]string{"slack.webhook_url: must be an absolute https URL"}},
		{"webhook ftp", func(s *SlackConfig) { s.WebhookURL = "ftp://x/SUPERSECRETPATH" },
			[]string{`slack.webhook_url: must use https (got scheme "ftp")`}},
		{"both webhook and token", func(s *SlackConfig) { s.WebhookURL, s.Token, s.Channel = secretURL, secretToken, "#x" },
			[]string{"slack.token: set an incoming webhook"}},
		{"webhook and webhook file", func(s *SlackConfig) { s.WebhookURL, s.WebhookURLFile = secretURL, "/f" },
			[]string{"slack.webhook_url_file: set slack.webhook_url or slack.webhook_url_file, not both"}},
		{"token and token file", func(s *SlackConfig) { s.Token, s.TokenFile, s.Channel = secretToken, "/f", "#x" },
			[]string{"slack.token_file: set slack.token or slack.token_file, not both"}},
		{"token without channel", func(s *SlackConfig) { s.Token = secretToken },
			[]string{"slack.channel: must be set with slack.token"}},
		{"channel with webhook", func(s *SlackConfig) { s.WebhookURL, s.Channel = secretURL, "#x" },
			[]string{"slack.channel: only used with slack.token"}},
		{"token with space", func(s *SlackConfig) { s.Token, s.Channel = "xoxb SUPERSECRETTOKEN", "#x" },
			[]string{"slack.token: must not contain whitespace"}},
		{"bad api_url", func(s *SlackConfig) { s.Token, s.Channel, s.APIURL = secretToken, "#x", "http://slack.com/api/" },
			[]string{"slack.api_url: must use https"}},
		{"no events", func(s *SlackConfig) { s.Events = nil },
			[]string{"slack.events: must list at least one"}},
		{"unknown event", func(s *SlackConfig) { s.Events = []string{"ban", "bann"} },
			[]string{`slack.events[1]: unknown event "bann"`}},
		{"every number wrong", func(s *SlackConfig) {
			s.Timeout, s.QueueSize, s.MinInterval, s.DigestAfter, s.MaxRetries = 0, 0, -time.Second, 0, -1
		}, []string{"slack.timeout: must be > 0 (got 0s)", "slack.queue_size: must be between 1 and 1000000 (got 0)",
			"slack.min_interval: must be >= 0 (got -1s)", "slack.digest_after: must be >= 1 (got 0)",
			"slack.max_retries: must be between 0 and 100 (got -1)"}},
		{"huge queue", func(s *SlackConfig) { s.QueueSize = 2_000_000 }, []string{"slack.queue_size:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c.Slack)
			err := c.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors %q", tc.want)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("Validate() = %q, want it to contain %q", msg, w)
				}
			}
			for _, line := range strings.Split(msg, "\n") {
				if !strings.HasPrefix(line, "slack.") {
					t.Errorf("error %q does not start with its key", line)
				}
			}
			if strings.Contains(msg, "SUPERSECRET") {
				t.Errorf("Validate() leaks a secret: %q", msg)
			}
		})
	}
}

func TestNewReadsSecretFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hook := write("hook", "https://hooks.slack.com/services/T0/B0/SECRETFROMFILE\n")
	token := write("token", "  xoxb-SECRETFROMFILE\n")
	empty := write("empty", " \n")
	plain := write("plain", "http://hooks.slack.com/services/T0/B0/SECRETFROMFILE\n")
	tests := []struct {
		name    string
		edit    func(s *SlackConfig)
		wantErr string
		wantIs  error
	}{
		{"webhook file", func(s *SlackConfig) { s.WebhookURLFile = hook }, "", nil},
		{"token file", func(s *SlackConfig) { s.TokenFile, s.Channel = token, "#sec" }, "", nil},
		{"missing webhook file", func(s *SlackConfig) { s.WebhookURLFile = filepath.Join(dir, "nope") },
			"slack.webhook_url_file: read ", fs.ErrNotExist},
		{"missing token file", func(s *SlackConfig) { s.TokenFile, s.Channel = filepath.Join(dir, "nope"), "#x" },
			"slack.token_file: read ", fs.ErrNotExist},
		{"empty token file", func(s *SlackConfig) { s.TokenFile, s.Channel = empty, "#x" }, "slack.token_file: ", nil},
		{"http URL in file", func(s *SlackConfig) { s.WebhookURLFile = plain }, "slack.webhook_url_file: content of", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c.Slack)
			logs := &logBuffer{}
			n, err := New(c, Options{Logger: newLogger(logs)})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if !n.Enabled() {
					t.Fatal("notifier not enabled")
				}
				if strings.Contains(logs.String(), "SECRETFROMFILE") {
					t.Errorf("secret logged: %s", logs)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Fatalf("New error = %v, want prefix %q", err, tc.wantErr)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("New error %v is not %v", err, tc.wantIs)
			}
			if strings.Contains(err.Error(), "SECRETFROMFILE") {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestResolveAPIURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", DefaultAPIURL},
		{"https://proxy.example/slack/api", "https://proxy.example/slack/api/"},
		{"https://proxy.example/api/", "https://proxy.example/api/"},
	}
	for _, tc := range tests {
		s := DefaultConfig().Slack
		s.APIURL = tc.in
		r, err := s.resolve()
		if err != nil {
			t.Fatal(err)
		}
		if r.apiURL != tc.want {
			t.Errorf("api_url %q resolved to %q, want %q", tc.in, r.apiURL, tc.want)
		}
		if r.events != 15 {
			t.Errorf("default events mask = %b, want 1111", r.events)
		}
	}
}

func TestDisabledNotifier(t *testing.T) {
	n, err := New(DefaultConfig(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n.Enabled() {
		t.Fatal("enabled without a destination")
	}
	n.Notify(banDecision("192.0.2.1", 1)) // no-op, must not panic
	var nilN *Notifier
	nilN.Notify(banDecision("192.0.2.1", 1))
	if nilN.Enabled() {
		t.Error("nil notifier reports enabled")
	}
	d := banDecision("192.0.2.1", 1)
	if a := testing.AllocsPerRun(100, func() { n.Notify(d) }); a != 0 {
		t.Errorf("disabled Notify allocates %v times", a)
	}
}
