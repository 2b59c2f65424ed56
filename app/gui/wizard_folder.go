package gui

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"
)

// The wizard's folder step, as people type paths in a terminal: `~`
// expands to the home folder, Tab completes a folder name (as far as the
// folders that match agree) and the hint below lists the matches, a
// folder dropped onto the wizard or the main window is taken, and the
// picker opens at the last folder used, in a window of its own that is
// large enough to browse. The domain follows the name until the user
// edits the domain.

// lastFolderKey is the preference that remembers the last folder used.
const lastFolderKey = "wizard.lastFolder"

// completionHints is how many matching folders the hint lists.
const completionHints = 8

// pathEntry is the folder entry: an Entry that takes Tab to complete.
type pathEntry struct {
	widget.Entry
	complete func()
}

func newPathEntry(complete func()) *pathEntry {
	e := &pathEntry{complete: complete}
	e.ExtendBaseWidget(e)
	return e
}

// AcceptsTab keeps Tab in the entry, for completion.
func (e *pathEntry) AcceptsTab() bool { return true }

func (e *pathEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyTab {
		e.complete()
		return
	}
	e.Entry.TypedKey(k)
}

// expandHome turns a leading ~ into the home folder.
func expandHome(p string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~"))
}

// folderMatches lists the folders the typed path could go on to: the
// subfolders of its parent whose names start with its last part (hidden
// ones only when that part starts with a dot), sorted, as full paths.
func folderMatches(typed string) []string {
	p := expandHome(typed)
	if p == "" {
		return nil
	}
	parent, part := filepath.Dir(p), filepath.Base(p)
	if strings.HasSuffix(p, string(filepath.Separator)) {
		parent, part = filepath.Clean(p), ""
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, part) || strings.HasPrefix(name, ".") && !strings.HasPrefix(part, ".") {
			continue
		}
		full := filepath.Join(parent, name)
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 { // a symlink to a folder counts: only these need a stat
			fi, err := os.Stat(full)
			isDir = err == nil && fi.IsDir()
		}
		if isDir {
			out = append(out, full)
		}
	}
	slices.Sort(out)
	return out
}

// commonPrefix is the longest prefix all of ss share.
func commonPrefix(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	pre := ss[0]
	for _, s := range ss[1:] {
		for !strings.HasPrefix(s, pre) {
			pre = pre[:len(pre)-1]
		}
	}
	return pre
}

// completeFolder completes the typed path: to the one match and a
// separator, or as far as the matches agree.
func (w *Wizard) completeFolder() {
	typed := w.Folder.Text
	matches := folderMatches(typed)
	switch len(matches) {
	case 0:
		return
	case 1:
		w.Folder.SetText(matches[0] + string(filepath.Separator))
	default:
		if pre := commonPrefix(matches); len(pre) > len(expandHome(typed)) {
			w.Folder.SetText(pre)
		}
	}
	w.Folder.CursorColumn = len([]rune(w.Folder.Text))
	w.Folder.Refresh()
}

// showFolderHint lists the folders the typed path could go on to.
func (w *Wizard) showFolderHint(typed string) {
	matches := folderMatches(typed)
	if len(matches) == 0 || len(matches) == 1 && matches[0] == filepath.Clean(expandHome(typed)) {
		w.FolderHint.SetText("")
		return
	}
	names := make([]string, 0, completionHints)
	for _, m := range matches[:min(len(matches), completionHints)] {
		names = append(names, filepath.Base(m)+"/")
	}
	hint := "Tab completes: " + strings.Join(names, "  ")
	if len(matches) > completionHints {
		hint += "  …"
	}
	w.FolderHint.SetText(hint)
}

// dropped takes the first dropped item as the project folder (a file
// stands for the folder it is in) when the wizard is on its folder step.
func (w *Wizard) dropped(_ fyne.Position, uris []fyne.URI) {
	if w.Step != StepFolder || len(uris) == 0 || uris[0].Scheme() != "file" {
		return
	}
	p := uris[0].Path()
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
		p = filepath.Dir(p)
	}
	w.Folder.SetText(p)
}

// browse opens the folder picker in a window of its own (the wizard's is
// too small to browse in), at the folder typed or else the last one used.
func (w *Wizard) browse() {
	win := w.u.app.NewWindow("devport: choose the project folder")
	d := dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
		defer win.Close()
		if err != nil {
			w.FolderErr.SetText(err.Error())
			return
		}
		if dir != nil {
			w.Folder.SetText(dir.Path())
		}
	}, win)
	if start := w.pickerStart(); start != "" {
		if l, err := storage.ListerForURI(storage.NewFileURI(start)); err == nil {
			d.SetLocation(l)
		}
	}
	win.Resize(fyne.NewSize(900, 600))
	d.Resize(fyne.NewSize(880, 580))
	win.Show()
	d.Show()
	w.Picker = win
}

// pickerStart is the folder the picker opens at: the typed one (or its
// parent) when it exists, else the last folder used.
func (w *Wizard) pickerStart() string {
	for _, p := range []string{expandHome(strings.TrimSpace(w.Folder.Text)), w.u.app.Preferences().String(lastFolderKey)} {
		if p == "" {
			continue
		}
		for _, c := range []string{p, filepath.Dir(p)} {
			if fi, err := os.Stat(c); err == nil && fi.IsDir() && filepath.IsAbs(c) {
				return c
			}
		}
	}
	return ""
}

// nameChanged makes the domain follow the name until the user edits the
// domain.
func (w *Wizard) nameChanged(name string) {
	if !w.domainEdited {
		w.settingDomain = true
		w.Domain.SetText(name + "." + w.u.defaultTLD())
		w.settingDomain = false
	}
	w.validateDomain()
}

func (w *Wizard) domainChanged(string) {
	if !w.settingDomain {
		w.domainEdited = true
	}
	w.validateDomain()
}
