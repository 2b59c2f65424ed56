//go:build unix

package stacks

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/stackdef"
)

// dataSpec is a spec of a data stack whose folders all live in one temp
// dir that the account a server runs as when the tests run as root
// (nobody) can pass through, with a free port.
func dataSpec(t *testing.T, stack string) Spec {
	t.Helper()
	base := sharedTempDir(t)
	dir := filepath.Join(base, "project")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return Spec{
		Project: "shop", Service: "data", Stack: stack, Dir: dir,
		RunDir:      filepath.Join(base, "run"),
		LogPath:     filepath.Join(base, "logs", "data.log"),
		DataDir:     filepath.Join(base, "data"),
		Port:        freePort(t),
		Database:    "shop",
		User:        "shop_user",
		Password:    `pa'ss"word\1`,
		StopTimeout: 10 * time.Second,
	}
}

// freePort is a loopback port nobody listens on (for a moment).
func freePort(t *testing.T) int {
	t.Helper()
	p, err := loopbackPort(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newData builds the runner of a data spec.
func newData(t *testing.T, spec Spec) Runner {
	t.Helper()
	r, err := NewRunner(spec)
	if err != nil {
		t.Fatalf("NewRunner: %v", err)
	}
	return r
}

// startData starts r; the caller has registered its Stop (stopData).
func startData(t *testing.T, r Runner) Upstream {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	up, err := r.Start(ctx)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return up
}

// stopData registers, on the test that owns r, the Stop that ends it,
// and checks that nothing of its server is left.
func stopData(t *testing.T, r Runner) {
	t.Helper()
	t.Cleanup(func() {
		g, running := r.(interface{ ProcessGroup() (Group, bool) }).ProcessGroup()
		stopRunner(t, r)
		if running {
			assertGroupGone(t, g.Pgid)
		}
	})
}

// dataPgid is the process group of a data runner's server.
func dataPgid(t *testing.T, r Runner) int {
	t.Helper()
	g, ok := r.(interface{ ProcessGroup() (Group, bool) }).ProcessGroup()
	if !ok {
		t.Fatal("no process group after Start")
	}
	return g.Pgid
}

// restartData stops r, checks that nothing of its group is left, and
// starts it again.
func restartData(t *testing.T, r Runner) {
	t.Helper()
	pgid := dataPgid(t, r)
	stopRunner(t, r)
	assertGroupGone(t, pgid)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := r.Start(ctx); err != nil {
		t.Fatalf("Start again: %v", err)
	}
}

// assertLogSays checks that the service log has want: a server's own
// words for a clean shutdown, not a SIGKILL.
func assertLogSays(t *testing.T, spec Spec, want string) {
	t.Helper()
	if b, _ := os.ReadFile(spec.LogPath); !strings.Contains(string(b), want) {
		t.Errorf("the log does not say %q:\n%s", want, b[max(0, len(b)-2000):])
	}
}

func TestNewRunnerData(t *testing.T) {
	base := t.TempDir()
	valid := Spec{Project: "shop", Service: "db", Stack: stackdef.MariaDB, Dir: base, RunDir: filepath.Join(base, "run"),
		DataDir: filepath.Join(base, "data"), Port: 3306, Database: "shop", User: "shop", Password: "pw"}
	tests := []struct {
		name     string
		edit     func(*Spec)
		database bool   // the runner is a Database
		wantMsg  string // "" means no error
	}{
		{name: "mariadb", edit: func(*Spec) {}, database: true},
		{name: "mysql is mariadb", edit: func(s *Spec) { s.Stack = stackdef.MySQL }, database: true},
		{name: "postgres", edit: func(s *Spec) { s.Stack = stackdef.Postgres }, database: true},
		{name: "redis", edit: func(s *Spec) { s.Stack, s.Database, s.User, s.Password = stackdef.Redis, "", "", "" }},
		{name: "mailpit", edit: func(s *Spec) { s.Stack = stackdef.Mailpit }},
		{name: "relative data folder", edit: func(s *Spec) { s.DataDir = "data" }, wantMsg: `data folder "data" must be an absolute path`},
		{name: "no port", edit: func(s *Spec) { s.Port = 0 }, wantMsg: "port 0: a data service needs its port"},
		{name: "port out of range", edit: func(s *Spec) { s.Stack, s.Port = stackdef.Redis, 70000 }, wantMsg: "port 70000"},
		{name: "database name with a quote", edit: func(s *Spec) { s.Database = "shop`; DROP" }, wantMsg: "database name"},
		{name: "user name too long", edit: func(s *Spec) { s.Stack, s.User = stackdef.Postgres, strings.Repeat("u", 64) }, wantMsg: "user name"},
		{name: "no password", edit: func(s *Spec) { s.Password = "" }, wantMsg: "password must be set"},
		{name: "password with a newline", edit: func(s *Spec) { s.Password = "a\nb" }, wantMsg: "control characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := valid
			tc.edit(&spec)
			r, err := NewRunner(spec)
			if tc.wantMsg != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantMsg) {
					t.Fatalf("NewRunner error = %v, want %q", err, tc.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewRunner: %v", err)
			}
			if _, ok := r.(Database); ok != tc.database {
				t.Errorf("runner is a Database: %v, want %v", ok, tc.database)
			}
			if _, ok := r.(interface{ ProcessGroup() (Group, bool) }); !ok {
				t.Error("runner has no ProcessGroup")
			}
			if err := r.Stop(t.Context()); err != nil {
				t.Errorf("Stop before Start: %v", err)
			}
		})
	}
}

func TestPickVersion(t *testing.T) {
	have := []hostVersion{{short: "16", full: "16"}, {short: "15", full: "15"}}
	maria := []hostVersion{{short: "10.11", full: "10.11.19"}}
	tests := []struct {
		name    string
		have    []hostVersion
		want    string
		got     string // short of the pick
		wantErr string
	}{
		{name: "newest by default", have: have, want: "", got: "16"},
		{name: "exact major", have: have, want: "15", got: "15"},
		{name: "major.minor", have: maria, want: "10.11", got: "10.11"},
		{name: "major alone", have: maria, want: "10", got: "10.11"},
		{name: "full version", have: maria, want: "10.11.19", got: "10.11"},
		{name: "v prefix", have: []hostVersion{{short: "1.33", full: "1.33.1"}}, want: "v1.33.1", got: "1.33"},
		{name: "no partial number", have: maria, want: "10.1", wantErr: "mariadb 10.1 is not installed here (this machine has 10.11): install it, or run the service in a container (--runtime container --version 10.1)"},
		{name: "missing major", have: have, want: "17", wantErr: "this machine has 16, 15"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stack := stackdef.Postgres
			if tc.have[0].short == "10.11" {
				stack = stackdef.MariaDB
			}
			v, err := pickVersion(stack, tc.want, tc.have)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrNoVersion) {
					t.Fatalf("pickVersion = %v, %v; want an ErrNoVersion with %q", v, err, tc.wantErr)
				}
				return
			}
			if err != nil || v.short != tc.got {
				t.Errorf("pickVersion = %v, %v; want %s", v, err, tc.got)
			}
		})
	}
}

