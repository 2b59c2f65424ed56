package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/devport/devport/store"
)

// The control API is HTTP with JSON bodies on a unix socket in the data
// dir (mode 0600, so only its owner can drive the engine). Commands run
// while an engine serves go through it; the engine then owns every port
// and backend process.
//
//	GET    /v1/engine                  EngineInfo
//	POST   /v1/engine/quit             stop every project and exit
//	GET    /v1/projects                []ProjectStatus
//	POST   /v1/projects                AddRequest -> ProjectStatus
//	DELETE /v1/projects/{name}
//	POST   /v1/projects/{name}/{start|stop|restart} -> ProjectStatus
//	POST   /v1/projects/{name}/runtime RuntimeRequest -> ProjectStatus
//	GET    /v1/events                  a stream of Event, one JSON object a line
//	POST   /v1/routes/reload           republish the route table (after devport route)
//
// Errors come back as {"error": "..."} with a 4xx or 5xx status.

// EngineInfo describes a running engine.
type EngineInfo struct {
	PID       int `json:"pid"`
	HTTPSPort int `json:"https_port"`
	HTTPPort  int `json:"http_port"`
}

type apiError struct {
	Error string `json:"error"`
}

// serveControl listens on the control socket until ctx is done or the
// returned closer is called.
func (m *Manager) serveControl(ctx context.Context) (io.Closer, error) {
	path := m.paths.Control()
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("another engine answers on %s: stop it first", path)
	}
	_ = os.Remove(path) // stale socket of an engine that was killed
	old := umask(0o177)
	ln, err := net.Listen("unix", path)
	umask(old)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	// Requests outlive a cancelled engine ctx (a stop in flight finishes)
	// but end when the control socket closes.
	base, stopRequests := context.WithCancel(context.WithoutCancel(ctx))
	srv := &http.Server{
		Handler:     m.controlHandler(),
		BaseContext: func(net.Listener) context.Context { return base },
	}
	go srv.Serve(ln)
	return closerFunc(func() error {
		// Event streams never finish on their own: end them (and any
		// request still running) so Shutdown need not wait them out.
		stopRequests()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := srv.Shutdown(sctx)
		_ = os.Remove(path)
		return err
	}), nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

func (m *Manager) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/routes/reload", m.reloadRoutesHandler)
	mux.HandleFunc("GET /v1/engine", func(w http.ResponseWriter, r *http.Request) {
		info := EngineInfo{PID: os.Getpid()}
		if srv := m.srv.Load(); srv != nil {
			info.HTTPSPort, info.HTTPPort = srv.HTTPSPort(), srv.HTTPPort()
		}
		writeJSON(w, http.StatusOK, info)
	})
	mux.HandleFunc("POST /v1/engine/quit", func(w http.ResponseWriter, r *http.Request) {
		if quit := m.quit.Load(); quit != nil {
			(*quit)()
		}
		writeJSON(w, http.StatusOK, struct{}{})
	})
	mux.HandleFunc("GET /v1/projects", func(w http.ResponseWriter, r *http.Request) {
		ps, err := m.List(r.Context())
		reply(w, ps, err)
	})
	mux.HandleFunc("POST /v1/projects", func(w http.ResponseWriter, r *http.Request) {
		var req AddRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{"bad request body: " + err.Error()})
			return
		}
		p, err := m.Add(r.Context(), req)
		if err != nil {
			reply(w, nil, err)
			return
		}
		reply(w, m.status(p), nil)
	})
	mux.HandleFunc("DELETE /v1/projects/{name}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, struct{}{}, m.Remove(r.Context(), r.PathValue("name")))
	})
	mux.HandleFunc("GET /v1/events", m.eventsHandler) // app/progress.go
	mux.HandleFunc("POST /v1/projects/{name}/runtime", func(w http.ResponseWriter, r *http.Request) {
		var req RuntimeRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, apiError{"bad request body: " + err.Error()})
			return
		}
		p, err := m.SetRuntime(r.Context(), r.PathValue("name"), req)
		if err != nil {
			reply(w, nil, err)
			return
		}
		reply(w, m.status(p), nil)
	})
	mux.HandleFunc("POST /v1/projects/{name}/{action}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		var err error
		switch r.PathValue("action") {
		case "start":
			err = m.Start(r.Context(), name)
		case "stop":
			err = m.Stop(r.Context(), name)
		case "restart":
			err = m.Restart(r.Context(), name)
		default:
			http.NotFound(w, r)
			return
		}
		if err != nil {
			reply(w, nil, err)
			return
		}
		p, err := m.db.Project(r.Context(), name)
		if err != nil {
			reply(w, nil, err)
			return
		}
		reply(w, m.status(p), nil)
	})
	return mux
}

func reply(w http.ResponseWriter, v any, err error) {
	var ve *store.ValidationError
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, v)
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusNotFound, apiError{err.Error()})
	case errors.As(err, &ve), errors.Is(err, ErrNotRunning):
		writeJSON(w, http.StatusBadRequest, apiError{err.Error()})
	default:
		writeJSON(w, http.StatusInternalServerError, apiError{err.Error()})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
