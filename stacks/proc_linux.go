package stacks

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// prSetChildSubreaper is prctl's PR_SET_CHILD_SUBREAPER (linux/prctl.h).
const prSetChildSubreaper = 36

// setSubreaper makes this process the subreaper of its descendants: an
// orphan among them is reparented to it, not to init, so that it stays in
// reach (and is reaped here).
func setSubreaper() error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); e != 0 {
		return e
	}
	return nil
}

// parentDeathSignal is the signal the kernel sends a supervisor whose
// parent (the engine) dies: one it can catch, so that it takes the
// backend's whole tree down with it, and not the one a stop sends. The
// kernel also sends it when the engine's thread that started the
// supervisor ends while the engine lives on (Go retires a thread whose
// goroutine exits while locked to it); the supervisor tells the two apart
// by its parent, which changes only in the first case.
const parentDeathSignal = syscall.SIGUSR2

// procInfo is one process as /proc/PID/stat shows it.
type procInfo struct {
	pid, ppid, pgid int
	state           byte   // R, S, D, Z (zombie), X (dead), ...
	start           uint64 // clock ticks after boot: with pid, it names one process for good
}

// live reports whether the process still runs (a zombie does not).
func (p procInfo) live() bool { return p.state != 'Z' && p.state != 'X' }

// readProc reads /proc/PID/stat; ok is false when there is no such process.
func readProc(pid int) (procInfo, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procInfo{}, false
	}
	return parseStat(pid, b)
}

// parseStat parses the contents of /proc/PID/stat: "pid (comm) state ppid
// pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
// cutime cstime priority nice threads itrealvalue starttime ...". comm may
// hold spaces and parentheses, so the fields are counted from its last ')'.
func parseStat(pid int, b []byte) (procInfo, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procInfo{}, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 20 || len(f[0]) != 1 {
		return procInfo{}, false
	}
	p := procInfo{pid: pid, state: f[0][0]}
	var err1, err2, err3 error
	p.ppid, err1 = strconv.Atoi(string(f[1]))
	p.pgid, err2 = strconv.Atoi(string(f[2]))
	p.start, err3 = strconv.ParseUint(string(f[19]), 10, 64)
	return p, err1 == nil && err2 == nil && err3 == nil
}

// listProcs lists every process; ok is false without a readable /proc.
func listProcs() ([]procInfo, bool) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil || len(dirs) == 0 {
		return nil, false
	}
	out := make([]procInfo, 0, len(dirs))
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			out = append(out, p)
		}
	}
	return out, true
}

// treeAndGroup lists the processes below pid (its descendants, however
// deep) and the members of process group pgid, pid itself left out.
func treeAndGroup(pid, pgid int) []procInfo {
	procs, _ := listProcs()
	in := map[int]bool{pid: true}
	for grew := true; grew; {
		grew = false
		for _, p := range procs {
			if !in[p.pid] && in[p.ppid] {
				in[p.pid], grew = true, true
			}
		}
	}
	var out []procInfo
	for _, p := range procs {
		if p.pid != pid && (in[p.pid] || p.pgid == pgid) {
			out = append(out, p)
		}
	}
	return out
}

// bootID identifies this boot of the kernel: process start times count
// from it, and pids restart with it.
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
