package proxy

import (
	"testing"
	"time"
)

func TestTransportsSync(t *testing.T) {
	a := Upstream{Network: "tcp", Address: "127.0.0.1:1"}
	b := Upstream{Network: "unix", Address: "/tmp/b.sock"}
	ts := newTransports()
	keys := func(ups ...Upstream) []transportKey {
		var ks []transportKey
		for _, u := range ups {
			ks = append(ks, transportKey{up: u})
		}
		return ks
	}
	ka, kb := transportKey{up: a}, transportKey{up: b}

	first := ts.sync(keys(a, b, Upstream{Address: a.Address})) // "" network is tcp: same upstream
	if len(first) != 2 {
		t.Fatalf("sync made %d transports, want 2", len(first))
	}
	t.Run("kept upstream reuses its transport", func(t *testing.T) {
		second := ts.sync(keys(a))
		if second[ka] != first[ka] {
			t.Error("a new transport for an unchanged upstream: its warm connections are lost")
		}
		if ts.byUp[kb] == nil || ts.byUp[kb].retired.IsZero() {
			t.Error("b left the table but is not marked retired")
		}
	})
	t.Run("returning upstream reuses its retired transport", func(t *testing.T) {
		third := ts.sync(keys(a, b))
		if third[kb] != first[kb] || !ts.byUp[kb].retired.IsZero() {
			t.Error("b came back with a new transport, or still retired")
		}
	})
	t.Run("long retired transports are forgotten", func(t *testing.T) {
		ts.sync(keys(a))
		ts.byUp[kb].retired = time.Now().Add(-3 * UpstreamIdleTimeout)
		ts.sync(keys(a))
		if _, ok := ts.byUp[kb]; ok {
			t.Error("a transport retired long ago is still kept")
		}
	})
	ts.closeIdle()
}

func TestBufferPool(t *testing.T) {
	var p bufferPool
	b := p.Get()
	if len(b) != bufSize {
		t.Fatalf("len = %d, want %d", len(b), bufSize)
	}
	p.Put(b)
	p.Put(make([]byte, 10)) // foreign sizes are dropped
	if got := p.Get(); len(got) != bufSize {
		t.Errorf("len after Put = %d, want %d", len(got), bufSize)
	}
}
