package source

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// crashHelperEnv names the environment variable that turns the test binary
// into a tailing process that a test kills with SIGKILL.
const crashHelperEnv = "VIGIL_SOURCE_CRASH_HELPER"

// crashHelper tails dir/access.json with state in dir/state, printing the
// number of every line it receives to standard output before committing it,
// until it is killed.
func crashHelper(dir string) {
	cfg := testTailConfig(filepath.Join(dir, "access.json"))
	cfg.CheckpointInterval = 20 * time.Millisecond
	tl, err := NewTail(cfg, TailOptions{StateDir: filepath.Join(dir, "state")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := make(chan *Chunk, 2)
	go func() {
		if err := tl.Run(context.Background(), out); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}()
	w := bufio.NewWriter(os.Stdout)
	for c := range out {
		data := c.Data
		for len(data) > 0 {
			i := 0
			for data[i] != '\n' {
				i++
			}
			w.Write(data[:9])
			w.WriteByte('\n')
			data = data[i+1:]
		}
		pos := c.Pos
		c.Release()
		w.Flush() // printed before committed: every committed line was printed
		tl.Commit(pos)
	}
}

// TestTailCrashRestart kills a tailing process with SIGKILL mid-stream and
// resumes from its positions file: the new run starts exactly after the last
// saved commit, so across both runs every line is seen, and only the lines
// committed after the last checkpoint (the documented window) are seen twice.
func TestTailCrashRestart(t *testing.T) {
	leakCheck(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "access.json")
	state := filepath.Join(dir, "state")
	w := newLogWriter(t, path)
	w.write(100)
	stopWriter := w.run()
	defer stopWriter()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashHelperEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		printed []int
	)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			n, err := strconv.Atoi(sc.Text())
			if err != nil {
				t.Errorf("helper printed %q", sc.Text())
				continue
			}
			mu.Lock()
			printed = append(printed, n)
			mu.Unlock()
		}
	}()
	waitFor(t, "helper to commit and checkpoint 3000 lines", func() bool {
		data, err := os.ReadFile(filepath.Join(state, PositionsFile))
		return err == nil && len(data) > 0 && readPositionsData(data).Lines >= 3000
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-readDone
	_ = cmd.Wait() // killed: the error is expected
	saved := readPositions(t, state)
	mu.Lock()
	first := append([]int(nil), printed...)
	mu.Unlock()
	if uint64(len(first)) < saved.Lines {
		t.Fatalf("helper printed %d lines but saved %d as committed", len(first), saved.Lines)
	}
	checkSeqs(t, first[:saved.Lines], 1, int(saved.Lines))
	t.Logf("killed after %d lines printed, %d saved as committed", len(first), saved.Lines)

	r := startTail(t, testTailConfig(path), TailOptions{StateDir: state}, true)
	r.waitLines(t, 1000)
	total := stopWriter()
	r.waitLines(t, total-int(saved.Lines))
	r.stop(t)
	r.checkClean(t)
	checkSeqs(t, r.got.snapshot(), int(saved.Lines)+1, total)
}

func readPositionsData(data []byte) positions {
	var p positions
	_ = json.Unmarshal(data, &p) // a torn read shows as zero and is polled again
	return p
}
