package gui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/devport/devport/app/wire"
)

// The sidebar: a filter box, one row per project (a status dot, the name,
// the domain with its stacks and runtimes, the state), each ellipsized so
// a long name never widens the window, and New project, Add a folder and
// Settings at its foot. A tapped row selects its project in the pane
// (pane.go).

// sidebarWidth is the sidebar's fixed width.
const sidebarWidth = 280

// Sidebar is the window's left column.
type Sidebar struct {
	Box    fyne.CanvasObject
	Filter *FilterEntry
	list   *fyne.Container
	scroll *container.Scroll // around list
	// empty says there is no project yet, or none that matches the filter.
	empty *widget.Label
}

// Row is one project in the sidebar.
type Row struct {
	Light *canvas.Circle
	Name  *widget.Label
	// Detail is the domain, the stacks and the runtimes.
	Detail *widget.Label
	// State is the state's word, coloured as the dot is.
	State *widget.Label
	item  *rowItem
	p     wire.ProjectStatus
}

func (u *UI) newSidebar() *Sidebar {
	s := &Sidebar{Filter: newFilterEntry(u.moveKey), list: container.NewVBox(), empty: widget.NewLabel("")}
	s.Filter.SetPlaceHolder("Filter projects")
	s.Filter.OnChanged = func(string) { u.layoutRows() }
	s.Filter.OnSubmitted = func(string) { u.selectFirstShown() } // Enter opens the first match
	s.empty.Wrapping = fyne.TextWrapWord
	u.NewBtn = widget.NewButtonWithIcon("New project…", theme.ContentAddIcon(), u.ShowWizard)
	u.NewBtn.Importance = widget.HighImportance
	u.ParkBtn = widget.NewButtonWithIcon("Add a folder of projects…", theme.FolderOpenIcon(), u.ShowPark)
	u.Settings = widget.NewButtonWithIcon("Settings", theme.SettingsIcon(), u.ShowSettings)
	foot := container.NewVBox(widget.NewSeparator(), u.NewBtn, u.ParkBtn, u.Settings)
	if u.opts.Host == nil {
		// Attached to another process's engine: the control API has no
		// event stream, so changes made elsewhere show on Refresh.
		u.RefreshBtn = widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), u.Refresh)
		foot.Add(u.RefreshBtn)
	}
	s.scroll = container.NewVScroll(s.list)
	body := container.NewBorder(s.Filter, foot, nil, nil, s.scroll)
	s.Box = container.New(&fixed{w: sidebarWidth}, body)
	return s
}

