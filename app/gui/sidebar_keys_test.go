package gui

import (
	"fmt"
	"testing"

	"fyne.io/fyne/v2"

	"github.com/devport/devport/app/wire"
)

// TestSidebarArrowKeys: Down and Up move the selection through the rows
// the filter shows, from the filter box or with nothing focused, and stop
// at either end.
func TestSidebarArrowKeys(t *testing.T) {
	ps := []wire.ProjectStatus{paneProject("api", wire.StateStopped), paneProject("blog", wire.StateRunning), paneProject("shop", wire.StateStopped), paneProject("shop-admin", wire.StateStopped)}
	tests := []struct {
		name, filter, from string
		focus              bool // the filter box has the focus; else nothing has
		keys               []fyne.KeyName
		want               string
	}{
		{name: "down from the first, which the window opens on", keys: []fyne.KeyName{fyne.KeyDown}, want: "blog"},
		{name: "down twice", keys: []fyne.KeyName{fyne.KeyDown, fyne.KeyDown}, want: "shop"},
		{name: "other keys do nothing", from: "blog", keys: []fyne.KeyName{fyne.KeyLeft, fyne.KeyPageDown}, want: "blog"},
		{name: "up from the third", from: "shop", keys: []fyne.KeyName{fyne.KeyUp}, want: "blog"},
		{name: "stops at the end", from: "blog", keys: []fyne.KeyName{fyne.KeyDown, fyne.KeyDown, fyne.KeyDown, fyne.KeyDown}, want: "shop-admin"},
		{name: "stops at the top", from: "blog", keys: []fyne.KeyName{fyne.KeyUp, fyne.KeyUp}, want: "api"},
		{name: "in the filter box, through the matches", filter: "shop", focus: true, keys: []fyne.KeyName{fyne.KeyDown, fyne.KeyDown}, want: "shop-admin"},
		{name: "a selection the filter hides: down takes the first match", filter: "shop", from: "api", focus: true, keys: []fyne.KeyName{fyne.KeyDown}, want: "shop"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, _ := paneUI(t, ps...)
			w := u.Window
			if tc.from != "" {
				selectProject(t, u, tc.from)
			}
			u.Sidebar.Filter.SetText(tc.filter)
			if tc.focus {
				w.Canvas().Focus(u.Sidebar.Filter)
			}
			for _, k := range tc.keys {
				if tc.focus {
					u.Sidebar.Filter.TypedKey(&fyne.KeyEvent{Name: k})
				} else {
					w.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: k})
				}
				u.Idle()
			}
			if u.Pane.Name != tc.want {
				t.Errorf("selected %q, want %q", u.Pane.Name, tc.want)
			}
		})
	}
}

// TestSidebarKeysReveal: moving down past the rows that fit brings the
// selected one into view, and moving back up to the top scrolls back; the
// filter box still edits on other keys.
func TestSidebarKeysReveal(t *testing.T) {
	var ps []wire.ProjectStatus
	for i := range 30 {
		ps = append(ps, paneProject(fmt.Sprintf("site%02d", i), wire.StateStopped))
	}
	u, _ := paneUI(t, ps...)
	u.Window.Resize(minWindow)
	visible := func() (bool, string) {
		it := u.rows[u.Pane.Name].item
		off, h := u.Sidebar.scroll.Offset.Y, u.Sidebar.scroll.Size().Height
		where := fmt.Sprintf("%s at %v..%v, the list shows %v..%v", u.Pane.Name, it.Position().Y, it.Position().Y+it.Size().Height, off, off+h)
		return it.Position().Y >= off && it.Position().Y+it.Size().Height <= off+h+0.5, where
	}
	for range 25 {
		u.moveKey(fyne.KeyDown)
		u.Idle()
	}
	if ok, where := visible(); u.Pane.Name != "site25" || !ok {
		t.Errorf("after 25 Downs: %s", where)
	}
	for range 30 {
		u.moveKey(fyne.KeyUp)
		u.Idle()
	}
	if ok, where := visible(); u.Pane.Name != "site00" || !ok || u.Sidebar.scroll.Offset.Y != 0 {
		t.Errorf("after 30 Ups: %s", where)
	}
	u.Window.Canvas().Focus(u.Sidebar.Filter)
	for _, k := range []fyne.KeyName{fyne.Key1, fyne.Key2} {
		u.Sidebar.Filter.TypedRune(rune(k[0]))
	}
	u.Sidebar.Filter.TypedKey(&fyne.KeyEvent{Name: fyne.KeyBackspace})
	if got := u.Sidebar.Filter.Text; got != "1" {
		t.Errorf("typed 1, 2 and Backspace into the filter: %q", got)
	}
}
