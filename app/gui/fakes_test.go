package gui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
)

// Fakes of what the window is given, for tests about what it asks rather
// than what the engine then does (the rig in helpers_test.go runs a real
// engine). They import no engine: they build while it is being changed.

// dataEngine is an Engine that keeps projects in memory and records the
// data-service calls the window makes: these tests are about what the
// window asks, not about running MariaDB (e2e/data_test.go does that).
type dataEngine struct {
	mu        sync.Mutex
	projects  []wire.ProjectStatus
	calls     []string
	added     []wire.AddRequest
	snapshots []wire.Snapshot
	// fail is the error of the next data call (then cleared).
	fail error
	// addFail is the error of every Add.
	addFail error
	subs    []chan wire.Event
	listed  chan struct{} // a token per List call
}

func newDataEngine(ps ...wire.ProjectStatus) *dataEngine {
	return &dataEngine{projects: ps, listed: make(chan struct{}, 64)}
}

func (f *dataEngine) record(format string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
	err := f.fail
	f.fail = nil
	return err
}

// Calls returns the calls so far and forgets them.
func (f *dataEngine) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func (f *dataEngine) List(context.Context) ([]wire.ProjectStatus, error) {
	defer func() {
		select {
		case f.listed <- struct{}{}:
		default: // nobody counts them in this test
		}
	}()
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]wire.ProjectStatus, len(f.projects))
	for i, p := range f.projects {
		p.Data = slices.Clone(p.Data)
		out[i] = p
	}
	return out, nil
}

func (f *dataEngine) Add(_ context.Context, req wire.AddRequest) (wire.ProjectStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.addFail != nil {
		return wire.ProjectStatus{}, f.addFail
	}
	f.added = append(f.added, req)
	p := wire.ProjectStatus{Name: req.Name, URL: "https://" + req.Domain + "/", Domains: []string{req.Domain}, State: wire.StateStopped}
	f.projects = append(f.projects, p)
	return p, nil
}

func (f *dataEngine) Start(context.Context, string) error   { return nil }
func (f *dataEngine) Stop(context.Context, string) error    { return nil }
func (f *dataEngine) Restart(context.Context, string) error { return nil }
func (f *dataEngine) Remove(context.Context, string) error  { return nil }
func (f *dataEngine) SetRuntime(context.Context, string, wire.RuntimeRequest) (wire.ProjectStatus, error) {
	return wire.ProjectStatus{}, errors.New("not in this test")
}

// SetDebug records the call and stores the flag, or fails with fail (the
// engine's refusal of a taken port, say).
func (f *dataEngine) SetDebug(_ context.Context, name string, req wire.DebugRequest) (wire.ProjectStatus, error) {
	if err := f.record("debug %s %s %v", name, req.Service, req.On); err != nil {
		return wire.ProjectStatus{}, err
	}
	return f.change(name, func(p *wire.ProjectStatus) {
		p.Services = slices.Clone(p.Services)
		for j := range p.Services {
			if p.Services[j].Name == req.Service {
				p.Services[j].Debug = req.On
			}
		}
	})
}

// change applies fn to the project called name, stored, and returns it.
func (f *dataEngine) change(name string, fn func(*wire.ProjectStatus)) (wire.ProjectStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.projects {
		if f.projects[i].Name == name {
			fn(&f.projects[i])
			return f.projects[i], nil
		}
	}
	return wire.ProjectStatus{}, errors.New("no project " + name)
}

// SetXdebug records the call and stores the flag, or fails with fail
// (the engine's refusal when Xdebug is missing, say).
func (f *dataEngine) SetXdebug(_ context.Context, name string, req wire.XdebugRequest) (wire.ProjectStatus, error) {
	if err := f.record("xdebug %s %v", name, req.On); err != nil {
		return wire.ProjectStatus{}, err
	}
	return f.change(name, func(p *wire.ProjectStatus) { p.Xdebug = req.On })
}

// SetPHP records the call and stores the version as set (auto: the
// newest the fake knows, as chosen), or fails with fail.
func (f *dataEngine) SetPHP(_ context.Context, name string, req wire.PHPRequest) (wire.ProjectStatus, error) {
	if err := f.record("php %s %s %q", name, req.Service, req.Version); err != nil {
		return wire.ProjectStatus{}, err
	}
	return f.change(name, func(p *wire.ProjectStatus) {
		for j, s := range p.Services {
			if s.Name == req.Service {
				s.PHP, s.PHPFrom = req.Version, "set"
				if req.Version == "" {
					s.PHP, s.PHPFrom = "8.4", "newest"
				}
				p.Services[j] = s
			}
		}
	})
}

