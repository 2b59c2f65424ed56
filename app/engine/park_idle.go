package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/store"
)

// SettingParkIdle is how long a parked project may go without a request
// before the engine stops it; a Go duration, "0" for never.
const SettingParkIdle = wire.SettingParkIdle

// defaultParkIdle applies while park.idle_timeout is unset.
const defaultParkIdle = 10 * time.Minute

// parkIdleTick is how often the engine looks for idle parked projects.
var parkIdleTick = time.Second

// parkIdle is the park.idle_timeout setting, or its default.
func (m *Manager) parkIdle(ctx context.Context) time.Duration {
	v, ok, err := m.db.Setting(ctx, SettingParkIdle)
	if err != nil || !ok {
		return defaultParkIdle
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return defaultParkIdle // CheckSetting refuses such a value; an old file may hold one
	}
	return d
}

// checkParkIdle validates a park.idle_timeout value.
func checkParkIdle(value string) error {
	d, err := time.ParseDuration(value)
	if err != nil || d < 0 {
		return &store.ValidationError{Field: SettingParkIdle, Value: value, Reason: "not a duration",
			Fix: "give one such as 10m, 1h30m or 45s, or 0 to keep parked projects running"}
	}
	return nil
}

// stopIdleParked stops the running projects of parked folders that had
// no request, and none in flight (a websocket counts while open), for
// park.idle_timeout, until ctx ends. The proxy keeps the time of each
// project's last request (proxy.Server.Activity); a project counts as used
// from the time it is first seen running, so one started by hand gets the
// whole timeout too. The next request starts it again (wake).
func (m *Manager) stopIdleParked(ctx context.Context) {
	t := time.NewTicker(parkIdleTick)
	defer t.Stop()
	since := map[string]time.Time{} // running parked projects: first seen running
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		srv := m.srv.Load()
		parked, err := m.db.ParkedProjects(ctx)
		if srv == nil || err != nil {
			continue
		}
		now := time.Now()
		m.mu.Lock()
		for name := range since {
			if r := m.runs[name]; r == nil || r.state != wire.StateRunning || parked[name] == "" {
				delete(since, name)
			}
		}
		for name := range parked {
			if r := m.runs[name]; r != nil && r.state == wire.StateRunning && since[name].IsZero() {
				since[name] = now
			}
		}
		m.mu.Unlock()
		idle := m.parkIdle(ctx)
		if idle <= 0 {
			continue
		}
		for name, from := range since {
			last, inFlight := srv.Activity(name)
			if inFlight > 0 {
				continue
			}
			if last.After(from) {
				from = last
			}
			if now.Sub(from) < idle {
				continue
			}
			delete(since, name)
			m.stopIdle(ctx, name, idle)
		}
	}
}

// stopIdle stops a parked project nobody used for idle.
func (m *Manager) stopIdle(ctx context.Context, name string, idle time.Duration) {
	m.log.Info("stopping an idle parked project", "project", name, "idle", idle)
	m.event(ctx, store.Event{Project: name, Kind: "idle",
		Detail: fmt.Sprintf("no request for %v: stopped; the next request starts it again", idle)})
	// A stop that began finishes even when the engine quits meanwhile.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), StopAllTimeout)
	defer cancel()
	if err := m.Stop(sctx, name); err != nil && !errors.Is(err, ErrNotRunning) {
		m.log.Warn("stop idle parked project", "project", name, "err", err)
	}
}
