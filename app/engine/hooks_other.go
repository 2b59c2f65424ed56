//go:build !unix

package engine

import "os/exec"

// ownGroup leaves cmd as it is: without process groups, cancelling kills
// the shell only.
func ownGroup(cmd *exec.Cmd) {}
