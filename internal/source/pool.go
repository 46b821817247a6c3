package source

import "context"

// Pool and buffer sizes.
const (
	// DefaultMaxLine is the default line limit in bytes (the parser's default).
	DefaultMaxLine = 16384
	// DefaultChunkSize is the default size of a chunk buffer in bytes: large
	// enough to amortise a read system call and a channel send over hundreds
	// of typical 300–500-byte access-log lines.
	DefaultChunkSize = 256 << 10
	// poolSize is the number of chunk buffers a source owns. Reading stops
	// (back-pressure) when the engine holds all of them; 8 lets the reader
	// stay a few chunks ahead of the engine without unbounded memory.
	poolSize = 8
)

// pool is a fixed set of chunk buffers recycled through Chunk.Release. Get and
// put are safe for concurrent use.
type pool struct {
	free chan *Chunk // buffered to the number of chunks, so put never blocks
}

// newPool returns a pool of n chunks, each with a buffer of size bytes.
func newPool(n, size int) *pool {
	p := &pool{free: make(chan *Chunk, n)}
	for range n {
		c := &Chunk{Data: make([]byte, 0, size)}
		c.release = p.put
		p.free <- c
	}
	return p
}

// get returns a free chunk, waiting until the engine releases one.
func (p *pool) get(ctx context.Context) (*Chunk, error) {
	select {
	case c := <-p.free:
		return c, nil
	default:
	}
	select {
	case c := <-p.free:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// put returns c to the pool. Releasing a chunk twice is a caller bug; the
// extra release is dropped when the pool is already full.
func (p *pool) put(c *Chunk) {
	c.Data = c.Data[:0]
	c.Skipped = 0
	c.Pos = Position{}
	select {
	case p.free <- c:
	default:
	}
}

// buffer returns the whole backing array of c's Data.
func (c *Chunk) buffer() []byte { return c.Data[:cap(c.Data)] }
