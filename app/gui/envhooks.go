package gui

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
)

// EnvHooksEditor is the Settings tab's environment and hooks: a box of
// variables for each service that runs something, one KEY = VALUE a line
// as the php.ini box has them, and the project's before_start command,
// as devport set --env, --env-unset and --before-start change them.
// EnvApply stores every box's edit in one change (a running project
// restarts once); HookApply stores the command, which runs from the next
// start. The engine checks names and values; a refusal shows on Err and
// the boxes keep what was typed.
type EnvHooksEditor struct {
	Box *fyne.Container
	// Env is each service's box, by service name.
	Env map[string]*widget.Entry
	// Kept says, under a service's box, which variables it leaves out
	// because one line cannot show their value (a line break, spaces or
	// quotes at its ends, as a PEM key has): the box neither shows nor
	// removes them, and a line naming one replaces it.
	Kept     map[string]*widget.Label
	EnvApply *widget.Button
	// BeforeStart is the command run with sh -c in the project folder
	// before its services start; "" runs nothing.
	BeforeStart *widget.Entry
	HookApply   *widget.Button
	// Err is the editor's note line: why a change was refused.
	Err *widget.Label
	pv  *ProjectView
	// envShown is the text each box last showed from the engine, and
	// hookShown BeforeStart's: an edit in progress (the text differs) is
	// not overwritten by an update. envStored is, by service, the
	// variables its box holds (those Kept leaves out are not in it).
	envShown  map[string]string
	envStored map[string]map[string]string
	hookShown string
}

// newEnvHooksEditor builds the editor of p's environment and hooks.
func (pv *ProjectView) newEnvHooksEditor(p wire.ProjectStatus) *EnvHooksEditor {
	e := &EnvHooksEditor{pv: pv, Env: map[string]*widget.Entry{}, Kept: map[string]*widget.Label{},
		BeforeStart: widget.NewMultiLineEntry(), Err: widget.NewLabel(""),
		envShown: map[string]string{}, envStored: map[string]map[string]string{}}
	e.Err.Wrapping = fyne.TextWrapWord
	e.Err.Importance = widget.DangerImportance
	e.EnvApply = widget.NewButton("Apply", e.applyEnv)
	e.HookApply = widget.NewButton("Apply", e.applyHook)
	e.Box = container.NewVBox()
	for _, s := range p.Services {
		if stackdef.RunsNothing(s.Stack) {
			continue
		}
		box := widget.NewMultiLineEntry()
		box.SetPlaceHolder("APP_ENV = dev")
		box.SetMinRowsVisible(3)
		kept := widget.NewLabel("")
		kept.Wrapping = fyne.TextWrapWord
		kept.Hide()
		e.Env[s.Name], e.Kept[s.Name] = box, kept
		e.Box.Add(widget.NewLabel(fmt.Sprintf("Environment of %s (%s): KEY = VALUE, one a line", s.Name, s.Stack)))
		e.Box.Add(box)
		e.Box.Add(kept)
	}
	if len(e.Env) == 0 {
		note := widget.NewLabel("No service runs here (devport's proxy serves it, or you run it): no environment to set.")
		note.Wrapping = fyne.TextWrapWord
		e.Box.Add(note)
		e.EnvApply.Disable()
	} else {
		e.Box.Add(container.NewBorder(nil, nil, nil, e.EnvApply, widget.NewLabel("A running project restarts to apply it.")))
	}
	e.BeforeStart.SetPlaceHolder("composer install")
	e.BeforeStart.SetMinRowsVisible(2)
	e.Box.Add(widget.NewSeparator())
	e.Box.Add(widget.NewLabel("Before start: a command run with sh -c in the project folder before each start"))
	e.Box.Add(container.NewBorder(nil, nil, nil, e.HookApply, e.BeforeStart))
	e.Box.Add(e.Err)
	e.showWith(p, true)
	return e
}

// show shows p's variables and hook, but not over an edit in progress.
func (e *EnvHooksEditor) show(p wire.ProjectStatus) { e.showWith(p, false) }

