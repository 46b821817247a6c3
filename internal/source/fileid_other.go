//go:build !unix

package source

import "os"

// fileID identifies a file independently of its name.
type fileID struct{ dev, ino uint64 }

// fileStat is what the tailer needs to know about an open file.
type fileStat struct {
	id    fileID
	size  int64
	nlink uint64
}

// fileIdentity returns 0, 0: file identities are a Unix notion.
func fileIdentity(*os.File) (dev, ino uint64) { return 0, 0 }

// statter is a stub: Tail needs Unix file identities.
type statter struct{}

func (*statter) fstat(int) (fileStat, error)   { return fileStat{}, errTailUnsupported }
func (*statter) stat(string) (fileStat, error) { return fileStat{}, errTailUnsupported }
func dirEntryID(os.FileInfo) (fileID, bool)    { return fileID{}, false }

// tailSupported reports whether Tail works on this platform.
const tailSupported = false
