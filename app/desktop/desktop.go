// Package desktop launches devport's window: it is the only package that
// imports fyne.io/fyne/v2/app (GL, GLFW, the system tray) and godbus, so
// the CLI and every unit test stay free of them. main passes Open to
// cli.RunWithWindow. It wires the window (app/gui) to the engine: the one
// it hosts (engine.Local, engine.Host) or a running one (wire.Client).
package desktop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"github.com/godbus/dbus/v5"

	"github.com/devport/devport/app/cli"
	"github.com/devport/devport/app/engine"
	"github.com/devport/devport/app/gui"
	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/assets"
)

// AppID is the application ID (FyneApp.toml has the same).
const AppID = "dev.devport.app"

// raiseTimeout bounds asking the open window to come to the front.
const raiseTimeout = 10 * time.Second

// Open shows the window and blocks until the user quits or ctx ends. It
// hosts the engine (Manager.Serve in the background), or attaches to one
// that already answers on the control socket. When a window is already
// open on that engine (hosting it, or attached to it), it asks that one to
// come to the front and start o.Start, and returns nil at once: one
// window, one tray icon.
// trimCHeap hands the C heap's free memory back to the system after a
// window closed (gui.Options.TrimCHeap); set where there is a way to
// (trim_linux.go), nil elsewhere.
var trimCHeap func()

func Open(ctx context.Context, o cli.WindowOptions) error {
	stderr := o.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	unlock, err := engine.LockWindow(o.Paths)
	if errors.Is(err, engine.ErrWindowOpen) {
		// Another window is open, or starting (two launches at once):
		// it answers once its engine (or the one it attaches to) does.
		if err := raiseOther(ctx, o); err != nil {
			return err
		}
		fmt.Fprintln(stderr, raisedMessage(o))
		return nil
	}
	if err != nil {
		return err
	}
	defer unlock()
	c, raised, err := raiseOpen(ctx, o)
	if err != nil || raised {
		if raised {
			fmt.Fprintln(stderr, raisedMessage(o))
		}
		return err
	}
	a := fyneapp.NewWithID(AppID)
	a.SetIcon(fyne.NewStaticResource("devport.png", assets.Icon))
	tray := false
	switch {
	case !haveSessionBus():
		fmt.Fprintln(stderr, "devport: no DBus session bus, so no tray icon; closing the window quits")
	case !haveTrayHost():
		fmt.Fprintln(stderr, "devport: no system tray on the session bus; closing the window quits")
	default:
		tray = true
	}

	eng, host, serve, err := connect(ctx, o, c, stderr)
	if err != nil {
		return err
	}
	if h, ok := host.(engine.Host); ok {
		// Before the engine serves: a second launch that reaches the
		// control socket finds this window.
		defer h.Manager.AttachWindow()()
	}
	u := gui.New(a, gui.Options{
		Engine:    eng,
		Host:      host,
		Checks:    engine.Checks{},
		AccessLog: o.Paths.AccessLog,
		Tray:      tray,
		TrimCHeap: trimCHeap,
		// The pane's "Open in terminal" and "Open in editor" (README).
		Terminal: os.Getenv("DEVPORT_TERMINAL"),
		Editor:   os.Getenv("DEVPORT_EDITOR"),
		Icons: gui.TrayIcons{
			Stopped: fyne.NewStaticResource("tray-stopped.png", assets.TrayStopped),
			Running: fyne.NewStaticResource("tray-running.png", assets.TrayRunning),
			Error:   fyne.NewStaticResource("tray-error.png", assets.TrayError),
		},
	})
	defer u.Close()
	var wg sync.WaitGroup
	var serveErr error
	// quit ends the app's loop once: the engine stopping (devport quit)
	// and a signal can both ask, and a fyne.Do after the loop has ended
	// would run a.Quit off the main goroutine.
	quit := sync.OnceFunc(func() {
		u.Close() // nothing may draw once the loop has ended
		fyne.Do(a.Quit)
	})
	loopDone := make(chan struct{}) // closed when a.Run returns
	sctx, stopServe := context.WithCancel(ctx)
	if serve != nil {
		o.Serve.Out = io.MultiWriter(stderr, u.EngineOutput())
		wg.Add(1)
		go func() {
			defer wg.Done()
			serveErr = serve(sctx, o.Serve)
			switch {
			case sctx.Err() != nil: // the window is closing and stopped it
			case serveErr != nil:
				fmt.Fprintln(stderr, "devport: engine:", serveErr)
				fyne.Do(func() {
					u.Status.SetText("The engine stopped: " + serveErr.Error())
					u.Show()
				})
			default: // devport quit: the engine is gone, and the window goes with it
				quit()
			}
		}()
	}
	go startProjects(sctx, u, eng, serve != nil, o.Start, stderr)
	if path := os.Getenv("DEVPORT_LAYOUT_FILE"); path != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			writeLayout(sctx, a, u, path)
		}()
	}
	go func() {
		select {
		case <-ctx.Done(): // a signal
			select {
			case <-loopDone: // ended meanwhile: nothing to quit
			default:
				quit()
			}
		case <-loopDone: // the loop ended otherwise (the window's Quit)
		}
	}()
	if !o.Minimized || !tray {
		u.Show()
	}
	a.Run()
	close(loopDone)
	u.Close() // no more drawing: the projects stop after the window is gone
	stopServe()
	wg.Wait()
	if h, ok := host.(engine.Host); ok {
		return errors.Join(serveErr, h.Close())
	}
	return serveErr
}

type serveFunc func(context.Context, engine.ServeOptions) error

