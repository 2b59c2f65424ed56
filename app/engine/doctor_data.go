package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// Doctor's checks of the data services: what each one needs to start. In
// the process runtime, its programs, its data folder and its port; in the
// container runtime, Docker. Each failing check names its fix in one line.

// checkData checks every data service of ps.
func (m *Manager) checkData(ctx context.Context, ps []store.Project) []Check {
	groups := m.dataGroups(ctx)
	var docker error
	askedDocker := false
	var out []Check
	for _, p := range ps {
		for _, d := range p.Data {
			label := p.Name + "/" + d.Name
			if d.Runtime == wire.RuntimeContainer {
				if !askedDocker {
					docker, askedDocker = checkServiceRuntime(ctx, wire.RuntimeContainer, "", ""), true
				}
				out = append(out, dockerCheck(label, docker))
				continue
			}
			out = append(out, checkDataProgram(d, label))
			if acct, ok := m.serverAccount(p, d); ok {
				out = append(out, checkDataFolder(m.paths.ServiceData(p.Name, d.Name), label, acct))
			} else {
				out = append(out, Check{Name: "data folder (" + label + ")", Detail: d.Stack + " must not run as root, and this machine has no other account for it (not even nobody)",
					Fix: "run devport as your own user"})
			}
			out = append(out, m.checkDataPort(p, d, groups[label]))
		}
	}
	return out
}

// dockerCheck is the check of a data service in a container: Docker
// answers (err is nil).
func dockerCheck(label string, err error) Check {
	c := Check{Name: "docker (" + label + ")", OK: true, Detail: "the engine answers"}
	if err != nil {
		c.OK, c.Detail = false, err.Error()
		c.Fix = "sudo systemctl start docker (or sudo dockerd)"
	}
	return c
}

// checkDataProgram checks the programs of d's stack: the server, and the
// clients devport runs (stacks.Check).
func checkDataProgram(d store.DataService, label string) Check {
	c := Check{Name: "stack " + d.Stack + " (" + label + ")", OK: true, Detail: "installed"}
	if err := stacks.Check(d.Stack, ""); err != nil {
		c.OK, c.Detail, c.Fix = false, err.Error(), installFix(err)
	}
	return c
}

// installFix is the command that installs what a stacks.Check error says
// is missing: the Debian packages, or, for a program Debian does not
// package (Mailpit), the install line the error's own text gives after
// "is not installed: ".
func installFix(err error) string {
	var me *stacks.MissingError
	switch {
	case !errors.As(err, &me):
		return "see the error: devport runs it from this machine's programs, or in a container (--runtime container)"
	case me.Package != "":
		return "sudo apt-get install " + me.Package
	}
	if msg := err.Error(); msg != me.Error() { // a message of its own
		if _, fix, ok := strings.Cut(msg, " is not installed: "); ok {
			return fix
		}
	}
	return "install " + me.Binary + ", or run the service in a container (--runtime container)"
}

// dataAccount is the account a data service's server runs as.
type dataAccount struct {
	uid, gid int
	name     string // "nobody", "alice"
}

// self reports whether the server runs as devport's own user.
func (a dataAccount) self() bool { return a.uid == os.Geteuid() }

// serverAccount is the account d's server runs as, as stacks runs it
// (data_process.go): devport's own user; or, when devport runs as root, a
// database server runs as the project's worker account (stacks.WorkerUser
// of its folder: the owner, or nobody), which devport gives the data
// folder at the start. ok is false when root has no account for it.
func (m *Manager) serverAccount(p store.Project, d store.DataService) (dataAccount, bool) {
	if os.Geteuid() != 0 || !stackdef.IsDatabase(d.Stack) {
		return dataAccount{uid: os.Geteuid(), gid: os.Getegid(), name: "you"}, true
	}
	uid, gid, name := stacks.WorkerUser(cmp.Or(p.Root, m.paths.Data))
	return dataAccount{uid: uid, gid: gid, name: name}, uid > 0
}

