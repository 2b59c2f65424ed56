package gui

import (
	"context"
	"io"
	"sync"

	"github.com/devport/devport/app/wire"
)

// Engine is what the window drives: the engine it hosts (engine.Local),
// or a running engine it attached to through the control socket (Remote).
type Engine interface {
	List(ctx context.Context) ([]wire.ProjectStatus, error)
	Add(ctx context.Context, req wire.AddRequest) (wire.ProjectStatus, error)
	Start(ctx context.Context, name string) error
	Stop(ctx context.Context, name string) error
	Restart(ctx context.Context, name string) error
	Remove(ctx context.Context, name string) error
	// SetRuntime switches a service to another runtime (devport set).
	SetRuntime(ctx context.Context, name string, req wire.RuntimeRequest) (wire.ProjectStatus, error)
	// SetDebug runs a Python service under debugpy, or no longer (devport
	// debug NAME on|off); it refuses a taken port and uWSGI.
	SetDebug(ctx context.Context, name string, req wire.DebugRequest) (wire.ProjectStatus, error)
	// SetPHP sets the PHP version of a php service, "" to let devport
	// choose again (devport set NAME --php X.Y|auto); a running project
	// restarts on it.
	SetPHP(ctx context.Context, name string, req wire.PHPRequest) (wire.ProjectStatus, error)
	// SetXdebug loads Xdebug for a project's PHP, or leaves it out
	// (devport xdebug NAME on|off); it refuses when Xdebug is missing.
	SetXdebug(ctx context.Context, name string, req wire.XdebugRequest) (wire.ProjectStatus, error)
	// SetPHPIni changes a project's php.ini directives (devport set NAME
	// --php-ini); it refuses a bad key or value.
	SetPHPIni(ctx context.Context, name string, req wire.PHPIniRequest) (wire.ProjectStatus, error)
	// SetEnv changes the environment of a project's services (devport
	// set NAME --env, --env-unset); it refuses a bad name or value, and a
	// running project restarts on it.
	SetEnv(ctx context.Context, name string, req wire.EnvRequest) (wire.ProjectStatus, error)
	// SetHooks sets or clears a project's before_start hook (devport set
	// NAME --before-start); it runs from the next start.
	SetHooks(ctx context.Context, name string, req wire.HooksRequest) (wire.ProjectStatus, error)
	// AddRoute declares a route of a project (devport route NAME add),
	// and RemoveRoute removes a declared one (devport route NAME rm).
	AddRoute(ctx context.Context, name string, req wire.RouteRequest) (wire.RouteStatus, error)
	RemoveRoute(ctx context.Context, name, prefix string) error
	// Park makes every subfolder of dir a project (devport park).
	Park(ctx context.Context, dir string) (wire.ParkReport, error)
	// Subscribe returns change events and a function that ends them.
	Subscribe() (<-chan wire.Event, func())
	// Engine returns the engine's pid and ports.
	Engine(ctx context.Context) (wire.EngineInfo, error)
	// AddDataService adds a database, cache or mail catcher to a project
	// (devport service NAME add) and returns the project.
	AddDataService(ctx context.Context, name string, req wire.DataServiceRequest) (wire.ProjectStatus, error)
	// RemoveDataService removes one, keeping its data unless purge, and
	// says where the kept data is.
	RemoveDataService(ctx context.Context, name, service string, purge bool) (wire.DataServiceRemoval, error)
	// Database runs a database action (devport db): snapshot, snapshots,
	// restore, export, import, or follow with Tag "on" or "off".
	Database(ctx context.Context, action, name string, req wire.SnapshotRequest) (wire.DatabaseResult, error)
}

// Host is what the settings need beyond Engine; only a window that hosts
// the engine has it (nil when attached to another process's engine).
type Host interface {
	// TrustStatus checks each store (System and NSS) for the CA.
	TrustStatus(ctx context.Context) []wire.TrustState
	// ChangeTrust trusts or untrusts the CA in one store (wire.StoreSystem
	// or wire.StoreNSS) and reports what the store now says.
	ChangeTrust(ctx context.Context, store string, trust bool) (string, error)
	// DataDir is the engine's data folder, for the elevated trust command.
	DataDir() string
	Setting(ctx context.Context, key string) (string, bool, error)
	SetSetting(ctx context.Context, key, value string) error
	// NameStatus and UseHostsFile are the settings' Names card.
	NameStatus(ctx context.Context) (string, []wire.NameResult, error)
	UseHostsFile(ctx context.Context, elevate func(argv []string) error) ([]string, error)
	// SetupNeeds says what devport setup would put in order (the banner),
	// and FinishSetup runs it, asking for root through pkexec.
	SetupNeeds(ctx context.Context) []wire.SetupNeed
	FinishSetup(ctx context.Context) ([]wire.SetupStep, error)
}

