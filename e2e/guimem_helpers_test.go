package e2e

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// memory is what the kernel counts for one process, in kB as /proc
// reports it: RSS and PSS, and RSS by kind of mapping, which says where
// a difference is. Anon holds Go's heap and stacks and what C code maps
// (Mesa's buffers), CHeap is malloc's brk heap (Mesa, GLFW, SQLite),
// Files the binary and the shared libraries (LLVM for Mesa's llvmpipe).
type memory struct {
	RSS, PSS           int
	Anon, CHeap, Files int
}

// mb is kB in MB of 1024 kB, as /proc counts.
func mb(kB int) int { return (kB + 512) / 1024 }

func (m memory) String() string {
	return fmt.Sprintf("RSS %d MB (PSS %d MB; anonymous %d MB, malloc heap %d MB, files %d MB)",
		mb(m.RSS), mb(m.PSS), mb(m.Anon), mb(m.CHeap), mb(m.Files))
}

// readMemory reads VmRSS from /proc/PID/status, Pss from
// /proc/PID/smaps_rollup (0 when the kernel has no rollup) and the RSS of
// each kind of mapping from /proc/PID/smaps.
func readMemory(pid int) (memory, error) {
	var m memory
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	if m.RSS = procField(string(status), "VmRSS:"); m.RSS == 0 {
		return m, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	if rollup, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid)); err == nil {
		m.PSS = procField(string(rollup), "Pss:")
	}
	smaps, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return m, err
	}
	var kind *int
	for _, line := range strings.Split(string(smaps), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"): // a mapping's first line
			kind = &m.Anon // no name, [stack], [anon:…]
			if len(f) >= 6 && f[5] == "[heap]" {
				kind = &m.CHeap
			} else if len(f) >= 6 && strings.HasPrefix(f[5], "/") {
				kind = &m.Files
			}
		case len(f) >= 2 && f[0] == "Rss:" && kind != nil:
			n, _ := strconv.Atoi(f[1])
			*kind += n
		}
	}
	return m, nil
}

