package engine

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/store"
)

// TestAddDataServiceRefusals: every bad request is a one-line error naming
// the fix, and the project stays as it was.
func TestAddDataServiceRefusals(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"index.php": "<?php echo 1;"})
	if _, err := m.Add(ctx, wire.AddRequest{Dir: dir, Name: "shop"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.AddDataService(ctx, "shop", wire.DataServiceRequest{Name: "cache", Stack: "redis"}); err != nil {
		t.Fatal(err)
	}
	// What a removed service of another stack left behind.
	if err := m.writeMeta("shop", "old", dataMeta{Stack: "postgres", Password: "x", DBName: "shop"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  wire.DataServiceRequest
		want string // in the error
	}{
		{"unknown stack", wire.DataServiceRequest{Name: "db", Stack: "oracle"}, "use --stack mariadb, postgres, redis or mailpit"},
		{"a web stack", wire.DataServiceRequest{Name: "db", Stack: "php"}, "is not a data service"},
		{"name of a data service", wire.DataServiceRequest{Name: "cache", Stack: "redis"}, "already has a service of that name"},
		{"name of the web service", wire.DataServiceRequest{Name: "web", Stack: "mariadb"}, "already has a service of that name"},
		{"bad name", wire.DataServiceRequest{Name: "My DB", Stack: "mariadb"}, "use --service my-db"},
		{"hostile version", wire.DataServiceRequest{Name: "db", Stack: "postgres", Version: "15\nx"}, "is not a version"},
		{"version not installed", wire.DataServiceRequest{Name: "db", Stack: "postgres", Version: "9"}, "--runtime container --version 9"},
		{"bad runtime", wire.DataServiceRequest{Name: "db", Stack: "redis", Runtime: "vm"}, "use --runtime process or --runtime container"},
		{"bad image", wire.DataServiceRequest{Name: "db", Stack: "redis", Runtime: "container", Image: "a b"}, "--image"},
		{"data of another stack kept", wire.DataServiceRequest{Name: "old", Stack: "redis"}, "add it as --stack postgres"},
		{"no project", wire.DataServiceRequest{Name: "db", Stack: "redis"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			project := "shop"
			if tc.name == "no project" {
				project = "ghost"
			}
			before, _ := m.db.Project(ctx, "shop")
			_, err := m.AddDataService(ctx, project, tc.req)
			if err == nil {
				t.Fatal("accepted")
			}
			if project == "ghost" {
				if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("err = %v, want ErrNotFound", err)
				}
				return
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %q, want one line with %q", err, tc.want)
			}
			if after, _ := m.db.Project(ctx, "shop"); len(after.Data) != len(before.Data) {
				t.Fatalf("a refused add changed the project: %+v", after.Data)
			}
		})
	}
}

// TestDataPorts: a data service gets its stack's own port when free, the
// next one from 13306 up when that is taken on this machine or by another
// data service.
func TestDataPorts(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"index.php": "<?php echo 1;"})
	if _, err := m.Add(ctx, wire.AddRequest{Dir: dir, Name: "shop"}); err != nil {
		t.Fatal(err)
	}
	// Taken by this listener, or by someone else already: either way not free.
	if l, err := net.Listen("tcp", "127.0.0.1:6379"); err == nil {
		defer l.Close()
	}
	a, err := m.AddDataService(ctx, "shop", wire.DataServiceRequest{Name: "cache", Stack: "redis"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.AddDataService(ctx, "shop", wire.DataServiceRequest{Name: "queue", Stack: "redis"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Port < 16379 || b.Port <= a.Port {
		t.Fatalf("ports %d and %d: want 16379 and up, each its own", a.Port, b.Port)
	}
}

// TestDataEnv: the first service of a kind has the plain names, a second
// its name as prefix; a web container reaches data containers by name and
// everything else on the loopback port.
func TestDataEnv(t *testing.T) {
	p := store.Project{Name: "shop", Data: []store.DataService{
		{ID: 1, Name: "db", Stack: "mariadb", Runtime: "container", Port: 13306, Password: "pw", DBName: "shop"},
		{ID: 2, Name: "cache", Stack: "redis", Runtime: "process", Port: 6379},
		{ID: 3, Name: "sessions", Stack: "redis", Runtime: "container", Port: 16379},
		{ID: 4, Name: "mail", Stack: "mailpit", Runtime: "process", Port: 1025},
	}}
	tests := []struct {
		name    string
		runtime string
		want    []string
	}{
		{"process", wire.RuntimeProcess, []string{"DB_HOST=127.0.0.1", "DB_PORT=13306", "DB_CONNECTION=mysql",
			"DATABASE_URL=mysql://shop:pw@127.0.0.1:13306/shop", "REDIS_URL=redis://127.0.0.1:6379",
			"SESSIONS_REDIS_URL=redis://127.0.0.1:16379", "MAIL_HOST=127.0.0.1", "MAIL_PORT=1025", "MAIL_MAILER=smtp"}},
		{"container", wire.RuntimeContainer, []string{"DB_HOST=db", "DB_PORT=3306", "DATABASE_URL=mysql://shop:pw@db:3306/shop",
			"REDIS_URL=redis://127.0.0.1:6379", "SESSIONS_REDIS_HOST=sessions", "SESSIONS_REDIS_PORT=6379"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := dataEnv(p, tc.runtime)
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("lacks %s; has %v", w, got)
				}
			}
		})
	}
}

// TestRemoveDataServiceKeepsData: removing a data service keeps its data
// folder and says where; --purge deletes it, with its password file.
func TestRemoveDataServiceKeepsData(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"index.php": "<?php echo 1;"})
	if _, err := m.Add(ctx, wire.AddRequest{Dir: dir, Name: "shop"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.AddDataService(ctx, "shop", wire.DataServiceRequest{Name: "db", Stack: "redis"}); err != nil {
		t.Fatal(err)
	}
	data := m.paths.ServiceData("shop", "db")
	writeFiles(t, data, map[string]string{"appendonly.aof": strings.Repeat("x", 2048)})
	rep, err := m.RemoveDataService(ctx, "shop", "db", false)
	if err != nil || rep.Kept != data || rep.Size != 2048 {
		t.Fatalf("remove: %+v, %v", rep, err)
	}
	if _, err := os.Stat(filepath.Join(data, "appendonly.aof")); err != nil {
		t.Fatalf("the kept data: %v", err)
	}
	if _, err := m.AddDataService(ctx, "shop", wire.DataServiceRequest{Name: "db", Stack: "redis"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.RemoveDataService(ctx, "shop", "db", true); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{data, m.paths.serviceMeta("shop", "db")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("purge left %s: %v", filepath.Base(p), err)
		}
	}
}

// TestReachableData: a web container with a data service on the host's
// loopback is refused before anything starts, with the fix.
func TestReachableData(t *testing.T) {
	tests := []struct {
		name       string
		web, data  string
		wantRefuse bool
	}{
		{"both processes", wire.RuntimeProcess, wire.RuntimeProcess, false},
		{"both containers", wire.RuntimeContainer, wire.RuntimeContainer, false},
		{"process web, container data", wire.RuntimeProcess, wire.RuntimeContainer, false},
		{"container web, process data", wire.RuntimeContainer, wire.RuntimeProcess, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := store.Project{Name: "shop", Services: []store.Service{{Name: "web", Stack: "php", Runtime: tc.web}},
				Data: []store.DataService{{Name: "db", Stack: "mariadb", Runtime: tc.data}}}
			err := reachableData(p)
			if (err != nil) != tc.wantRefuse {
				t.Fatalf("err = %v, want refused: %v", err, tc.wantRefuse)
			}
			if err != nil && !strings.Contains(err.Error(), "devport set shop --service db --runtime container") {
				t.Fatalf("no fix in %q", err)
			}
		})
	}
}
