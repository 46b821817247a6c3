//go:build !unix

package audit

import "os"

// unlinked reports false: without link counts a missing path is treated as
// renamed.
func unlinked(os.FileInfo) bool { return false }