// SetPHPIni records the call and stores the change, or fails with fail
// (the engine's refusal of a bad value, say).
func (f *dataEngine) SetPHPIni(_ context.Context, name string, req wire.PHPIniRequest) (wire.ProjectStatus, error) {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(req.Set)) {
		parts = append(parts, k+"="+req.Set[k])
	}
	for _, k := range req.Unset {
		parts = append(parts, "-"+k)
	}
	if err := f.record("php.ini %s %s", name, strings.Join(parts, " ")); err != nil {
		return wire.ProjectStatus{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, p := range f.projects {
		if p.Name == name {
			ini := maps.Clone(p.PHPIni)
			if ini == nil {
				ini = map[string]string{}
			}
			maps.Copy(ini, req.Set)
			for _, k := range req.Unset {
				delete(ini, k)
			}
			p.PHPIni = ini
			f.projects[i] = p
			return p, nil
		}
	}
	return wire.ProjectStatus{}, errors.New("no project " + name)
}

// SetEnv records the call ("env NAME SERVICE: K=V -K; ...") and stores
// the change, or fails with fail.
func (f *dataEngine) SetEnv(_ context.Context, name string, req wire.EnvRequest) (wire.ProjectStatus, error) {
	var changes []string
	for _, se := range req.Services {
		parts := []string{se.Service + ":"}
		for _, k := range slices.Sorted(maps.Keys(se.Set)) {
			parts = append(parts, k+"="+se.Set[k])
		}
		for _, k := range se.Unset {
			parts = append(parts, "-"+k)
		}
		changes = append(changes, strings.Join(parts, " "))
	}
	if err := f.record("env %s %s", name, strings.Join(changes, "; ")); err != nil {
		return wire.ProjectStatus{}, err
	}
	return f.change(name, func(p *wire.ProjectStatus) {
		p.Services = slices.Clone(p.Services)
		for _, se := range req.Services {
			for j, s := range p.Services {
				if s.Name != se.Service {
					continue
				}
				env := maps.Clone(s.Env)
				if env == nil {
					env = map[string]string{}
				}
				maps.Copy(env, se.Set)
				for _, k := range se.Unset {
					delete(env, k)
				}
				p.Services[j].Env = env
			}
		}
	})
}

// SetHooks records the call and stores the hook, or fails with fail.
func (f *dataEngine) SetHooks(_ context.Context, name string, req wire.HooksRequest) (wire.ProjectStatus, error) {
	if err := f.record("hooks %s %q", name, req.BeforeStart); err != nil {
		return wire.ProjectStatus{}, err
	}
	return f.change(name, func(p *wire.ProjectStatus) { p.BeforeStart = req.BeforeStart })
}

func (f *dataEngine) AddRoute(_ context.Context, name string, req wire.RouteRequest) (wire.RouteStatus, error) {
	kind, target := "service", req.Service
	switch {
	case req.Static != "":
		kind, target = "static", req.Static
	case req.URL != "":
		kind, target = "url", req.URL
	}
	if err := f.record("route %s add %s %s %s strip=%v", name, req.Prefix, kind, target, req.Strip); err != nil {
		return wire.RouteStatus{}, err
	}
	rt := wire.RouteStatus{Prefix: req.Prefix, Kind: kind, Target: target, Strip: req.Strip, Declared: true}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.projects {
		if f.projects[i].Name == name {
			f.projects[i].Routes = append(f.projects[i].Routes, rt)
		}
	}
	return rt, nil
}

func (f *dataEngine) RemoveRoute(_ context.Context, name, prefix string) error {
	if err := f.record("route %s rm %s", name, prefix); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.projects {
		if f.projects[i].Name == name {
			f.projects[i].Routes = slices.DeleteFunc(f.projects[i].Routes, func(r wire.RouteStatus) bool { return r.Prefix == prefix })
		}
	}
	return nil
}

func (f *dataEngine) Park(context.Context, string) (wire.ParkReport, error) {
	return wire.ParkReport{}, errors.New("not in this test")
}
func (f *dataEngine) Engine(context.Context) (wire.EngineInfo, error) {
	return wire.EngineInfo{HTTPSPort: 443}, nil
}

func (f *dataEngine) Subscribe() (<-chan wire.Event, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan wire.Event, 16)
	f.subs = append(f.subs, ch)
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.subs = slices.DeleteFunc(f.subs, func(c chan wire.Event) bool { return c == ch })
			close(ch)
		})
	}
}

// subscribers is how many subscriptions are open.
func (f *dataEngine) subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// emit sends e to every subscriber and returns how many there were.
func (f *dataEngine) emit(e wire.Event) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ch := range f.subs {
		ch <- e
	}
	return len(f.subs)
}

