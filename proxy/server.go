package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Listener timeouts. There is no read or write timeout on purpose: bodies
// may stream for minutes (uploads, server-sent events, websockets).
const (
	// readHeaderTimeout bounds how long a client may take to send its
	// request headers.
	readHeaderTimeout = 30 * time.Second
	// idleTimeout closes a keep-alive connection that sent nothing for
	// this long (browsers keep theirs for about 5 minutes at most).
	idleTimeout = 2 * time.Minute
)

// Config configures a Server. The zero value is usable: it listens
// nowhere and answers in plain text.
type Config struct {
	// HTTPSAddrs are the TLS listeners, e.g. {"127.0.0.1:443", "[::1]:443"}.
	// Port 0 picks a free port; later addresses with port 0 then reuse the
	// port the first listener got, so IPv4 and IPv6 share one port. An
	// IPv6 loopback address is skipped when the machine has no IPv6.
	HTTPSAddrs []string
	// HTTPAddrs are the plain listeners, which only redirect to HTTPS.
	HTTPAddrs []string
	// GetCertificate returns the certificate for a TLS handshake (the
	// certs package's Issuer). Required when HTTPSAddrs is not empty.
	GetCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	// Pages are the 404 and 502 pages; nil templates give plain text.
	Pages Pages
	// Logger receives backend failures and listener errors; nil discards.
	Logger *slog.Logger
	// HoldTimeout is how long a request to a route whose backend is
	// starting (Route.Pending) waits for it before it is answered with
	// the route as it then is. Zero takes DefaultHoldTimeout (60 s); a
	// negative value holds nothing.
	HoldTimeout time.Duration
	// AccessLog, when set, gets one entry per routed request. The caller
	// owns it: Close it after Shutdown. It tells Logger when it cannot
	// write, unless its own AccessLogConfig.Logger is set.
	AccessLog *AccessLog
}

// Server is the proxy: HTTPS listeners that route to backends, and HTTP
// listeners that redirect to them. Create it with New, give it routes with
// SetRoutes (before or after Start), then Start and eventually Shutdown.
type Server struct {
	cfg      Config
	log      *slog.Logger
	errLog   *log.Logger // for net/http and httputil, at debug level
	bufs     *bufferPool
	gzips    gzipPool
	recs     sync.Pool // *recorder, for the access log
	trs      *transports
	upgrades *upgrades
	// stopping is closed when Shutdown begins: requests held for a
	// starting backend are answered at once.
	stopping chan struct{}

	active atomic.Pointer[active]
	// acts is each project's traffic, by project (activity.go); replaced
	// by install, the activities themselves kept across tables.
	acts      atomic.Pointer[map[string]*activity]
	httpsPort atomic.Int32
	httpPort  atomic.Int32

	routesMu sync.Mutex // serialises SetRoutes

	mu        sync.Mutex // guards state, servers, listeners
	state     serverState
	servers   []*http.Server
	listeners []net.Listener
	serving   sync.WaitGroup // the Serve goroutines
}

type serverState int

const (
	stateNew serverState = iota
	stateStarted
	stateClosed
)

// New returns a Server with an empty route table: until SetRoutes, every
// host gets the unknown-host page.
func New(cfg Config) *Server {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.AccessLog != nil {
		cfg.AccessLog.useLogger(logger)
	}
	s := &Server{
		cfg:      cfg,
		log:      logger,
		errLog:   slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
		bufs:     &bufferPool{},
		trs:      newTransports(),
		upgrades: newUpgrades(),
		stopping: make(chan struct{}),
	}
	s.active.Store(s.install(NewTable(nil)))
	return s
}

// SetRoutes installs t atomically. Requests already in flight finish on
// the table they started with, open keep-alive and websocket connections
// stay open, and the next request on any connection uses t. A nil t
// removes every route.
func (s *Server) SetRoutes(t *Table) {
	if t == nil {
		t = NewTable(nil)
	}
	s.routesMu.Lock()
	defer s.routesMu.Unlock()
	s.active.Store(s.install(t))
}

// HTTPSPort is the port the HTTPS listeners are bound to, 0 before Start.
func (s *Server) HTTPSPort() int { return int(s.httpsPort.Load()) }

// HTTPPort is the port the HTTP listeners are bound to, 0 before Start.
func (s *Server) HTTPPort() int { return int(s.httpPort.Load()) }

