//go:build !unix

package testenv

import "os"

// lockFile does nothing where there is no flock: those systems run no
// test that changes the machine.
func lockFile(*os.File) error { return nil }
