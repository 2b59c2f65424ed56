//go:build unix

package stacks

import (
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/testenv"
)

// freshUID is a uid no account on the test machine has (chown accepts
// any number): the owner of a project folder that is not root's.
const freshUID = 4242

// uploadPage writes a file the way WordPress stores an upload (a new
// folder below the project, then a file in it) and says as whom.
const uploadPage = `<?php
header('Content-Type: text/plain');
$dir = __DIR__ . '/wp-content/uploads/2026';
$made = is_dir($dir) || @mkdir($dir, 0755, true);
$wrote = $made && @file_put_contents($dir . '/hello.txt', 'hi') !== false;
echo "uid=", posix_geteuid(), "\n";
echo "gid=", posix_getegid(), "\n";
echo "wrote=", $wrote ? "yes" : "no", "\n";
`

// chownTree hands every file under dir to uid:gid.
func chownTree(t *testing.T, dir string, uid, gid int) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ownerOfFile is the uid and gid that own path.
func ownerOfFile(t *testing.T, path string) (int, int) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return int(st.Uid), int(st.Gid)
}

// nobodyIDs are the uid and gid of nobody and its group (nogroup on
// Debian).
func nobodyIDs(t *testing.T) (int, int) {
	t.Helper()
	acct, err := apacheUser()
	if err != nil {
		t.Fatal(err)
	}
	return int(acct.uid), int(acct.gid)
}

// namedAccount is an account of this machine other than root and nobody
// (Debian always has daemon, bin and games), to own a project folder the
// way a developer's own account does.
func namedAccount(t *testing.T) (uid, gid int, name string) {
	t.Helper()
	nobodyUID, _ := nobodyIDs(t)
	for _, n := range []string{"daemon", "bin", "games", "www-data"} {
		u, err := user.Lookup(n)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if uid != 0 && uid != nobodyUID {
			return uid, gid, u.Username
		}
	}
	t.Skip("no account other than root and nobody on this machine")
	return 0, 0, ""
}

// TestApacheWorkerUser: devport runs as root (as in CI), and Apache's
// workers serve a user's project as that user, so the app can write its
// uploads. A folder root owns is served as nobody, as before, and so is
// one whose owner has no account: Apache's "User #4242" would leave its
// workers running as root.
func TestApacheWorkerUser(t *testing.T) {
	requireStack(t, stackdef.PHP)
	if os.Geteuid() != 0 {
		t.Skip("Apache's workers change user only when devport runs as root")
	}
	nobodyUID, nobodyGID := nobodyIDs(t)
	userUID, userGID, _ := namedAccount(t)
	tests := []struct {
		name             string
		owner, group     int // of the project folder
		wantUID, wantGID int
		wantWrote        bool
	}{
		{name: "a user's folder", owner: userUID, group: userGID, wantUID: userUID, wantGID: userGID, wantWrote: true},
		{name: "root's folder", wantUID: nobodyUID, wantGID: nobodyGID},
		{name: "an owner without an account", owner: freshUID, group: freshUID, wantUID: nobodyUID, wantGID: nobodyGID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := testSpec(t, stackdef.PHP, map[string]string{"index.php": uploadPage, "wp-content/index.php": ""})
			chownTree(t, spec.Dir, tc.owner, tc.group)
			up := startRunner(t, mustRunner(t, spec))
			status, body := get(t, up, "/", nil)
			if status != 200 {
				t.Fatalf("GET / = %d:\n%s", status, body)
			}
			if strings.Contains(body, "uid=0\n") {
				t.Fatalf("PHP runs as root:\n%s", body)
			}
			want := "uid=" + strconv.Itoa(tc.wantUID) + "\ngid=" + strconv.Itoa(tc.wantGID) + "\n"
			if !strings.Contains(body, want) {
				t.Errorf("PHP runs as\n%swant\n%s", body, want)
			}
			if got := strings.Contains(body, "wrote=yes"); got != tc.wantWrote {
				t.Fatalf("PHP wrote an upload: %v, want %v:\n%s", got, tc.wantWrote, body)
			}
			if tc.wantWrote {
				uid, gid := ownerOfFile(t, filepath.Join(spec.Dir, "wp-content/uploads/2026/hello.txt"))
				if uid != tc.owner || gid != tc.group {
					t.Errorf("the upload belongs to %d:%d, want %d:%d", uid, gid, tc.owner, tc.group)
				}
			}
			if conf := string(mustRead(t, filepath.Join(spec.RunDir, "httpd.conf"))); strings.Contains(conf, "\nUser #") {
				t.Errorf("config names the user by number, which leaves Apache's workers root:\n%s", conf)
			}
		})
	}
}

