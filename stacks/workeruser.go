package stacks

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// apacheAccount is the account Apache's workers run as when devport is
// root (Apache refuses to serve requests as root).
type apacheAccount struct {
	user, group string // for Apache's User and Group: names, or #uid and #gid
	name        string // for messages: "alice", "nobody", "uid 4242"
	uid, gid    uint32
}

// WorkerUser is the account the php stack's Apache workers run as, in the
// process runtime, for a project in folder dir: devport's own user; or,
// when devport runs as root, the folder's owner (with the folder's group),
// so that the app writes its uploads and caches as the user whose folder it
// is. A folder root owns, or whose owner has no account on this machine,
// or that cannot be read, is served by nobody (group nogroup), as before:
// Apache's User directive takes a uid without an account ("#4242"), but
// then its workers fail to drop root and serve as root (AH02155), so
// devport never writes that.
//
// The container runtime runs a folder's owner's workers too, whether or not
// the owner has an account there (it gives the uid one in the container); a
// root-owned folder is served by the image's www-data.
//
// The doctor uses it to warn about folders that account cannot write.
// name is the user's name; uid and gid are -1 (and name "") when not even
// nobody exists.
func WorkerUser(dir string) (uid, gid int, name string) {
	if os.Geteuid() != 0 {
		name = "uid " + strconv.Itoa(os.Geteuid()) // an account-less user still runs devport
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
		return os.Geteuid(), os.Getegid(), name
	}
	acct, err := workerAccount(dir)
	if err != nil {
		return -1, -1, ""
	}
	return int(acct.uid), int(acct.gid), acct.name
}

// workerAccount is the account Apache's workers run as when devport is
// root and the project is in folder dir (see WorkerUser).
func workerAccount(dir string) (apacheAccount, error) {
	uid, gid, ok := fileOwner(dir)
	if !ok || uid == 0 {
		return apacheUser()
	}
	if acct, ok := ownerAccount(uid, gid); ok {
		return acct, nil
	}
	return apacheUser() // an owner without an account: see WorkerUser
}

// fileOwner is the uid and gid that own path.
func fileOwner(path string) (uid, gid uint32, ok bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, 0, false
	}
	return ownerIDs(fi) // sys_unix.go
}

// accountNameRe is a user or group name Apache's config can carry as is.
var accountNameRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)

// ownerAccount is uid with group gid, when uid has an account whose name
// Apache's config can carry (Apache also gives the workers the user's
// supplementary groups then). The group goes by name, or by number (#gid,
// which needs no entry: Apache only calls setgid with it).
func ownerAccount(uid, gid uint32) (apacheAccount, bool) {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil || !accountNameRe.MatchString(u.Username) {
		return apacheAccount{}, false
	}
	acct := apacheAccount{uid: uid, gid: gid, user: u.Username, name: u.Username,
		group: "#" + strconv.FormatUint(uint64(gid), 10)}
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil && accountNameRe.MatchString(g.Name) {
		acct.group = g.Name
	}
	return acct, true
}

// apacheUser is nobody, with group nogroup (Debian) or nobody (macOS, Fedora).
func apacheUser() (apacheAccount, error) {
	u, err := user.Lookup("nobody")
	if err != nil {
		return apacheAccount{}, fmt.Errorf("apache must not serve as root, and user nobody does not exist: %w", err)
	}
	acct := apacheAccount{user: u.Username, name: u.Username}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return apacheAccount{}, fmt.Errorf("user nobody: uid %q: %w", u.Uid, err)
	}
	acct.uid = uint32(uid)
	for _, name := range []string{"nogroup", "nobody"} {
		if g, err := user.LookupGroup(name); err == nil {
			gid, err := strconv.ParseUint(g.Gid, 10, 32)
			if err != nil {
				return apacheAccount{}, fmt.Errorf("group %s: gid %q: %w", name, g.Gid, err)
			}
			acct.group, acct.gid = g.Name, uint32(gid)
			return acct, nil
		}
	}
	return apacheAccount{}, fmt.Errorf("apache must not serve as root, and neither group nogroup nor nobody exists")
}

