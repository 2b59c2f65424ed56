package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/store"
)

// Local is the engine's API for a Manager in this process: the methods
// wire.Client offers for an engine in another process, with the same
// types and the same errors (wire.FieldOf works on both). The CLI uses it
// when no engine runs, the window when it hosts the engine, and the
// control server behind every route, so the three never drift apart.
type Local struct{ M *Manager }

// Engine returns this engine's pid and, while it serves, its ports.
func (l Local) Engine(context.Context) (wire.EngineInfo, error) { return l.M.Engine(), nil }

// List returns every project with its live state.
func (l Local) List(ctx context.Context) ([]wire.ProjectStatus, error) {
	ps, err := l.M.List(ctx)
	return ps, withField(err)
}

// Add adds a project.
func (l Local) Add(ctx context.Context, req wire.AddRequest) (wire.ProjectStatus, error) {
	p, err := l.M.Add(ctx, req)
	if err != nil {
		return wire.ProjectStatus{}, withField(err)
	}
	return l.M.Status(ctx, p.Name)
}

// Remove stops and removes a project.
func (l Local) Remove(ctx context.Context, name string) error {
	return withField(l.M.Remove(ctx, name))
}

// RemoveWith stops and removes a project, keeping the data of its data
// services unless purge.
func (l Local) RemoveWith(ctx context.Context, name string, purge bool) (wire.RemoveReport, error) {
	rep, err := l.M.RemoveWith(ctx, name, purge)
	return rep, withField(err)
}

// AddDataService adds a data service to a project and returns the project.
func (l Local) AddDataService(ctx context.Context, name string, req wire.DataServiceRequest) (wire.ProjectStatus, error) {
	if _, err := l.M.AddDataService(ctx, name, req); err != nil {
		if !errors.Is(err, errRestartAfterAdd) {
			return wire.ProjectStatus{}, withField(err)
		}
		st, serr := l.M.Status(ctx, name)
		if serr != nil {
			return wire.ProjectStatus{}, withField(err)
		}
		return st, withField(err) // added; the restart failed
	}
	return l.M.Status(ctx, name)
}

// RemoveDataService removes a data service of a project, keeping its data
// unless purge.
func (l Local) RemoveDataService(ctx context.Context, name, service string, purge bool) (wire.DataServiceRemoval, error) {
	rep, err := l.M.RemoveDataService(ctx, name, service, purge)
	return rep, withField(err)
}

// Database runs a database action on project name: snapshot, snapshots,
// restore, import, export or shell.
func (l Local) Database(ctx context.Context, action, name string, req wire.SnapshotRequest) (wire.DatabaseResult, error) {
	var out wire.DatabaseResult
	var err error
	switch action {
	case "snapshot":
		var s wire.Snapshot
		s, err = l.M.Snapshot(ctx, name, req.Service, req.Tag)
		out.Snapshots = []wire.Snapshot{s}
	case "snapshots":
		out.Snapshots, err = l.M.Snapshots(ctx, name)
	case "restore":
		err = l.M.Restore(ctx, name, req.Service, req.Tag)
	case "import":
		err = l.M.Import(ctx, name, req.Service, req.File)
	case "export":
		err = l.M.Export(ctx, name, req.Service, req.File)
	case "shell":
		out.Shell, err = l.M.DatabaseShell(ctx, name, req.Service)
	case "follow":
		if req.Tag != "on" && req.Tag != "off" {
			err = &store.ValidationError{Field: "follow", Value: req.Tag, Reason: "must be on or off", Fix: "devport db " + name + " follow on"}
			break
		}
		err = l.M.SetFollowBranch(ctx, name, req.Tag == "on")
	default:
		err = fmt.Errorf("%w %q: use snapshot, snapshots, restore, import, export, shell or follow", errUnknownAction, action)
	}
	return out, withField(err)
}

// PythonCommand returns the command that runs a Python service of project
// name with its own interpreter and environment (devport python, manage,
// flask).
func (l Local) PythonCommand(ctx context.Context, name string, req wire.PythonRequest) (wire.Command, error) {
	c, err := l.M.PythonCommand(ctx, name, req)
	return c, withField(err)
}

// errUnknownAction is an Act that is not start, stop or restart.
var errUnknownAction = errors.New("unknown action")

// Act starts, stops or restarts a project and returns its new status.
func (l Local) Act(ctx context.Context, action, name string) (wire.ProjectStatus, error) {
	var err error
	switch action {
	case "start":
		err = l.M.Start(ctx, name)
	case "stop":
		err = l.M.Stop(ctx, name)
	case "restart":
		err = l.M.Restart(ctx, name)
	default:
		return wire.ProjectStatus{}, fmt.Errorf("%w %q: use start, stop or restart", errUnknownAction, action)
	}
	if err != nil {
		return wire.ProjectStatus{}, withField(err)
	}
	return l.M.Status(ctx, name)
}

// Start starts a project.
func (l Local) Start(ctx context.Context, name string) error { return withField(l.M.Start(ctx, name)) }

// Stop stops a project.
func (l Local) Stop(ctx context.Context, name string) error { return withField(l.M.Stop(ctx, name)) }

// Restart stops a project if it runs and starts it again.
func (l Local) Restart(ctx context.Context, name string) error {
	return withField(l.M.Restart(ctx, name))
}

