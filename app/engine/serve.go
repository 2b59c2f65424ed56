package engine

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/assets"
	"github.com/devport/devport/proxy"
)

// Default and fallback ports. The fallbacks are unprivileged, so they work
// for any user when 443/80 cannot be bound.
const (
	defaultHTTPSPort  = 443
	defaultHTTPPort   = 80
	fallbackHTTPSPort = 8443
	fallbackHTTPPort  = 8080
)

const (
	settingHTTPSPort = "engine.https_port"
	settingHTTPPort  = "engine.http_port"
)

// ServeOptions configure an engine.
type ServeOptions struct {
	HTTPSPort, HTTPPort int       // 0: 443/80, falling back to 8443/8080 when refused
	Start               []string  // projects to start once the proxy listens
	Out                 io.Writer // progress lines for the user; nil: discard
	// Restore starts again, in the background, the projects that were
	// running when the last engine of this data folder stopped (quit or
	// was killed); false forgets them instead (--no-restore). See
	// restore.go.
	Restore bool
	// TuneGC has the collector run less often (proxy.TuneGC): the proxy's
	// hot path allocates per request. The headless engine sets it; the
	// window's process does not, because there the same setting lets every
	// window built grow the heap's headroom, which a desktop app then keeps
	// (docs/performance.md, "Window memory").
	TuneGC bool
}

// Serve runs the engine: it binds the proxy on loopback, opens the control
// socket, starts the requested projects, and blocks until ctx is done. Then
// it stops every project, closes the listeners and returns nil.
func (m *Manager) Serve(ctx context.Context, o ServeOptions) (err error) {
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	ctx, quit := context.WithCancel(ctx)
	defer quit()
	m.quit.Store(&quit)
	defer m.quit.Store(nil)
	unlock, err := m.lockEngine()
	if err != nil {
		return err
	}
	defer unlock()
	m.killLeftovers(ctx, out) // orphans.go: what a killed engine left running
	m.startBackground()       // crash watches and restart timers; StopAll ends them
	if o.TuneGC {
		proxy.TuneGC()
	}
	if m.caBundle, err = m.ca.WriteBundle(); err != nil {
		return err
	}
	if m.processBundle, err = m.shareBundle(m.caBundle); err != nil {
		return err
	}

	// The proxy's access log, one file per project; closed after the
	// proxy's Shutdown (defers run last-registered first).
	al, err := proxy.NewAccessLog(proxy.AccessLogConfig{
		Path: m.paths.AccessLog,
		// The proxy logs each episode once; the window and attached
		// clients hear of it as a warning, and of its end.
		OnError: func(err error) {
			m.emit(wire.Event{Kind: wire.EventWarning, Detail: fmt.Sprintf("the access log cannot be written (%v): requests are served, but not logged; free some disk space", err)})
		},
		OnRecover: func() { m.emit(wire.Event{Kind: wire.EventWarning, Detail: "the access log is written again"}) },
	})
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		err = errors.Join(err, al.Close(cctx))
	}()

	// The --start projects are starting before the proxy accepts its
	// first connection: their requests wait for them (Route.Pending)
	// rather than finding a stopped project.
	restore := m.toRestore(ctx, o, out) // restore.go
	m.mu.Lock()
	for _, name := range append(slices.Clip(o.Start), restore...) {
		if _, err := m.db.Project(ctx, name); err == nil && m.runs[name] == nil {
			m.runs[name] = &run{state: wire.StateStarting, ready: newGate()}
		}
	}
	m.mu.Unlock()
	srv, err := m.listen(ctx, o, out, al)
	if err != nil {
		return err
	}
	m.srv.Store(srv)
	m.httpsPort.Store(int64(srv.HTTPSPort()))
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), StopAllTimeout)
		defer cancel()
		err = errors.Join(err, m.StopAll(sctx), srv.Shutdown(sctx))
		m.srv.Store(nil)
		m.httpsPort.Store(0)
	}()
	for k, v := range map[string]int{settingHTTPSPort: srv.HTTPSPort(), settingHTTPPort: srv.HTTPPort()} {
		if err := m.db.SetSetting(ctx, k, strconv.Itoa(v)); err != nil {
			return fmt.Errorf("record port: %w", err)
		}
	}
	m.publish()

	defer m.startResolver(ctx, out)()

	ctl, err := m.serveControl(ctx)
	if err != nil {
		return err
	}
	defer ctl.Close()
	fmt.Fprintf(out, "devport: serving https on 127.0.0.1:%d and [::1]:%d, http on port %d redirects to https\n",
		srv.HTTPSPort(), srv.HTTPSPort(), srv.HTTPPort())

	for _, name := range o.Start {
		if err := m.Start(ctx, name); err != nil {
			return err
		}
		fmt.Fprintf(out, "devport: %s is running at %s\n", name, m.siteURL(m.primaryDomain(ctx, name)))
	}
	// Containers of the projects just started were adopted; the rest of
	// what a killed engine left behind goes now.
	m.reconcileContainers(ctx, out)
	// After the reconcile, which would remove a container a restore is
	// adopting: a restored project in a container starts a fresh one.
	m.restore(restore, out) // restore.go: in the background; a failure fails that project only
	m.startParking(ctx)     // park_watch.go: watch the parked folders, stop their idle projects
	fmt.Fprintf(out, "devport: ready (control socket %s); press Ctrl-C to stop\n", m.paths.Control())
	<-ctx.Done()
	fmt.Fprintln(out, "devport: stopping")
	return nil
}