// TestWorkerUser checks the account the doctor is told about.
func TestWorkerUser(t *testing.T) {
	if os.Geteuid() != 0 {
		uid, gid, name := WorkerUser(t.TempDir())
		me, _ := user.Current()
		if uid != os.Geteuid() || gid != os.Getegid() || name != me.Username {
			t.Errorf("WorkerUser = %d %d %q, want this user (%d %d %q)", uid, gid, name, os.Geteuid(), os.Getegid(), me.Username)
		}
		return
	}
	nobodyUID, nobodyGID := nobodyIDs(t)
	nobody, err := user.LookupId(strconv.Itoa(nobodyUID))
	if err != nil {
		t.Fatal(err)
	}
	userUID, userGID, userName := namedAccount(t)
	tests := []struct {
		name         string
		owner, group int
		wantUID      int
		wantGID      int
		wantName     string
	}{
		{name: "root's folder", wantUID: nobodyUID, wantGID: nobodyGID, wantName: nobody.Username},
		{name: "a user's folder", owner: userUID, group: userGID, wantUID: userUID, wantGID: userGID, wantName: userName},
		{name: "a user's folder with another group", owner: userUID, group: freshUID, wantUID: userUID, wantGID: freshUID, wantName: userName},
		{name: "an owner without an account", owner: freshUID, group: freshUID, wantUID: nobodyUID, wantGID: nobodyGID, wantName: nobody.Username},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Chown(dir, tc.owner, tc.group); err != nil {
				t.Fatal(err)
			}
			uid, gid, name := WorkerUser(dir)
			if uid != tc.wantUID || gid != tc.wantGID || name != tc.wantName {
				t.Errorf("WorkerUser = %d %d %q, want %d %d %q", uid, gid, name, tc.wantUID, tc.wantGID, tc.wantName)
			}
		})
	}
	t.Run("missing folder", func(t *testing.T) {
		uid, gid, name := WorkerUser(filepath.Join(t.TempDir(), "nope"))
		if uid != nobodyUID || gid != nobodyGID || name != nobody.Username {
			t.Errorf("WorkerUser = %d %d %q, want nobody", uid, gid, name)
		}
	})
}

func TestWorkerWrites(t *testing.T) {
	testenv.Need(t, "root", os.Geteuid() == 0, "run the tests as root, as CI does: only then is the worker account not devport's own")
	user, _, _ := namedAccount(t)
	tests := []struct {
		name  string
		owner int // uid to chown the folder to; 0 keeps root
		mode  os.FileMode
		ok    bool
	}{
		{"a user's folder", user, 0o755, true},
		{"root's folder, read-only for nobody", 0, 0o755, false},
		{"root's folder, writable for all", 0, 0o777, true},
		{"an account-less owner: nobody cannot write", 4242, 0o755, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "site")
			if err := os.Mkdir(dir, tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(dir, tc.owner, tc.owner); err != nil {
				t.Fatal(err)
			}
			name, err := WorkerWrites(dir)
			if (err == nil) != tc.ok {
				t.Fatalf("WorkerWrites = %q, %v; want ok %v", name, err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "chown") {
				t.Errorf("the error names no fix: %v", err)
			}
		})
	}
}
