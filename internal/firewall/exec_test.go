package firewall

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	for _, b := range []string{"cat", "false"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not in PATH", b)
		}
	}
	cat, _ := exec.LookPath("cat")
	ctx := context.Background()
	out, err := run(ctx, cat, nil, []byte("add vigil4 192.0.2.1 timeout 0\n"))
	if err != nil || string(out) != "add vigil4 192.0.2.1 timeout 0\n" {
		t.Errorf("run(cat) with stdin = %q, %v", out, err)
	}
	f, _ := exec.LookPath("false")
	_, err = run(ctx, f, []string{"--wait", "5"}, nil)
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || !strings.Contains(err.Error(), "run false --wait 5") {
		t.Errorf("run(false) = %v, want an *exec.ExitError naming the command", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := run(cancelled, cat, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("run with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestDescribe(t *testing.T) {
	got := describe("/usr/sbin/iptables", []string{"-t", "filter", "-S", "VIGIL", "--wait", "5", "extra", "more"})
	if got != "iptables -t filter -S VIGIL --wait 5 …" {
		t.Errorf("describe = %q", got)
	}
}
