package wire

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// The control API is HTTP with JSON bodies on a unix socket in the data
// dir (mode 0600, so only its owner can drive the engine). Commands run
// while an engine serves go through it; the engine then owns every port
// and backend process.
//
//	GET    /v1/engine                         EngineInfo
//	POST   /v1/engine/quit                    stop every project and exit
//	GET    /v1/projects                       []ProjectStatus
//	POST   /v1/projects                       AddRequest -> ProjectStatus
//	DELETE /v1/projects/{name}
//	POST   /v1/projects/{name}/{start|stop|restart} -> ProjectStatus
//	POST   /v1/projects/{name}/runtime        RuntimeRequest -> ProjectStatus
//	POST   /v1/projects/{name}/debug          DebugRequest -> ProjectStatus
//	POST   /v1/projects/{name}/php            PHPRequest -> ProjectStatus
//	POST   /v1/projects/{name}/php-ini        PHPIniRequest -> ProjectStatus
//	POST   /v1/projects/{name}/xdebug         XdebugRequest -> ProjectStatus
//	POST   /v1/projects/{name}/env            EnvRequest -> ProjectStatus
//	POST   /v1/projects/{name}/hooks          HooksRequest -> ProjectStatus
//	POST   /v1/projects/{name}/php-command    PHPCommandRequest -> Command
//	POST   /v1/projects/{name}/rename         RenameRequest -> ProjectStatus
//	POST   /v1/projects/{name}/routes         RouteRequest -> RouteStatus
//	POST   /v1/projects/{name}/python         PythonRequest -> Command
//	DELETE /v1/projects/{name}/routes?prefix=P
//	PUT    /v1/settings/{key}                 Setting
//	DELETE /v1/settings/{key}
//	GET    /v1/events[?window=1]              a stream of Event, one JSON object a line; window=1: a window follows it
//	POST   /v1/window/raise                   RaiseRequest: the open window comes to the front (409: none is open)
//	GET    /v1/parked                         []ParkedFolder
//	POST   /v1/parked                         ParkRequest -> ParkReport
//	POST   /v1/parked/unpark                  ParkRequest -> ParkReport
//
// Errors come back as {"error": "...", "field": "..."} with a 4xx or 5xx
// status; field names the request field a validation error is about.

// Client talks to a running engine over its control socket.
type Client struct {
	socket string
	hc     *http.Client
}

// ErrEngineDown means no engine answers on the control socket.
var ErrEngineDown = errors.New("no engine answers on the control socket")

// Dial connects to the engine whose control socket is socket, or returns
// ErrEngineDown.
func Dial(ctx context.Context, socket string) (*Client, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", socket, ErrEngineDown)
	}
	c.Close()
	return &Client{socket: socket, hc: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", socket)
		},
	}}}, nil
}

// Engine returns the engine's pid and ports.
func (c *Client) Engine(ctx context.Context) (EngineInfo, error) {
	var info EngineInfo
	return info, c.do(ctx, http.MethodGet, "/v1/engine", nil, &info)
}

// List returns every project with its live state.
func (c *Client) List(ctx context.Context) ([]ProjectStatus, error) {
	var ps []ProjectStatus
	return ps, c.do(ctx, http.MethodGet, "/v1/projects", nil, &ps)
}

// Quit asks the engine to stop every project and exit.
func (c *Client) Quit(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/engine/quit", nil, nil)
}

// Add adds a project through the engine.
func (c *Client) Add(ctx context.Context, req AddRequest) (ProjectStatus, error) {
	var p ProjectStatus
	return p, c.do(ctx, http.MethodPost, "/v1/projects", req, &p)
}

// Remove removes a project through the engine, stopping it first.
func (c *Client) Remove(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/v1/projects/"+url.PathEscape(name), nil, nil)
}

// RemoveWith removes project name, keeping the data of its data services
// unless purge; the report says where the kept data is.
func (c *Client) RemoveWith(ctx context.Context, name string, purge bool) (RemoveReport, error) {
	q := ""
	if purge {
		q = "?purge=1"
	}
	var rep RemoveReport
	return rep, c.do(ctx, http.MethodDelete, "/v1/projects/"+url.PathEscape(name)+q, nil, &rep)
}

