package engine

import (
	"sync"

	"github.com/devport/devport/app/wire"
)

// subscribers fans events out. Sends never block the Manager: a
// subscriber that falls behind loses events, which is safe because each
// one only says "look again" (List has the truth).
type subscribers struct {
	mu   sync.Mutex
	next int
	subs map[int]chan wire.Event
}

// Subscribe returns a channel of events and a function that ends the
// subscription and closes the channel.
func (m *Manager) Subscribe() (<-chan wire.Event, func()) {
	s := &m.subs
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs == nil {
		s.subs = map[int]chan wire.Event{}
	}
	id := s.next
	s.next++
	ch := make(chan wire.Event, 64)
	s.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			delete(s.subs, id)
			close(ch)
		})
	}
}

func (m *Manager) emit(e wire.Event) {
	s := &m.subs
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// pullProgress reports the pull of image for service of project as
// EventProgress, one event per layer update ("IMAGE LAYER"), which the CLI
// draws as a progress line (devport start, devport set --php) and the
// window as the service's state.
func (m *Manager) pullProgress(project, service, image string) func(layer string, current, total int64) {
	return func(layer string, current, total int64) {
		m.emit(wire.Event{Kind: wire.EventProgress, Project: project, Service: service,
			Detail: image + " " + layer, Current: current, Total: total})
	}
}

// stateEvent tells subscribers a project moved to a new state. Callers
// must not hold m.mu.
func (m *Manager) stateEvent(project string, st wire.State, detail string) {
	m.emit(wire.Event{Kind: wire.EventState, Project: project, State: st, Detail: detail})
}
