package stacks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// serverUIDs are the uids of the processes of group pgid.
func serverUIDs(t *testing.T, pgid int) map[int]string {
	t.Helper()
	out := map[int]string{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		if _, g, ok := procStat(p); !ok || g != pgid {
			continue
		}
		fi, err := os.Stat(filepath.Dir(p))
		if err != nil {
			continue
		}
		uid, _, _ := ownerIDs(fi)
		comm, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "comm"))
		out[int(uid)] += strings.TrimSpace(string(comm)) + " "
	}
	return out
}

// assertServerNotRoot checks, when the tests run as root, that the
// server's processes (not its supervisor) run as another account.
func assertServerNotRoot(t *testing.T, r Runner, server string) {
	t.Helper()
	requireLinux(t)
	if os.Geteuid() != 0 {
		t.Skip("runs as root only when the tests do")
	}
	uids := serverUIDs(t, dataPgid(t, r))
	if strings.Contains(uids[0], server) {
		t.Errorf("%s runs as root: processes by uid %v", server, uids)
	}
	found := false
	for uid, comms := range uids {
		found = found || (uid != 0 && strings.Contains(comms, server))
	}
	if !found {
		t.Errorf("no %s process of another account in the group: %v", server, uids)
	}
}
