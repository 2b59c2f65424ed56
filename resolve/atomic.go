package resolve

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// replaceFile writes data to path so that readers see either the old or the
// new content: a temporary file in the same directory, fsync, rename over
// path, fsync of the directory. Mode and owner of an existing file are kept;
// a new file gets mode.
//
// In a container /etc/hosts is usually a bind mount of a file on the host,
// and renaming over a mount point fails with EBUSY. Then, and when the
// directory does not let us create the temporary file (a read-only /etc
// with a writable bind-mounted hosts file), the file is rewritten in place
// instead (write, truncate, fsync). That is not atomic: a reader at the
// wrong moment can see a mix, which is the price of a bind mount.
func replaceFile(path string, data []byte, mode fs.FileMode) error {
	uid, gid, haveOwner := -1, -1, false
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
		uid, gid, haveOwner = fileOwner(fi)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stat %s: %w", path, err)
	}

	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".devport-*")
	if err != nil {
		if inErr := rewriteInPlace(path, data); inErr == nil {
			return nil
		}
		return fmt.Errorf("create a temporary file next to %s: %w", path, err)
	}
	tmpName := tmp.Name()
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmpName, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("chmod %s: %w", tmpName, err)
	}
	if haveOwner {
		if err := tmp.Chown(uid, gid); err != nil {
			return fmt.Errorf("keep the owner of %s (uid %d, gid %d): %w", path, uid, gid, err)
		}
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmpName, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		if errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.EXDEV) {
			// A bind mount (see above): rename cannot replace it.
			return rewriteInPlace(path, data)
		}
		return fmt.Errorf("replace %s: %w", path, err)
	}
	keep = true
	syncDir(dir)
	return nil
}

// rewriteInPlace overwrites path from the start, cuts it to the new length
// and fsyncs it. Writing before truncating means the file is never empty,
// even for a moment, so a concurrent lookup of localhost keeps working.
func rewriteInPlace(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open %s to rewrite it in place: %w", path, err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, 0); err != nil {
		return fmt.Errorf("rewrite %s in place: %w", path, err)
	}
	if err := f.Truncate(int64(len(data))); err != nil {
		return fmt.Errorf("truncate %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// syncDir makes a rename durable. Some file systems refuse to fsync a
// directory; the rename has happened anyway, so errors are ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// resolveSymlink follows a symlinked hosts file (NixOS, some containers) to
// the file that must be replaced; the link itself stays.
func resolveSymlink(path string) string {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		return p
	}
	return path
}

func dirOf(path string) string {
	if d := filepath.Dir(path); d != "" {
		return d
	}
	return "."
}