// AddDataService adds a data service to project name and returns the
// project.
func (c *Client) AddDataService(ctx context.Context, name string, req DataServiceRequest) (ProjectStatus, error) {
	var p ProjectStatus
	return p, c.do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(name)+"/data", req, &p)
}

// RemoveDataService removes a data service of project name, keeping its
// data unless purge.
func (c *Client) RemoveDataService(ctx context.Context, name, service string, purge bool) (DataServiceRemoval, error) {
	q := ""
	if purge {
		q = "?purge=1"
	}
	var rep DataServiceRemoval
	return rep, c.do(ctx, http.MethodDelete, "/v1/projects/"+url.PathEscape(name)+"/data/"+url.PathEscape(service)+q, nil, &rep)
}

// Database runs a database action on project name: snapshot, snapshots,
// restore, import, export or shell.
func (c *Client) Database(ctx context.Context, action, name string, req SnapshotRequest) (DatabaseResult, error) {
	var out DatabaseResult
	return out, c.do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(name)+"/db/"+url.PathEscape(action), req, &out)
}

// PythonCommand returns the command that runs a Python service of project
// name with its own interpreter and environment (devport python, manage,
// flask); the caller runs it.
func (c *Client) PythonCommand(ctx context.Context, name string, req PythonRequest) (Command, error) {
	var out Command
	return out, c.do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(name)+"/python", req, &out)
}

// Act starts, stops or restarts a project.
func (c *Client) Act(ctx context.Context, action, name string) (ProjectStatus, error) {
	var p ProjectStatus
	return p, c.do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(name)+"/"+action, nil, &p)
}

// SetRuntime switches a service's runtime through the engine.
func (c *Client) SetRuntime(ctx context.Context, name string, req RuntimeRequest) (ProjectStatus, error) {
	var p ProjectStatus
	return p, c.do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(name)+"/runtime", req, &p)
}

// SetDebug turns debugging of a Python service on or off through the
// engine, which restarts a running project to apply it.
func (c *Client) SetDebug(ctx context.Context, name string, req DebugRequest) (ProjectStatus, error) {
	var p ProjectStatus
	return p, c.do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(name)+"/debug", req, &p)
}

// SetPHP sets the PHP version of a php service through the engine, which
// restarts a running project to apply it.
func (c *Client) SetPHP(ctx context.Context, name string, req PHPRequest) (ProjectStatus, error) {
	var p ProjectStatus
	return p, c.do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(name)+"/php", req, &p)
}

// SetPHPIni changes a project's php.ini directives through the engine,
// which restarts a running project to apply them.
func (c *Client) SetPHPIni(ctx context.Context, name string, req PHPIniRequest) (ProjectStatus, error) {
	var p ProjectStatus
	return p, c.do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(name)+"/php-ini", req, &p)
}

// SetEnv changes the environment of a project's services through the
// engine, which restarts a running project to apply it.
func (c *Client) SetEnv(ctx context.Context, name string, req EnvRequest) (ProjectStatus, error) {
	var p ProjectStatus
	return p, c.do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(name)+"/env", req, &p)
}

// SetHooks sets a project's before_start hook through the engine; it
// runs at the next start.
func (c *Client) SetHooks(ctx context.Context, name string, req HooksRequest) (ProjectStatus, error) {
	var p ProjectStatus
	return p, c.do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(name)+"/hooks", req, &p)
}

// SetXdebug turns Xdebug of a project's PHP on or off through the engine,
// which restarts a running project to apply it.
func (c *Client) SetXdebug(ctx context.Context, name string, req XdebugRequest) (ProjectStatus, error) {
	var p ProjectStatus
	return p, c.do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(name)+"/xdebug", req, &p)
}

// PHPCommand asks the engine for the command that runs a project's PHP
// (or Composer with it) as its site runs, for the caller to run.
func (c *Client) PHPCommand(ctx context.Context, name string, req PHPCommandRequest) (Command, error) {
	var cmd Command
	return cmd, c.do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(name)+"/php-command", req, &cmd)
}

// Rename renames project name through the engine (devport rename).
func (c *Client) Rename(ctx context.Context, name string, req RenameRequest) (ProjectStatus, error) {
	var p ProjectStatus
	return p, c.do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(name)+"/rename", req, &p)
}

