package engine

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

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// The control API (the routes are listed in package wire, beside the
// client that speaks it) serves the Manager on a unix socket in the data
// dir, mode 0600, so only its owner can drive the engine. Every handler is
// one Manager method, so a change made through the socket stores, publishes
// and announces itself exactly as one made in-process.

// serveControl listens on the control socket until the returned closer is
// called.
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
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	return closerFunc(func() error {
		// Event streams never finish on their own: end them (and any
		// request still running) so Shutdown need not wait them out.
		stopRequests()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := srv.Shutdown(sctx)
		<-served
		_ = os.Remove(path)
		return err
	}), nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

func (m *Manager) controlHandler() http.Handler {
	l := Local{M: m}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/engine", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, m.Engine())
	})
	mux.HandleFunc("POST /v1/engine/quit", func(w http.ResponseWriter, r *http.Request) {
		if quit := m.quit.Load(); quit != nil {
			(*quit)()
		}
		writeJSON(w, http.StatusOK, struct{}{})
	})
	mux.HandleFunc("GET /v1/projects", func(w http.ResponseWriter, r *http.Request) {
		ps, err := l.List(r.Context())
		reply(w, ps, err)
	})
	mux.HandleFunc("POST /v1/projects", func(w http.ResponseWriter, r *http.Request) {
		var req wire.AddRequest
		if decode(w, r, &req) {
			p, err := l.Add(r.Context(), req)
			reply(w, p, err)
		}
	})
	mux.HandleFunc("DELETE /v1/projects/{name}", func(w http.ResponseWriter, r *http.Request) {
		rep, err := l.RemoveWith(r.Context(), r.PathValue("name"), r.URL.Query().Get("purge") == "1")
		reply(w, rep, err)
	})
	mux.HandleFunc("POST /v1/projects/{name}/data", func(w http.ResponseWriter, r *http.Request) {
		var req wire.DataServiceRequest
		if decode(w, r, &req) {
			p, err := l.AddDataService(r.Context(), r.PathValue("name"), req)
			reply(w, p, err)
		}
	})
	mux.HandleFunc("POST /v1/projects/{name}/db/{action}", func(w http.ResponseWriter, r *http.Request) {
		var req wire.SnapshotRequest
		if decode(w, r, &req) {
			out, err := l.Database(r.Context(), r.PathValue("action"), r.PathValue("name"), req)
			reply(w, out, err)
		}
	})
	mux.HandleFunc("POST /v1/projects/{name}/python", func(w http.ResponseWriter, r *http.Request) {
		var req wire.PythonRequest
		if decode(w, r, &req) {
			c, err := l.PythonCommand(r.Context(), r.PathValue("name"), req)
			reply(w, c, err)
		}
	})
	mux.HandleFunc("DELETE /v1/projects/{name}/data/{service}", func(w http.ResponseWriter, r *http.Request) {
		rep, err := l.RemoveDataService(r.Context(), r.PathValue("name"), r.PathValue("service"), r.URL.Query().Get("purge") == "1")
		reply(w, rep, err)
	})
	mux.HandleFunc("GET /v1/events", m.eventsHandler)
	mux.HandleFunc("POST /v1/window/raise", func(w http.ResponseWriter, r *http.Request) {
		var req wire.RaiseRequest
		if decode(w, r, &req) {
			reply(w, struct{}{}, m.RaiseWindow(req))
		}
	})
	mux.HandleFunc("POST /v1/projects/{name}/runtime", func(w http.ResponseWriter, r *http.Request) {
		var req wire.RuntimeRequest
		if decode(w, r, &req) {
			p, err := l.SetRuntime(r.Context(), r.PathValue("name"), req)
			reply(w, p, err)
		}
	})
	mux.HandleFunc("POST /v1/projects/{name}/debug", func(w http.ResponseWriter, r *http.Request) {
		var req wire.DebugRequest
		if decode(w, r, &req) {
			p, err := l.SetDebug(r.Context(), r.PathValue("name"), req)
			reply(w, p, err)
		}
	})
	mux.HandleFunc("POST /v1/projects/{name}/php", func(w http.ResponseWriter, r *http.Request) {
		var req wire.PHPRequest
		if decode(w, r, &req) {
			p, err := l.SetPHP(r.Context(), r.PathValue("name"), req)
			reply(w, p, err)
		}
	})
	mux.HandleFunc("POST /v1/projects/{name}/php-ini", func(w http.ResponseWriter, r *http.Request) {
		var req wire.PHPIniRequest
		if decode(w, r, &req) {
			p, err := l.SetPHPIni(r.Context(), r.PathValue("name"), req)
			reply(w, p, err)
		}
	})
	mux.HandleFunc("POST /v1/projects/{name}/env", func(w http.ResponseWriter, r *http.Request) {
		var req wire.EnvRequest
		if decode(w, r, &req) {
			p, err := l.SetEnv(r.Context(), r.PathValue("name"), req)
			reply(w, p, err)
		}
	})
	mux.HandleFunc("POST /v1/projects/{name}/hooks", func(w http.ResponseWriter, r *http.Request) {
		var req wire.HooksRequest
		if decode(w, r, &req) {
			p, err := l.SetHooks(r.Context(), r.PathValue("name"), req)
			reply(w, p, err)
		}
	})
	mux.HandleFunc("POST /v1/projects/{name}/php-command", func(w http.ResponseWriter, r *http.Request) {
		var req wire.PHPCommandRequest
		if decode(w, r, &req) {
			cmd, err := l.PHPCommand(r.Context(), r.PathValue("name"), req)
			reply(w, cmd, err)
		}
	})
	mux.HandleFunc("POST /v1/projects/{name}/xdebug", func(w http.ResponseWriter, r *http.Request) {
		var req wire.XdebugRequest
		if decode(w, r, &req) {
			p, err := l.SetXdebug(r.Context(), r.PathValue("name"), req)
			reply(w, p, err)
		}
	})
	mux.HandleFunc("POST /v1/projects/{name}/rename", func(w http.ResponseWriter, r *http.Request) {
		var req wire.RenameRequest
		if decode(w, r, &req) {
			p, err := l.Rename(r.Context(), r.PathValue("name"), req)
			reply(w, p, err)
		}
	})
	mux.HandleFunc("POST /v1/projects/{name}/routes", func(w http.ResponseWriter, r *http.Request) {
		var req wire.RouteRequest
		if decode(w, r, &req) {
			rt, err := m.AddRoute(r.Context(), r.PathValue("name"), req)
			reply(w, rt, err)
		}
	})
	mux.HandleFunc("DELETE /v1/projects/{name}/routes", func(w http.ResponseWriter, r *http.Request) {
		reply(w, struct{}{}, m.RemoveRoute(r.Context(), r.PathValue("name"), r.URL.Query().Get("prefix")))
	})
	mux.HandleFunc("PUT /v1/settings/{key}", func(w http.ResponseWriter, r *http.Request) {
		var req wire.Setting
		if decode(w, r, &req) {
			reply(w, struct{}{}, m.SetSetting(r.Context(), r.PathValue("key"), req.Value))
		}
	})
	mux.HandleFunc("DELETE /v1/settings/{key}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, struct{}{}, m.UnsetSetting(r.Context(), r.PathValue("key")))
	})
	mux.HandleFunc("GET /v1/parked", func(w http.ResponseWriter, r *http.Request) {
		fs, err := l.Parked(r.Context())
		reply(w, fs, err)
	})
	mux.HandleFunc("POST /v1/parked", func(w http.ResponseWriter, r *http.Request) {
		var req wire.ParkRequest
		if decode(w, r, &req) {
			rep, err := l.Park(r.Context(), req.Dir)
			reply(w, rep, err)
		}
	})
	mux.HandleFunc("POST /v1/parked/unpark", func(w http.ResponseWriter, r *http.Request) {
		var req wire.ParkRequest
		if decode(w, r, &req) {
			rep, err := l.Unpark(r.Context(), req.Dir)
			reply(w, rep, err)
		}
	})
	mux.HandleFunc("POST /v1/projects/{name}/{action}", func(w http.ResponseWriter, r *http.Request) {
		p, err := l.Act(r.Context(), r.PathValue("action"), r.PathValue("name"))
		if errors.Is(err, errUnknownAction) {
			http.NotFound(w, r)
			return
		}
		reply(w, p, err)
	})
	return mux
}

