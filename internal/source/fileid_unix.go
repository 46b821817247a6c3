//go:build unix

package source

import (
	"os"
	"syscall"
)

// fileID identifies a file independently of its name.
type fileID struct{ dev, ino uint64 }

// fileStat is what the tailer needs to know about an open file.
type fileStat struct {
	id    fileID
	size  int64
	nlink uint64 // 0 once the file has been deleted
}

// fileIdentity returns the device and inode of an open file (0, 0 when they
// cannot be read).
func fileIdentity(f *os.File) (dev, ino uint64) {
	fi, err := f.Stat()
	if err != nil {
		return 0, 0
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0
	}
	return uint64(st.Dev), uint64(st.Ino) //nolint:unconvert // field types differ between platforms
}

// statter makes stat calls without allocating; it is used by one goroutine.
type statter struct {
	st syscall.Stat_t
}

// fstat stats an open file descriptor.
func (s *statter) fstat(fd int) (fileStat, error) {
	for {
		err := syscall.Fstat(fd, &s.st)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fileStat{}, err
		}
		return s.conv(), nil
	}
}

// stat stats a path, following symbolic links. It allocates the C string.
func (s *statter) stat(path string) (fileStat, error) {
	for {
		err := syscall.Stat(path, &s.st)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fileStat{}, &os.PathError{Op: "stat", Path: path, Err: err}
		}
		return s.conv(), nil
	}
}

func (s *statter) conv() fileStat {
	return fileStat{
		id:    fileID{dev: uint64(s.st.Dev), ino: uint64(s.st.Ino)}, //nolint:unconvert // field types differ between platforms
		size:  s.st.Size,
		nlink: uint64(s.st.Nlink), //nolint:unconvert // field types differ between platforms
	}
}

// dirEntryID returns the identity of a directory entry without following
// symbolic links.
func dirEntryID(fi os.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, true //nolint:unconvert // field types differ between platforms
}

// tailSupported reports whether Tail works on this platform.
const tailSupported = true
