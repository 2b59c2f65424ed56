package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/devport/devport/app/wire"
)

// pullProgress renders the image pulls of one project as one line that it
// redraws: "pulling php:8.3-apache  [=====>      ]  12.3/45.6 MB, 3 layers".
type pullProgress struct {
	w       io.Writer
	project string // "" for every project's (devport add: the engine names it)

	mu     sync.Mutex
	layers map[string][2]int64 // "image layer" -> current, total
	drawn  bool
}

func (p *pullProgress) event(e wire.Event) {
	if e.Kind != wire.EventProgress || (p.project != "" && e.Project != p.project) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.layers == nil {
		p.layers = map[string][2]int64{}
	}
	p.layers[e.Detail] = [2]int64{e.Current, e.Total}
	fmt.Fprintf(p.w, "\r%s", renderProgress(p.layers))
	p.drawn = true
}

// finish ends the progress line, if one was drawn.
func (p *pullProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// renderProgress sums the layers of every image being pulled.
func renderProgress(layers map[string][2]int64) string {
	var cur, total int64
	images := map[string]bool{}
	for k, v := range layers {
		img, _, _ := strings.Cut(k, " ")
		images[img] = true
		cur += v[0]
		total += v[1]
	}
	names := make([]string, 0, len(images))
	for n := range images {
		names = append(names, n)
	}
	sort.Strings(names)
	const width = 24
	bar := strings.Repeat(" ", width)
	if total > 0 {
		n := int(min(cur, total) * width / total)
		bar = strings.Repeat("=", n) + strings.Repeat(" ", width-n)
		if n > 0 && n < width {
			bar = strings.Repeat("=", n-1) + ">" + strings.Repeat(" ", width-n)
		}
	}
	return fmt.Sprintf("pulling %s [%s] %.1f/%.1f MB, %d layers ", strings.Join(names, ", "), bar,
		float64(cur)/1e6, float64(total)/1e6, len(layers))
}

// withProgress runs fn while it draws the image pull progress of project
// ("" for any) on c.Stderr from the events of a: a running engine's event stream (a
// *wire.Client), or the Manager in this process when none runs
// (engine.Local), whose pulls (devport set --php, --runtime) would
// otherwise go unseen. Best effort: without events, fn runs all the same.
func (c *CLI) withProgress(ctx context.Context, a api, project string, fn func() error) error {
	p := &pullProgress{w: c.Stderr, project: project}
	switch src := a.(type) {
	case *wire.Client:
		if src == nil {
			return fn()
		}
		ctx, cancel := context.WithCancel(ctx)
		done, err := src.Events(ctx, p.event)
		err2 := fn()
		cancel()
		if err == nil {
			<-done
		}
		p.finish()
		return err2
	case subscriber:
		events, stop := src.Subscribe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for e := range events { // until stop closes it, what was sent before included
				p.event(e)
			}
		}()
		err := fn()
		stop()
		<-done
		p.finish()
		return err
	}
	return fn()
}

// subscriber is an api whose events are at hand in this process
// (engine.Local).
type subscriber interface {
	Subscribe() (<-chan wire.Event, func())
}
