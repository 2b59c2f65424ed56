package stacks

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// sysProcAttr puts the backend in its own process group, so Stop can signal
// everything it spawns, and has the kernel SIGKILL it if devport dies
// without stopping it. (Pdeathsig fires when the OS thread that forked
// exits; Go only retires threads whose goroutine exits while locked to it,
// which never happens on the path that calls exec.Cmd.Start here.)
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// supervisorProcAttr starts a supervisor (Supervise) as the leader of the
// backend's process group, with a parent-death signal it can catch: it
// then takes the backend's whole tree down before it exits.
func supervisorProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: parentDeathSignal}
}

// supervisedChildAttr is how a supervisor starts its command: in the
// supervisor's group, and killed by the kernel should the supervisor itself
// be killed (its workers then wait for KillGroups).
func supervisedChildAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// groupAlive reports whether a live process is still in group pgid.
// kill(-pgid, 0) answers for the common case. When it says "present", the
// members may all be zombies: dead processes whose new parent does not reap
// them (a container's init often does not). They hold nothing but a pid, so
// /proc decides whether any member is still running.
func groupAlive(pgid int) bool {
	if errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH) {
		return false
	}
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 { // no /proc: trust kill
		return true
	}
	for _, path := range stats {
		state, group, ok := procStat(path)
		if ok && group == pgid && state != 'Z' && state != 'X' {
			return true
		}
	}
	return false
}

// procStat reads the state and process group from a /proc/PID/stat file.
func procStat(path string) (state byte, pgid int, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, false
	}
	// "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	g, err := strconv.Atoi(string(f[2]))
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], g, true
}
