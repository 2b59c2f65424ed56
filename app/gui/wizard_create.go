package gui

import (
	"fmt"
	"strings"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
)

// The wizard's last steps: the request it sends, the review of it, and
// what Create does with the answer.

func (w *Wizard) request() wire.AddRequest {
	req := wire.AddRequest{Dir: w.Folder.Text, Name: w.Name.Text, Domain: strings.ToLower(w.Domain.Text),
		Stack: w.stack(), Runtime: wire.RuntimeProcess}
	if w.Runtime.Selected == runtimeCont && req.Stack != stackdef.Static {
		req.Runtime = wire.RuntimeContainer
	}
	if runsApp(w.Stack.Selected) {
		req.App = w.App.Text
	}
	req.Chain = w.chain()
	req.Data = w.dataRequests(req.Runtime)
	req.Venv = w.venvOffered && w.Venv.Checked
	return req
}

func (w *Wizard) summary() string {
	r := w.request()
	stack := r.Stack
	if stack == "" {
		stack = strings.ReplaceAll(strings.TrimRight(w.plan, "\n"), "\n", "\n          ")
	}
	s := fmt.Sprintf("Folder:   %s\nStack:    %s\n", r.Dir, stack)
	if r.App != "" {
		s += fmt.Sprintf("App:      %s\n", r.App)
	}
	if r.Chain != "" {
		s += fmt.Sprintf("Chain:    %s goes through Apache to the Python app in %s/ (uvicorn)\n", r.Chain, strings.Trim(r.Chain, "/"))
	}
	for _, d := range r.Data {
		s += fmt.Sprintf("Data:     %s (%s)\n", d.Name, d.Stack)
	}
	s += w.describeEnv(r)
	rt := "local processes"
	switch {
	case r.Stack == stackdef.Static:
		rt = "none: devport's proxy serves the folder"
	case r.Runtime == wire.RuntimeContainer:
		rt = "Docker containers"
	}
	return s + fmt.Sprintf("Name:     %s\nDomain:   %s\nRuntime:  %s\n\nCreate stores the project; its certificate is issued by devport's local CA.", r.Name, wire.SiteURL(r.Domain, w.httpsPort), rt)
}

// create stores the project, optionally starts it, and shows the URL. A
// validation error sends the user back to the step of its field. With the
// venv box checked it first creates the .venv (wizard_venv.go): a failure
// there adds nothing, and an add that fails removes the .venv it made.
func (w *Wizard) create() {
	req := w.request()
	start := w.StartAfter.Checked && req.Stack != stackdef.Static
	w.Create.Disable()
	w.Back.Disable()
	w.CreateErr.SetText("Creating…")
	w.u.bg(func() {
		var remove func() error
		var err error
		if req.Venv {
			remove, err = w.createVenv(req)
		}
		var p wire.ProjectStatus
		if err == nil {
			p, err = w.u.opts.Engine.Add(w.u.ctx, req)
			if err != nil && remove != nil {
				if rerr := remove(); rerr != nil {
					err = fmt.Errorf("%w (and removing the .venv made for it: %v)", err, rerr)
				}
			}
		}
		var startErr error
		if err == nil && start {
			startErr = w.u.opts.Engine.Start(w.u.ctx, p.Name)
			if ps, lerr := w.u.opts.Engine.List(w.u.ctx); lerr == nil {
				for _, q := range ps {
					if q.Name == p.Name {
						p = q
					}
				}
			}
		}
		w.u.do(func() {
			w.Create.Enable()
			w.Back.Enable()
			w.CreateErr.SetText("")
			if err != nil {
				w.showErr(err)
				return
			}
			w.showCreated(p, startErr) // wizard_done.go
			w.goTo(StepDone)
		})
	})
}

func (w *Wizard) showErr(err error) {
	switch wire.FieldOf(err) {
	case "folder":
		w.goTo(StepFolder)
		w.FolderErr.SetText(err.Error())
	case "stack", "app":
		w.goTo(StepStack)
		w.StackErr.SetText(err.Error())
	case "chain":
		w.goTo(StepStack)
		w.setChainErr(err.Error())
	case "name", "domain":
		w.goTo(StepDomain)
		w.DomainErr.SetText(err.Error())
	case "runtime":
		w.goTo(StepRuntime)
		w.RuntimeWhy.SetText(err.Error())
	default:
		w.CreateErr.SetText(err.Error())
	}
}
