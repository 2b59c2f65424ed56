package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// eventsHandler streams the Manager's events as JSON lines (GET
// /v1/events) until the client goes away. The CLI reads it to draw image
// pull progress while the engine starts a project.
func (m *Manager) eventsHandler(w http.ResponseWriter, r *http.Request) {
	ch, cancel := m.Subscribe()
	defer cancel()
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

// Events streams the engine's events to fn until ctx ends or the engine
// closes the stream. It returns once the stream is open (ready) or failed.
func (c *Client) Events(ctx context.Context, fn func(Event)) (done <-chan struct{}, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://devport/v1/events", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("engine at %s: %w", c.socket, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, &EngineError{Status: resp.StatusCode, Msg: "events: " + resp.Status}
	}
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var e Event
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				fn(e)
			}
		}
	}()
	return ch, nil
}

// pullProgress renders the image pulls of one project as one line that it
// redraws: "pulling php:8.3-apache  [=====>      ]  12.3/45.6 MB, 3 layers".
type pullProgress struct {
	w       io.Writer
	project string

	mu     sync.Mutex
	layers map[string][2]int64 // "image layer" -> current, total
	drawn  bool
}

func (p *pullProgress) event(e Event) {
	if e.Kind != EventProgress || e.Project != p.project {
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
// on c.Stderr from the engine's event stream (best effort: without a
// stream, fn runs all the same).
func (c *CLI) withProgress(ctx context.Context, cl *Client, project string, fn func() error) error {
	ctx, cancel := context.WithCancel(ctx)
	p := &pullProgress{w: c.Stderr, project: project}
	done, err := cl.Events(ctx, p.event)
	err2 := fn()
	cancel()
	if err == nil {
		<-done
	}
	p.finish()
	return err2
}
