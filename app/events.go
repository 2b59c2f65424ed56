package app

import "sync"

// Event is something that changed in the Manager. The GUI and the tray
// subscribe to redraw when something happens, instead of polling.
type Event struct {
	Kind    EventKind
	Project string
	Service string
	State   State  // for EventState: the project's new state
	Detail  string // human-readable: a crash reason, a cert's names, a pull's layer
	// Current and Total are bytes done and expected for EventProgress
	// (Total is 0 when unknown).
	Current, Total int64
}

// EventKind says what an Event is about.
type EventKind string

// The kinds of Event.
const (
	EventAdded    EventKind = "added"
	EventRemoved  EventKind = "removed"
	EventState    EventKind = "state"
	EventProgress EventKind = "progress"
	EventCert     EventKind = "cert-issued"
)

// subscribers fans events out. Sends never block the Manager: a
// subscriber that falls behind loses events, which is safe because each
// one only says "look again" (List has the truth).
type subscribers struct {
	mu   sync.Mutex
	next int
	subs map[int]chan Event
}

// Subscribe returns a channel of events and a function that ends the
// subscription and closes the channel.
func (m *Manager) Subscribe() (<-chan Event, func()) {
	s := &m.subs
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs == nil {
		s.subs = map[int]chan Event{}
	}
	id := s.next
	s.next++
	ch := make(chan Event, 64)
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

func (m *Manager) emit(e Event) {
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

// stateEvent tells subscribers a project moved to a new state. Callers
// must not hold m.mu.
func (m *Manager) stateEvent(project string, st State, detail string) {
	m.emit(Event{Kind: EventState, Project: project, State: st, Detail: detail})
}
