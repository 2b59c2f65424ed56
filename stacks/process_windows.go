package stacks

import "syscall"

// On Windows the process runtime runs nothing (sys_windows.go); these
// keep it compiling.

func sysProcAttr() *syscall.SysProcAttr        { return &syscall.SysProcAttr{} }
func supervisorProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
func groupAlive(int) bool                      { return false }
