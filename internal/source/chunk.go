// Package source reads access-log lines for the engine: Files reads files (or
// standard input) to the end for replay, and Tail follows a live log across
// rotation, persisting its read position so a restart neither loses nor
// re-reads lines.
//
// Sources hand out lines in Chunks, recycled buffers holding runs of complete
// lines, so reading allocates nothing per line.
package source

// Position identifies a point in a source: the file (by path and identity)
// and the byte offset just after the last line handed out, plus the number of
// lines handed out from this source so far. It is a plain value; the engine
// passes it back through a Committer once every line before it has been
// processed.
type Position struct {
	// Path is the file's path ("-" for standard input).
	Path string
	// Dev and Ino identify the file independently of its name.
	Dev, Ino uint64
	// Offset is the byte offset just after the last complete line.
	Offset int64
	// Lines is the number of lines (including rejected ones) read from this
	// source since the position file was created.
	Lines uint64
}

// Chunk is a run of complete lines read from a source. Data holds one or more
// lines, each terminated by '\n' (only the last line of a finite input may lack
// it). The receiver must call Release when it no longer needs Data.
type Chunk struct {
	// Data holds complete lines. It aliases a recycled buffer.
	Data []byte
	// Skipped counts lines dropped before Data because they were longer than
	// the line limit (they were never buffered whole).
	Skipped int
	// Pos is the position just after the last line in Data (and after any
	// skipped line that followed it).
	Pos Position

	release func(*Chunk)
}

// Release hands the chunk's buffer back to its source. Data must not be used
// afterwards. Release on a chunk without an owner is a no-op.
func (c *Chunk) Release() {
	if c.release != nil {
		c.release(c)
	}
}
