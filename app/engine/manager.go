package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/certs"
	"github.com/devport/devport/proxy"
	"github.com/devport/devport/resolve"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// TLDs are the top-level domains devport manages. The CA is name-constrained
// to them (plus localhost), so they are fixed when the CA is created.
var managedTLDs = []string{"test", "localhost"}

// Manager holds devport's use cases. The CLI (directly, or through the
// control API of a running engine) and later the GUI drive it.
type Manager struct {
	paths  Paths
	log    *slog.Logger
	db     *store.DB
	ca     *certs.Authority
	issuer *certs.Issuer

	// newRunner builds a backend runner; a field so the container runtime
	// can slot in beside the process one.
	newRunner func(stacks.Spec) (stacks.Runner, error)

	// srv is the proxy while the Manager serves (nil otherwise); httpsPort
	// is the port it listens on, for the URLs devport prints.
	srv       atomic.Pointer[proxy.Server]
	httpsPort atomic.Int64
	// phpImages are the PHP versions whose php:X.Y-apache image Docker had
	// when last asked (php.go), so that status shows the version a start
	// would choose without asking Docker again. Nil until then.
	phpImages atomic.Pointer[[]string]

	mu    sync.Mutex
	runs  map[string]*run        // by project name, only while not stopped
	locks map[string]*sync.Mutex // serialises start/stop/remove per project
	// starts are the cancel functions of the starts in progress, by
	// project: Stop cancels them before it waits for the project's lock.
	starts    map[string]map[int]context.CancelFunc
	nextStart int
	// crashes are the times each project's backends crashed lately
	// (lifecycle.go: crashLimit in crashWindow makes it failed).
	crashes map[string][]time.Time

	// pubMu serialises publish: the store read and the table swap of one
	// publish never interleave with another's.
	pubMu sync.Mutex

	// The background work of a Serve: crash watches and restart timers.
	bgMu     sync.Mutex
	bgCtx    context.Context
	bgCancel context.CancelFunc
	bgWG     sync.WaitGroup

	subs subscribers

	// windows are the windows open on this engine (window.go).
	windows windows

	// restoreMu serialises changes to the record of what runs (restore.go).
	restoreMu sync.Mutex

	// quit ends the Serve in progress (devport quit); nil when not serving.
	quit atomic.Pointer[context.CancelFunc]

	// caBundle is a file of the system roots plus devport's, which every
	// backend's TLS stack is pointed at, so an app can call other *.test
	// sites. Set once by Serve, before any project starts.
	caBundle string
	// processBundle is the bundle path local processes get: caBundle, or
	// as root a copy Apache's workers (another user) can read (shareBundle).
	processBundle string

	// hostsPath is the hosts file the "hosts" DNS method keeps in step.
	hostsPath string
	// supervisor is Options.Supervisor.
	supervisor []string

	// hosts maps every served domain to its project's primary domain, for
	// the certificate issuer. Rebuilt on every publish.
	hosts atomic.Pointer[map[string]string]

	// park is the state of the parked folders (park.go).
	park parking
}

// Options configure a Manager.
type Options struct {
	Paths  Paths
	Logger *slog.Logger // nil: discard
	// HostsPath is the hosts file the "hosts" DNS method manages; default
	// /etc/hosts. Tests point it at a file of their own.
	HostsPath string
	// Supervisor is the argv prefix that runs devport's supervisor
	// (SelfSupervisor: this binary's hidden subcommand), under which every
	// backend process and hook runs so that nothing outlives the engine,
	// even a killed one. Nil runs them directly (tests of this package,
	// whose binary has no such command).
	Supervisor []string
}

// NewManager opens the store and the CA (creating both on first use).
func NewManager(ctx context.Context, o Options) (*Manager, error) {
	if err := o.Paths.ensure(); err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := store.Open(ctx, store.Options{Path: o.Paths.DB(), TLDs: managedTLDs})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	ca, err := certs.Open(certs.Options{Dir: o.Paths.CA(), TLDs: managedTLDs})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open CA: %w", err)
	}
	m := &Manager{
		paths:      o.Paths,
		log:        log,
		db:         db,
		ca:         ca,
		newRunner:  stacks.NewRunner,
		hostsPath:  cmp.Or(o.HostsPath, resolve.DefaultHostsPath),
		supervisor: o.Supervisor,
		runs:       map[string]*run{},
		locks:      map[string]*sync.Mutex{},
		starts:     map[string]map[int]context.CancelFunc{},
		crashes:    map[string][]time.Time{},
	}
	empty := map[string]string{}
	m.hosts.Store(&empty)
	m.issuer = certs.NewIssuer(ca, m.certNames)
	m.issuer.OnIssue = func(names []string, _ time.Time) {
		m.event(context.Background(), store.Event{Kind: "cert-issued", Detail: strings.Join(names, " ")})
		m.emit(wire.Event{Kind: wire.EventCert, Detail: strings.Join(names, " ")})
	}
	return m, nil
}

// Close stops every running project and closes the store. It is safe to
// call after a failed start.
func (m *Manager) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), StopAllTimeout)
	defer cancel()
	err := m.StopAll(ctx)
	return errors.Join(err, m.db.Close())
}

// Paths returns where this Manager keeps its files.
func (m *Manager) Paths() Paths { return m.paths }

// CA returns the local certificate authority.
func (m *Manager) CA() *certs.Authority { return m.ca }

// lock returns the per-project lock, creating it on first use.
func (m *Manager) lock(name string) *sync.Mutex {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.locks[name]
	if !ok {
		l = &sync.Mutex{}
		m.locks[name] = l
	}
	return l
}

// event records an event, logging (not returning) a failure to do so: a
// full disk must not turn a successful start into a failed one.
func (m *Manager) event(ctx context.Context, e store.Event) {
	if err := m.db.AddEvent(ctx, e); err != nil {
		m.log.Warn("record event", "kind", e.Kind, "project", e.Project, "err", err)
	}
}
