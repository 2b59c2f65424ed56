package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

// TestRenameRunningSite renames a running PHP site through the engine, as
// a user does once the folder's name no longer fits: devport rename shop
// store. Apache comes back under the new name, store.test serves the page,
// shop.test gets the unknown-host page, and no Apache of the old name is
// left running.
func TestRenameRunningSite(t *testing.T) {
	testenv.Tool(t, "apache2")
	testenv.Tool(t, "curl")
	e := newEnv(t)
	e.mustRun("add", e.copyExample("php-shop", "shop"))
	port := freePort(t)
	g := e.serve("--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)), "--start", "shop")
	defer g.stop(t)
	ca := filepath.Join(e.home, "ca", "root.pem")
	if a := httpsGet(t, ca, "shop.test", port, "/"); a.status != 200 {
		t.Fatalf("shop.test before the rename: %d %s", a.status, a.body)
	}

	out := e.mustRun("rename", "shop", "store")
	if want := fmt.Sprintf("shop is now store at https://store.test:%d/ (running)", port); !strings.Contains(out, want) {
		t.Errorf("rename said %q, want %q", out, want)
	}
	if a := httpsGet(t, ca, "store.test", port, "/"); a.status != 200 || !strings.Contains(a.body, "php-shop says hello") {
		t.Errorf("store.test after the rename: %d %s", a.status, a.body)
	}
	if a := httpsGet(t, ca, "shop.test", port, "/"); a.status == 200 {
		t.Errorf("shop.test still serves the site after the rename: %s", a.body)
	}
	if left := processesMentioning(filepath.Join(e.home, "run", "shop-")); len(left) > 0 {
		t.Errorf("Apache of the old name still runs: %v", left)
	}
	if ls := e.mustRun("ls"); !strings.Contains(ls, "store") || strings.Contains(ls, "shop.test") {
		t.Errorf("ls after the rename:\n%s", ls)
	}
}
