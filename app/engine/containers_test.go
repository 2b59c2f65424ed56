package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/testenv"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

func testManager(t *testing.T) *Manager {
	t.Helper()
	home := t.TempDir()
	m, err := NewManager(context.Background(), Options{Paths: Paths{Data: home, Logs: home + "/logs", Run: home + "/run"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestContainerImage(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	php := store.Service{Stack: "php", Runtime: wire.RuntimeContainer}
	if got := m.containerImage(ctx, php); got != stackdef.DefaultPHPImage {
		t.Errorf("default: %q", got)
	}
	if err := m.SetSetting(ctx, SettingImagePrefix+"php", "php:8.2-apache"); err != nil {
		t.Fatal(err)
	}
	if got := m.containerImage(ctx, php); got != "php:8.2-apache" {
		t.Errorf("setting: %q", got)
	}
	if got := m.containerImage(ctx, store.Service{Stack: "uvicorn"}); got != stackdef.DefaultPythonImage {
		t.Errorf("uvicorn default with a php setting: %q", got)
	}
	php.Image = "mine/php:1"
	if got := m.containerImage(ctx, php); got != "mine/php:1" {
		t.Errorf("service image: %q", got)
	}
}

func TestSetRuntimeRefusals(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.php"), []byte("<?php echo 1;"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add(ctx, wire.AddRequest{Name: "ext", Proxy: "http://127.0.0.1:3000"}); err != nil {
		t.Fatal(err)
	}
	before, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		project string
		req     wire.RuntimeRequest
		want    []string
	}{
		{"unknown runtime", "ext", wire.RuntimeRequest{Runtime: "vm"}, []string{"runtime", "vm", "--runtime container"}},
		{"missing runtime", "ext", wire.RuntimeRequest{}, []string{"runtime", "missing"}},
		{"invalid image", "ext", wire.RuntimeRequest{Runtime: "container", Image: "Bad Image"}, []string{"image", "Bad Image"}},
		{"unknown project", "ghost", wire.RuntimeRequest{Runtime: "container"}, []string{"ghost", "not found"}},
		{"unknown service", "ext", wire.RuntimeRequest{Runtime: "container", Service: "api"}, []string{"service", "api"}},
		{"proxy service has no runtime", "ext", wire.RuntimeRequest{Runtime: "container", Service: "web"}, []string{"no runtime"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.SetRuntime(ctx, tc.project, tc.req)
			if err == nil {
				t.Fatal("SetRuntime succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			after, _ := m.List(ctx)
			if len(after) != len(before) || after[0].Services[0].Runtime != before[0].Services[0].Runtime {
				t.Errorf("store changed: %+v", after)
			}
		})
	}
	t.Run("docker down leaves the store unchanged", func(t *testing.T) {
		if err := stacks.Check("php", dir); err != nil {
			testenv.Need(t, "the php process runtime", false, err.Error())
		}
		if _, err := m.Add(ctx, wire.AddRequest{Dir: dir, Name: "shop"}); err != nil {
			t.Fatal(err)
		}
		t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "none.sock"))
		_, err := m.SetRuntime(ctx, "shop", wire.RuntimeRequest{Runtime: "container"})
		if !errors.Is(err, stacks.ErrDockerUnavailable) {
			t.Fatalf("SetRuntime = %v, want ErrDockerUnavailable", err)
		}
		p, _ := m.db.Project(ctx, "shop")
		if p.Services[0].Runtime != wire.RuntimeProcess {
			t.Fatalf("runtime changed to %q", p.Services[0].Runtime)
		}
		// Switching an idle service to the process runtime needs no Docker.
		if _, err := m.SetRuntime(ctx, "shop", wire.RuntimeRequest{Runtime: "process"}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestEventStream: the Manager's events (image pull progress here) reach
// a client of the control socket, as `devport start` draws them (the
// drawing: cli's TestPullProgress).
func TestEventStream(t *testing.T) {
	m := testManager(t)
	ctl, err := m.serveControl(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	cl, err := wire.Dial(context.Background(), m.paths.Control())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done, err := cl.Events(ctx, func(e wire.Event) {
		fmt.Fprintf(out, "%s %s %s %d/%d\n", e.Kind, e.Project, e.Detail, e.Current, e.Total)
	})
	if err != nil {
		t.Fatal(err)
	}
	// The stream is open: what the Manager emits now reaches the client.
	for i := int64(1); i <= 4; i++ {
		m.emit(wire.Event{Kind: wire.EventProgress, Project: "shop", Service: "web", Detail: "php:8.3-apache l1", Current: i * 1e6, Total: 4e6})
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(out.String(), "4000000/4000000") {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if s := out.String(); !strings.Contains(s, "progress shop php:8.3-apache l1 1000000/4000000\n") || !strings.Contains(s, "4000000/4000000") {
		t.Fatalf("events received:\n%s", s)
	}
}

// syncBuffer is a strings.Builder that the progress goroutine and the test
// can share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