// LastPorts are the HTTPS and HTTP ports the last engine of this data
// folder listened on ("" when none has run), so a background engine
// started by the CLI listens where URLs already point.
func (m *Manager) LastPorts(ctx context.Context) (https, http string) {
	https, _, _ = m.db.Setting(ctx, settingHTTPSPort)
	http, _, _ = m.db.Setting(ctx, settingHTTPPort)
	return https, http
}

func (m *Manager) primaryDomain(ctx context.Context, name string) string {
	p, err := m.db.Project(ctx, name)
	if err != nil || len(p.Domains) == 0 {
		return name
	}
	return p.Domains[0]
}

// listen binds the proxy. When the default ports are refused (not root and
// no capability) or taken, it says why and falls back to 8443/8080; ports
// the user asked for explicitly are never silently replaced when taken.
func (m *Manager) listen(ctx context.Context, o ServeOptions, out io.Writer, al *proxy.AccessLog) (*proxy.Server, error) {
	https, http := o.HTTPSPort, o.HTTPPort
	if https == 0 {
		https = defaultHTTPSPort
	}
	if http == 0 {
		http = defaultHTTPPort
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	bind := func(https, http int) (*proxy.Server, error) {
		srv := proxy.New(proxy.Config{
			HTTPSAddrs:     loopback(https),
			HTTPAddrs:      loopback(http),
			GetCertificate: m.issuer.GetCertificate,
			Pages:          pages,
			Logger:         m.log,
			AccessLog:      al,
		})
		m.publishTo(srv) // the table is there before the first connection
		return srv, srv.Start(ctx)
	}
	srv, err := bind(https, http)
	var be *proxy.BindError
	if err == nil || !errors.As(err, &be) {
		return srv, err
	}
	port := portOf(be.Addr)
	switch {
	case be.Permission && port < 1024:
		fmt.Fprintf(out, "devport: cannot bind %s: only root may bind ports below 1024. To use %d, run once:\n"+
			"  sudo setcap cap_net_bind_service=+ep %s\n"+
			"or allow it for everyone: sudo sysctl net.ipv4.ip_unprivileged_port_start=80\n"+
			"devport: using %d/%d instead; URLs will show the port\n",
			be.Addr, port, executable(), fallbackHTTPSPort, fallbackHTTPPort)
	case be.InUse && o.HTTPSPort == 0 && o.HTTPPort == 0:
		fmt.Fprintf(out, "devport: %s is in use by %s; using %d/%d instead\n",
			be.Addr, describeHolder(port), fallbackHTTPSPort, fallbackHTTPPort)
	case be.InUse:
		return nil, fmt.Errorf("port %d is in use by %s: stop it, or pick another port with --https-port/--http-port: %w", port, describeHolder(port), err)
	default:
		return nil, err
	}
	srv, err = bind(fallbackHTTPSPort, fallbackHTTPPort)
	if err != nil {
		return nil, fmt.Errorf("fallback ports %d/%d: %w; pick free ones with --https-port and --http-port", fallbackHTTPSPort, fallbackHTTPPort, err)
	}
	return srv, nil
}

func loopback(port int) []string {
	p := strconv.Itoa(port)
	return []string{net.JoinHostPort("127.0.0.1", p), net.JoinHostPort("::1", p)}
}

func portOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}

func executable() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return "devport"
}

func parsePages() (proxy.Pages, error) {
	unknown, err := template.New("unknown-host").Parse(assets.UnknownHostPage)
	if err != nil {
		return proxy.Pages{}, fmt.Errorf("unknown-host page: %w", err)
	}
	bad, err := template.New("bad-gateway").Parse(assets.BadGatewayPage)
	if err != nil {
		return proxy.Pages{}, fmt.Errorf("bad-gateway page: %w", err)
	}
	return proxy.Pages{UnknownHost: unknown, BadGateway: bad}, nil
}

// errLocked is a lock another process holds.
var errLocked = errors.New("locked")

// lockEngine makes sure one engine at a time serves a data dir, so two
// never fight over ports or backends. The lock is an flock, which the
// kernel releases even when the engine is killed.
func (m *Manager) lockEngine() (func(), error) {
	path := filepath.Join(m.paths.Data, "engine.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("engine lock: %w", err)
	}
	if err := lockFile(f); err != nil { // sys_unix.go
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("an engine is already running for %s (control socket %s): use devport start/stop, or stop that engine first", m.paths.Data, m.paths.Control())
		}
		return nil, fmt.Errorf("engine lock %s: %w", path, err)
	}
	f.Truncate(0)
	fmt.Fprintf(f, "%d\n%s\n", os.Getpid(), time.Now().Format(time.RFC3339))
	return func() { f.Close() }, nil
}
