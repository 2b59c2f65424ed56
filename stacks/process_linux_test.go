package stacks

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/devport/devport/internal/stackdef"
)

// TestPdeathsig kills a process that started a backend (a devport dying
// without Stop) and checks that the kernel kills the backend too.
func TestPdeathsig(t *testing.T) {
	requireStack(t, stackdef.Uvicorn)
	// The orphaned backend is reparented to the nearest subreaper. Be that,
	// so that this test can reap it: init on a container or microVM may not.
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); e != 0 {
		t.Skipf("prctl(PR_SET_CHILD_SUBREAPER): %v", e)
	}
	defer syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 0, 0)

	spec := uvicornSpec(t, map[string]string{"main.py": fastAPIApp})
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	helper := exec.Command(os.Args[0])
	helper.Env = append(os.Environ(), helperEnv+"="+string(b))
	helper.Stderr = os.Stderr
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var pgid int
	select {
	case l := <-lines:
		if _, err := fmt.Sscanf(l, "pgid %d", &pgid); err != nil {
			helper.Process.Kill()
			helper.Wait()
			t.Fatalf("helper said %q", l)
		}
	case <-time.After(20 * time.Second):
		helper.Process.Kill()
		helper.Wait()
		t.Fatal("helper did not start the backend")
	}
	t.Cleanup(func() { // only matters when Pdeathsig failed: kill and reap
		if syscall.Kill(-pgid, syscall.SIGKILL) != nil {
			return
		}
		for range 200 {
			var ws syscall.WaitStatus
			if wpid, _ := syscall.Wait4(pgid, &ws, syscall.WNOHANG, nil); wpid == pgid {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})

	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	helper.Wait()

	deadline := time.Now().Add(5 * time.Second)
	for {
		var ws syscall.WaitStatus
		wpid, err := syscall.Wait4(pgid, &ws, syscall.WNOHANG, nil)
		if wpid == pgid {
			if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Errorf("backend ended with %v, want SIGKILL", ws)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backend %d still alive 5 s after its parent died (wait4: %v)", pgid, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	assertGroupGone(t, pgid)
}