// Checks are what the wizard asks about the folder being added, before
// anything is stored. They run in this process whichever engine stores the
// project: the folder is on this machine.
type Checks interface {
	// Detect says what runs the folder.
	Detect(dir string) (wire.Detection, error)
	// DescribeAdd says what `devport add` would create, one line per
	// service and route ("" for a single detected service), or the error
	// of a devport.toml that does not parse.
	DescribeAdd(req wire.AddRequest) (string, error)
	// CheckStack says whether stack's programs are installed.
	CheckStack(stack, dir string) error
	// CheckChain checks a chain prefix as `devport add --chain` would.
	CheckChain(dir, prefix string) error
	// CheckName and CheckDomain validate as the store will.
	CheckName(name string) error
	CheckDomain(domain string) error
	// NameFromFolder is the project name a folder suggests.
	NameFromFolder(dir string) string
	// TLDs are the top-level domains devport serves.
	TLDs() []string
	// DockerReason says why containers cannot run here, "" when they can.
	DockerReason(ctx context.Context) string
	// DetectData proposes the data services the folder shows it needs
	// (a WordPress config, a Laravel .env); the user picks which to add.
	DetectData(dir string) []wire.DataProposal
	// PHPVersions are the PHP versions a php service of runtime can run,
	// newest first: those the host's Apache can load (process), or those
	// php:X.Y-apache images exist for (container).
	PHPVersions(ctx context.Context, runtime string) []string
	// DescribeEnv says what the add preview says of a Python project's
	// environment: the one it has, or that it declares dependencies and
	// has none, which --venv (the wizard's venv box) creates; "" for a
	// project that is not a Python one.
	DescribeEnv(req wire.AddRequest) string
	// CreateVenv makes that .venv and installs the dependencies into it
	// (devport add --venv), writing its progress to out line by line;
	// remove deletes it again if it made it, for an add that then fails.
	CreateVenv(ctx context.Context, req wire.AddRequest, out io.Writer) (remove func() error, err error)
}

// Remote is the Engine of an engine another process runs. While anyone
// subscribes it follows the engine's event stream (GET /v1/events), so
// changes made elsewhere (the CLI, another window) show at once; it also
// announces the changes it makes itself, in case the stream is down. The
// stream says it is a window's (?window=1): a second launch of the window
// finds this one through the engine and raises it (wire.EventRaise).
func Remote(c *wire.Client) Engine { return &remote{c: c} }

type remote struct {
	c          *wire.Client
	mu         sync.Mutex
	next       int
	subs       map[int]chan wire.Event
	stopStream context.CancelFunc // ends the engine's event stream; nil when none is open
}

func (r *remote) List(ctx context.Context) ([]wire.ProjectStatus, error) { return r.c.List(ctx) }

func (r *remote) Engine(ctx context.Context) (wire.EngineInfo, error) { return r.c.Engine(ctx) }

func (r *remote) Add(ctx context.Context, req wire.AddRequest) (wire.ProjectStatus, error) {
	p, err := r.c.Add(ctx, req)
	if err == nil {
		r.emit(wire.Event{Kind: wire.EventAdded, Project: p.Name})
	}
	return p, err
}

func (r *remote) act(ctx context.Context, action, name string) error {
	p, err := r.c.Act(ctx, action, name)
	if err == nil {
		r.emit(wire.Event{Kind: wire.EventState, Project: name, State: p.State})
	}
	return err
}

func (r *remote) Start(ctx context.Context, name string) error   { return r.act(ctx, "start", name) }
func (r *remote) Stop(ctx context.Context, name string) error    { return r.act(ctx, "stop", name) }
func (r *remote) Restart(ctx context.Context, name string) error { return r.act(ctx, "restart", name) }

func (r *remote) Remove(ctx context.Context, name string) error {
	err := r.c.Remove(ctx, name)
	if err == nil {
		r.emit(wire.Event{Kind: wire.EventRemoved, Project: name})
	}
	return err
}