// procField returns the kB of the line starting with key ("VmRSS:").
func procField(text, key string) int {
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == key {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// find is layout.at with a short wait and no failure: it reports whether
// target showed within wait, holding still for two reads of the file
// (the window rewrites it twice a second).
func (l layout) find(target string, wait time.Duration) ([2]int, bool) {
	deadline := time.Now().Add(wait)
	var last [2]int
	seen := 0
	for {
		b, _ := os.ReadFile(l.path)
		var places map[string][2]int
		if json.Unmarshal(b, &places) == nil {
			if p, ok := places[target]; ok {
				if seen > 0 && p == last {
					return p, true
				}
				last, seen = p, seen+1
			} else {
				seen = 0
			}
		}
		if time.Now().After(deadline) {
			return [2]int{}, false
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// closeWindow asks the X client that owns window id (decimal, as xdotool
// prints it) to close it, the way a window manager's close button does:
// a WM_DELETE_WINDOW ClientMessage (ICCCM 4.2.8.1). GLFW turns it into
// the window's close request, which Fyne handles as the user's close.
// Xvfb has no window manager, and xdotool 3.2016 can only destroy a
// window from outside (which upsets GLX) or kill its client.
func closeWindow(display, id string) error {
	win, err := strconv.ParseUint(id, 10, 32)
	if err != nil {
		return fmt.Errorf("window id %q: %w", id, err)
	}
	c, err := dialX(display)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	protocols, err := internAtom(c, "WM_PROTOCOLS")
	if err != nil {
		return err
	}
	deleteWindow, err := internAtom(c, "WM_DELETE_WINDOW")
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	req := make([]byte, 44)
	req[0] = 25                        // SendEvent
	le.PutUint16(req[2:], 11)          // length in 4-byte units
	le.PutUint32(req[4:], uint32(win)) // destination
	// event mask 0: to the client that created the window
	ev := req[12:]
	ev[0] = 33 // ClientMessage
	ev[1] = 32 // format: 32-bit data
	le.PutUint32(ev[4:], uint32(win))
	le.PutUint32(ev[8:], protocols)
	le.PutUint32(ev[12:], deleteWindow) // data.l[0]; l[1] time: CurrentTime
	if _, err := c.Write(req); err != nil {
		return err
	}
	// SendEvent has no reply: GetInputFocus's reply says it was handled,
	// and an error (a window that is gone) comes before it.
	if _, err := c.Write([]byte{43, 0, 1, 0}); err != nil {
		return err
	}
	_, err = xReply(c)
	return err
}

// dialX opens an X connection on the server's Unix socket, without
// authorisation (Xvfb as startXvfb runs it needs none).
func dialX(display string) (net.Conn, error) {
	n := strings.TrimPrefix(strings.SplitN(display, ".", 2)[0], ":")
	c, err := net.Dial("unix", "/tmp/.X11-unix/X"+n)
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	setup := []byte{'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0} // little-endian, X11.0, no auth
	if _, err := c.Write(setup); err != nil {
		c.Close()
		return nil, err
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(c, head); err != nil {
		c.Close()
		return nil, err
	}
	rest := make([]byte, 4*int(binary.LittleEndian.Uint16(head[6:])))
	if _, err := io.ReadFull(c, rest); err != nil {
		c.Close()
		return nil, err
	}
	if head[0] != 1 {
		c.Close()
		reason := rest
		if head[0] == 0 && int(head[1]) <= len(rest) {
			reason = rest[:head[1]]
		}
		return nil, fmt.Errorf("X server %s refused the connection: %s", display, reason)
	}
	return c, nil
}

func internAtom(c net.Conn, name string) (uint32, error) {
	pad := (4 - len(name)%4) % 4
	req := make([]byte, 8+len(name)+pad)
	req[0] = 16 // InternAtom, only-if-exists false
	binary.LittleEndian.PutUint16(req[2:], uint16(len(req)/4))
	binary.LittleEndian.PutUint16(req[4:], uint16(len(name)))
	copy(req[8:], name)
	if _, err := c.Write(req); err != nil {
		return 0, err
	}
	r, err := xReply(c)
	if err != nil {
		return 0, fmt.Errorf("InternAtom %s: %w", name, err)
	}
	return binary.LittleEndian.Uint32(r[8:]), nil
}

// xReply reads the next reply, skipping events, and returns an X error
// as an error.
func xReply(c net.Conn) ([]byte, error) {
	for {
		b := make([]byte, 32)
		if _, err := io.ReadFull(c, b); err != nil {
			return nil, err
		}
		switch b[0] {
		case 0:
			return nil, fmt.Errorf("X error %d (bad value %d)", b[1], binary.LittleEndian.Uint32(b[4:]))
		case 1:
			if extra := binary.LittleEndian.Uint32(b[4:]); extra > 0 {
				more := make([]byte, 4*int(extra))
				if _, err := io.ReadFull(c, more); err != nil {
					return nil, err
				}
				b = append(b, more...)
			}
			return b, nil
		}
	}
}

// floorMemory runs the bare window, lets it settle, reads its memory and
// stops it.
func floorMemory(t *testing.T, x xdo, floorBin, home string) memory {
	t.Helper()
	cmd := exec.Command(floorBin)
	cmd.Env = append(withoutDBus(os.Environ()), "DISPLAY="+x.display, "LANG=en_US.UTF-8", "HOME="+home)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stop := sync.OnceFunc(func() { // waits once: done holds one value
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	defer stop()
	x.waitWindow("^fynefloor$")
	time.Sleep(5 * time.Second) // as long as devport settles
	m := mustMemory(t, cmd.Process.Pid)
	stop()
	x.waitGone("^fynefloor$")
	return m
}

func mustMemory(t *testing.T, pid int) memory {
	t.Helper()
	m, err := readMemory(pid)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// size is the window's width and height.
func (x xdo) size(win string) (int, int) {
	x.t.Helper()
	var w, h int
	for _, line := range strings.Split(x.run("getwindowgeometry", "--shell", win), "\n") {
		if v, ok := strings.CutPrefix(line, "WIDTH="); ok {
			w, _ = strconv.Atoi(v)
		}
		if v, ok := strings.CutPrefix(line, "HEIGHT="); ok {
			h, _ = strconv.Atoi(v)
		}
	}
	if w == 0 || h == 0 {
		x.t.Fatalf("no geometry for window %s", win)
	}
	return w, h
}

// listBand is how far below the list's top a listed control may be and
// still be clicked without scrolling: today's rows are 83 px apart, and
// the first three show in a 540 px window under its buttons and above
// the setup banner.
const listBand = 150

// wheelStep is how far one click of the mouse wheel scrolls a Fyne list.
const wheelStep = 25

// scrollTo turns the mouse wheel over the list until target, now at at,
// is near top (the place of the list's first control when scrolled to
// the top), and returns its new place. At the end of the list it stops
// lower down, where it is still in view.
func (x xdo) scrollTo(win string, l layout, target string, at [2]int, top int) [2]int {
	x.t.Helper()
	for range 4 {
		clicks, button := (at[1]-top)/wheelStep, "5" // down
		if at[1] < top {
			clicks, button = (top-at[1]+wheelStep-1)/wheelStep, "4" // up
		}
		if clicks == 0 {
			return at
		}
		x.run("mousemove", "--window", win, strconv.Itoa(at[0]), strconv.Itoa(top),
			"click", "--repeat", strconv.Itoa(clicks), "--delay", "10", button)
		time.Sleep(1100 * time.Millisecond) // the window rewrites the layout file twice a second
		next, ok := l.find(target, 2*time.Second)
		if !ok || next == at {
			return at // gone (the click then misses and the wait says so), or the end of the list
		}
		at = next
		if at[1] >= top && at[1] <= top+listBand {
			return at
		}
	}
	return at
}