// dataStacks are the data stacks with what Check says about each here.
var dataStacks = []string{stackdef.MariaDB, stackdef.Postgres, stackdef.Redis, stackdef.Mailpit}

func TestDataVersions(t *testing.T) {
	tests := []struct {
		stack string
		shape string // what a version looks like
	}{
		{stackdef.MariaDB, `^\d+\.\d+$`},
		{stackdef.Postgres, `^\d+$`},
		{stackdef.Redis, `^\d+$`},
		{stackdef.Mailpit, `^\d+\.\d+$`},
	}
	for _, tc := range tests {
		t.Run(tc.stack, func(t *testing.T) {
			requireStack(t, tc.stack)
			vs, err := DataVersions(tc.stack)
			if err != nil || len(vs) == 0 {
				t.Fatalf("DataVersions = %v, %v", vs, err)
			}
			for _, v := range vs {
				if !regexpMatch(tc.shape, v) {
					t.Errorf("version %q is not like %s", v, tc.shape)
				}
			}
			t.Logf("%s: %v", tc.stack, vs)
		})
	}
	if _, err := DataVersions(stackdef.PHP); !errors.Is(err, ErrUnknownStack) {
		t.Errorf("DataVersions(php) = %v, want ErrUnknownStack", err)
	}
}

func TestCheckDataMissing(t *testing.T) {
	nothing := toolchain{pgRoot: t.TempDir()}
	tests := []struct {
		stack   string
		wantMsg string
	}{
		{stackdef.MariaDB, "mariadbd is not installed: sudo apt-get install mariadb-server"},
		{stackdef.MySQL, "mariadbd is not installed: sudo apt-get install mariadb-server"},
		{stackdef.Postgres, "postgres is not installed: sudo apt-get install postgresql"},
		{stackdef.Redis, "redis-server is not installed: sudo apt-get install redis-server"},
		{stackdef.Mailpit, "mailpit is not installed: GOBIN=/usr/local/bin go install github.com/axllent/mailpit@v1.33.1 (or use --runtime container)"},
	}
	for _, tc := range tests {
		t.Run(tc.stack, func(t *testing.T) {
			err := nothing.check(tc.stack, t.TempDir())
			var me *MissingError
			if !errors.As(err, &me) {
				t.Fatalf("check = %v, want a *MissingError", err)
			}
			if err.Error() != tc.wantMsg {
				t.Errorf("message\n%s\nwant\n%s", err, tc.wantMsg)
			}
		})
	}
	t.Run("present here", func(t *testing.T) {
		for _, stack := range dataStacks {
			var me *MissingError
			if err := Check(stack, t.TempDir()); err != nil && !errors.As(err, &me) {
				t.Errorf("Check(%s) = %v, want nil or *MissingError", stack, err)
			}
		}
	})
}