// Permission bits of one class (user, group or others).
const (
	permSearch = 1
	permRead   = 4
)

// allows reports whether acct has the want bits on fi by its mode bits
// (not ACLs or supplementary groups), and the chmod that would grant them.
func allows(fi os.FileInfo, acct apacheAccount, want uint32) (ok bool, fix string) {
	uid, gid, isUnix := ownerIDs(fi)
	if !isUnix {
		return true, ""
	}
	perm := uint32(fi.Mode().Perm())
	bits, class := perm, "o"
	switch {
	case uid == acct.uid:
		bits, class = perm>>6, "u"
	case gid == acct.gid:
		bits, class = perm>>3, "g"
	}
	fix = "chmod " + class + "+x"
	if want&permRead != 0 {
		fix = "chmod " + class + "+rx"
	}
	return bits&want == want, fix
}

// readableBy checks that acct can reach docRoot (search permission on every
// folder above it) and list and read it. It checks mode bits, not ACLs or
// supplementary groups: enough for the usual case of a private home folder.
func readableBy(docRoot string, acct apacheAccount) error {
	real, err := filepath.EvalSymlinks(docRoot)
	if err != nil {
		return fmt.Errorf("document root %q: %w", docRoot, err)
	}
	check := func(dir string, want uint32) error {
		fi, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("document root %q: %w", docRoot, err)
		}
		ok, fix := allows(fi, acct, want)
		if ok {
			return nil
		}
		return fmt.Errorf("document root %q: folder %q (mode %s) is %w %s, which serves requests because devport runs as root: %s %q, or run devport as your own user",
			docRoot, dir, fi.Mode(), ErrNotReadable, acct.name, fix, dir)
	}
	dir := string(filepath.Separator)
	for _, part := range strings.Split(strings.TrimPrefix(real, dir), dir) {
		if err := check(dir, permSearch); err != nil {
			return err
		}
		dir = filepath.Join(dir, part)
	}
	return check(real, permRead|permSearch)
}

// searchableBy checks that acct may search folder dir (mode bits only).
func searchableBy(dir string, acct apacheAccount) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if ok, fix := allows(fi, acct, permSearch); !ok {
		return fmt.Errorf("folder %q (mode %s) is %w %s, which runs Apache's workers because devport runs as root: %s %q, or run devport as your own user",
			dir, fi.Mode(), ErrNotReadable, acct.name, fix, dir)
	}
	return nil
}

// permWrite is the write bit of one class.
const permWrite = 2

// WorkerWrites checks that the account the php stack's workers run as in
// the process runtime (WorkerUser) can create files in dir, by its mode
// bits: WordPress writes .htaccess and wp-content/uploads, Laravel its
// storage/. It returns that account's name, and an error that names the
// account and the fix when it cannot.
func WorkerWrites(dir string) (string, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return "", err
	}
	acct := apacheAccount{name: "uid " + strconv.Itoa(os.Geteuid()), uid: uint32(os.Geteuid()), gid: uint32(os.Getegid())}
	if os.Geteuid() == 0 {
		if acct, err = workerAccount(dir); err != nil {
			return "", err
		}
	} else if u, err := user.Current(); err == nil {
		acct.name = u.Username
	}
	if acct.uid == 0 {
		return acct.name, nil
	}
	if ok, _ := allows(fi, acct, permWrite|permSearch); ok {
		return acct.name, nil
	}
	fix := fmt.Sprintf("make it theirs (sudo chown -R %s %s), or writable for them", acct.name, dir)
	if uid, _, ok := ownerIDs(fi); ok && uid == 0 {
		fix = fmt.Sprintf("the folder belongs to root; give it to the user who works in it (sudo chown -R USER %s), whose account the workers then run as", dir)
	}
	return acct.name, fmt.Errorf("PHP runs as %s, who cannot write %s (uploads, caches and .htaccess fail): %s", acct.name, dir, fix)
}
