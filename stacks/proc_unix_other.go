//go:build unix && !linux

package stacks

import (
	"errors"
	"syscall"
)

// setSubreaper is Linux's; elsewhere an orphan goes to init.
func setSubreaper() error { return errors.ErrUnsupported }

// parentDeathSignal is what a supervisor treats as a sign of its parent's
// death; only Linux sends it by itself (elsewhere the supervisor polls its
// parent).
const parentDeathSignal = syscall.SIGUSR2

// treeAndGroup needs /proc: without it the supervisor signals the group
// only.
func treeAndGroup(int, int) []procInfo { return nil }