func (f *dataEngine) AddDataService(_ context.Context, name string, req wire.DataServiceRequest) (wire.ProjectStatus, error) {
	if err := f.record("add %s %s %s %s", name, req.Name, req.Stack, req.Runtime); err != nil {
		return wire.ProjectStatus{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.projects {
		if f.projects[i].Name == name {
			f.projects[i].Data = append(f.projects[i].Data, wire.DataServiceStatus{Name: req.Name, Stack: req.Stack,
				Runtime: wire.RuntimeProcess, Port: 3306, Data: "/data/" + name + "/" + req.Name, Env: map[string]string{"DB_HOST": "127.0.0.1"}})
			return f.projects[i], nil
		}
	}
	return wire.ProjectStatus{}, errors.New("no project " + name)
}

func (f *dataEngine) RemoveDataService(_ context.Context, name, service string, purge bool) (wire.DataServiceRemoval, error) {
	if err := f.record("remove %s %s purge=%v", name, service, purge); err != nil {
		return wire.DataServiceRemoval{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.projects {
		if f.projects[i].Name == name {
			f.projects[i].Data = slices.DeleteFunc(f.projects[i].Data, func(d wire.DataServiceStatus) bool { return d.Name == service })
		}
	}
	if purge {
		return wire.DataServiceRemoval{}, nil
	}
	return wire.DataServiceRemoval{Service: service, Kept: "/data/" + name + "/" + service, Size: 2048}, nil
}

func (f *dataEngine) Database(_ context.Context, action, name string, req wire.SnapshotRequest) (wire.DatabaseResult, error) {
	if err := f.record("db %s %s service=%s tag=%s", action, name, req.Service, req.Tag); err != nil {
		return wire.DatabaseResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch action {
	case "snapshots":
		return wire.DatabaseResult{Snapshots: slices.Clone(f.snapshots)}, nil
	case "snapshot":
		return wire.DatabaseResult{Snapshots: []wire.Snapshot{{Service: req.Service, Tag: req.Tag, Path: "/snap/" + req.Tag + ".sql.gz", Size: 512}}}, nil
	}
	return wire.DatabaseResult{}, nil
}

// wizardChecks answers the wizard as a PHP folder with a WordPress config
// and a Laravel-style .env would.
type wizardChecks struct{ proposals []wire.DataProposal }

func (wizardChecks) Detect(string) (wire.Detection, error) {
	return wire.Detection{Stack: stackdef.PHP}, nil
}
func (wizardChecks) DescribeAdd(wire.AddRequest) (string, error) { return "", nil }
func (wizardChecks) PHPVersions(_ context.Context, runtime string) []string {
	if runtime == wire.RuntimeContainer {
		return []string{"8.4", "8.3", "8.2", "7.4"}
	}
	return []string{"8.4", "8.2"}
}
func (wizardChecks) CheckStack(string, string) error { return nil }
func (wizardChecks) CheckChain(string, string) error { return nil }
func (wizardChecks) CheckName(n string) error {
	if n == "" {
		return errors.New("name: empty")
	}
	return nil
}
func (wizardChecks) CheckDomain(string) error                { return nil }
func (wizardChecks) NameFromFolder(string) string            { return "wp" }
func (wizardChecks) TLDs() []string                          { return []string{"test"} }
func (wizardChecks) DockerReason(context.Context) string     { return "no Docker in this test" }
func (c wizardChecks) DetectData(string) []wire.DataProposal { return c.proposals }
func (wizardChecks) DescribeEnv(wire.AddRequest) string      { return "" }
func (wizardChecks) CreateVenv(context.Context, wire.AddRequest, io.Writer) (func() error, error) {
	return nil, errors.New("not in this test")
}

// venvChecks answers the wizard as a FastAPI folder with a
// requirements.txt and no environment would, and records CreateVenv.
type venvChecks struct {
	wizardChecks
	env     string // DescribeEnv's line (without --venv)
	venvErr error  // CreateVenv's error
	mu      sync.Mutex
	created []wire.AddRequest
	removed int
}

func (*venvChecks) Detect(string) (wire.Detection, error) {
	return wire.Detection{Stack: stackdef.Uvicorn, App: "main:app"}, nil
}
func (*venvChecks) CheckStack(string, string) error { return nil }

func (c *venvChecks) DescribeEnv(req wire.AddRequest) string {
	if req.Venv && c.env != "" {
		return "  dependencies in requirements.txt and no environment: --venv creates .venv\n"
	}
	return c.env
}

func (c *venvChecks) CreateVenv(_ context.Context, req wire.AddRequest, out io.Writer) (func() error, error) {
	c.mu.Lock()
	c.created = append(c.created, req)
	c.mu.Unlock()
	fmt.Fprintf(out, "creating %s/.venv\n", req.Dir)
	fmt.Fprint(out, "  | Successfully installed fastapi\n")
	if c.venvErr != nil {
		return nil, c.venvErr
	}
	return func() error {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.removed++
		return nil
	}, nil
}
