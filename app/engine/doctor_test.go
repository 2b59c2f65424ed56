package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
	"github.com/devport/devport/store"
)

// TestCheckDataDir: the data folder may be searchable by others (devport
// makes it so as root, for Apache's workers), never readable or writable.
func TestCheckDataDir(t *testing.T) {
	m := testManager(t)
	tests := []struct {
		mode os.FileMode
		ok   bool
	}{
		{0o700, true},
		{0o701, true},
		{0o711, true},
		{0o750, false},
		{0o755, false},
		{0o703, false},
	}
	for _, tc := range tests {
		t.Run(tc.mode.String(), func(t *testing.T) {
			if err := os.Chmod(m.paths.Data, tc.mode); err != nil {
				t.Fatal(err)
			}
			c := m.checkDataDir()[0]
			if c.OK != tc.ok {
				t.Errorf("mode %o: OK = %v (%s), want %v", tc.mode, c.OK, c.Detail, tc.ok)
			}
			if !c.OK && !strings.Contains(c.Fix, "chmod go-rw "+m.paths.Data) {
				t.Errorf("fix %q", c.Fix)
			}
		})
	}
	_ = os.Chmod(m.paths.Data, 0o700)
}

// TestShareBundle: as root, local processes get a copy of the CA bundle
// that others may read, in a run folder others may only search; the CA's
// own folder stays private.
func TestShareBundle(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root shares the bundle (Apache's workers run as nobody then); as a user the path is returned as is")
	}
	m := testManager(t)
	if err := os.Chmod(m.paths.Data, 0o700); err != nil {
		t.Fatal(err)
	}
	bundle, err := m.ca.WriteBundle()
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.shareBundle(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if got != filepath.Join(m.paths.Run, sharedBundleName) {
		t.Fatalf("shared bundle at %s", got)
	}
	want, _ := os.ReadFile(bundle)
	have, _ := os.ReadFile(got)
	if string(want) != string(have) {
		t.Error("the shared copy differs from the bundle")
	}
	modes := map[string]os.FileMode{got: 0o644, m.paths.Run: 0o701, m.paths.Data: 0o701, m.paths.CA(): 0o700}
	for p, want := range modes {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %o, want %o", p, fi.Mode().Perm(), want)
		}
	}
	if c := m.checkDataDir()[0]; !c.OK {
		t.Errorf("doctor flags the shared data folder: %s", c.Detail)
	}
}

// TestCheckWorkerWrites: as root, a PHP project in a folder only root may
// write is served by nobody, who cannot write it: doctor says so, with the
// chown that fixes it, as a tip (a site that writes nothing is fine).
func TestCheckWorkerWrites(t *testing.T) {
	testenv.Need(t, "root", os.Geteuid() == 0, "run the tests as root, as CI does")
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c := checkWorkerWrites(store.Project{Name: "wp", Root: dir})
	if !c.OK || !strings.Contains(c.Detail, "cannot write "+dir) || !strings.Contains(c.Detail, "chown") || c.Fix == "" {
		t.Errorf("check %+v", c)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if c := checkWorkerWrites(store.Project{Name: "wp", Root: dir}); !strings.Contains(c.Detail, "who can write") || c.Fix != "" {
		t.Errorf("writable folder: %+v", c)
	}
}
