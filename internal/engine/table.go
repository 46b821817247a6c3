package engine

import (
	"net/netip"

	"github.com/vigil-sec/vigil/internal/detect"
)

// slabChunk is how many clients one slab chunk holds: the table grows in
// chunks, never copying client state.
const slabChunk = 4096

// nilIdx marks the end of the LRU list.
const nilIdx = int32(-1)

// client is one tracked client: its key, LRU links and detector state.
type client struct {
	key        [16]byte
	prev, next int32
	used       bool
	st         detect.State
}

// table is one shard's set of tracked clients: a map from address to slab
// index, and a doubly linked LRU list (most recently seen first) for
// idle expiry, minute aggregation and eviction when the cap is reached. It is
// owned by the shard goroutine.
type table struct {
	idx        map[[16]byte]int32
	chunks     [][]client
	free       []int32
	head, tail int32
	n, max     int
}

func newTable(max int) *table {
	return &table{idx: make(map[[16]byte]int32), head: nilIdx, tail: nilIdx, max: max}
}

func keyOf(a netip.Addr) [16]byte { return a.As16() }

func (t *table) at(i int32) *client { return &t.chunks[i/slabChunk][i%slabChunk] }

// get returns the client for key, creating it (and, at the cap, evicting the
// least recently seen client through evict) when absent. The client moves to
// the front of the LRU list.
func (t *table) get(key [16]byte, evict func(*client)) (int32, *client) {
	if i, ok := t.idx[key]; ok {
		c := t.at(i)
		t.touch(i, c)
		return i, c
	}
	var i int32
	switch {
	case t.n >= t.max && t.tail != nilIdx:
		i = t.tail
		old := t.at(i)
		evict(old)
		t.remove(i, old)
	case len(t.free) > 0:
		i = t.free[len(t.free)-1]
		t.free = t.free[:len(t.free)-1]
	default:
		total := int32(len(t.chunks) * slabChunk)
		if int(total) == t.n+len(t.free) { // every slot in use: grow by one chunk
			t.chunks = append(t.chunks, make([]client, slabChunk))
		}
		i = int32(t.n + len(t.free))
	}
	c := t.at(i)
	c.key, c.used = key, true
	t.idx[key] = i
	t.n++
	t.pushFront(i, c)
	return i, c
}

// remove unlinks client i and forgets its key; the slot is not freed.
func (t *table) remove(i int32, c *client) {
	t.unlink(i, c)
	delete(t.idx, c.key)
	c.used = false
	t.n--
}

// drop removes client i and frees its slot.
func (t *table) drop(i int32, c *client) {
	t.remove(i, c)
	t.free = append(t.free, i)
}

func (t *table) touch(i int32, c *client) {
	if t.head == i {
		return
	}
	t.unlink(i, c)
	t.pushFront(i, c)
}

func (t *table) pushFront(i int32, c *client) {
	c.prev, c.next = nilIdx, t.head
	if t.head != nilIdx {
		t.at(t.head).prev = i
	}
	t.head = i
	if t.tail == nilIdx {
		t.tail = i
	}
}

func (t *table) unlink(i int32, c *client) {
	if c.prev != nilIdx {
		t.at(c.prev).next = c.next
	} else {
		t.head = c.next
	}
	if c.next != nilIdx {
		t.at(c.next).prev = c.prev
	} else {
		t.tail = c.prev
	}
	c.prev, c.next = nilIdx, nilIdx
}
