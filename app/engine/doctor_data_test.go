package engine

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// TestCheckDataFolder: a data service's folder is fine at mode 0700, a
// tip at 0755 (others may read the data), fine before the first start when
// it can be created, and a failure with its fix when devport cannot use it;
// a server that runs as another account (devport as root) must be able to
// pass through every folder above it.
func TestCheckDataFolder(t *testing.T) {
	root := os.Geteuid() == 0
	self := dataAccount{uid: os.Geteuid(), gid: os.Getegid(), name: "you"}
	other := dataAccount{uid: os.Geteuid() + 4242, gid: os.Getegid() + 4242, name: "alice"}
	otherInGroup := dataAccount{uid: os.Geteuid() + 4242, gid: os.Getegid(), name: "bob"}
	// dir is BASE/services/shop/db, BASE 0711 in /tmp (t.TempDir's parents
	// are closed to others).
	tests := []struct {
		name     string
		acct     dataAccount
		setup    func(t *testing.T, base, dir string) // dir does not exist yet
		ok       bool
		detail   string
		fix      string // "" : none
		skipRoot bool   // root may write anywhere
	}{
		{"0700", self, func(t *testing.T, _, dir string) { mkdir(t, dir, 0o700) }, true, "mode 0700", "", false},
		{"0755 warns", self, func(t *testing.T, _, dir string) { mkdir(t, dir, 0o755) }, true, "is mode 0755: others may read the data", "chmod 700 ", false},
		{"0750 warns", self, func(t *testing.T, _, dir string) { mkdir(t, dir, 0o750) }, true, "is mode 0750", "chmod 700 ", false},
		{"missing, creatable", self, func(t *testing.T, _, dir string) { mkdir(t, filepath.Dir(dir), 0o700) }, true,
			"does not exist yet: the first start creates it", "", false},
		{"missing with its parent", self, func(t *testing.T, _, dir string) {}, true, "does not exist yet", "", false},
		{"missing, parent read-only", self, func(t *testing.T, _, dir string) { mkdir(t, filepath.Dir(dir), 0o500) }, false,
			"cannot be created", "sudo install -d -m 700 -o ", true},
		{"read-only folder", self, func(t *testing.T, _, dir string) { mkdir(t, dir, 0o500) }, false, "is not writable", "chmod u+rwx ", true},
		{"a file", self, func(t *testing.T, _, dir string) {
			mkdir(t, filepath.Dir(dir), 0o700)
			if err := os.WriteFile(dir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, false, "is not a folder", "mv ", false},
		{"another account passes through", other, func(t *testing.T, base, dir string) {
			mkdir(t, dir, 0o700)
			openChain(t, base, dir, 0o711)
		}, true, "for alice, who runs the server", "", false},
		{"another account, a closed folder above", other, func(t *testing.T, base, dir string) {
			mkdir(t, dir, 0o700)
			mkdir(t, base, 0o700)
		}, false, "the server runs as alice, who cannot reach", "chmod o+x ", false},
		{"another account, missing under a closed folder", other, func(t *testing.T, base, dir string) {
			mkdir(t, filepath.Dir(dir), 0o700)
			openChain(t, base, filepath.Dir(dir), 0o711) // all but shop
		}, false, "/services/shop is closed to them", "chmod o+x ", false},
		{"another account in the folder's group", otherInGroup, func(t *testing.T, base, dir string) {
			mkdir(t, dir, 0o700)
			openChain(t, base, dir, 0o710)
		}, true, "for bob", "", false},
		{"another account, closed to its group", otherInGroup, func(t *testing.T, base, dir string) {
			mkdir(t, dir, 0o700)
			openChain(t, base, dir, 0o710)
			mkdir(t, filepath.Dir(dir), 0o701)
		}, false, "/services/shop is closed to them", "chmod g+x ", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skipRoot && root {
				t.Skip("root writes any folder")
			}
			base, err := os.MkdirTemp("", "devport-doctor-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_ = filepath.Walk(base, func(p string, _ os.FileInfo, _ error) error { return os.Chmod(p, 0o700) })
				os.RemoveAll(base)
			})
			mkdir(t, filepath.Join(base, "services"), 0o700)
			mkdir(t, base, 0o711)
			dir := filepath.Join(base, "services", "shop", "db")
			tc.setup(t, base, dir)
			c := checkDataFolder(dir, "shop/db", tc.acct)
			if c.OK != tc.ok || !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("OK %v %q, want %v and %q", c.OK, c.Detail, tc.ok, tc.detail)
			}
			if (tc.fix == "") != (c.Fix == "") || !strings.Contains(c.Fix, tc.fix) {
				t.Errorf("fix %q, want %q", c.Fix, tc.fix)
			}
			if strings.Contains(c.Fix, "\n") || c.Name != "data folder (shop/db)" {
				t.Errorf("check %+v", c)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				t.Errorf("the check left %s in the folder", e.Name())
			}
		})
	}
}

// openChain sets mode on base and every folder below it above dir.
func openChain(t *testing.T, base, dir string, mode os.FileMode) {
	t.Helper()
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		mkdir(t, p, mode)
		if p == base || p == filepath.Dir(p) {
			return
		}
	}
}

func mkdir(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}

