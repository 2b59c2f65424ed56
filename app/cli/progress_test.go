package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/devport/devport/app/wire"
)

func TestPullProgress(t *testing.T) {
	tests := []struct {
		name   string
		events []wire.Event
		want   []string
	}{
		{"two layers of one image", []wire.Event{
			{Kind: wire.EventProgress, Project: "shop", Detail: "php:8.3-apache aaa", Current: 1e6, Total: 4e6},
			{Kind: wire.EventProgress, Project: "shop", Detail: "php:8.3-apache bbb", Current: 1e6, Total: 4e6},
		}, []string{"pulling php:8.3-apache [=====>", "2.0/8.0 MB, 2 layers"}},
		{"other projects and kinds are ignored", []wire.Event{
			{Kind: wire.EventProgress, Project: "blog", Detail: "x y", Current: 1, Total: 2},
			{Kind: wire.EventState, Project: "shop"},
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			p := &pullProgress{w: &b, project: "shop"}
			for _, e := range tc.events {
				p.event(e)
			}
			p.finish()
			out := b.String()
			if tc.want == nil && out != "" {
				t.Fatalf("drew %q", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("%q lacks %q", out, w)
				}
			}
			if tc.want != nil && !strings.HasSuffix(out, "\n") {
				t.Errorf("line not ended: %q", out)
			}
		})
	}
}

// localEvents is an api whose events come from a Manager in this process
// (engine.Local's Subscribe), as when no engine runs.
type localEvents struct {
	api
	ch chan wire.Event
}

func (l localEvents) Subscribe() (<-chan wire.Event, func()) {
	return l.ch, func() { close(l.ch) }
}

// TestWithProgressLocal: with no engine running, devport set --php (and
// the other commands that may pull) runs a Manager in this process; its
// pulls are drawn from that Manager's own events, as a start's are from
// the engine's stream.
func TestWithProgressLocal(t *testing.T) {
	var b bytes.Buffer
	c := &CLI{Stderr: &b}
	src := localEvents{ch: make(chan wire.Event, 4)}
	err := c.withProgress(t.Context(), src, "shop", func() error {
		src.ch <- wire.Event{Kind: wire.EventProgress, Project: "shop", Service: "web", Detail: "php:8.1-apache aaa", Current: 2e6, Total: 4e6}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "pulling php:8.1-apache [") || !strings.HasSuffix(out, "\n") {
		t.Errorf("drew %q, want the progress line", out)
	}
}

// TestPullProgressAnyProject: devport add, whose project has no name
// before the engine gives it one, draws the pulls of whatever project
// (project "").
func TestPullProgressAnyProject(t *testing.T) {
	var b bytes.Buffer
	p := &pullProgress{w: &b}
	p.event(wire.Event{Kind: wire.EventProgress, Project: "new", Detail: "php:8.1-apache aaa", Current: 1e6, Total: 2e6})
	p.event(wire.Event{Kind: wire.EventState, Project: "new"})
	p.finish()
	if out := b.String(); !strings.Contains(out, "pulling php:8.1-apache [") || strings.Count(out, "\r") != 1 {
		t.Errorf("drew %q, want one progress line", out)
	}
}
