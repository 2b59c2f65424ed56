package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// backendProcs are the live processes whose environment says they belong
// to a backend (or hook) of the engine of home: devport's process runtime
// marks every process of a backend's tree with DEVPORT_PROCESS_GROUP, and
// they inherit DEVPORT_HOME from the engine. The engine's own pid is left
// out. Zombies do not count.
func backendProcs(home string, engine int) map[int]string {
	out := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, en := range entries {
		pid, err := strconv.Atoi(en.Name())
		if err != nil || pid == engine || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", en.Name(), "environ"))
		if err != nil || !bytes.Contains(env, []byte("DEVPORT_HOME="+home+"\x00")) || !bytes.Contains(env, []byte("DEVPORT_PROCESS_GROUP=")) {
			continue
		}
		if st, err := os.ReadFile(filepath.Join("/proc", en.Name(), "stat")); err != nil || bytes.Contains(st, []byte(") Z ")) {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join("/proc", en.Name(), "cmdline"))
		out[pid] = strings.ReplaceAll(strings.TrimRight(string(cmd), "\x00"), "\x00", " ")
	}
	return out
}

func describe(ps map[int]string) string {
	var lines []string
	for pid, cmd := range ps {
		lines = append(lines, fmt.Sprintf("%d %s", pid, cmd))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestKilledEngineLeavesNothing SIGKILLs an engine that runs every stack
// as processes (Apache with its prefork children, uvicorn, gunicorn with
// two workers, uWSGI) and one in a container. No process of the backends'
// trees may survive it. Then, worse, it SIGKILLs an engine together with
// every supervisor at once: the next engine of the data folder ends what
// is left before it starts anything, and runs exactly one set of
// backends; the container is adopted, not doubled.
func TestKilledEngineLeavesNothing(t *testing.T) {
	testenv.Tool(t, "apache2")
	testenv.Tool(t, "uwsgi")
	testenv.Need(t, "python3-uvicorn and python3-fastapi", haveUvicorn(), testenv.InstallFix)
	needDocker(t)
	e := newEnv(t)
	type site struct{ name, example, stack, runtime string }
	sites := []site{
		{"shop", "php-shop", "", ""},
		{"api", "fastapi-api", "", ""},
		{"guni", "fastapi-api", "gunicorn", ""},
		{"flask", "flask-app", "uwsgi", ""},
		{"boxed", "php-shop", "", "container"},
	}
	var names []string
	for _, s := range sites {
		args := []string{"add", e.copyExample(s.example, s.name), "--name", s.name}
		if s.stack != "" {
			args = append(args, "--stack", s.stack)
		}
		if s.runtime != "" {
			args = append(args, "--runtime", s.runtime, "--image", phpImage)
		}
		e.mustRun(args...)
		names = append(names, s.name)
	}
	serve := func() *engine {
		return e.serve("--start", strings.Join(names, ","), "--https-port", fmt.Sprint(freePort(t)), "--http-port", fmt.Sprint(freePort(t)))
	}
	gone := func(what string, ps map[int]string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			left := map[int]string{}
			for pid, cmd := range ps {
				if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && !bytes.Contains(st, []byte(") Z ")) {
					left[pid] = cmd
				}
			}
			if len(left) == 0 {
				return
			}
			if time.Now().After(deadline) {
				for pid := range left {
					syscall.Kill(pid, syscall.SIGKILL)
				}
				t.Fatalf("%s: %d processes survived:\n%s", what, len(left), describe(left))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	containers := func() int {
		out, err := exec.Command("docker", "ps", "-q", "--filter", "label=devport.home="+e.home).Output()
		if err != nil {
			t.Fatal(err)
		}
		return len(strings.Fields(string(out)))
	}

	t.Run("the engine alone", func(t *testing.T) {
		g := serve()
		before := backendProcs(e.home, g.cmd.Process.Pid)
		if len(before) < 8 { // supervisors, Apache and children, uvicorn, gunicorn and 2 workers, uWSGI...
			t.Fatalf("only %d backend processes run:\n%s", len(before), describe(before))
		}
		if err := g.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-g.done
		gone("after SIGKILL of the engine", before)
	})

	t.Run("the engine and every supervisor at once", func(t *testing.T) {
		g := serve()
		before := backendProcs(e.home, g.cmd.Process.Pid)
		var supervisors []int
		for pid, cmd := range before {
			if strings.Contains(cmd, " __supervise ") {
				supervisors = append(supervisors, pid)
			}
		}
		if len(supervisors) != 4 {
			t.Fatalf("%d supervisors, want one per process backend (4):\n%s", len(supervisors), describe(before))
		}
		// One instant: the engine and its supervisors (kill -9 of the lot).
		for _, pid := range append(supervisors, g.cmd.Process.Pid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		<-g.done
		time.Sleep(500 * time.Millisecond)
		left := backendProcs(e.home, 0)
		t.Logf("%d processes outlived their supervisors (Apache's children, workers); the next engine ends them", len(left))

		g2 := serve()
		defer g2.stop(t)
		if len(left) > 0 && !strings.Contains(g2.output(), "backend processes an earlier engine left running") {
			t.Errorf("the new engine did not say it ended the leftovers:\n%s", g2.output())
		}
		gone("after the next engine started", left)
		now := backendProcs(e.home, g2.cmd.Process.Pid)
		n := 0
		for _, cmd := range now {
			if strings.Contains(cmd, " __supervise ") {
				n++
			}
		}
		if n != 4 {
			t.Errorf("%d supervisors after the restart, want exactly one set (4):\n%s", n, describe(now))
		}
		if c := containers(); c != 1 {
			t.Errorf("%d containers after the restart, want the one, adopted", c)
		}
		for _, s := range sites {
			if st, why := e.lsState(s.name); st != "running" {
				t.Errorf("%s: %s (%s)", s.name, st, why)
			}
		}
	})
	assertNoProcesses(t, e.root)
}
