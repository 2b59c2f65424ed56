package gui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
)

// TestWizardFolderStep: the folder step takes paths as a terminal does:
// ~ expands, Tab completes a folder name, the hint lists the matches, a
// dropped folder (or file) is taken, and the picker starts at the folder
// typed or the last one used. The domain follows the name until the user
// edits it, and the Python app row is hidden for a PHP site.
func TestWizardFolderStep(t *testing.T) {
	r := newRig(t, false)
	home := os.Getenv("HOME") // the rig's own
	code := filepath.Join(home, "code")
	for _, d := range []string{"shop-api", "shop-web", "blog", ".hidden"} {
		if err := os.MkdirAll(filepath.Join(code, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(code, "blog", "index.php"), "<?php echo 'blog';")
	writeFile(t, filepath.Join(code, "shop-web", "index.php"), "<?php echo 'shop';")
	u := r.ui
	u.ShowWizard()
	w := u.Wizard
	tab := func() { w.Folder.TypedKey(&fyne.KeyEvent{Name: fyne.KeyTab}) }

	t.Run("tab completes as far as the matches agree, then a unique one", func(t *testing.T) {
		w.Folder.SetText("~/co")
		tab()
		if want := code + "/"; w.Folder.Text != want {
			t.Fatalf("after Tab: %q, want %q", w.Folder.Text, want)
		}
		if !strings.Contains(w.FolderHint.Text, "blog/") || !strings.Contains(w.FolderHint.Text, "shop-api/") || strings.Contains(w.FolderHint.Text, ".hidden") {
			t.Errorf("hint %q, want the visible subfolders", w.FolderHint.Text)
		}
		w.Folder.SetText(w.Folder.Text + "sh")
		tab()
		if want := filepath.Join(code, "shop-"); w.Folder.Text != want {
			t.Fatalf("after Tab: %q, want the common prefix %q", w.Folder.Text, want)
		}
		w.Folder.SetText(w.Folder.Text + "w")
		tab()
		if want := filepath.Join(code, "shop-web") + "/"; w.Folder.Text != want {
			t.Fatalf("after Tab: %q, want %q", w.Folder.Text, want)
		}
		if !w.Folder.AcceptsTab() {
			t.Error("Tab would leave the entry instead of completing")
		}
	})
	t.Run("~ is expanded and the domain follows the name", func(t *testing.T) {
		w.Folder.SetText("~/code/shop-web")
		test.Tap(w.Next)
		if w.Step != StepStack {
			t.Fatalf("still on step %d: %s", w.Step, w.FolderErr.Text)
		}
		if w.Folder.Text != filepath.Join(code, "shop-web") {
			t.Errorf("folder %q, want ~ expanded", w.Folder.Text)
		}
		if w.AppRow.Visible() {
			t.Error("the Python app row shows for a PHP site")
		}
		if w.Domain.Text != "shop-web.test" {
			t.Fatalf("domain %q", w.Domain.Text)
		}
		w.Name.SetText("shop")
		if w.Domain.Text != "shop.test" {
			t.Errorf("renamed to shop: domain %q, want it to follow", w.Domain.Text)
		}
		w.Domain.SetText("store.test")
		w.Name.SetText("store-front")
		if w.Domain.Text != "store.test" {
			t.Errorf("after an edit of the domain: %q, want it kept", w.Domain.Text)
		}
	})
	t.Run("a dropped file stands for its folder", func(t *testing.T) {
		w.goTo(StepFolder)
		w.dropped(fyne.NewPos(1, 1), []fyne.URI{storage.NewFileURI(filepath.Join(code, "blog", "index.php"))})
		if w.Folder.Text != filepath.Join(code, "blog") {
			t.Errorf("after the drop: %q", w.Folder.Text)
		}
	})
	t.Run("the picker starts at the typed folder, else the last used", func(t *testing.T) {
		w.Folder.SetText(filepath.Join(code, "blog"))
		if got := w.pickerStart(); got != filepath.Join(code, "blog") {
			t.Errorf("picker at %q, want the typed folder", got)
		}
		w.Folder.SetText("")
		if got := w.pickerStart(); got != filepath.Join(code, "shop-web") {
			t.Errorf("picker at %q, want the last folder used", got)
		}
		w.browse()
		if w.Picker == nil {
			t.Fatal("no picker window")
		}
		if s := w.Picker.Canvas().Size(); s.Width < 800 || s.Height < 500 {
			t.Errorf("picker window %v, want one large enough to browse", s)
		}
		w.Picker.Close()
	})
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
