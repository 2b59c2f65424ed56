package app

import (
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

// Client talks to a running engine over its control socket.
type Client struct {
	socket string
	hc     *http.Client
}

// ErrEngineDown means no engine answers on the control socket.
var ErrEngineDown = errors.New("no engine answers on the control socket")

// Dial connects to the engine of paths, or returns ErrEngineDown.
func Dial(ctx context.Context, paths Paths) (*Client, error) {
	socket := paths.Control()
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

// Act starts, stops or restarts a project.
func (c *Client) Act(ctx context.Context, action, name string) (ProjectStatus, error) {
	var p ProjectStatus
	return p, c.do(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(name)+"/"+action, nil, &p)
}

// EngineError is an error the engine reported; its text is meant for the user.
type EngineError struct {
	Status int
	Msg    string
}

func (e *EngineError) Error() string { return e.Msg }

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
		var ae apiError
		if err := json.NewDecoder(resp.Body).Decode(&ae); err != nil || ae.Error == "" {
			ae.Error = resp.Status
		}
		return &EngineError{Status: resp.StatusCode, Msg: ae.Error}
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
