package gui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/devport/devport/app/wire"
)

// The kinds of route the Settings tab adds, as devport route NAME add
// takes them: --service, --static and --url.
const (
	routeService = "service"
	routeStatic  = "static folder"
	routeURL     = "URL"
)

// RoutesEditor is the Settings tab's routes: each route the project
// declared, with Remove, and a row that adds one, as devport route NAME
// add|rm do. The engine checks what is added (the prefix, the folder, the
// URL); a refusal shows on Err and the row keeps what was typed.
type RoutesEditor struct {
	Box    *fyne.Container
	Prefix *widget.Entry
	Kind   *widget.Select
	Target *widget.Entry
	Strip  *widget.Check
	Add    *widget.Button
	Err    *widget.Label
	// Remove is each declared route's button, by prefix.
	Remove map[string]*widget.Button
	list   *fyne.Container
	pv     *ProjectView
}

func (pv *ProjectView) newRoutesEditor() *RoutesEditor {
	re := &RoutesEditor{pv: pv, Prefix: widget.NewEntry(), Target: widget.NewEntry(), Err: widget.NewLabel(""),
		Remove: map[string]*widget.Button{}, list: container.NewVBox()}
	re.Prefix.SetPlaceHolder("/api")
	re.Kind = widget.NewSelect([]string{routeService, routeStatic, routeURL}, re.kindChanged)
	re.Kind.SetSelected(routeURL)
	re.Strip = widget.NewCheck("Strip the prefix", nil)
	re.Add = widget.NewButtonWithIcon("Add route", theme.ContentAddIcon(), re.add)
	re.Err.Wrapping = fyne.TextWrapWord
	re.Err.Importance = widget.DangerImportance
	row := container.NewBorder(nil, nil, container.NewGridWrap(fyne.NewSize(120, re.Prefix.MinSize().Height), re.Prefix),
		container.NewHBox(re.Strip, re.Add), container.NewGridWithColumns(2, re.Kind, re.Target))
	re.Box = container.NewVBox(re.list, row, re.Err)
	return re
}

// kindChanged says, in the target's placeholder, what the kind takes.
func (re *RoutesEditor) kindChanged(kind string) {
	switch kind {
	case routeService:
		re.Target.SetPlaceHolder("a service of the project: web")
	case routeStatic:
		re.Target.SetPlaceHolder("a folder, relative to the project's: public")
	default:
		re.Target.SetPlaceHolder("http://127.0.0.1:9000")
	}
}

// show lists the routes the project declared; its services' own routes
// come with the services and are not removed here.
func (re *RoutesEditor) show(p wire.ProjectStatus) {
	re.Remove = map[string]*widget.Button{}
	var objs []fyne.CanvasObject
	for _, r := range p.Routes {
		if !r.Declared {
			continue
		}
		line := fmt.Sprintf("%s → %s %s", r.Prefix, r.Kind, r.Target)
		if o := r.Options(); o != "" {
			line += "  (" + o + ")"
		}
		l := widget.NewLabel(line)
		l.Truncation = fyne.TextTruncateEllipsis
		prefix := r.Prefix
		b := widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() { re.remove(prefix) })
		re.Remove[prefix] = b
		objs = append(objs, container.NewBorder(nil, nil, nil, b, l))
	}
	if len(objs) == 0 {
		objs = append(objs, widget.NewLabel("No routes of its own: each service answers at its prefix."))
	}
	re.list.Objects = objs
	re.list.Refresh()
}

// request is the route the row describes.
func (re *RoutesEditor) request() wire.RouteRequest {
	req := wire.RouteRequest{Prefix: strings.TrimSpace(re.Prefix.Text), Strip: re.Strip.Checked}
	target := strings.TrimSpace(re.Target.Text)
	switch re.Kind.Selected {
	case routeService:
		req.Service = target
	case routeStatic:
		req.Static = target
	default:
		req.URL = target
	}
	return req
}

func (re *RoutesEditor) add() {
	req := re.request()
	u, name := re.pv.u, re.pv.name
	re.Err.SetText("")
	re.Add.Disable()
	u.Status.SetText(fmt.Sprintf("Adding route %s to %s…", req.Prefix, name))
	u.bg(func() {
		_, err := u.opts.Engine.AddRoute(u.ctx, name, req)
		u.do(func() {
			re.Add.Enable()
			if err != nil {
				re.Err.SetText(err.Error())
				u.Status.SetText(err.Error())
				return
			}
			u.Status.SetText("")
			re.Prefix.SetText("")
			re.Target.SetText("")
			re.Strip.SetChecked(false)
			re.pv.reload()
		})
	})
}

func (re *RoutesEditor) remove(prefix string) {
	u, name := re.pv.u, re.pv.name
	re.Err.SetText("")
	u.Status.SetText(fmt.Sprintf("Removing route %s of %s…", prefix, name))
	u.bg(func() {
		err := u.opts.Engine.RemoveRoute(u.ctx, name, prefix)
		u.do(func() {
			if err != nil {
				re.Err.SetText(err.Error())
				u.Status.SetText(err.Error())
				return
			}
			u.Status.SetText("")
			re.pv.reload()
		})
	})
}
