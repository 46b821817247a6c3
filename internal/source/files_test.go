package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// readAll runs f and returns every line (without '\n'), the total skipped
// count and every chunk's position, releasing the chunks.
func readAll(t *testing.T, f *Files) (lines []string, skipped int, pos []Position) {
	t.Helper()
	out := make(chan *Chunk, 2)
	errc := make(chan error, 1)
	go func() { errc <- f.Run(context.Background(), out) }()
	for c := range out {
		if len(c.Data) > 0 {
			for line := range bytes.SplitSeq(c.Data, []byte("\n")) {
				lines = append(lines, string(line))
			}
			if c.Data[len(c.Data)-1] != '\n' {
				t.Errorf("chunk does not end in a newline: %q", c.Data)
			}
			lines = lines[:len(lines)-1] // the empty string after the last '\n'
		}
		skipped += c.Skipped
		pos = append(pos, c.Pos)
		c.Release()
	}
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	return lines, skipped, pos
}

func TestFramingThroughFiles(t *testing.T) {
	long := strings.Repeat("x", 10000)
	tests := []struct {
		name    string
		maxLine int
		in      string
		want    []string
		skipped int
	}{
		{name: "empty", maxLine: 8, in: "", want: nil},
		{name: "simple", maxLine: 8, in: "a\nbb\nccc\n", want: []string{"a", "bb", "ccc"}},
		{name: "no final newline", maxLine: 8, in: "a\nbb", want: []string{"a", "bb"}},
		{name: "only final line", maxLine: 8, in: "abc", want: []string{"abc"}},
		{name: "empty lines", maxLine: 8, in: "\n\na\n", want: []string{"", "", "a"}},
		{name: "crlf", maxLine: 8, in: "a\r\nbb\r\n", want: []string{"a", "bb"}},
		{name: "crlf final without newline", maxLine: 8, in: "a\r\nbb\r", want: []string{"a", "bb"}},
		{name: "lone cr kept", maxLine: 8, in: "a\rb\n", want: []string{"a\rb"}},
		{name: "line at the limit", maxLine: 4, in: "abcd\n", want: []string{"abcd"}},
		{name: "crlf line at the limit", maxLine: 4, in: "abcd\r\nx\n", want: []string{"abcd", "x"}},
		{name: "line over the limit", maxLine: 4, in: "ab\nabcde\nxy\n", want: []string{"ab", "xy"}, skipped: 1},
		{name: "two long lines in a row", maxLine: 4, in: "abcde\nabcdef\nz\n", want: []string{"z"}, skipped: 2},
		{name: "final line over the limit", maxLine: 4, in: "ab\nabcdefgh", want: []string{"ab"}, skipped: 1},
		{name: "long line across buffers", maxLine: 8, in: "first\n" + long + "\nlast\n", want: []string{"first", "last"}, skipped: 1},
		{name: "long final line across buffers", maxLine: 8, in: "first\n" + long, want: []string{"first"}, skipped: 1},
		{name: "long crlf mix", maxLine: 8, in: "a\r\n" + long + "\r\nb\r\nc", want: []string{"a", "b", "c"}, skipped: 1},
	}
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"one byte", iotest.OneByteReader},
		{"half", iotest.HalfReader},
		{"data with eof", iotest.DataErrReader},
	}
	for _, tc := range tests {
		for _, rd := range readers {
			t.Run(tc.name+"/"+rd.name, func(t *testing.T) {
				f, err := NewFiles([]string{"-"}, FilesConfig{MaxLine: tc.maxLine, ChunkSize: 1, Stdin: rd.wrap(strings.NewReader(tc.in))})
				if err != nil {
					t.Fatal(err)
				}
				lines, skipped, pos := readAll(t, f)
				if diff := cmp.Diff(tc.want, lines); diff != "" {
					t.Errorf("lines (-want +got):\n%s", diff)
				}
				if skipped != tc.skipped {
					t.Errorf("skipped = %d, want %d", skipped, tc.skipped)
				}
				if len(pos) > 0 {
					last := pos[len(pos)-1]
					if last.Offset != int64(len(tc.in)) {
						t.Errorf("last offset = %d, want %d", last.Offset, len(tc.in))
					}
					if want := uint64(len(tc.want) + tc.skipped); last.Lines != want {
						t.Errorf("last Lines = %d, want %d", last.Lines, want)
					}
				} else if len(tc.want) > 0 || tc.skipped > 0 {
					t.Error("no chunk received")
				}
			})
		}
	}
}

