//go:build !unix

package cli

import (
	"os"
	"syscall"
)

// detached is the best this system offers: a background engine there
// cannot run anyway (the engine needs Linux or macOS).
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

// processAlive reports whether pid exists.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	return err == nil && p != nil
}