// TestDataStartErrors are the starts that fail before a server runs, or
// as it starts: each says what to do in one line, and the data folder is
// left as it was.
func TestDataStartErrors(t *testing.T) {
	tests := []struct {
		name  string
		stack string
		// setup prepares the spec (and the data folder); it returns what
		// must be left untouched in it.
		setup    func(t *testing.T, s *Spec) (keep map[string]string)
		wantErr  error
		wantMsg  []string
		oneLine  bool
		startErr bool // a *StartError with the log tail
	}{
		{name: "port in use", stack: stackdef.Redis, setup: holdPort, wantErr: ErrPortInUse, oneLine: true,
			wantMsg: []string{"port ", "in use", "free it, or remove and re-add the service"}},
		{name: "port in use: mariadb", stack: stackdef.MariaDB, setup: holdPort, wantErr: ErrPortInUse, oneLine: true},
		{name: "port in use: postgres", stack: stackdef.Postgres, setup: holdPort, wantErr: ErrPortInUse, oneLine: true},
		{name: "port in use: mailpit", stack: stackdef.Mailpit, setup: holdPort, wantErr: ErrPortInUse, oneLine: true},
		{name: "version not installed", stack: stackdef.Redis, wantErr: ErrNoVersion, oneLine: true,
			setup:   func(t *testing.T, s *Spec) map[string]string { s.Version = "99"; return nil },
			wantMsg: []string{"redis 99 is not installed here (this machine has ", "--runtime container --version 99"}},
		{name: "postgres version not installed", stack: stackdef.Postgres, wantErr: ErrNoVersion, oneLine: true,
			setup:   func(t *testing.T, s *Spec) map[string]string { s.Version = "99"; return nil },
			wantMsg: []string{"postgres 99 is not installed here", "--runtime container --version 99"}},
		{name: "data from a newer postgres", stack: stackdef.Postgres, wantErr: ErrDataVersion, oneLine: true,
			setup: func(t *testing.T, s *Spec) map[string]string {
				keep := map[string]string{"PG_VERSION": "99\n", "base/1/1259": "rows"}
				writeFiles(t, s.DataDir, keep)
				return keep
			},
			wantMsg: []string{"holds a PostgreSQL 99 database", "cannot open as it is newer", "use --version 99"}},
		{name: "a folder that is not a database", stack: stackdef.MariaDB, oneLine: true,
			setup: func(t *testing.T, s *Spec) map[string]string {
				keep := map[string]string{"notes.txt": "mine"}
				writeFiles(t, s.DataDir, keep)
				return keep
			},
			wantMsg: []string{"holds files but no mariadb database", "point the service at an empty folder"}},
		{name: "a data folder the server's account cannot reach", stack: stackdef.Postgres, oneLine: true,
			setup: func(t *testing.T, s *Spec) map[string]string {
				if os.Geteuid() != 0 {
					t.Skip("postgres runs as another account only when the tests run as root")
				}
				if err := os.Chmod(filepath.Dir(s.DataDir), 0o700); err != nil {
					t.Fatal(err)
				}
				return nil
			},
			wantMsg: []string{"postgres runs as ", "cannot reach", "chmod o+x " + "/tmp"}},
		{name: "redis exits at start", stack: stackdef.Redis, startErr: true,
			setup: func(t *testing.T, s *Spec) map[string]string {
				keep := map[string]string{"appendonlydir/appendonly.aof.manifest": "garbage\n"}
				writeFiles(t, s.DataDir, keep)
				return keep
			},
			wantMsg: []string{"redis-server exited at start", "manifest"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requireStack(t, tc.stack)
			spec := dataSpec(t, tc.stack)
			var keep map[string]string
			if tc.setup != nil {
				keep = tc.setup(t, &spec)
			}
			r := newData(t, spec)
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			_, err := r.Start(ctx)
			t.Cleanup(func() { stopRunner(t, r) })
			if err == nil {
				t.Fatal("Start succeeded")
			}
			t.Logf("Start: %v", err)
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error is not %v", tc.wantErr)
			}
			for _, m := range tc.wantMsg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error does not say %q", m)
				}
			}
			if tc.oneLine && strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line")
			}
			var se *StartError
			if tc.startErr != errors.As(err, &se) {
				t.Errorf("*StartError: %v, want %v", !tc.startErr, tc.startErr)
			}
			if strings.Contains(err.Error(), "setpriv") {
				t.Errorf("error names setpriv, not the server")
			}
			for name, body := range keep {
				if got, err := os.ReadFile(filepath.Join(spec.DataDir, name)); err != nil || string(got) != body {
					t.Errorf("data file %s changed: %q, %v", name, got, err)
				}
			}
		})
	}
}

