package source

import "bytes"

// framer cuts raw input into complete lines in place. It enforces the line
// limit without ever holding an over-long line whole: once the unfinished last
// line in a buffer grows past the limit, its bytes are dropped as they arrive
// until the next '\n', and the line is counted as skipped. A "\r\n" ending is
// rewritten to "\n".
//
// A framer is used by one goroutine at a time.
type framer struct {
	maxLine  int   // longest line kept, in bytes, without its "\n" or "\r\n"
	skipping bool  // inside an over-long line: bytes are dropped up to the next '\n'
	skipRaw  int64 // raw bytes of the current over-long line dropped so far
}

// frameStats reports what one call to frame or finish did.
type frameStats struct {
	lines    int   // lines kept in buf[:done]
	skipped  int   // over-long lines dropped
	consumed int64 // raw input bytes covered by the kept and dropped lines
}

// frame processes buf[done:end], the unprocessed input, which starts at the
// beginning of a line (or, while skipping, inside an over-long line).
// buf[done:scan] is known to hold no '\n' (it was scanned before).
//
// On return buf[:newDone] holds complete kept lines, each ending in '\n', and
// buf[newDone:newEnd] holds the unfinished last line (at most maxLine+1 bytes;
// empty while skipping). Lines are compacted in place when a line is dropped
// or a '\r' removed; otherwise nothing is copied.
func (fr *framer) frame(buf []byte, done, scan, end int) (newDone, newEnd int, st frameStats) {
	w, r := done, done // write and read cursors
	for r < end {
		if fr.skipping {
			j := bytes.IndexByte(buf[r:end], '\n')
			if j < 0 {
				fr.skipRaw += int64(end - r)
				r = end
				break
			}
			st.consumed += fr.skipRaw + int64(j+1)
			st.skipped++
			fr.skipping, fr.skipRaw = false, 0
			r += j + 1
			continue
		}
		from := r
		if scan > from {
			from = scan
		}
		j := bytes.IndexByte(buf[from:end], '\n')
		if j < 0 {
			if end-r > fr.maxLine+1 { // +1: a '\r' may still be followed by '\n'
				fr.skipping, fr.skipRaw = true, int64(end-r)
				r = end
			}
			break
		}
		nl := from + j // index of the '\n'
		raw := nl + 1 - r
		n := nl - r // line length without '\n'
		cr := n > 0 && buf[nl-1] == '\r'
		if cr {
			n--
		}
		st.consumed += int64(raw)
		if n > fr.maxLine {
			st.skipped++
			r = nl + 1
			continue
		}
		if w != r {
			copy(buf[w:], buf[r:r+n])
		}
		buf[w+n] = '\n'
		w += n + 1
		r = nl + 1
		st.lines++
	}
	// Move the unfinished last line (if any) down to the write cursor.
	if w != r && r < end {
		copy(buf[w:], buf[r:end])
	}
	return w, w + (end - r), st
}

// finish ends a finite input: buf[done:end] is its unfinished last line. A
// final line without '\n' is kept (with a '\n' added, so every line in a
// chunk ends in '\n'; a trailing '\r' is removed) unless it is too long; an
// over-long line in progress is counted as skipped. buf must have room for
// one more byte after end. It returns the new end of the kept lines.
func (fr *framer) finish(buf []byte, done, end int) (newDone int, st frameStats) {
	if fr.skipping {
		st.consumed = fr.skipRaw
		st.skipped = 1
		fr.skipping, fr.skipRaw = false, 0
		return done, st
	}
	if end == done {
		return done, st
	}
	n := end - done
	st.consumed = int64(n)
	if buf[end-1] == '\r' {
		n--
	}
	if n > fr.maxLine {
		st.skipped = 1
		return done, st
	}
	buf[done+n] = '\n'
	st.lines = 1
	return done + n + 1, st
}

// reset forgets any over-long line in progress (the input changed).
func (fr *framer) reset() { fr.skipping, fr.skipRaw = false, 0 }

// bufferSize returns the chunk buffer size for a requested size and a line
// limit: large enough that an unfinished line of maximal length (maxLine plus
// "\r") always leaves room to read more and to add a final '\n'.
func bufferSize(requested, maxLine int) int {
	if least := 2*(maxLine+2) + 512; requested < least {
		return least
	}
	return requested
}