func (r *remote) SetRuntime(ctx context.Context, name string, req wire.RuntimeRequest) (wire.ProjectStatus, error) {
	p, err := r.c.SetRuntime(ctx, name, req)
	if err == nil {
		r.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	}
	return p, err
}

func (r *remote) SetDebug(ctx context.Context, name string, req wire.DebugRequest) (wire.ProjectStatus, error) {
	p, err := r.c.SetDebug(ctx, name, req)
	if err == nil {
		r.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	}
	return p, err
}

func (r *remote) SetPHP(ctx context.Context, name string, req wire.PHPRequest) (wire.ProjectStatus, error) {
	p, err := r.c.SetPHP(ctx, name, req)
	if err == nil {
		r.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	}
	return p, err
}

func (r *remote) SetXdebug(ctx context.Context, name string, req wire.XdebugRequest) (wire.ProjectStatus, error) {
	p, err := r.c.SetXdebug(ctx, name, req)
	if err == nil {
		r.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	}
	return p, err
}

func (r *remote) AddRoute(ctx context.Context, name string, req wire.RouteRequest) (wire.RouteStatus, error) {
	rt, err := r.c.AddRoute(ctx, name, req)
	if err == nil {
		r.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	}
	return rt, err
}

func (r *remote) RemoveRoute(ctx context.Context, name, prefix string) error {
	err := r.c.RemoveRoute(ctx, name, prefix)
	if err == nil {
		r.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	}
	return err
}

func (r *remote) SetPHPIni(ctx context.Context, name string, req wire.PHPIniRequest) (wire.ProjectStatus, error) {
	p, err := r.c.SetPHPIni(ctx, name, req)
	if err == nil {
		r.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	}
	return p, err
}

func (r *remote) SetEnv(ctx context.Context, name string, req wire.EnvRequest) (wire.ProjectStatus, error) {
	p, err := r.c.SetEnv(ctx, name, req)
	if err == nil {
		r.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	}
	return p, err
}

func (r *remote) SetHooks(ctx context.Context, name string, req wire.HooksRequest) (wire.ProjectStatus, error) {
	p, err := r.c.SetHooks(ctx, name, req)
	if err == nil {
		r.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	}
	return p, err
}

func (r *remote) Park(ctx context.Context, dir string) (wire.ParkReport, error) {
	rep, err := r.c.Park(ctx, dir)
	if err == nil {
		r.emit(wire.Event{Kind: wire.EventAdded})
	}
	return rep, err
}

func (r *remote) AddDataService(ctx context.Context, name string, req wire.DataServiceRequest) (wire.ProjectStatus, error) {
	p, err := r.c.AddDataService(ctx, name, req)
	if err == nil {
		r.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	}
	return p, err
}

func (r *remote) RemoveDataService(ctx context.Context, name, service string, purge bool) (wire.DataServiceRemoval, error) {
	rep, err := r.c.RemoveDataService(ctx, name, service, purge)
	if err == nil {
		r.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	}
	return rep, err
}

// Database announces only what changes a project's status (follow):
// snapshots and restores change the data, not the project.
func (r *remote) Database(ctx context.Context, action, name string, req wire.SnapshotRequest) (wire.DatabaseResult, error) {
	res, err := r.c.Database(ctx, action, name, req)
	if err == nil && action == "follow" {
		r.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	}
	return res, err
}

func (r *remote) Subscribe() (<-chan wire.Event, func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.subs == nil {
		r.subs = map[int]chan wire.Event{}
	}
	if len(r.subs) == 0 {
		ctx, cancel := context.WithCancel(context.Background())
		// A failed stream leaves the self-announced events, and the
		// Refresh button, as before.
		if _, err := r.c.WindowEvents(ctx, r.emit); err != nil {
			cancel()
		} else {
			r.stopStream = cancel
		}
	}
	id := r.next
	r.next++
	ch := make(chan wire.Event, 64)
	r.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			delete(r.subs, id)
			close(ch)
			if len(r.subs) == 0 && r.stopStream != nil {
				r.stopStream()
				r.stopStream = nil
			}
		})
	}
}

func (r *remote) emit(e wire.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ch := range r.subs {
		select {
		case ch <- e:
		default:
		}
	}
}