// checkDataFolder checks the data folder of a data service whose server
// runs as acct: one devport's user owns and may write, mode 0700 (a
// database's files are nobody else's business), or, before the first
// start, one that can be created. A server that runs as another account
// (devport as root) is given the folder at the start, and must be able to
// pass through every folder above it.
func checkDataFolder(dir, label string, acct dataAccount) Check {
	c := Check{Name: "data folder (" + label + ")", OK: true}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		parent := existingParent(dir)
		if err := tryWrite(parent, true); err != nil {
			c.OK, c.Detail = false, fmt.Sprintf("%s does not exist, and cannot be created: %v", dir, err)
			c.Fix = fmt.Sprintf("sudo install -d -m 700 -o %d %s", os.Geteuid(), dir)
			return c
		}
		if closed, fix := closedTo(parent, acct); closed != "" {
			return closedCheck(c, dir, closed, fix, acct)
		}
		c.Detail = dir + " does not exist yet: the first start creates it (mode 0700)"
		return c
	case err != nil:
		c.OK, c.Detail, c.Fix = false, err.Error(), fmt.Sprintf("sudo install -d -m 700 -o %d %s", os.Geteuid(), dir)
		return c
	case !fi.IsDir():
		c.OK, c.Detail = false, dir+" is not a folder"
		c.Fix = "move it away: mv " + dir + " " + dir + ".bak"
		return c
	case !acct.self():
		if closed, fix := closedTo(filepath.Dir(dir), acct); closed != "" {
			return closedCheck(c, dir, closed, fix, acct)
		}
	case ownerOf(fi) >= 0 && ownerOf(fi) != os.Geteuid():
		c.OK, c.Detail = false, fmt.Sprintf("%s belongs to uid %d, not you (uid %d)", dir, ownerOf(fi), os.Geteuid())
		c.Fix = fmt.Sprintf("sudo chown -R %d %s", os.Geteuid(), dir)
		return c
	}
	if err := tryWrite(dir, false); err != nil {
		c.OK, c.Detail, c.Fix = false, fmt.Sprintf("%s is not writable: %v", dir, err), "chmod u+rwx "+dir
		return c
	}
	c.Detail = dir + ", mode 0700"
	if !acct.self() {
		c.Detail += ", for " + acct.name + ", who runs the server"
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		// A tip: the service runs, but others can read or reach its data.
		c.Detail = fmt.Sprintf("%s is mode %04o: others may read the data", dir, perm)
		c.Fix = "chmod 700 " + dir
	}
	return c
}

// closedCheck fails c: the server's account cannot pass through folder
// closed on its way to the data folder dir.
func closedCheck(c Check, dir, closed, fix string, acct dataAccount) Check {
	c.OK = false
	c.Detail = fmt.Sprintf("the server runs as %s, who cannot reach %s: %s is closed to them", acct.name, dir, closed)
	c.Fix = fix + " " + closed + " (it lets them pass through, not list it), or run devport as your own user"
	return c
}

// closedTo is the first folder from / down to dir that acct may not pass
// through, with the chmod that opens it ("chmod o+x"); "" when none. Mode
// bits only, as stacks checks them before it starts the server.
func closedTo(dir string, acct dataAccount) (string, string) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		real = dir
	}
	sep := string(filepath.Separator)
	path := sep
	for _, part := range append([]string{""}, strings.Split(strings.TrimPrefix(real, sep), sep)...) {
		path = filepath.Join(path, part)
		fi, err := os.Stat(path)
		if err != nil {
			return path, "chmod o+x"
		}
		uid, gid := ownerOf(fi), groupOf(fi)
		if uid < 0 {
			return "", "" // no owners here (not unix)
		}
		perm, class := fi.Mode().Perm(), "o"
		switch {
		case uid == acct.uid:
			perm, class = perm>>6, "u"
		case gid == acct.gid:
			perm, class = perm>>3, "g"
		}
		if perm&0o1 == 0 {
			return path, "chmod " + class + "+x"
		}
	}
	return "", ""
}