// holdPort listens on the spec's port until the test ends.
func holdPort(t *testing.T, s *Spec) map[string]string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(s.Port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return nil
}

// TestDataExplain: a server that loses the race for its port after the
// check says so in its log; Start still answers ErrPortInUse, and names
// the server, not setpriv.
func TestDataExplain(t *testing.T) {
	exit := exec.Command("false").Run()
	tests := []struct {
		name    string
		stack   string
		se      *StartError
		inUse   bool
		command string
	}{
		{name: "mariadb", stack: stackdef.MariaDB, inUse: true, command: "mariadbd",
			se: &StartError{Command: "/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups --pdeathsig keep -- /usr/sbin/mariadbd --no-defaults",
				Tail: []string{"[ERROR] Can't start server: Bind on TCP/IP port. Got error: 98: Address already in use"}, Err: exit}},
		{name: "redis", stack: stackdef.Redis, inUse: true, command: "redis-server",
			se: &StartError{Command: "/usr/bin/redis-server --port 6379",
				Tail: []string{"# Warning: Could not create server TCP listening socket 127.0.0.1:6379: bind: Address already in use"}, Err: exit}},
		{name: "mailpit's UI port is not the service's", stack: stackdef.Mailpit, command: "mailpit",
			se: &StartError{Command: "/usr/local/bin/mailpit --listen 127.0.0.1:40000",
				Tail: []string{`level=error msg="listen tcp 127.0.0.1:40000: bind: address already in use"`}, Err: exit}},
		{name: "mailpit's SMTP port", stack: stackdef.Mailpit, inUse: true, command: "mailpit",
			se: &StartError{Command: "/usr/local/bin/mailpit --smtp 127.0.0.1:6379",
				Tail: []string{`level=error msg="listen tcp 127.0.0.1:6379: bind: address already in use"`}, Err: exit}},
		{name: "another failure", stack: stackdef.Postgres, command: "postgres",
			se: &StartError{Command: "/usr/bin/setpriv --reuid=1 -- /usr/lib/postgresql/15/bin/postgres -D /d",
				Tail: []string{`FATAL:  data directory "/d" has invalid permissions`}, Err: exit}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := Spec{Service: "db", Project: "shop", Stack: tc.stack, Port: 6379}
			err := (&dataRunner{procRunner: &procRunner{spec: spec}}).explain(tc.se)
			if errors.Is(err, ErrPortInUse) != tc.inUse {
				t.Errorf("explain = %v; ErrPortInUse %v, want %v", err, !tc.inUse, tc.inUse)
			}
			if tc.inUse && (strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "port 6379")) {
				t.Errorf("explain = %q, want one line naming port 6379", err)
			}
			var se *StartError
			if !errors.As(err, &se) || commandName(se.Command) != tc.command {
				t.Errorf("explain = %v, want a *StartError of %s", err, tc.command)
			}
		})
	}
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }
