//go:build !unix

package main

import "os"

// ttyWidth returns 0: the terminal width is unknown on this platform.
func ttyWidth(*os.File) int { return 0 }
