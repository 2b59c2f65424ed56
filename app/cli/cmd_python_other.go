//go:build !unix

package cli

import "os"

// isTerminal reports whether f is a character device, the best guess for
// a terminal here.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
