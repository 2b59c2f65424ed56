package engine

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/testenv"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// TestRename renames projects the ways a user does: a running one, which
// comes back under its new name and domain with the old domain gone from
// the proxy and the hosts block; a refused name, which leaves it running
// as it was; and a parked one, whose new name survives the next look at
// its parked folder.
func TestRename(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts")
	if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(ctx, Options{Paths: Paths{Data: filepath.Join(dir, "d"), Logs: filepath.Join(dir, "l"), Run: filepath.Join(dir, "r")}, HostsPath: hosts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if err := m.SetDNSMethod(ctx, dnsHosts); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "src")
	writeFiles(t, src, map[string]string{
		"shop/main.py":       "from fastapi import FastAPI\napp = FastAPI()\n",
		"sites/wiki/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
	})
	testenv.Need(t, "python3-uvicorn", stacks.Check("uvicorn", filepath.Join(src, "shop")) == nil, testenv.InstallFix)
	var starts, stops atomic.Int64
	m.newRunner = func(stacks.Spec) (stacks.Runner, error) {
		return &fakeBackend{starts: &starts, stops: &stops}, nil
	}
	if _, err := m.Add(ctx, wire.AddRequest{Dir: filepath.Join(src, "shop")}); err != nil {
		t.Fatal(err)
	}
	port := serveTest(t, m)
	if err := m.Start(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	c := siteClient(t, m, port)
	get := func(host string) (int, string) {
		resp, err := c.Get("https://" + host + "/")
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	state := func(name string) wire.State {
		st, err := m.Status(ctx, name)
		if err != nil {
			return "missing"
		}
		return st.State
	}

	t.Run("running project", func(t *testing.T) {
		p, err := m.Rename(ctx, "shop", wire.RenameRequest{Name: "store"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != "store" || p.Domains[0] != "store.test" {
			t.Errorf("renamed to %s at %v, want store at store.test (the domain follows the name)", p.Name, p.Domains)
		}
		if s := state("store"); s != wire.StateRunning {
			t.Errorf("store is %s after the rename, want running again", s)
		}
		if s := state("shop"); s != "missing" {
			t.Errorf("the old name is still a project: %s", s)
		}
		if status, body := get("store.test"); status != 200 || body != "hello from the backend" {
			t.Errorf("store.test: %d %q", status, body)
		}
		if status, body := get("shop.test"); status == 200 {
			t.Errorf("shop.test still answers after the rename: %q", body)
		}
		block, _ := os.ReadFile(hosts)
		if !strings.Contains(string(block), "store.test") || strings.Contains(string(block), "shop.test") {
			t.Errorf("the hosts block does not follow the rename:\n%s", block)
		}
	})

	t.Run("refused name keeps it running", func(t *testing.T) {
		before := starts.Load()
		_, err := m.Rename(ctx, "store", wire.RenameRequest{Name: "My Store"})
		var ve *store.ValidationError
		if !errors.As(err, &ve) || ve.Field != "name" {
			t.Fatalf("Rename to %q = %v, want a name ValidationError", "My Store", err)
		}
		if s := state("store"); s != wire.StateRunning || starts.Load() != before {
			t.Errorf("a refused rename left store %s after %d starts", s, starts.Load()-before)
		}
	})

	t.Run("a domain alone", func(t *testing.T) {
		p, err := m.Rename(ctx, "store", wire.RenameRequest{Domain: "shop.localhost"})
		if err != nil || p.Name != "store" || p.Domains[0] != "shop.localhost" {
			t.Fatalf("Rename --domain = %+v, %v", p, err)
		}
		if status, _ := get("shop.localhost"); status != 200 {
			t.Errorf("shop.localhost: %d", status)
		}
	})

	t.Run("parked project keeps its new name", func(t *testing.T) {
		sites := filepath.Join(src, "sites")
		if _, err := m.Park(ctx, sites); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Rename(ctx, "wiki", wire.RenameRequest{Name: "handbook"}); err != nil {
			t.Fatal(err)
		}
		rep, err := m.Park(ctx, sites) // looks at the folder again
		if err != nil {
			t.Fatal(err)
		}
		if l := lineWith(rep.Lines, "added wiki"); l != "" {
			t.Errorf("the next look at the parked folder brought wiki back: %s", l)
		}
		folders, err := m.Parked(ctx)
		if err != nil || len(folders) != 1 || strings.Join(folders[0].Projects, ",") != "handbook" {
			t.Errorf("parked = %+v, %v; want handbook alone", folders, err)
		}
	})
}
