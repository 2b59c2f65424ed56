package gui

import (
	"fmt"
	"slices"

	"fyne.io/fyne/v2/widget"

	"github.com/devport/devport/app/wire"
)

// A php service's PHP version in the details: a drop-down of "auto" (let
// devport choose: composer.json's require.php, else the newest) and the
// versions its runtime can run (Checks.PHPVersions), as devport set NAME
// --php X.Y|auto; a running project restarts on it. A refusal (not
// installed, no image) shows on the service's note line, and the
// drop-down goes back to what is stored.

// phpAuto is the drop-down's choice that lets devport choose.
const phpAuto = "auto"

// newPHPSelect is the version drop-down of php service s. Its versions
// are asked for off the UI thread (for a container that is Docker's image
// list) and added when they come.
func (pv *ProjectView) newPHPSelect(se *ServiceEditor, s wire.ServiceStatus) *widget.Select {
	sel := widget.NewSelect([]string{phpAuto}, nil)
	service, runtime := s.Name, s.Runtime
	sel.OnChanged = func(v string) { pv.setPHP(service, se, v) }
	pv.u.bg(func() {
		versions := pv.u.opts.Checks.PHPVersions(pv.u.ctx, runtime)
		pv.u.do(func() {
			opts := []string{phpAuto}
			for _, v := range versions {
				if !slices.Contains(opts, v) {
					opts = append(opts, v)
				}
			}
			for _, v := range sel.Options { // one showPHP added meanwhile
				if !slices.Contains(opts, v) {
					opts = append(opts, v)
				}
			}
			sel.Options = opts
			sel.Refresh()
		})
	})
	return sel
}

// phpChoice is what the drop-down shows for s: its version when one is set
// for it, else auto.
func phpChoice(s wire.ServiceStatus) string {
	if s.PHPFrom == "set" && s.PHP != "" {
		return s.PHP
	}
	return phpAuto
}

// showPHP sets the drop-down without asking the engine again; a version
// the list lacks (an image of your own) is added to it.
func (se *ServiceEditor) showPHP(s wire.ServiceStatus) {
	if se.PHP == nil || se.phpSetting {
		return
	}
	v := phpChoice(s)
	if !slices.Contains(se.PHP.Options, v) {
		se.PHP.Options = append(se.PHP.Options, v)
	}
	if se.PHP.Selected == v {
		return
	}
	changed := se.PHP.OnChanged
	se.PHP.OnChanged = nil
	se.PHP.SetSelected(v)
	se.PHP.OnChanged = changed
	se.phpShown = v
}

// setPHP asks the engine for version v of the service ("auto": let it
// choose again).
func (pv *ProjectView) setPHP(service string, se *ServiceEditor, v string) {
	if v == se.phpShown {
		return
	}
	version := v
	if v == phpAuto {
		version = ""
	}
	was := se.phpShown
	se.Err.SetText("")
	se.phpSetting = true
	se.PHP.Disable()
	pv.u.Status.SetText(fmt.Sprintf("Switching %s/%s to PHP %s…", pv.name, service, v))
	pv.u.bg(func() {
		p, err := pv.u.opts.Engine.SetPHP(pv.u.ctx, pv.name, wire.PHPRequest{Service: service, Version: version})
		pv.u.do(func() {
			se.phpSetting = false
			se.PHP.Enable()
			if err != nil {
				changed := se.PHP.OnChanged
				se.PHP.OnChanged = nil
				se.PHP.SetSelected(was)
				se.PHP.OnChanged = changed
				se.Err.SetText(err.Error())
				pv.u.Status.SetText(err.Error())
				return
			}
			se.phpShown = v
			pv.u.Status.SetText("")
			pv.show(p)
		})
	})
}
