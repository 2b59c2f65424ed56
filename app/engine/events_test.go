package engine

import (
	"context"
	"testing"
	"time"

	"github.com/devport/devport/app/wire"
)

func TestSubscribe(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	events, cancel := m.Subscribe()
	next := func() wire.Event {
		t.Helper()
		select {
		case e := <-events:
			return e
		case <-time.After(5 * time.Second):
			t.Fatal("no event within 5s")
			return wire.Event{}
		}
	}
	if _, err := m.Add(ctx, wire.AddRequest{Name: "ext", Proxy: "http://127.0.0.1:3000"}); err != nil {
		t.Fatal(err)
	}
	if e := next(); e.Kind != wire.EventAdded || e.Project != "ext" {
		t.Errorf("after Add: %+v", e)
	}
	if err := m.Remove(ctx, "ext"); err != nil {
		t.Fatal(err)
	}
	if e := next(); e.Kind != wire.EventRemoved || e.Project != "ext" {
		t.Errorf("after Remove: %+v", e)
	}
	cancel()
	cancel() // idempotent
	if _, ok := <-events; ok {
		t.Error("channel still open after cancel")
	}
	// A subscriber that never reads must not block the Manager.
	_, cancel2 := m.Subscribe()
	defer cancel2()
	for i := 0; i < 200; i++ {
		m.emit(wire.Event{Kind: wire.EventProgress})
	}
}