// Start binds every listener and serves them in the background until
// Shutdown. ctx bounds the binding only. If any address cannot be bound,
// Start closes the ones it did bind and returns a *BindError; it may then
// be called again. A Server starts at most once: later calls, and calls
// after Shutdown, return ErrStarted.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateNew {
		return ErrStarted
	}
	if len(s.cfg.HTTPSAddrs) > 0 && s.cfg.GetCertificate == nil {
		return errors.New("proxy: Config.GetCertificate is required for HTTPS listeners")
	}
	httpsLns, err := bindGroup(ctx, s.cfg.HTTPSAddrs, s.log)
	if err != nil {
		return err
	}
	httpLns, err := bindGroup(ctx, s.cfg.HTTPAddrs, s.log)
	if err != nil {
		closeAll(httpsLns)
		return err
	}
	s.state = stateStarted
	s.httpsPort.Store(int32(portOf(httpsLns)))
	s.httpPort.Store(int32(portOf(httpLns)))

	if len(httpsLns) > 0 {
		srv := &http.Server{
			Handler: http.HandlerFunc(s.serveHTTPS),
			TLSConfig: &tls.Config{
				MinVersion:     tls.VersionTLS12,
				GetCertificate: s.cfg.GetCertificate,
				NextProtos:     []string{"h2", "http/1.1"},
			},
			Protocols:         new(http.Protocols),
			ReadHeaderTimeout: readHeaderTimeout,
			IdleTimeout:       idleTimeout,
			ErrorLog:          s.errLog, // TLS handshake errors from curious clients
		}
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetHTTP2(true)
		s.serve(srv, httpsLns, func(ln net.Listener) error { return srv.ServeTLS(ln, "", "") })
	}
	if len(httpLns) > 0 {
		srv := &http.Server{
			Handler:           http.HandlerFunc(s.redirect),
			Protocols:         new(http.Protocols),
			ReadHeaderTimeout: readHeaderTimeout,
			IdleTimeout:       idleTimeout,
			ErrorLog:          s.errLog,
		}
		srv.Protocols.SetHTTP1(true)
		s.serve(srv, httpLns, srv.Serve)
	}
	return nil
}

// serve runs srv on each listener in its own goroutine, owned by the
// Server: Shutdown stops and waits for them.
func (s *Server) serve(srv *http.Server, lns []net.Listener, serve func(net.Listener) error) {
	s.servers = append(s.servers, srv)
	s.listeners = append(s.listeners, lns...)
	for _, ln := range lns {
		s.serving.Go(func() {
			if err := serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("proxy listener stopped", "addr", ln.Addr().String(), "err", err)
			}
		})
	}
}

// Shutdown stops the listeners, closes upgraded (websocket) connections,
// and waits for in-flight requests to finish, or for ctx to be done, in
// which case it closes the remaining connections and returns ctx's error.
// It is safe to call before Start, after a failed Start, and twice.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return nil
	}
	s.state = stateClosed
	servers, lns := s.servers, s.listeners
	s.mu.Unlock()
	close(s.stopping)

	// First the websockets: http.Server.Shutdown does not know them.
	s.upgrades.closeAll()
	var (
		errMu sync.Mutex
		errs  []error
		wg    sync.WaitGroup
	)
	for _, srv := range servers {
		wg.Go(func() {
			if err := srv.Shutdown(ctx); err != nil {
				_ = srv.Close()
				errMu.Lock()
				errs = append(errs, err)
				errMu.Unlock()
			}
		})
	}
	wg.Wait()
	closeAll(lns) // in case a Serve goroutine had not started yet
	s.serving.Wait()
	if err := s.upgrades.wait(ctx); err != nil {
		errs = append(errs, err)
	}
	s.trs.closeIdle()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("proxy: shutdown: %w", err)
	}
	return nil
}

// bindGroup binds addrs, the listeners of one kind. Port 0 resolves to the
// port of the first listener, so "127.0.0.1:0" and "[::1]:0" share one.
// When that port happens to be taken on a later address, it starts over
// with a new port (a few times).
func bindGroup(ctx context.Context, addrs []string, logger *slog.Logger) ([]net.Listener, error) {
	const attempts = 5
	for attempt := 1; ; attempt++ {
		lns, retry, err := tryBind(ctx, addrs, logger)
		if err == nil || !retry || attempt == attempts {
			return lns, err
		}
	}
}

// tryBind binds addrs once. retry reports whether a port chosen by the
// system for an earlier address turned out to be taken on a later one.
func tryBind(ctx context.Context, addrs []string, logger *slog.Logger) (lns []net.Listener, retry bool, err error) {
	var lc net.ListenConfig
	var skipped error
	port := "" // the first listener's port
	for _, addr := range addrs {
		host, p, err := net.SplitHostPort(addr)
		if err != nil {
			closeAll(lns)
			return nil, false, &BindError{Addr: addr, Err: err}
		}
		auto := p == "" || p == "0"
		bindAddr := addr
		if auto && port != "" {
			bindAddr = net.JoinHostPort(host, port)
		}
		ln, err := lc.Listen(ctx, "tcp", bindAddr)
		if err != nil {
			if ip := net.ParseIP(host); ip != nil && ip.To4() == nil && (ip.IsLoopback() || ip.IsUnspecified()) && noIPv6(err) {
				logger.Info("IPv6 is not available; not listening on it", "addr", addr, "err", err)
				skipped = err
				continue
			}
			closeAll(lns)
			be := newBindError(bindAddr, err)
			return nil, auto && port != "" && be.InUse, be
		}
		if port == "" {
			port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		}
		lns = append(lns, ln)
	}
	if len(lns) == 0 && skipped != nil {
		return nil, false, &BindError{Addr: addrs[0], Err: skipped}
	}
	return lns, false, nil
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		_ = ln.Close()
	}
}

// portOf is the port of the first listener, 0 when there is none.
func portOf(lns []net.Listener) int {
	if len(lns) == 0 {
		return 0
	}
	if a, ok := lns[0].Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}
