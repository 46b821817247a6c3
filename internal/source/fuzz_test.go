package source

import (
	"bytes"
	"io"
	"slices"
	"testing"
)

// pieceReader returns data in pieces whose sizes cycle through sizes.
type pieceReader struct {
	data  []byte
	sizes []byte
	i     int
}

func (r *pieceReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := 1 + int(r.sizes[r.i%len(r.sizes)])*7
	r.i++
	n = min(n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// referenceLines splits data the simple way: every '\n'-terminated line and a
// final unterminated one, without one trailing '\r', dropping (and counting)
// lines longer than maxLine.
func referenceLines(data []byte, maxLine int) (kept []string, skipped int) {
	lines := bytes.Split(data, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	for _, l := range lines {
		l = bytes.TrimSuffix(l, []byte("\r"))
		if len(l) > maxLine {
			skipped++
			continue
		}
		kept = append(kept, string(l))
	}
	return kept, skipped
}

func FuzzFraming(f *testing.F) {
	f.Add([]byte("a\nbb\r\nccc"), uint8(2), []byte{0, 3, 1})
	f.Add([]byte("\r\n\n\rx\r\r\n"), uint8(0), []byte{5})
	f.Add(bytes.Repeat([]byte("0123456789"), 300), uint8(40), []byte{200, 1})
	f.Fuzz(func(t *testing.T, data []byte, maxLine uint8, sizes []byte) {
		if len(sizes) == 0 {
			sizes = []byte{255}
		}
		fs, err := NewFiles([]string{"-"}, FilesConfig{MaxLine: int(maxLine) + 1, ChunkSize: 1, Stdin: &pieceReader{data: data, sizes: sizes}})
		if err != nil {
			t.Fatal(err)
		}
		got, skipped, pos := readAll(t, fs)
		want, wantSkipped := referenceLines(data, int(maxLine)+1)
		if !slices.Equal(got, want) || skipped != wantSkipped {
			t.Fatalf("got %q skipped %d, want %q skipped %d", got, skipped, want, wantSkipped)
		}
		if len(pos) > 0 && pos[len(pos)-1].Offset != int64(len(data)) {
			t.Fatalf("final offset %d, want %d", pos[len(pos)-1].Offset, len(data))
		}
	})
}