// decode reads a JSON request body into v, answering 400 when it cannot.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, wire.ErrorBody{Error: "bad request body: " + err.Error()})
		return false
	}
	return true
}

// eventsHandler streams the Manager's events as JSON lines (GET
// /v1/events) until the client goes away. The CLI reads it to draw image
// pull progress while the engine starts a project; an attached window
// redraws on it, and with ?window=1 counts as the engine's window
// (window.go) while it does.
func (m *Manager) eventsHandler(w http.ResponseWriter, r *http.Request) {
	ch, cancel := m.Subscribe()
	defer cancel()
	if r.URL.Query().Get("window") == "1" { // a window follows this stream: a second launch raises it
		defer m.AttachWindow()()
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	enc := json.NewEncoder(w)
	for {
		select {
		case <-r.Context().Done():
			return
		case e, ok := <-ch:
			if !ok {
				return
			}
			if enc.Encode(e) != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
}

func reply(w http.ResponseWriter, v any, err error) {
	if err == nil {
		writeJSON(w, http.StatusOK, v)
		return
	}
	status := http.StatusInternalServerError
	var ve *store.ValidationError
	var me *stacks.MissingError
	switch {
	case errors.Is(err, store.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, wire.ErrNoWindow):
		status = http.StatusConflict
	case errors.As(err, &ve), errors.As(err, &me), errors.Is(err, ErrNotRunning):
		status = http.StatusBadRequest
	}
	writeJSON(w, status, wire.ErrorBody{Error: err.Error(), Field: ErrorField(err)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ErrorField is the request field err is about: a validation error's
// field, "stack" for a stack whose programs are missing, else "". It is
// what wire.FieldOf reads on either side of the control socket.
func ErrorField(err error) string {
	var ve *store.ValidationError
	var me *stacks.MissingError
	switch {
	case errors.As(err, &ve):
		return ve.Field
	case errors.As(err, &me):
		return "stack"
	}
	return ""
}