// raiseOpen looks for an engine on the control socket. When a window is
// open on it, it asks that one to come to the front (unless o.Minimized)
// and start o.Start, and reports raised. Otherwise it returns the client
// of an engine that runs headless (the window attaches to it), or nil
// when none answers (the window hosts one).
func raiseOpen(ctx context.Context, o cli.WindowOptions) (c *wire.Client, raised bool, err error) {
	c, err = wire.Dial(ctx, o.Paths.Control())
	if errors.Is(err, wire.ErrEngineDown) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	rctx, cancel := context.WithTimeout(ctx, raiseTimeout)
	defer cancel()
	err = c.Raise(rctx, wire.RaiseRequest{Show: !o.Minimized, Start: o.Start})
	switch {
	case err == nil:
		return c, true, nil
	case errors.Is(err, wire.ErrNoWindow):
		return c, false, nil
	}
	return nil, false, fmt.Errorf("ask the devport window that is open to come to the front: %w", err)
}

// raisedMessage says what a launch that found the open window did.
func raisedMessage(o cli.WindowOptions) string {
	did := "brought it to the front"
	if o.Minimized {
		did = "left it where it is"
	}
	if len(o.Start) > 0 {
		did += " and asked it to start " + strings.Join(o.Start, ", ")
	}
	return "devport: a devport window is already open: " + did
}

// raiseWait bounds how long a launch waits for a window that is starting
// to answer (its engine binds its ports, opens its store and its CA).
const raiseWait = 30 * time.Second

// raiseOther asks the window another process opens (it holds the window
// lock) to come to the front, waiting until that window is on an engine
// that answers.
func raiseOther(ctx context.Context, o cli.WindowOptions) error {
	ctx, cancel := context.WithTimeout(ctx, raiseWait)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		_, raised, err := raiseOpen(ctx, o)
		if raised {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			if err == nil {
				err = ctx.Err()
			}
			return fmt.Errorf("a devport window is open or starting for %s, but it does not answer on %s: %w", o.Paths.Data, o.Paths.Control(), err)
		}
	}
}

// connect attaches to the running engine c, or when c is nil opens a
// Manager to host one.
func connect(ctx context.Context, o cli.WindowOptions, c *wire.Client, stderr io.Writer) (gui.Engine, gui.Host, serveFunc, error) {
	if c != nil {
		fmt.Fprintln(stderr, "devport: attached to the engine on", o.Paths.Control())
		return gui.Remote(c), nil, nil, nil
	}
	m, err := engine.NewManager(ctx, engine.Options{Paths: o.Paths, Logger: slog.New(slog.NewTextHandler(stderr, nil)),
		Supervisor: engine.SelfSupervisor()})
	if err != nil {
		return nil, nil, nil, err
	}
	return engine.Local{M: m}, engine.Host{Manager: m}, m.Serve, nil
}

// startProjects starts the --start projects once the engine is ready.
func startProjects(ctx context.Context, u *gui.UI, e gui.Engine, hosted bool, names []string, stderr io.Writer) {
	if len(names) == 0 {
		return
	}
	if hosted {
		select {
		case <-u.EngineOutput().Ready():
		case <-ctx.Done():
			return
		}
	}
	for _, n := range names {
		if err := e.Start(ctx, n); err != nil {
			fmt.Fprintf(stderr, "devport: start %s: %v\n", n, err)
			msg := err.Error()
			fyne.Do(func() { u.Status.SetText(msg) })
		}
	}
}

// haveSessionBus reports whether a DBus session bus answers. Without one
// the tray must not be set: Fyne's systray then panics on quit. Only a bus
// that already runs counts: godbus would otherwise autolaunch a
// dbus-daemon (through dbus-launch) that outlives devport, so when there
// is none, autolaunch is switched off for this process (notifications then
// fail quietly instead).
func haveSessionBus() bool {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		rt := os.Getenv("XDG_RUNTIME_DIR")
		if fi, err := os.Stat(filepath.Join(rt, "bus")); rt == "" || err != nil || fi.Mode()&os.ModeSocket == 0 {
			os.Setenv("DBUS_SESSION_BUS_ADDRESS", "disabled:")
			return false
		}
	}
	conn, err := dbus.SessionBusPrivate()
	if err != nil {
		return false
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return false
	}
	return conn.Hello() == nil
}

// haveTrayHost reports whether a tray host (a StatusNotifierWatcher) is on
// the session bus. Without one a tray icon would be invisible, so closing
// the window must quit rather than hide it.
func haveTrayHost() bool {
	conn, err := dbus.SessionBusPrivate()
	if err != nil {
		return false
	}
	defer conn.Close()
	if conn.Auth(nil) != nil || conn.Hello() != nil {
		return false
	}
	var has bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&has)
	return err == nil && has
}

// writeLayout writes where the window's controls are (gui.UI.Targets),
// twice a second until ctx ends, for tests that click them under Xvfb:
// one JSON object, name => [x, y] of the control's centre in the window
// (absent while it is hidden).
func writeLayout(ctx context.Context, a fyne.App, u *gui.UI, path string) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		places := map[string][2]int{}
		done := make(chan struct{})
		fyne.Do(func() {
			defer close(done)
			for name, o := range u.Targets() {
				if o == nil || !o.Visible() {
					continue
				}
				p, s := a.Driver().AbsolutePositionForObject(o), o.Size()
				places[name] = [2]int{int(p.X + s.Width/2), int(p.Y + s.Height/2)}
			}
		})
		select {
		case <-done:
		case <-ctx.Done():
			return
		}
		if b, err := json.Marshal(places); err == nil {
			tmp := path + ".tmp"
			if os.WriteFile(tmp, b, 0o644) == nil {
				_ = os.Rename(tmp, path)
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}
