package source

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// StdinPath is the path that stands for standard input in Files.
const StdinPath = "-"

// FilesConfig configures Files. The zero value of a numeric field selects its
// default.
type FilesConfig struct {
	// MaxLine is the line limit in bytes, not counting the line ending; longer
	// lines are skipped and counted (0 = DefaultMaxLine). Use the parser's limit.
	MaxLine int `koanf:"max_line"`
	// ChunkSize is the size of each chunk buffer in bytes (0 =
	// DefaultChunkSize). It is raised to fit at least two maximal lines.
	ChunkSize int `koanf:"chunk_size"`
	// Stdin is read for the path "-" (nil = os.Stdin).
	Stdin io.Reader `koanf:"-"`
}

// DefaultFilesConfig returns the default FilesConfig.
func DefaultFilesConfig() FilesConfig {
	return FilesConfig{MaxLine: DefaultMaxLine, ChunkSize: DefaultChunkSize}
}

// Validate reports every invalid field, each message starting with its key.
func (c FilesConfig) Validate() error {
	var errs []error
	if c.MaxLine < 0 {
		errs = append(errs, fmt.Errorf("max_line: must be >= 0 (got %d)", c.MaxLine))
	}
	if c.ChunkSize < 0 {
		errs = append(errs, fmt.Errorf("chunk_size: must be >= 0 (got %d)", c.ChunkSize))
	}
	return errors.Join(errs...)
}

// Files reads files, or standard input, to the end, in order, as fast as the
// disk allows: the source for replay. Files whose name ends in ".gz" are
// decompressed. Lines come out in Chunks from a fixed pool of buffers, so
// steady-state reading allocates nothing.
//
// A line longer than MaxLine is skipped (counted in Chunk.Skipped) without
// being buffered whole; a final line without '\n' is delivered with a '\n'
// added; "\r\n" line endings become "\n". Chunk.Pos.Offset is the offset in
// the (decompressed) file after the chunk's last line and Pos.Lines counts
// lines across all files. Chunks never span two files.
//
// A Files is used by one goroutine: call Run once.
type Files struct {
	paths   []string
	stdin   io.Reader
	bufSize int
	pool    *pool
	fr      framer
	carry   []byte // the unfinished last line between two chunks
	gz      *gzip.Reader
	lines   uint64
}

// NewFiles checks that every path can be opened (and that every .gz file
// starts with a gzip header) before anything is read, so a typo fails fast
// with the path in the error: `open "/x/access.log": no such file or
// directory`. The path "-" is standard input, at most once.
func NewFiles(paths []string, cfg FilesConfig) (*Files, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, errors.New("no input files")
	}
	if cfg.MaxLine == 0 {
		cfg.MaxLine = DefaultMaxLine
	}
	if cfg.ChunkSize == 0 {
		cfg.ChunkSize = DefaultChunkSize
	}
	if cfg.Stdin == nil {
		cfg.Stdin = os.Stdin
	}
	stdin := false
	for _, p := range paths {
		if p == StdinPath {
			if stdin {
				return nil, errors.New(`standard input ("-") given more than once`)
			}
			stdin = true
			continue
		}
		if err := checkReadable(p); err != nil {
			return nil, err
		}
	}
	size := bufferSize(cfg.ChunkSize, cfg.MaxLine)
	return &Files{
		paths:   append([]string(nil), paths...),
		stdin:   cfg.Stdin,
		bufSize: size,
		pool:    newPool(poolSize, size),
		fr:      framer{maxLine: cfg.MaxLine},
		carry:   make([]byte, cfg.MaxLine+2),
	}, nil
}

// checkReadable opens path as Run will, reads a gzip header if the name ends
// in .gz, and closes it again.
func checkReadable(path string) error {
	f, err := openFile(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if strings.HasSuffix(path, ".gz") {
		if _, err := gzip.NewReader(bufio.NewReaderSize(f, 512)); err != nil {
			return fmt.Errorf("read %q: %w", path, err)
		}
	}
	return nil
}

// openFile opens path for reading, refusing directories, with errors that
// quote the path and keep the cause for errors.Is.
func openFile(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("open %q: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %q: %w", path, err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("open %q: is a directory", path)
	}
	return f, nil
}

// Run reads every path in order and sends its lines on out, waiting when the
// engine holds every buffer. It closes out when it returns. It returns nil at
// the end of the last file or when ctx is cancelled, and an error naming the
// path if a file cannot be opened or read.
func (f *Files) Run(ctx context.Context, out chan<- *Chunk) error {
	defer close(out)
	for _, p := range f.paths {
		if err := f.readPath(ctx, p, out); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	return nil
}

// readPath reads one path to its end.
func (f *Files) readPath(ctx context.Context, path string, out chan<- *Chunk) error {
	var (
		r   io.Reader
		pos = Position{Path: path}
	)
	if path == StdinPath {
		r = f.stdin
	} else {
		file, err := openFile(path)
		if err != nil {
			return err
		}
		defer file.Close()
		pos.Dev, pos.Ino = fileIdentity(file)
		r = file
		if strings.HasSuffix(path, ".gz") {
			if f.gz == nil {
				f.gz, err = gzip.NewReader(file)
			} else {
				err = f.gz.Reset(file)
			}
			if err != nil {
				return fmt.Errorf("read %q: %w", path, err)
			}
			r = f.gz
		}
	}
	f.fr.reset()
	carry := 0
	for {
		if err := ctx.Err(); err != nil { // get and send may both succeed without blocking
			return err
		}
		c, err := f.pool.get(ctx)
		if err != nil {
			return err
		}
		eof, err := f.fill(c, r, &carry, &pos)
		if err != nil {
			c.Release()
			return fmt.Errorf("read %q: %w", path, err)
		}
		if len(c.Data) > 0 || c.Skipped > 0 {
			select {
			case out <- c:
			case <-ctx.Done():
				c.Release()
				return ctx.Err()
			}
		} else {
			c.Release()
		}
		if eof {
			return nil
		}
	}
}

// fill reads into c until its buffer is full or r is at its end, and frames
// the lines. *carry is the length of the unfinished line kept in f.carry from
// the previous chunk; pos is advanced over the lines put into c.
func (f *Files) fill(c *Chunk, r io.Reader, carry *int, pos *Position) (eof bool, err error) {
	buf := c.buffer()
	end := copy(buf, f.carry[:*carry])
	scan := end
	for end < len(buf) {
		n, err := r.Read(buf[end:])
		end += n
		if errors.Is(err, io.EOF) {
			eof = true
			break
		}
		if err != nil {
			return false, err
		}
	}
	done, end, st := f.fr.frame(buf, 0, scan, end)
	if eof {
		var fin frameStats
		done, fin = f.fr.finish(buf, done, end)
		st.lines += fin.lines
		st.skipped += fin.skipped
		st.consumed += fin.consumed
		end = done
	}
	*carry = copy(f.carry, buf[done:end])
	pos.Offset += st.consumed
	f.lines += uint64(st.lines + st.skipped)
	pos.Lines = f.lines
	c.Data = buf[:done]
	c.Skipped = st.skipped
	c.Pos = *pos
	return eof, nil
}