// AddRoute declares a route of project name; the engine publishes it.
func (c *Client) AddRoute(ctx context.Context, name string, req RouteRequest) (RouteStatus, error) {
	var r RouteStatus
	return r, c.do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(name)+"/routes", req, &r)
}

// RemoveRoute removes the declared route at prefix of project name.
func (c *Client) RemoveRoute(ctx context.Context, name, prefix string) error {
	return c.do(ctx, http.MethodDelete, "/v1/projects/"+url.PathEscape(name)+"/routes?prefix="+url.QueryEscape(prefix), nil, nil)
}

// SetSetting stores a setting through the engine, which checks it first.
func (c *Client) SetSetting(ctx context.Context, key, value string) error {
	return c.do(ctx, http.MethodPut, "/v1/settings/"+url.PathEscape(key), Setting{Key: key, Value: value}, nil)
}

// UnsetSetting removes a setting, so its default applies again.
func (c *Client) UnsetSetting(ctx context.Context, key string) error {
	return c.do(ctx, http.MethodDelete, "/v1/settings/"+url.PathEscape(key), nil, nil)
}

// Park makes every subfolder of a folder a project, and has the engine
// watch the folder for more.
func (c *Client) Park(ctx context.Context, dir string) (ParkReport, error) {
	var r ParkReport
	return r, c.do(ctx, http.MethodPost, "/v1/parked", ParkRequest{Dir: dir}, &r)
}

// Unpark removes the projects of a parked folder and forgets it.
func (c *Client) Unpark(ctx context.Context, dir string) (ParkReport, error) {
	var r ParkReport
	return r, c.do(ctx, http.MethodPost, "/v1/parked/unpark", ParkRequest{Dir: dir}, &r)
}

// Parked lists the parked folders and their projects.
func (c *Client) Parked(ctx context.Context) ([]ParkedFolder, error) {
	var fs []ParkedFolder
	return fs, c.do(ctx, http.MethodGet, "/v1/parked", nil, &fs)
}

// Events streams the engine's events to fn until ctx ends or the engine
// closes the stream. It returns once the stream is open (ready) or failed;
// done is closed when fn has been called for the last time.
func (c *Client) Events(ctx context.Context, fn func(Event)) (done <-chan struct{}, err error) {
	return c.events(ctx, "/v1/events", fn)
}

// WindowEvents is Events for a window: while the stream is open the
// engine counts a window attached to it, which Raise reaches.
func (c *Client) WindowEvents(ctx context.Context, fn func(Event)) (done <-chan struct{}, err error) {
	return c.events(ctx, "/v1/events?window=1", fn)
}

// ErrNoWindow means no window is open on the engine (it runs headless, or
// is an engine too old to say).
var ErrNoWindow = errors.New("no devport window is open")

// Raise asks the window open on the engine, whether it hosts the engine or
// is attached to it, to come to the front and start req.Start. It returns
// an error wrapping ErrNoWindow when there is none.
func (c *Client) Raise(ctx context.Context, req RaiseRequest) error {
	err := c.do(ctx, http.MethodPost, "/v1/window/raise", req, nil)
	var ee *EngineError
	if errors.As(err, &ee) && (ee.Status == http.StatusConflict || ee.Status == http.StatusNotFound) {
		return fmt.Errorf("%s: %w", ee.Msg, ErrNoWindow)
	}
	return err
}

func (c *Client) events(ctx context.Context, path string, fn func(Event)) (done <-chan struct{}, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://devport"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("engine at %s: %w", c.socket, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, &EngineError{Status: resp.StatusCode, Msg: "events: " + resp.Status}
	}
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var e Event
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				fn(e)
			}
		}
	}()
	return ch, nil
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body bytes.Buffer
	if in != nil {
		if err := json.NewEncoder(&body).Encode(in); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://devport"+path, &body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("engine at %s: %w", c.socket, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var ae ErrorBody
		if err := json.NewDecoder(resp.Body).Decode(&ae); err != nil || ae.Error == "" {
			ae.Error = resp.Status
		}
		return &EngineError{Status: resp.StatusCode, Msg: ae.Error, Field: ae.Field}
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
