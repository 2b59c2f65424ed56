package e2e

import (
	"bufio"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// trayHost is a private session bus with a minimal tray host on it: an
// org.kde.StatusNotifierWatcher that accepts registrations. With it the
// window sets its tray for real, and the test drives the tray menu over
// DBus (com.canonical.dbusmenu) as a panel would.
type trayHost struct {
	t       *testing.T
	addr    string
	conn    *dbus.Conn
	items   chan string // registered StatusNotifierItem services
	pid     int
	watcher *watcher
}

type watcher struct{ items chan string }

// RegisterStatusNotifierItem is the call a tray icon makes to appear.
func (w *watcher) RegisterStatusNotifierItem(service string, sender dbus.Sender) *dbus.Error {
	if !strings.HasPrefix(service, ":") && !strings.HasPrefix(service, "org.") {
		service = string(sender)
	}
	select {
	case w.items <- service:
	default:
	}
	return nil
}

func startTrayHost(t *testing.T) *trayHost {
	t.Helper()
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon address: %v", err)
	}
	h := &trayHost{t: t, addr: strings.TrimSpace(addr), items: make(chan string, 4), pid: cmd.Process.Pid}
	conn, err := dbus.Connect(h.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	h.conn = conn
	h.watcher = &watcher{items: h.items}
	if err := conn.Export(h.watcher, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own org.kde.StatusNotifierWatcher: %v %v", reply, err)
	}
	return h
}

// item waits for the tray icon of pid to register and returns its service.
func (h *trayHost) item(pid int) string {
	h.t.Helper()
	want := fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", pid)
	deadline := time.After(30 * time.Second)
	for {
		select {
		case s := <-h.items:
			if s == want || strings.HasPrefix(s, ":") {
				return want
			}
		case <-deadline:
			h.t.Fatalf("no tray icon registered for pid %d", pid)
		}
	}
}

type menuEntry struct {
	id    int32
	label string
	kids  []menuEntry
}

// menu reads the tray menu of service.
func (h *trayHost) menu(service string) menuEntry {
	h.t.Helper()
	var rev uint32
	var root []any
	call := h.conn.Object(service, "/StatusNotifierMenu").Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{})
	if call.Err != nil {
		h.t.Fatalf("GetLayout: %v", call.Err)
	}
	if len(call.Body) != 2 {
		h.t.Fatalf("GetLayout body: %v", call.Body)
	}
	rev, _ = call.Body[0].(uint32)
	_ = rev
	root, ok := call.Body[1].([]any)
	if !ok {
		h.t.Fatalf("GetLayout layout: %T", call.Body[1])
	}
	return parseEntry(root)
}

func parseEntry(v []any) menuEntry {
	var e menuEntry
	if len(v) != 3 {
		return e
	}
	e.id, _ = v[0].(int32)
	if props, ok := v[1].(map[string]dbus.Variant); ok {
		if l, ok := props["label"]; ok {
			e.label, _ = l.Value().(string)
		}
	}
	kids, _ := v[2].([]dbus.Variant)
	for _, k := range kids {
		if kv, ok := k.Value().([]any); ok {
			e.kids = append(e.kids, parseEntry(kv))
		}
	}
	return e
}

// find returns the entry at the path of label prefixes.
func (e menuEntry) find(path ...string) (menuEntry, bool) {
	if len(path) == 0 {
		return e, true
	}
	for _, k := range e.kids {
		if strings.HasPrefix(k.label, path[0]) {
			return k.find(path[1:]...)
		}
	}
	return menuEntry{}, false
}

func (e menuEntry) labels() []string {
	var out []string
	for _, k := range e.kids {
		out = append(out, k.label)
	}
	return out
}

// click waits for the entry at path to appear and clicks it.
func (h *trayHost) click(service string, path ...string) {
	h.t.Helper()
	var e, root menuEntry
	last := ""
	waitFor(h.t, "tray entry "+strings.Join(path, " > "), func() bool {
		var ok bool
		root = h.menu(service)
		e, ok = root.find(path...)
		if !ok && root.String() != last {
			last = root.String()
			h.t.Logf("tray menu: %s", last)
		}
		return ok
	})
	call := h.conn.Object(service, "/StatusNotifierMenu").Call("com.canonical.dbusmenu.Event", 0, e.id, "clicked", dbus.MakeVariant(""), uint32(0))
	if call.Err != nil {
		h.t.Fatalf("click %v: %v", path, call.Err)
	}
}

func (e menuEntry) String() string {
	var kids []string
	for _, k := range e.kids {
		kids = append(kids, k.String())
	}
	if len(kids) == 0 {
		return fmt.Sprintf("%d:%q", e.id, e.label)
	}
	return fmt.Sprintf("%d:%q[%s]", e.id, e.label, strings.Join(kids, " "))
}