// SetRuntime switches a service's runtime and returns the project.
func (l Local) SetRuntime(ctx context.Context, name string, req wire.RuntimeRequest) (wire.ProjectStatus, error) {
	if _, err := l.M.SetRuntime(ctx, name, req); err != nil {
		return wire.ProjectStatus{}, withField(err)
	}
	return l.M.Status(ctx, name)
}

// SetDebug turns debugging of a Python service on or off and returns the
// project.
func (l Local) SetDebug(ctx context.Context, name string, req wire.DebugRequest) (wire.ProjectStatus, error) {
	if _, err := l.M.SetDebug(ctx, name, req.Service, req.On); err != nil {
		return wire.ProjectStatus{}, withField(err)
	}
	return l.M.Status(ctx, name)
}

// SetPHP sets the PHP version of a php service and returns the project.
func (l Local) SetPHP(ctx context.Context, name string, req wire.PHPRequest) (wire.ProjectStatus, error) {
	if _, err := l.M.SetPHP(ctx, name, req.Service, req.Version); err != nil {
		return wire.ProjectStatus{}, withField(err)
	}
	return l.M.Status(ctx, name)
}

// SetPHPIni changes a project's php.ini directives and returns the
// project.
func (l Local) SetPHPIni(ctx context.Context, name string, req wire.PHPIniRequest) (wire.ProjectStatus, error) {
	if _, err := l.M.SetPHPIni(ctx, name, req.Set, req.Unset); err != nil {
		return wire.ProjectStatus{}, withField(err)
	}
	return l.M.Status(ctx, name)
}

// SetEnv changes the environment of a project's services and returns
// the project.
func (l Local) SetEnv(ctx context.Context, name string, req wire.EnvRequest) (wire.ProjectStatus, error) {
	if _, err := l.M.SetEnv(ctx, name, req); err != nil {
		return wire.ProjectStatus{}, withField(err)
	}
	return l.M.Status(ctx, name)
}

// SetHooks sets a project's before_start hook and returns the project.
func (l Local) SetHooks(ctx context.Context, name string, req wire.HooksRequest) (wire.ProjectStatus, error) {
	if _, err := l.M.SetBeforeStart(ctx, name, req.BeforeStart); err != nil {
		return wire.ProjectStatus{}, withField(err)
	}
	return l.M.Status(ctx, name)
}

// PHPCommand is the command that runs a project's PHP or Composer.
func (l Local) PHPCommand(ctx context.Context, name string, req wire.PHPCommandRequest) (wire.Command, error) {
	cmd, err := l.M.PHPCommand(ctx, name, req)
	return cmd, withField(err)
}

// SetXdebug turns Xdebug of a project's PHP on or off and returns the
// project.
func (l Local) SetXdebug(ctx context.Context, name string, req wire.XdebugRequest) (wire.ProjectStatus, error) {
	if _, err := l.M.SetXdebug(ctx, name, req.On); err != nil {
		return wire.ProjectStatus{}, withField(err)
	}
	return l.M.Status(ctx, name)
}

// Rename renames a project and returns it as it is now.
func (l Local) Rename(ctx context.Context, name string, req wire.RenameRequest) (wire.ProjectStatus, error) {
	p, err := l.M.Rename(ctx, name, req)
	if p.Name == "" {
		return wire.ProjectStatus{}, withField(err)
	}
	st, serr := l.M.Status(ctx, p.Name)
	if serr != nil {
		return wire.ProjectStatus{}, serr
	}
	return st, withField(err)
}

// AddRoute declares a route of a project.
func (l Local) AddRoute(ctx context.Context, name string, req wire.RouteRequest) (wire.RouteStatus, error) {
	r, err := l.M.AddRoute(ctx, name, req)
	return r, withField(err)
}

// RemoveRoute removes a declared route of a project.
func (l Local) RemoveRoute(ctx context.Context, name, prefix string) error {
	return withField(l.M.RemoveRoute(ctx, name, prefix))
}

// SetSetting checks and stores a setting.
func (l Local) SetSetting(ctx context.Context, key, value string) error {
	return withField(l.M.SetSetting(ctx, key, value))
}

// UnsetSetting removes a setting.
func (l Local) UnsetSetting(ctx context.Context, key string) error {
	return withField(l.M.UnsetSetting(ctx, key))
}

// Park makes every subfolder of dir a project, and watches dir while the
// engine serves.
func (l Local) Park(ctx context.Context, dir string) (wire.ParkReport, error) {
	r, err := l.M.Park(ctx, dir)
	return r, withField(err)
}

// Unpark removes the projects of a parked folder and forgets it.
func (l Local) Unpark(ctx context.Context, dir string) (wire.ParkReport, error) {
	r, err := l.M.Unpark(ctx, dir)
	return r, withField(err)
}

// Parked lists the parked folders and their projects.
func (l Local) Parked(ctx context.Context) ([]wire.ParkedFolder, error) {
	fs, err := l.M.Parked(ctx)
	return fs, withField(err)
}

// Subscribe returns the Manager's events and a function that ends them.
func (l Local) Subscribe() (<-chan wire.Event, func()) { return l.M.Subscribe() }

// fieldError carries the request field of an error (ErrorField) as
// wire.FieldOf reads it, keeping the error itself for errors.As.
type fieldError struct {
	err   error
	field string
}

func (e *fieldError) Error() string      { return e.err.Error() }
func (e *fieldError) Unwrap() error      { return e.err }
func (e *fieldError) ErrorField() string { return e.field }

func withField(err error) error {
	if f := ErrorField(err); err != nil && f != "" {
		return &fieldError{err: err, field: f}
	}
	return err
}