// showWith shows p's variables and hook; force shows them over an edit
// too (after an Apply).
func (e *EnvHooksEditor) showWith(p wire.ProjectStatus, force bool) {
	for _, s := range p.Services {
		box := e.Env[s.Name]
		if box == nil {
			continue
		}
		shown, kept := map[string]string{}, []string(nil)
		for k, v := range s.Env {
			if oneLineValue(v) {
				shown[k] = v
			} else {
				kept = append(kept, k)
			}
		}
		e.envStored[s.Name] = shown
		if len(kept) == 0 {
			e.Kept[s.Name].Hide()
		} else {
			slices.Sort(kept)
			e.Kept[s.Name].SetText(fmt.Sprintf("Also set, with a value one line cannot show: %s (a line KEY = VALUE replaces it; devport set %s --env-unset %s:KEY removes it)",
				strings.Join(kept, ", "), p.Name, s.Name))
			e.Kept[s.Name].Show()
		}
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(shown)) {
			fmt.Fprintf(&b, "%s = %s\n", k, shown[k])
		}
		if text := b.String(); force || box.Text == e.envShown[s.Name] {
			e.envShown[s.Name] = text
			box.SetText(text)
		}
	}
	if force || e.BeforeStart.Text == e.hookShown {
		e.hookShown = p.BeforeStart
		e.BeforeStart.SetText(p.BeforeStart)
	}
}

// oneLineValue says whether a box line KEY = VALUE gives v back: no line
// break, and nothing at its ends that the line's parsing trims.
func oneLineValue(v string) bool {
	return !strings.ContainsAny(v, "\r\n") && v == strings.Trim(strings.TrimSpace(v), `"`)
}

// applyEnv stores the boxes' edits in one change: in each, the variables
// added or changed are set, those removed unset. A line without "=" or
// the engine's refusal (a bad name or value) shows on Err, and nothing
// changes.
func (e *EnvHooksEditor) applyEnv() {
	var req wire.EnvRequest
	e.Err.SetText("")
	for _, name := range slices.Sorted(maps.Keys(e.Env)) {
		set, unset, err := lineDiff(e.envStored[name], e.Env[name].Text, "environment of "+name, "APP_ENV = dev")
		if err != nil {
			e.Err.SetText(err.Error())
			return
		}
		if len(set) > 0 || len(unset) > 0 {
			req.Services = append(req.Services, wire.ServiceEnv{Service: name, Set: set, Unset: unset})
		}
	}
	if len(req.Services) == 0 {
		return
	}
	u, name := e.pv.u, e.pv.name
	e.EnvApply.Disable()
	u.Status.SetText(fmt.Sprintf("Changing the environment of %s…", name))
	u.bg(func() {
		p, err := u.opts.Engine.SetEnv(u.ctx, name, req)
		u.do(func() {
			e.EnvApply.Enable()
			if err != nil {
				e.Err.SetText(err.Error())
				u.Status.SetText(err.Error())
				return
			}
			u.Status.SetText("")
			e.showWith(p, true) // what is stored now: the edit is done
			e.pv.show(p)
		})
	})
}

// applyHook stores the before_start command ("" removes it).
func (e *EnvHooksEditor) applyHook() {
	cmd := strings.TrimSpace(e.BeforeStart.Text)
	e.Err.SetText("")
	if cmd == strings.TrimSpace(e.hookShown) {
		return
	}
	u, name := e.pv.u, e.pv.name
	e.HookApply.Disable()
	u.Status.SetText(fmt.Sprintf("Changing what %s runs before start…", name))
	u.bg(func() {
		p, err := u.opts.Engine.SetHooks(u.ctx, name, wire.HooksRequest{BeforeStart: cmd})
		u.do(func() {
			e.HookApply.Enable()
			if err != nil {
				e.Err.SetText(err.Error())
				u.Status.SetText(err.Error())
				return
			}
			u.Status.SetText("")
			e.showWith(p, true)
			e.pv.show(p)
		})
	})
}
