package gui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/wire"
)

// TestParkFolder: "Add a folder of projects…" asks for a folder, parks it
// as devport park does, and shows what it did: a row per project, and a
// line per subfolder it skipped, with the reason.
func TestParkFolder(t *testing.T) {
	r := newRig(t, false)
	sites := filepath.Join(r.root, "sites")
	for name, body := range map[string]string{
		"blog/index.html": "<p>blog</p>",
		"docs/index.html": "<p>docs</p>",
		"notes/todo.txt":  "nothing to serve",
	} {
		p := filepath.Join(sites, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if r.ui.ParkBtn.Text != "Add a folder of projects…" {
		t.Errorf("the button says %q", r.ui.ParkBtn.Text)
	}
	test.Tap(r.ui.ParkBtn)
	if r.ui.ParkPicker == nil {
		t.Fatal("no folder picker after the tap")
	}
	// The user picks the folder (the picker's own widgets are Fyne's).
	uri, err := storage.ListerForURI(storage.NewFileURI(sites))
	if err != nil {
		t.Fatal(err)
	}
	r.ui.parkChosen(uri, nil)
	r.ui.Idle()
	pv := r.ui.ParkResult
	if pv == nil || pv.Dir != sites {
		t.Fatalf("no result shown: %+v (status %q)", pv, r.ui.Status.Text)
	}
	for _, want := range []string{"added blog at https://blog.test/", "added docs", "skipped notes: nothing to run in it"} {
		if !strings.Contains(pv.Lines.Text, want) {
			t.Errorf("the result lacks %q:\n%s", want, pv.Lines.Text)
		}
	}
	if !strings.Contains(r.ui.Status.Text, "2 projects added") {
		t.Errorf("status %q", r.ui.Status.Text)
	}
	r.waitState("blog", wire.StateStopped)
	r.waitState("docs", wire.StateStopped)
	for _, p := range r.ui.Projects() {
		if p.Name == "blog" && p.Parked != sites {
			t.Errorf("blog is parked in %q, want %q", p.Parked, sites)
		}
	}

	// A cancelled picker does nothing; a folder that is a project itself
	// says why it is not a folder of projects.
	r.ui.parkChosen(nil, nil)
	r.ui.Idle()
	if r.ui.ParkResult != pv {
		t.Error("a cancelled picker parked something")
	}
	blog, _ := storage.ListerForURI(storage.NewFileURI(filepath.Join(sites, "blog")))
	r.ui.parkChosen(blog, nil)
	r.ui.Idle()
	if !strings.Contains(r.ui.Status.Text, "is a project itself") {
		t.Errorf("parking a project folder: status %q", r.ui.Status.Text)
	}
}
