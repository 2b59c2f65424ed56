package stacks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// groupEnv is the environment variable every process of a backend started
// by the process runtime carries, set to its Group's Token: a process with
// another (or no) token was not started by that backend, whatever its pid
// or process group.
const groupEnv = "DEVPORT_PROCESS_GROUP"

// Group identifies the process group of a backend the process runtime
// started, for good: the engine stores it (ProcessGroup) and hands what an
// earlier engine of the same data folder stored to KillGroups at its start,
// which kills what that engine left running. The fields are plain values,
// and JSON carries them.
type Group struct {
	// Pgid is the process group: the pid of its leader (the backend, or
	// its supervisor).
	Pgid int `json:"pgid"`
	// Start is when the leader started, in clock ticks after boot (field
	// 22 of /proc/PID/stat): a pid and its start time name one process.
	Start uint64 `json:"start"`
	// Boot is the kernel's boot id: pids and start times begin again with
	// every boot, and no process outlives one.
	Boot string `json:"boot"`
	// Token is the value of DEVPORT_PROCESS_GROUP in the environment of
	// every process the backend started (its workers inherit it).
	Token string `json:"token"`
}

// newGroup is the Group of the process group pid leads, started with token.
func newGroup(pid int, token string) Group {
	g := Group{Pgid: pid, Boot: bootID(), Token: token}
	if p, ok := readProc(pid); ok {
		g.Start = p.start
	}
	return g
}

// ProcessGroup returns the Group of the backend this runner runs, and
// false when none runs. Only the process runtime's runners (NewRunner) have
// the method; the engine asks for it through an interface of its own:
//
//	if pg, ok := runner.(interface{ ProcessGroup() (stacks.Group, bool) }); ok { ... }
//
// A restart after a crash starts a new group: record it after each Start.
func (r *procRunner) ProcessGroup() (Group, bool) {
	p := r.current()
	if p == nil || !p.running() {
		return Group{}, false
	}
	return p.group, true
}

// KillGroups kills what is left of groups, which an earlier engine of the
// same data folder recorded (ProcessGroup) and could not stop: killed by
// SIGKILL, its supervisors killed too, or started without one. It touches
// a process only when /proc proves it is one of them:
//
//   - the group's leader still runs with the recorded start time: every
//     member of its group;
//   - every process that started no earlier than the leader, in this boot,
//     and carries the group's token in its environment: the workers an
//     orphaned group keeps after its leader died, and what left the group.
//
// A pid reused by another process (another start time, no token) is never
// signalled, nor is anything of a group recorded in an earlier boot. It
// sends SIGKILL (nothing is left to stop them gracefully) and returns, with
// the number of processes killed, once they are gone or ctx ends. Without
// /proc (not Linux) it returns errors.ErrUnsupported.
func KillGroups(ctx context.Context, groups []Group) (int, error) {
	if len(groups) == 0 {
		return 0, nil
	}
	if _, ok := listProcs(); !ok {
		return 0, fmt.Errorf("kill leftover backends: %w", errors.ErrUnsupported)
	}
	targets := leftovers(groups, bootID())
	for _, p := range targets {
		_ = kill(p.pid, syscall.SIGKILL)
	}
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for {
		left := 0
		for _, p := range targets {
			if now, ok := readProc(p.pid); ok && now.start == p.start && now.live() {
				left++
			}
		}
		if left == 0 {
			return len(targets), nil
		}
		select {
		case <-ctx.Done():
			return len(targets) - left, fmt.Errorf("kill leftover backends: %d still running: %w", left, ctx.Err())
		case <-poll.C:
		}
	}
}

// leftovers are the live processes of groups recorded in boot (see
// KillGroups), found in one pass over /proc.
func leftovers(groups []Group, boot string) []procInfo {
	verified := map[int]bool{}    // groups whose leader still runs
	tokens := map[string]uint64{} // token => its leader's start
	for _, g := range groups {
		if g.Boot != boot || g.Pgid <= 1 {
			continue
		}
		if leader, ok := readProc(g.Pgid); ok && leader.start == g.Start && leader.pgid == g.Pgid && leader.live() {
			verified[g.Pgid] = true
		}
		if g.Token != "" {
			tokens[groupEnv+"="+g.Token] = g.Start
		}
	}
	procs, _ := listProcs()
	self := os.Getpid()
	var out []procInfo
	for _, p := range procs {
		if !p.live() || p.pid <= 1 || p.pid == self {
			continue
		}
		if verified[p.pgid] || carriesToken(p, tokens) {
			out = append(out, p)
		}
	}
	return out
}

// carriesToken reports whether p carries one of tokens (environment entry
// => the start of its group's leader) and started no earlier than that
// leader.
func carriesToken(p procInfo, tokens map[string]uint64) bool {
	if len(tokens) == 0 {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid) + "/environ")
	if err != nil {
		return false
	}
	for e := range bytes.SplitSeq(b, []byte{0}) {
		if start, ok := tokens[string(e)]; ok && p.start >= start {
			return true
		}
	}
	return false
}
