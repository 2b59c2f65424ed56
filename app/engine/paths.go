package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Paths are the places devport keeps its files. DEVPORT_HOME puts all of
// them under one folder, which is what tests and side-by-side instances use;
// otherwise they follow the XDG base directory spec.
type Paths struct {
	Data string // database, CA, control socket
	Logs string // one folder per project, one log per service
	Run  string // generated backend configs, pid files and unix sockets
}

// DB is the SQLite database file.
func (p Paths) DB() string { return filepath.Join(p.Data, "devport.db") }

// CA is the folder holding the local root CA.
func (p Paths) CA() string { return filepath.Join(p.Data, "ca") }

// Control is the engine's control socket (mode 0600).
func (p Paths) Control() string { return filepath.Join(p.Data, "devport.sock") }

// EngineLog is where an engine started in the background writes.
func (p Paths) EngineLog() string { return filepath.Join(p.Logs, "engine.log") }

// ServiceLog is the log file of one service of one project.
func (p Paths) ServiceLog(project, service string) string {
	return filepath.Join(p.Logs, project, service+".log")
}

// ServiceRun is the private run folder of one service.
func (p Paths) ServiceRun(project, service string) string {
	return filepath.Join(p.Run, project+"-"+service)
}

// ResolvePaths reads DEVPORT_HOME, the XDG variables and HOME through
// getenv, so tests can pass their own environment.
func ResolvePaths(getenv func(string) string) (Paths, error) {
	if h := getenv("DEVPORT_HOME"); h != "" {
		abs, err := filepath.Abs(h)
		if err != nil {
			return Paths{}, fmt.Errorf("DEVPORT_HOME %q: %w", h, err)
		}
		return Paths{Data: abs, Logs: filepath.Join(abs, "logs"), Run: filepath.Join(abs, "run")}, nil
	}
	home := getenv("HOME")
	xdg := func(key, fallback string) (string, error) {
		if v := getenv(key); v != "" && filepath.IsAbs(v) {
			return filepath.Join(v, "devport"), nil
		}
		if home == "" {
			return "", errors.New("neither DEVPORT_HOME nor HOME is set: set one of them")
		}
		return filepath.Join(home, fallback, "devport"), nil
	}
	data, err := xdg("XDG_DATA_HOME", filepath.Join(".local", "share"))
	if err != nil {
		return Paths{}, err
	}
	state, err := xdg("XDG_STATE_HOME", filepath.Join(".local", "state"))
	if err != nil {
		return Paths{}, err
	}
	p := Paths{Data: data, Logs: filepath.Join(state, "logs"), Run: filepath.Join(data, "run")}
	if rt := getenv("XDG_RUNTIME_DIR"); rt != "" && filepath.IsAbs(rt) {
		p.Run = filepath.Join(rt, "devport")
	}
	return p, nil
}

// ensure creates every folder with owner-only access.
func (p Paths) ensure() error {
	for _, d := range []string{p.Data, p.Logs, p.Run} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	return nil
}