// groupOf is the group that owns fi, -1 when the system does not say.
// It reads the Gid field of fi.Sys() (syscall.Stat_t on every unix) by
// name, so that this file builds everywhere (ownerOf is the owner).
func groupOf(fi os.FileInfo) int {
	v := reflect.ValueOf(fi.Sys())
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return -1
	}
	if f := v.FieldByName("Gid"); f.IsValid() && f.CanUint() {
		return int(f.Uint())
	}
	return -1
}

// existingParent is the nearest folder above dir that exists.
func existingParent(dir string) string {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() || p == filepath.Dir(p) {
			return p
		}
	}
}

// tryWrite creates and removes a hidden entry in dir, a folder when
// folder (what creating the data folder does), else a file: nothing
// about permissions is assumed.
func tryWrite(dir string, folder bool) error {
	if folder {
		d, err := os.MkdirTemp(dir, ".devport-doctor-")
		if err != nil {
			return err
		}
		return os.Remove(d)
	}
	f, err := os.CreateTemp(dir, ".devport-doctor-")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// checkDataPort checks that d's port on 127.0.0.1 is free, or held by d
// itself while its project runs (g is the process group devport recorded
// when it started d, if any).
func (m *Manager) checkDataPort(p store.Project, d store.DataService, g *stacks.Group) Check {
	label := p.Name + "/" + d.Name
	c := Check{Name: "port " + strconv.Itoa(d.Port) + " (" + label + ")", OK: true, Detail: "free"}
	if portFree(d.Port) {
		return c
	}
	if by, ok := m.heldBy(p, d, g); ok {
		c.Detail = "in use by " + label + " itself (" + by + ")"
		return c
	}
	c.OK, c.Detail = false, "in use by "+describeHolder(d.Port)+", not by "+label
	add := "devport service " + p.Name + " add " + d.Name + " --stack " + d.Stack
	if d.Version != "" {
		add += " --version " + d.Version
	}
	c.Fix = "stop that program, or give " + label + " another port: devport service " + p.Name + " rm " + d.Name +
		" && " + add + " (its data is kept)"
	return c
}

// heldBy reports whether d's port is held by d itself: this engine runs
// it, or the process that listens belongs to the process group devport
// recorded when it started d. When the listener is not visible (another
// user's process) and that group is alive, the port is taken for d's.
func (m *Manager) heldBy(p store.Project, d store.DataService, g *stacks.Group) (string, bool) {
	m.mu.Lock()
	r := m.runs[p.Name]
	running := r != nil && r.services[d.Name] != nil
	m.mu.Unlock()
	if running {
		return "this engine runs it", true
	}
	if g == nil || g.Pgid <= 0 {
		return "", false
	}
	holders := portHolders(d.Port)
	for _, h := range holders {
		if processGroup(h.PID) == g.Pgid {
			return h.String() + ", started by devport", true
		}
	}
	if len(holders) == 0 && processGroup(g.Pgid) == g.Pgid {
		return fmt.Sprintf("devport's process group %d", g.Pgid), true
	}
	return "", false
}

// dataGroups are the process groups devport recorded for the backends it
// started, by "project/service".
func (m *Manager) dataGroups(ctx context.Context) map[string]*stacks.Group {
	out := map[string]*stacks.Group{}
	rows, err := m.db.BackendGroups(ctx)
	if err != nil {
		return out
	}
	for _, r := range rows {
		var g stacks.Group
		if json.Unmarshal([]byte(r.Data), &g) == nil {
			out[r.Project+"/"+r.Service] = &g
		}
	}
	return out
}

// processGroup is the process group of pid from /proc/PID/stat, -1 when
// it cannot be read (no such process, or no /proc).
func processGroup(pid int) int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return -1
	}
	// pid (comm) state ppid pgrp ...: comm may hold spaces and ")".
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 {
		return -1
	}
	n, err := strconv.Atoi(f[2])
	if err != nil {
		return -1
	}
	return n
}