// TestCheckDataPort: a data service's port is fine when free or held by
// the service itself (this engine runs it, or its recorded process group
// listens), and fails with the fix when another program holds it.
func TestCheckDataPort(t *testing.T) {
	m := testManager(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	held := l.Addr().(*net.TCPAddr).Port
	free := freeTCPPort(t)
	p := store.Project{Name: "shop", Domains: []string{"shop.test"}}
	db := store.DataService{Name: "db", Stack: stackdef.MariaDB, Runtime: wire.RuntimeProcess, Port: held, Version: "10.11"}
	own := &stacks.Group{Pgid: processGroup(os.Getpid())} // this test listens: its group is "the service"
	other := &stacks.Group{Pgid: os.Getpid() + 1_000_000}

	tests := []struct {
		name   string
		port   int
		group  *stacks.Group
		ok     bool
		detail string
	}{
		{"free", free, nil, true, "free"},
		{"held by another program", held, nil, false, "in use by "},
		{"held by another group", held, other, false, "not by shop/db"},
		{"held by the service's own group", held, own, true, "in use by shop/db itself"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := db
			d.Port = tc.port
			c := m.checkDataPort(p, d, tc.group)
			if c.OK != tc.ok || !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("OK %v %q, want %v and %q", c.OK, c.Detail, tc.ok, tc.detail)
			}
			if c.Name != "port "+strconv.Itoa(tc.port)+" (shop/db)" {
				t.Errorf("name %q", c.Name)
			}
			if tc.ok {
				return
			}
			for _, want := range []string{"stop that program", "devport service shop rm db && devport service shop add db --stack mariadb --version 10.11"} {
				if !strings.Contains(c.Fix, want) {
					t.Errorf("fix %q lacks %q", c.Fix, want)
				}
			}
			if self, _ := os.ReadFile("/proc/self/comm"); len(self) > 0 && !strings.Contains(c.Detail, strings.TrimSpace(string(self))) {
				t.Errorf("detail %q does not name the holder %s", c.Detail, self)
			}
		})
	}
	t.Run("this engine runs it", func(t *testing.T) {
		r := newRun(wire.StateRunning)
		r.services["db"] = &serviceRun{data: true}
		m.mu.Lock()
		m.runs["shop"] = r
		m.mu.Unlock()
		defer func() {
			m.mu.Lock()
			delete(m.runs, "shop")
			m.mu.Unlock()
		}()
		if c := m.checkDataPort(p, db, nil); !c.OK || !strings.Contains(c.Detail, "this engine runs it") {
			t.Errorf("%+v", c)
		}
	})
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestCheckData: each data service gets its checks by runtime: the
// programs (as stacks.Check says), the folder and the port for a process,
// Docker for a container; the groups devport recorded are found by
// project and service.
func TestCheckData(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	port := freeTCPPort(t)
	p := store.Project{Name: "shop", Domains: []string{"shop.test"}, Data: []store.DataService{
		{Name: "db", Stack: stackdef.MariaDB, Runtime: wire.RuntimeProcess, Port: port},
		{Name: "cache", Stack: stackdef.Redis, Runtime: wire.RuntimeContainer, Port: port + 1},
	}}
	if err := m.db.SetBackendGroup(ctx, store.BackendGroup{Project: "shop", Service: "db", Data: `{"pgid":4242}`}); err != nil {
		t.Fatal(err)
	}
	if g := m.dataGroups(ctx)["shop/db"]; g == nil || g.Pgid != 4242 {
		t.Errorf("dataGroups: %+v", g)
	}
	checks := m.checkData(ctx, []store.Project{p})
	names := map[string]Check{}
	for _, c := range checks {
		names[c.Name] = c
	}
	for _, want := range []string{"stack mariadb (shop/db)", "data folder (shop/db)", "port " + strconv.Itoa(port) + " (shop/db)", "docker (shop/cache)"} {
		if _, ok := names[want]; !ok {
			t.Errorf("no check %q in %+v", want, checks)
		}
	}
	if len(checks) != 4 {
		t.Errorf("%d checks, want 4: %+v", len(checks), checks)
	}
	prog := names["stack mariadb (shop/db)"]
	if err := stacks.Check(stackdef.MariaDB, ""); (err == nil) != prog.OK || (!prog.OK && prog.Fix == "") {
		t.Errorf("programs: %+v, stacks.Check: %v", prog, err)
	}
	docker := names["docker (shop/cache)"]
	if err := checkServiceRuntime(ctx, wire.RuntimeContainer, "", ""); (err == nil) != docker.OK || (!docker.OK && !strings.Contains(docker.Fix, "systemctl start docker")) {
		t.Errorf("docker: %+v, ping: %v", docker, err)
	}
	// As root, the server runs as nobody, whom t.TempDir's folders keep
	// out: whether the check passes depends on who runs the test.
	if f := names["data folder (shop/db)"]; !strings.Contains(f.Detail, m.paths.ServiceData("shop", "db")) {
		t.Errorf("folder: %+v", f)
	}
}

// hinted is a MissingError with a message of its own, as stacks gives the
// go install line of Mailpit.
type hinted struct {
	msg string
	err error
}

func (h hinted) Error() string { return h.msg }
func (h hinted) Unwrap() error { return h.err }

// TestInstallFix: a missing program's fix is its Debian packages, or the
// go install line of one Debian does not package.
func TestInstallFix(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&stacks.MissingError{Binary: "mariadbd", Package: "mariadb-server mariadb-client"}, "sudo apt-get install mariadb-server mariadb-client"},
		{hinted{"mailpit is not installed: GOBIN=/usr/local/bin go install github.com/axllent/mailpit@v1.33.1 (or use --runtime container)",
			&stacks.MissingError{Binary: "mailpit"}}, "GOBIN=/usr/local/bin go install github.com/axllent/mailpit@v1.33.1 (or use --runtime container)"},
		{&stacks.MissingError{Binary: "mailpit"}, "install mailpit, or run"},
		{os.ErrPermission, "--runtime container"},
	}
	for _, tc := range tests {
		if got := installFix(tc.err); !strings.Contains(got, tc.want) {
			t.Errorf("installFix(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
