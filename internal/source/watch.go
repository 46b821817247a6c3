package source

import (
	"log/slog"

	"github.com/fsnotify/fsnotify"
)

// notifier wakes the tailer when something changes in the log's directory.
// It watches the directory, not the file, so it sees the file being renamed,
// created, written after a rename, and replaced, with a single inotify watch
// owned by this Tail (nxadm/tail shares one process-wide watcher between all
// tails, which never stops and exits the process on some errors). Events are
// only hints: the tailer re-checks the files on every wake-up and on every
// poll tick, so a missed or coalesced event delays a line by at most one poll
// interval and never loses it.
//
// A nil watcher (poll mode, or inotify unavailable) delivers no events. A
// notifier is used by one goroutine.
type notifier struct {
	dir   string
	w     *fsnotify.Watcher
	added bool // the directory is being watched
	log   *slog.Logger
}

// newNotifier returns a notifier for dir; with poll set it never fires.
func newNotifier(dir string, poll bool, log *slog.Logger) *notifier {
	n := &notifier{dir: dir, log: log}
	if poll {
		return n
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		log.Warn("inotify unavailable, polling instead", "err", err)
		return n
	}
	n.w = w
	n.ensure()
	return n
}

// ensure adds the directory watch if it is missing (the directory may not
// exist yet, or may have been removed and created again).
func (n *notifier) ensure() {
	if n.w == nil || n.added {
		return
	}
	if err := n.w.Add(n.dir); err == nil {
		n.added = true
	}
}

// events returns the event channel (nil when not watching).
func (n *notifier) events() <-chan fsnotify.Event {
	if n.w == nil {
		return nil
	}
	return n.w.Events
}

// errors returns the error channel (nil when not watching).
func (n *notifier) errors() <-chan error {
	if n.w == nil {
		return nil
	}
	return n.w.Errors
}

// seen handles one event and drains any others already queued, so a burst of
// writes costs one wake-up.
func (n *notifier) seen(ev fsnotify.Event) {
	for {
		if ev.Name == n.dir && ev.Op.Has(fsnotify.Remove|fsnotify.Rename) {
			n.added = false // the watch is gone with the directory
		}
		select {
		case e, ok := <-n.w.Events:
			if !ok {
				return
			}
			ev = e
		default:
			return
		}
	}
}

// drain discards the events already queued.
func (n *notifier) drain() {
	if n.w == nil {
		return
	}
	select {
	case ev, ok := <-n.w.Events:
		if ok {
			n.seen(ev)
		}
	default:
	}
}

// close stops watching and waits for the watcher's goroutine to end.
func (n *notifier) close() {
	if n.w != nil {
		_ = n.w.Close() // nothing useful to do if closing fails
		n.w = nil
	}
}