func TestFilesReadsPathsInOrder(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "source")
	plain, err := os.ReadFile(filepath.Join(dir, "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSuffix(string(plain), "\n"), "\n")
	paths := []string{
		filepath.Join(dir, "access.log"),
		filepath.Join(dir, "access.log.gz"),
		filepath.Join(dir, "access-crlf.log"),
		filepath.Join(dir, "access-nofinal.log"),
		"-",
	}
	f, err := NewFiles(paths, FilesConfig{Stdin: bytes.NewReader(plain)})
	if err != nil {
		t.Fatal(err)
	}
	lines, skipped, pos := readAll(t, f)
	var all []string
	for range paths {
		all = append(all, want...)
	}
	if diff := cmp.Diff(all, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if skipped != 0 {
		t.Errorf("skipped = %d", skipped)
	}
	// Small files fit one chunk each: chunks never span files.
	if len(pos) != len(paths) {
		t.Fatalf("got %d chunks, want one per file (%d)", len(pos), len(paths))
	}
	for i, p := range pos {
		if p.Path != paths[i] {
			t.Errorf("chunk %d from %q, want %q", i, p.Path, paths[i])
		}
		if want := uint64((i + 1) * len(want)); p.Lines != want {
			t.Errorf("chunk %d: Lines = %d, want %d", i, p.Lines, want)
		}
	}
	if pos[1].Offset != int64(len(plain)) {
		t.Errorf("gzip offset = %d, want the decompressed size %d", pos[1].Offset, len(plain))
	}
	if pos[0].Ino == 0 {
		t.Error("file position has no inode")
	}
}

func TestNewFilesChecksEveryPathFirst(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.log")
	if err := os.WriteFile(good, []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notGzip := filepath.Join(dir, "plain.log.gz")
	if err := os.WriteFile(notGzip, []byte("this is not a gzip stream\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "access.log")
	tests := []struct {
		name   string
		paths  []string
		want   string
		target error
	}{
		{name: "missing", paths: []string{good, missing}, want: `open "` + missing + `": no such file or directory`, target: fs.ErrNotExist},
		{name: "directory", paths: []string{dir}, want: `open "` + dir + `": is a directory`},
		{name: "not gzip", paths: []string{notGzip}, want: `read "` + notGzip + `": gzip: invalid header`, target: gzip.ErrHeader},
		{name: "stdin twice", paths: []string{"-", good, "-"}, want: `standard input ("-") given more than once`},
		{name: "no paths", paths: nil, want: "no input files"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewFiles(tc.paths, DefaultFilesConfig())
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
			if tc.target != nil && !errors.Is(err, tc.target) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.target)
			}
		})
	}
}

func TestFilesConfigValidate(t *testing.T) {
	err := FilesConfig{MaxLine: -1, ChunkSize: -2}.Validate()
	want := "max_line: must be >= 0 (got -1)\nchunk_size: must be >= 0 (got -2)"
	if err == nil || err.Error() != want {
		t.Fatalf("Validate = %v, want %q", err, want)
	}
	if err := DefaultFilesConfig().Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	if _, err := NewFiles([]string{"-"}, FilesConfig{MaxLine: -1}); err == nil {
		t.Fatal("NewFiles accepted an invalid config")
	}
}

func TestFilesRunStopsOnCancel(t *testing.T) {
	// An endless input: Run must return nil and close out once ctx is done.
	f, err := NewFiles([]string{"-"}, FilesConfig{Stdin: &repeatReader{data: []byte(testLine)}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan *Chunk)
	errc := make(chan error, 1)
	go func() { errc <- f.Run(ctx, out) }()
	c := <-out // the reader is live
	c.Release()
	cancel()
	for c := range out {
		c.Release()
	}
	if err := <-errc; err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
}

// testLine is a typical ~450-byte Nginx JSON access-log line.
const testLine = `{"time":"2026-11-22T10:00:00+00:00","remote_addr":"203.0.113.7","request_method":"GET","request_uri":"/products/item-12345?color=blue&size=m&ref=newsletter","status":"200","body_bytes_sent":"5123","http_user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36","http_referer":"https://shop.example/","host":"shop.example","request_time":"0.012","http_x_forwarded_for":"-"}` + "\n"

// repeatReader returns data over and over without allocating.
type repeatReader struct {
	data []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m := copy(p[n:], r.data[r.off:])
		n += m
		r.off = (r.off + m) % len(r.data)
	}
	return n, nil
}

func TestFilesSteadyStateAllocatesNothing(t *testing.T) {
	f, err := NewFiles([]string{"-"}, FilesConfig{})
	if err != nil {
		t.Fatal(err)
	}
	r := &repeatReader{data: []byte(testLine)}
	carry := 0
	pos := Position{Path: "-"}
	ctx := context.Background()
	step := func() {
		c, err := f.pool.get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.fill(c, r, &carry, &pos); err != nil {
			t.Fatal(err)
		}
		if len(c.Data) == 0 {
			t.Fatal("empty chunk")
		}
		c.Release()
	}
	step()
	if n := testing.AllocsPerRun(200, step); n != 0 {
		t.Fatalf("reading a chunk: %v allocs, want 0", n)
	}
}

func TestFramerAllocatesNothing(t *testing.T) {
	fr := framer{maxLine: 64}
	in := []byte("short line\r\n" + strings.Repeat("y", 100) + "\nanother line\npartial")
	buf := make([]byte, 1024)
	n := testing.AllocsPerRun(1000, func() {
		end := copy(buf, in)
		fr.frame(buf, 0, 0, end)
	})
	if n != 0 {
		t.Fatalf("frame: %v allocs, want 0", n)
	}
	end := copy(buf, in)
	done, end, st := fr.frame(buf, 0, 0, end)
	if got, want := string(buf[:done]), "short line\nanother line\n"; got != want {
		t.Errorf("framed %q, want %q", got, want)
	}
	if got := string(buf[done:end]); got != "partial" {
		t.Errorf("unfinished line %q, want %q", got, "partial")
	}
	if st.lines != 2 || st.skipped != 1 || st.consumed != int64(len(in)-len("partial")) {
		t.Errorf("stats = %+v", st)
	}
}