func (u *UI) newRow(name string) *Row {
	r := &Row{
		Light:  canvas.NewCircle(stateColor(wire.StateStopped)),
		Name:   widget.NewLabelWithStyle(name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		Detail: widget.NewLabel(""),
		State:  widget.NewLabel(""),
	}
	r.Name.Truncation = fyne.TextTruncateEllipsis
	r.Detail.Truncation = fyne.TextTruncateEllipsis
	r.Detail.SizeName = theme.SizeNameCaptionText
	light := container.NewGridWrap(fyne.NewSize(12, 12), r.Light)
	// The name and detail take what is left between the dot and the
	// state, and ellipsize in it.
	text := container.NewVBox(r.Name, r.Detail)
	content := container.NewBorder(nil, nil, container.NewCenter(light), r.State, text)
	r.item = newRowItem(name, content, func() { u.Select(name) })
	return r
}

func (r *Row) update(p wire.ProjectStatus) {
	r.p = p
	r.Light.FillColor = stateColor(p.State)
	r.Light.Refresh()
	r.State.Importance = stateImportance(p.State)
	r.State.SetText(string(p.State))
	var stacks, runtimes []string
	for _, s := range p.Services {
		stack := s.Stack
		if s.PHP != "" {
			stack += " " + s.PHP // the PHP version it runs, or would run
		}
		stacks = append(stacks, stack)
		runtimes = append(runtimes, s.Runtime)
	}
	domain := p.URL
	if domain == "" && len(p.Domains) > 0 {
		domain = p.Domains[0]
	}
	r.Detail.SetText(fmt.Sprintf("%s  ·  %s  ·  %s", domain, strings.Join(uniq(stacks), "+"), strings.Join(uniq(runtimes), "+")))
}

// matches says whether the row shows under the filter q (lower case):
// its name, domains or stacks contain it.
func (r *Row) matches(q string) bool {
	if q == "" {
		return true
	}
	hay := strings.ToLower(r.p.Name + " " + strings.Join(r.p.Domains, " ") + " " + r.Detail.Text)
	return strings.Contains(hay, q)
}

// layoutRows shows the rows that match the filter, in name order.
func (u *UI) layoutRows() {
	q := strings.ToLower(strings.TrimSpace(u.Sidebar.Filter.Text))
	selected := u.Pane.Name
	u.mu.Lock()
	var objs []fyne.CanvasObject
	for _, p := range u.projects {
		if r := u.rows[p.Name]; r != nil && r.matches(q) {
			r.item.setSelected(p.Name == selected)
			objs = append(objs, r.item)
		}
	}
	n := len(u.projects)
	u.mu.Unlock()
	s := u.Sidebar
	switch {
	case len(objs) > 0:
	case n == 0:
		s.empty.SetText("No projects yet. Click \"New project…\" below, or drop a folder onto the window.")
		objs = []fyne.CanvasObject{s.empty}
	default:
		s.empty.SetText("No project matches \"" + strings.TrimSpace(s.Filter.Text) + "\".")
		objs = []fyne.CanvasObject{s.empty}
	}
	s.list.Objects = objs
	s.list.Refresh()
}

// FilterEntry is the sidebar's filter box. Up and Down in it move the
// selection through the rows it shows, as they do with nothing focused.
type FilterEntry struct {
	widget.Entry
	key func(fyne.KeyName) bool // moveKey
}

func newFilterEntry(key func(fyne.KeyName) bool) *FilterEntry {
	e := &FilterEntry{key: key}
	e.ExtendBaseWidget(e)
	return e
}

// TypedKey moves the selection on Up and Down, and edits on the rest.
func (e *FilterEntry) TypedKey(k *fyne.KeyEvent) {
	if !e.key(k.Name) {
		e.Entry.TypedKey(k)
	}
}

// moveKey selects the row below (Down) or above (Up) the selected one
// among the rows the filter shows, stopping at either end; with none of
// them selected, Down takes the first and Up the last. It says whether
// the key was one of the two.
func (u *UI) moveKey(k fyne.KeyName) bool {
	step := map[fyne.KeyName]int{fyne.KeyDown: 1, fyne.KeyUp: -1}[k]
	if step == 0 {
		return false
	}
	var items []*rowItem
	at := -1
	for _, o := range u.Sidebar.list.Objects {
		if it, ok := o.(*rowItem); ok {
			if it.name == u.Pane.Name {
				at = len(items)
			}
			items = append(items, it)
		}
	}
	if len(items) == 0 {
		return true
	}
	switch {
	case at < 0 && step > 0:
		at = 0
	case at < 0:
		at = len(items) - 1
	default:
		at = min(max(at+step, 0), len(items)-1)
	}
	if items[at].name != u.Pane.Name {
		u.Select(items[at].name)
	}
	u.Sidebar.reveal(items[at])
	return true
}

// reveal scrolls the list so that the row shows whole.
func (s *Sidebar) reveal(it *rowItem) {
	top, bottom := it.Position().Y, it.Position().Y+it.Size().Height
	off, h := s.scroll.Offset.Y, s.scroll.Size().Height
	switch {
	case top < off:
		s.scroll.ScrollToOffset(fyne.NewPos(0, top))
	case bottom > off+h:
		s.scroll.ScrollToOffset(fyne.NewPos(0, bottom-h))
	}
}

// selectFirstShown selects the first row the filter shows.
func (u *UI) selectFirstShown() {
	for _, o := range u.Sidebar.list.Objects {
		if it, ok := o.(*rowItem); ok {
			it.Tapped(nil)
			return
		}
	}
}

// stateImportance colours a state's word as stateColor colours its dot.
func stateImportance(s wire.State) widget.Importance {
	switch s {
	case wire.StateRunning:
		return widget.SuccessImportance
	case wire.StateStarting, wire.StateStopping:
		return widget.WarningImportance
	case wire.StateCrashed, wire.StateFailed:
		return widget.DangerImportance
	default:
		return widget.LowImportance
	}
}

// rowItem is a sidebar row that can be tapped and shows when selected.
type rowItem struct {
	widget.BaseWidget
	name     string // the project's
	content  fyne.CanvasObject
	bg       *canvas.Rectangle
	onTapped func()
}

func newRowItem(name string, content fyne.CanvasObject, tapped func()) *rowItem {
	it := &rowItem{name: name, content: content, bg: canvas.NewRectangle(theme.Color(theme.ColorNameSelection)), onTapped: tapped}
	it.bg.CornerRadius = theme.InputRadiusSize()
	it.bg.Hide()
	it.ExtendBaseWidget(it)
	return it
}

func (it *rowItem) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewStack(it.bg, it.content))
}

// Tapped selects the row's project.
func (it *rowItem) Tapped(*fyne.PointEvent) {
	if it.onTapped != nil {
		it.onTapped()
	}
}

func (it *rowItem) setSelected(on bool) {
	if on == it.bg.Visible() {
		return
	}
	if on {
		it.bg.FillColor = theme.Color(theme.ColorNameSelection)
		it.bg.Show()
	} else {
		it.bg.Hide()
	}
	it.bg.Refresh()
}

// fixed lays its objects over each other at the size it is given, and
// asks for a fixed minimum: w wide (the child's width when 0), h high
// (the child's height when 0). The sidebar neither grows with a long name
// nor shrinks, and the window's content has one minimum size, so the
// window never resizes itself for what a project shows.
type fixed struct{ w, h float32 }

func (l *fixed) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var m fyne.Size
	for _, o := range objs {
		m = m.Max(o.MinSize())
	}
	if l.w > 0 {
		m.Width = l.w
	}
	if l.h > 0 {
		m.Height = l.h
	}
	return m
}

func (l *fixed) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}
