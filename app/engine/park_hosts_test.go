package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// TestParkHostsBlock: with the hosts method on, parking a folder of many
// projects puts every name into the hosts block in one write (without
// root each write is a sudo call), and unpark takes them out again.
func TestParkHostsBlock(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts")
	const before = "127.0.0.1 localhost\n"
	if err := os.WriteFile(hosts, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(ctx, Options{Paths: Paths{Data: filepath.Join(dir, "d"), Logs: filepath.Join(dir, "l"), Run: filepath.Join(dir, "r")}, HostsPath: hosts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if err := m.SetDNSMethod(ctx, dnsHosts); err != nil {
		t.Fatal(err)
	}
	sites := filepath.Join(dir, "sites")
	files := map[string]string{}
	const n = 12
	for i := range n {
		files[fmt.Sprintf("site%02d/index.html", i)] = "<p>hello</p>"
	}
	writeFiles(t, sites, files)

	w, err := fsnotify.NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Add(dir); err != nil {
		t.Fatal(err)
	}
	writes := func() int {
		count := 0
		for {
			select {
			case ev := <-w.Events:
				if filepath.Base(ev.Name) == "hosts" && (ev.Has(fsnotify.Create) || ev.Has(fsnotify.Write)) {
					count++
				}
			case <-time.After(300 * time.Millisecond):
				return count
			}
		}
	}

	if _, err := m.Park(ctx, sites); err != nil {
		t.Fatal(err)
	}
	got := writes()
	block, _ := os.ReadFile(hosts)
	for i := range n {
		if name := fmt.Sprintf("site%02d.test", i); !strings.Contains(string(block), name) {
			t.Errorf("%s is not in the hosts block:\n%s", name, block)
		}
	}
	if got != 1 {
		t.Errorf("parking %d projects wrote the hosts file %d times, want once", n, got)
	}

	if _, err := m.Unpark(ctx, sites); err != nil {
		t.Fatal(err)
	}
	writes()
	if after, _ := os.ReadFile(hosts); string(after) != before {
		t.Errorf("after unpark the hosts file is\n%s\nwant\n%s", after, before)
	}
}
