// Package window keeps sliding 60-second windows of per-second request and
// error counts. A Window is a fixed-size value (no pointers, no allocation):
// the engine embeds one per tracked client and one for all traffic.
//
// Time is event time in whole Unix seconds, passed in by the caller; a window
// never reads the clock. Callers must not move time backwards: a second older
// than the newest one seen is counted in the newest bucket.
package window

// Size is the window length in seconds.
const Size = 60

// Count is the bucket type: uint16 for per-client windows (saturating at 65535
// requests per second, which keeps a client's state small) and uint32 for the
// global window.
type Count interface{ ~uint16 | ~uint32 }

// Window is a 60-second sliding window of per-second request and error
// (4xx/5xx) counts. The zero value is an empty window. A Window is not safe for
// concurrent use; it is owned by one goroutine.
type Window[T Count] struct {
	last   int64 // newest second with a bucket; 0 when empty
	reqSum uint32
	errSum uint32
	req    [Size]T
	err    [Size]T
}

// Last returns the newest second the window has reached (0 if never used).
func (w *Window[T]) Last() int64 { return w.last }

// Advance moves the window forward to second sec, expiring buckets that fall
// out of (sec-60, sec]. Moving backwards is a no-op.
func (w *Window[T]) Advance(sec int64) {
	if sec <= w.last {
		return
	}
	if w.last == 0 || sec-w.last >= Size {
		*w = Window[T]{last: sec}
		return
	}
	for s := w.last + 1; s <= sec; s++ {
		i := s % Size
		w.reqSum -= uint32(w.req[i])
		w.errSum -= uint32(w.err[i])
		w.req[i], w.err[i] = 0, 0
	}
	w.last = sec
}

// Add counts one request at second sec (an error when isErr). It advances the
// window to sec first; a sec older than Last counts in the newest bucket.
// Buckets saturate at the maximum of T.
func (w *Window[T]) Add(sec int64, isErr bool) {
	w.Advance(sec)
	i := w.last % Size
	if w.req[i] == ^T(0) {
		return
	}
	w.req[i]++
	w.reqSum++
	if isErr {
		w.err[i]++
		w.errSum++
	}
}

// Requests returns the number of requests in the window ending at Last.
func (w *Window[T]) Requests() int { return int(w.reqSum) }

// Errors returns the number of 4xx/5xx responses in the window ending at Last.
func (w *Window[T]) Errors() int { return int(w.errSum) }

// At returns the counts of second sec, or zeros when sec is outside
// (Last-60, Last].
func (w *Window[T]) At(sec int64) (req, errs int) {
	if w.last == 0 || sec > w.last || sec <= w.last-Size {
		return 0, 0
	}
	i := sec % Size
	return int(w.req[i]), int(w.err[i])
}

// Span returns the request and error counts of the seconds in [from, to]
// that are still inside the window.
func (w *Window[T]) Span(from, to int64) (req, errs int) {
	if w.last == 0 {
		return 0, 0
	}
	if lo := w.last - Size + 1; from < lo {
		from = lo
	}
	if to > w.last {
		to = w.last
	}
	for s := from; s <= to; s++ {
		i := s % Size
		req += int(w.req[i])
		errs += int(w.err[i])
	}
	return req, errs
}
