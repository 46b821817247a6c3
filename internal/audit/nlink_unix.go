//go:build unix

package audit

import (
	"os"
	"syscall"
)

// unlinked reports whether the file fi describes has no name left (it was
// deleted while open).
func unlinked(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink == 0
}
