package e2e

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

// TestRestore: what ran when the engine stopped runs again on the next
// launch, whether the engine quit (SIGTERM) or was killed (SIGKILL: the
// record is written as projects start, not at quit); a project the user
// stopped does not, and --no-restore starts nothing and forgets.
func TestRestore(t *testing.T) {
	testenv.Need(t, "apache2", testenv.Have("apache2") || fileExists("/usr/sbin/apache2"), testenv.InstallFix)
	e := newEnv(t)
	e.mustRun("add", e.copyExample("php-shop", "shop"))
	e.mustRun("add", e.copyExample("php-shop", "blog"))
	serve := func(args ...string) *engine {
		return e.serve(append([]string{"--https-port", fmt.Sprint(freePort(t)), "--http-port", fmt.Sprint(freePort(t))}, args...)...)
	}
	waitState := func(name, want string) {
		t.Helper()
		waitFor(t, name+" "+want, func() bool { st, _ := e.lsState(name); return st == want })
	}

	g := serve()
	e.mustRun("start", "shop")
	e.mustRun("start", "blog")
	e.mustRun("stop", "blog") // the user stopped it: not restored
	if err := g.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-g.done

	tests := []struct {
		name      string
		args      []string
		shop      string
		inOutput  string
		sigkilled bool
	}{
		{name: "after SIGKILL", shop: "running", inOutput: "starting again what ran when devport last stopped: shop"},
		{name: "after a quit", shop: "running", inOutput: "starting again what ran when devport last stopped: shop"},
		{name: "--no-restore", args: []string{"--no-restore"}, shop: "stopped"},
		{name: "after --no-restore", shop: "stopped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := serve(tc.args...)
			defer func() {
				if err := g.stop(t); err != nil {
					t.Errorf("engine exit: %v\n%s", err, g.output())
				}
			}()
			waitState("shop", tc.shop)
			if st, _ := e.lsState("blog"); st != "stopped" {
				t.Errorf("blog is %s: the user stopped it before", st)
			}
			if out := g.output(); (tc.inOutput == "") == strings.Contains(out, "starting again") || !strings.Contains(out, tc.inOutput) {
				t.Errorf("engine output lacks %q (or says it restores when it should not):\n%s", tc.inOutput, out)
			}
		})
	}
}
