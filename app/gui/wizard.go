package gui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
)

// Wizard steps, in order.
const (
	StepFolder = iota
	StepStack
	StepDomain
	StepRuntime
	StepReview
	StepDone
)

var stepTitles = []string{"1. Folder", "2. Stack", "3. Name and domain", "4. Runtime", "5. Review", "Done"}

// Stack choices as the wizard shows them.
const (
	choicePHP      = "PHP (Apache + mod_php)"
	choiceUvicorn  = "Python ASGI (uvicorn)"
	choiceGunicorn = "Python ASGI (gunicorn with uvicorn workers)"
	choiceWSGI     = "Python WSGI: Flask, Django (gunicorn)"
	choiceUWSGI    = "Python WSGI (uWSGI)"
	choiceStatic   = "Static site (served by devport's proxy)"
	// choiceFolder creates what the folder describes: its devport.toml,
	// or PHP at / with a FastAPI app at /api (several services).
	choiceFolder = "As the folder describes it (several services)"
	runtimeProc  = "Local processes"
	runtimeCont  = "Docker containers"
)

// stackChoices pairs each choice with its stack, in the order shown.
var stackChoices = []struct{ label, stack string }{
	{choicePHP, stackdef.PHP},
	{choiceUvicorn, stackdef.Uvicorn},
	{choiceGunicorn, stackdef.Gunicorn},
	{choiceWSGI, stackdef.WSGI},
	{choiceUWSGI, stackdef.UWSGI},
	{choiceStatic, stackdef.Static},
}

// runsApp reports whether a choice runs a Python app, so it needs the
// app field: not PHP, not a static site, not the folder's own plan.
func runsApp(choice string) bool {
	return choice != "" && choice != choicePHP && choice != choiceStatic && choice != choiceFolder
}

// choiceOf is the wizard's label for a stack.
func choiceOf(stack string) string {
	for _, c := range stackChoices {
		if c.stack == stack {
			return c.label
		}
	}
	return ""
}

// Wizard walks through adding a project. Nothing is stored before Create,
// so Cancel at any step leaves nothing behind.
type Wizard struct {
	u    *UI
	Win  fyne.Window
	Step int

	Title                      *widget.Label
	Back, Next, Create, Cancel *widget.Button
	pages                      []fyne.CanvasObject
	body                       *fyne.Container

	Folder    *widget.Entry
	Browse    *widget.Button
	FolderErr *widget.Label
	Detected  *widget.Label
	Stack     *widget.Select
	App       *widget.Entry
	StackErr  *widget.Label
	// Chain is the optional prefix (e.g. /py) that Apache forwards to the
	// Python app in that subfolder (devport add --stack php --chain);
	// ChainBox holds it and ChainErr, and shows only while PHP is chosen.
	Chain    *widget.Entry
	ChainErr *widget.Label
	ChainBox *fyne.Container

	chainErrBox *container.Scroll

	Name, Domain *widget.Entry
	DomainErr    *widget.Label
	RuntimeQ     *widget.Label // the runtime step's question
	Runtime      *widget.RadioGroup
	Container    *widget.RadioGroup // shown disabled while Docker is unavailable
	DockerWhy    string             // why Docker is unavailable ("" when it answers)
	RuntimeWhy   *widget.Label
	Review       *widget.Label
	StartAfter   *widget.Check
	CreateErr    *widget.Label
	Done         *widget.Label
	URL          *widget.Hyperlink

	detection   wire.Detection
	dockerKnown bool   // the Docker check answered
	plan        string // what the folder describes, when it is more than one stack
	tlds        []string
	// Created is the project once Create succeeded.
	Created *wire.ProjectStatus
}

// ShowWizard opens the new-project wizard (one at a time).
func (u *UI) ShowWizard() {
	if u.Wizard != nil && u.Wizard.Win != nil {
		u.Wizard.Win.Show()
		u.Wizard.Win.RequestFocus()
		return
	}
	u.Wizard = u.newWizard()
	u.Wizard.Win.Show()
}

func (u *UI) newWizard() *Wizard {
	w := &Wizard{u: u, tlds: u.opts.Checks.TLDs()}
	w.Win = u.app.NewWindow("devport: new project")
	w.Title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	errLabel := func() *widget.Label {
		l := widget.NewLabel("")
		l.Wrapping = fyne.TextWrapWord
		l.Importance = widget.DangerImportance
		return l
	}

	w.Folder = widget.NewEntry()
	w.Folder.SetPlaceHolder("/home/you/code/shop")
	w.Folder.OnChanged = func(string) { w.FolderErr.SetText("") }
	w.Browse = widget.NewButton("Choose folder…", w.browse)
	w.FolderErr = errLabel()
	folder := container.NewVBox(widget.NewLabel("Which folder holds the project?"),
		container.NewBorder(nil, nil, nil, w.Browse, w.Folder), w.FolderErr)

	w.Detected = widget.NewLabel("")
	w.Detected.Wrapping = fyne.TextWrapWord
	w.App = widget.NewEntry()
	w.App.SetPlaceHolder("main:app")
	w.StackErr = errLabel()
	var labels []string
	for _, c := range stackChoices {
		labels = append(labels, c.label)
	}
	// A drop-down, not radio buttons: five stacks would make the step
	// taller than the wizard's window.
	w.Chain = widget.NewEntry()
	w.Chain.SetPlaceHolder("/py (optional)")
	w.Chain.OnChanged = func(string) { w.validateChain() }
	w.ChainErr = errLabel()
	// A missing app's message lists everything detection looked for: it
	// scrolls within three lines rather than growing the window.
	w.chainErrBox = container.NewVScroll(w.ChainErr)
	w.chainErrBox.SetMinSize(fyne.NewSize(0, 3*theme.TextSize()+2*theme.Padding()+4*theme.LineSpacing()))
	w.setChainErr("")
	// Below the existing rows, and only for PHP, so the other stacks' step
	// keeps its layout.
	w.ChainBox = container.NewVBox(
		container.NewBorder(nil, nil, widget.NewLabel("Pass a path through Apache to a Python app in a subfolder"), nil, w.Chain),
		w.chainErrBox)
	w.ChainBox.Hide()
	w.Stack = widget.NewSelect(labels, func(s string) {
		w.StackErr.SetText("")
		if runsApp(s) {
			w.App.Enable()
		} else {
			w.App.Disable()
		}
		show(w.ChainBox, s == choicePHP)
		w.validateChain()
		w.relayout()
	})
	stack := container.NewVBox(w.Detected, w.Stack,
		container.NewBorder(nil, nil, widget.NewLabel("Python app (module:attribute)"), nil, w.App), w.ChainBox, w.StackErr)

	w.Name = widget.NewEntry()
	w.Domain = widget.NewEntry()
	w.DomainErr = errLabel()
	w.Name.OnChanged = func(string) { w.validateDomain() }
	w.Domain.OnChanged = func(string) { w.validateDomain() }
	domain := container.New(layout.NewFormLayout(),
		widget.NewLabel("Name"), w.Name,
		widget.NewLabel("Domain"), w.Domain)
	domainPage := container.NewVBox(domain, w.DomainErr)

	w.RuntimeWhy = widget.NewLabel("")
	w.RuntimeWhy.Wrapping = fyne.TextWrapWord
	w.Runtime = widget.NewRadioGroup([]string{runtimeProc}, nil)
	w.Runtime.SetSelected(runtimeProc)
	w.Runtime.Required = true
	// A radio group cannot disable one option, so the container choice is
	// its own group, disabled with the reason beside it.
	w.Container = widget.NewRadioGroup([]string{runtimeCont}, nil)
	w.Container.Disable()
	w.RuntimeQ = widget.NewLabel("")
	w.RuntimeQ.Wrapping = fyne.TextWrapWord
	w.showRuntime()
	u.bg(func() {
		why := u.opts.Checks.DockerReason(u.ctx)
		w.u.do(func() { w.setDocker(why) })
	})
	runtimePage := container.NewVBox(w.RuntimeQ, w.Runtime, w.Container, w.RuntimeWhy)

	w.Review = widget.NewLabel("")
	w.Review.Wrapping = fyne.TextWrapWord
	w.StartAfter = widget.NewCheck("Start it after creating", nil)
	w.StartAfter.SetChecked(true)
	w.CreateErr = errLabel()
	review := container.NewVBox(w.Review, w.StartAfter, w.CreateErr)

	w.Done = widget.NewLabel("")
	w.Done.Wrapping = fyne.TextWrapWord
	w.URL = widget.NewHyperlink("", nil)
	done := container.NewVBox(w.Done, w.URL)

	w.pages = []fyne.CanvasObject{folder, stack, domainPage, runtimePage, review, done}
	w.body = container.NewStack()
	w.Back = widget.NewButton("Back", func() { w.goTo(w.Step - 1) })
	w.Next = widget.NewButton("Next", w.next)
	w.Next.Importance = widget.HighImportance
	w.Create = widget.NewButton("Create", w.create)
	w.Create.Importance = widget.HighImportance
	w.Cancel = widget.NewButton("Cancel", w.close)
	buttons := container.NewHBox(layout.NewSpacer(), w.Cancel, w.Back, w.Next, w.Create)
	w.Win.SetContent(container.NewBorder(w.Title, buttons, nil, nil, container.NewPadded(w.body)))
	w.Win.Resize(fyne.NewSize(640, 360))
	w.Win.SetOnClosed(func() {
		if u.Wizard == w {
			u.Wizard = nil
		}
	})
	w.Folder.OnSubmitted = func(string) { w.next() }
	w.Win.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			w.close()
		}
	})
	w.goTo(StepFolder)
	w.Win.Canvas().Focus(w.Folder)
	return w
}

// setDocker offers the container runtime when Docker answers, and shows
// it disabled with the reason otherwise.
func (w *Wizard) setDocker(why string) {
	w.DockerWhy = why
	w.dockerKnown = true
	if why == "" {
		w.Runtime.Options = []string{runtimeProc, runtimeCont}
		w.Runtime.Refresh()
	}
	w.showRuntime()
}

// showRuntime fills the runtime step for the chosen stack: a static site
// has nothing to run, so it only says that the proxy serves it; the other
// stacks choose between processes and (when Docker answers) containers.
func (w *Wizard) showRuntime() {
	static := w.stack() == stackdef.Static
	show(w.Runtime, !static)
	show(w.Container, !static && (!w.dockerKnown || w.DockerWhy != ""))
	switch {
	case static:
		w.RuntimeQ.SetText("A static site has no backend to run.")
		w.RuntimeWhy.SetText("devport's proxy serves the folder's files itself: there is no process or container to choose, and nothing to install.")
	case !w.dockerKnown:
		w.RuntimeQ.SetText("How should the backends run?")
		w.RuntimeWhy.SetText("Checking whether Docker answers…")
	case w.DockerWhy != "":
		w.RuntimeQ.SetText("How should the backends run?")
		w.RuntimeWhy.SetText("Docker containers are unavailable: " + w.DockerWhy)
	default:
		w.RuntimeQ.SetText("How should the backends run?")
		w.RuntimeWhy.SetText("Docker answers. Containers use the image set for the stack in Settings.")
	}
}

func (w *Wizard) browse() {
	d := dialog.NewFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil {
			w.FolderErr.SetText(err.Error())
			return
		}
		if dir != nil {
			w.Folder.SetText(dir.Path())
		}
	}, w.Win)
	d.Resize(fyne.NewSize(600, 340))
	d.Show()
}

// goTo shows a step and the buttons that fit it.
func (w *Wizard) goTo(step int) {
	if step < StepFolder {
		step = StepFolder
	}
	w.Step = step
	w.Title.SetText("New project: " + stepTitles[step])
	w.Win.Canvas().Unfocus() // a hidden entry must not keep the keys (Escape cancels)
	w.body.Objects = []fyne.CanvasObject{w.pages[step]}
	w.body.Refresh()
	setEnabled(w.Back, step > StepFolder && step < StepDone)
	show(w.Next, step < StepReview)
	show(w.Create, step == StepReview)
	show(w.Back, step < StepDone)
	if step == StepRuntime {
		w.showRuntime()
	}
	// A static site runs nothing: the proxy serves it from the start.
	show(w.StartAfter, w.stack() != stackdef.Static)
	if step == StepDone {
		w.Cancel.SetText("Close")
	}
}

func show(o fyne.CanvasObject, on bool) {
	if on {
		o.Show()
	} else {
		o.Hide()
	}
}

// next checks the current step and moves on; a problem stays on the step.
func (w *Wizard) next() {
	switch w.Step {
	case StepFolder:
		if !w.checkFolder() {
			return
		}
	case StepStack:
		if !w.checkStack() {
			return
		}
	case StepDomain:
		if !w.validateDomain() {
			return
		}
	case StepRuntime:
		w.Review.SetText(w.summary())
	}
	w.goTo(w.Step + 1)
}

// checkFolder validates the folder and runs detection.
func (w *Wizard) checkFolder() bool {
	dir := strings.TrimSpace(w.Folder.Text)
	if dir == "" {
		w.FolderErr.SetText("Choose the project folder (or type its path).")
		return false
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		var fi os.FileInfo
		if fi, err = os.Stat(abs); err == nil && !fi.IsDir() {
			err = errors.New("not a folder")
		}
	}
	if err != nil {
		w.FolderErr.SetText(fmt.Sprintf("%s: does not exist or is not a folder; choose an existing project folder.", dir))
		return false
	}
	w.Folder.SetText(abs)
	d, derr := w.u.opts.Checks.Detect(abs)
	w.detection = d
	w.plan = ""
	w.Stack.Options = w.Stack.Options[:0]
	if plan, err := w.u.opts.Checks.DescribeAdd(wire.AddRequest{Dir: abs}); err != nil {
		w.FolderErr.SetText(err.Error()) // a devport.toml that does not parse: file, line and key
		return false
	} else if !strings.HasPrefix(plan, "detected:") && plan != "" {
		w.plan = plan
		w.Stack.Options = append(w.Stack.Options, choiceFolder)
	}
	for _, c := range stackChoices {
		w.Stack.Options = append(w.Stack.Options, c.label)
	}
	w.Stack.Refresh()
	switch {
	case w.plan != "":
		w.Detected.SetText(strings.TrimRight(w.plan, "\n") + "\nOr pick a single stack:")
		w.Stack.SetSelected(choiceFolder)
	case derr != nil:
		w.Detected.SetText("Nothing detected: no index.php, public/index.php or composer.json (PHP), no FastAPI/Starlette app in main.py or app.py, no Flask or Django app, and no index.html (static). Choose the stack:")
		w.Stack.ClearSelected()
	case d.Stack == stackdef.Static:
		where := "the folder itself"
		if d.DocRoot != "" {
			where = d.DocRoot
		}
		w.Detected.SetText("Detected a static site (index.html in " + where + "): devport's proxy serves it, nothing runs. You can change it:")
		w.Stack.SetSelected(choiceStatic)
	case d.Stack != stackdef.PHP:
		kind := "ASGI"
		if d.Stack == stackdef.WSGI {
			kind = "WSGI"
		}
		w.Detected.SetText("Detected a Python " + kind + " app: " + d.App + ". You can change it:")
		w.Stack.SetSelected(choiceOf(d.Stack))
		w.App.SetText(d.App)
	default:
		where := "the folder itself"
		if d.DocRoot != "" {
			where = d.DocRoot
		}
		w.Detected.SetText("Detected a PHP site (document root: " + where + "). You can change it:")
		w.Stack.SetSelected(choicePHP)
	}
	w.validateChain() // the same prefix, in another folder
	name := w.u.opts.Checks.NameFromFolder(abs)
	w.Name.SetText(name)
	w.Domain.SetText(name + "." + w.u.defaultTLD())
	return true
}

func (w *Wizard) stack() string {
	for _, c := range stackChoices {
		if c.label == w.Stack.Selected {
			return c.stack
		}
	}
	return ""
}

// checkStack checks the choice and that its tools are installed.
func (w *Wizard) checkStack() bool {
	if w.Stack.Selected == choiceFolder {
		w.StackErr.SetText("") // Create checks every service, and says which fails
		return true
	}
	st := w.stack()
	if st == "" {
		w.StackErr.SetText("Choose a stack.")
		return false
	}
	if runsApp(w.Stack.Selected) && !strings.Contains(w.App.Text, ":") {
		w.StackErr.SetText(fmt.Sprintf("Python app %q: write it as MODULE:ATTRIBUTE, e.g. main:app.", w.App.Text))
		return false
	}
	if err := w.u.opts.Checks.CheckStack(st, w.Folder.Text); err != nil {
		w.StackErr.SetText(err.Error())
		return false
	}
	w.StackErr.SetText("")
	if prefix := w.chain(); prefix != "" {
		if msg := w.checkChain(w.Folder.Text, prefix); msg != "" {
			w.setChainErr(msg)
			return false
		}
	}
	w.setChainErr("")
	return true
}

// chain is the prefix Apache forwards to a Python app, when PHP is chosen.
func (w *Wizard) chain() string {
	if w.Stack.Selected != choicePHP {
		return ""
	}
	return strings.TrimSpace(w.Chain.Text)
}

// validateChain checks the chain prefix as the user types: the folder is
// on this machine, so the check is local and quick whichever engine runs.
func (w *Wizard) validateChain() {
	prefix := w.chain()
	if prefix == "" {
		w.setChainErr("")
		return
	}
	w.setChainErr(w.checkChain(w.Folder.Text, prefix))
}

// checkChain runs the engine's own chain validation (Checks.CheckChain) for
// prefix in dir, and returns its message, or "" when the chain would be
// created. Nothing is stored.
func (w *Wizard) checkChain(dir, prefix string) string {
	if err := w.u.opts.Checks.CheckChain(dir, prefix); err != nil {
		return err.Error()
	}
	return ""
}

func (w *Wizard) setChainErr(msg string) {
	w.ChainErr.SetText(msg)
	show(w.ChainErr, msg != "")
	show(w.chainErrBox, msg != "")
	w.relayout()
}

// relayout lays the shown step out again after a widget on it was shown
// or hidden (Show and Hide do not resize the boxes around the widget).
func (w *Wizard) relayout() {
	if w.body != nil {
		w.body.Refresh()
	}
}

// validateDomain checks the name and domain as the user types.
func (w *Wizard) validateDomain() bool {
	msg := ""
	if err := w.u.opts.Checks.CheckName(w.Name.Text); err != nil {
		msg = err.Error()
	} else if err := w.u.opts.Checks.CheckDomain(w.Domain.Text); err != nil {
		msg = err.Error()
	} else {
		for _, p := range w.u.Projects() {
			if p.Name == w.Name.Text {
				msg = fmt.Sprintf("name %q: a project has this name already; choose another", w.Name.Text)
			}
			for _, d := range p.Domains {
				if strings.EqualFold(d, w.Domain.Text) {
					msg = fmt.Sprintf("domain %q: project %s serves it already; choose another", w.Domain.Text, p.Name)
				}
			}
		}
	}
	w.DomainErr.SetText(msg)
	return msg == ""
}

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
	rt := "local processes"
	switch {
	case r.Stack == stackdef.Static:
		rt = "none: devport's proxy serves the folder"
	case r.Runtime == wire.RuntimeContainer:
		rt = "Docker containers"
	}
	return s + fmt.Sprintf("Name:     %s\nDomain:   https://%s/\nRuntime:  %s\n\nCreate stores the project; its certificate is issued by devport's local CA.", r.Name, r.Domain, rt)
}

// create stores the project, optionally starts it, and shows the URL. A
// validation error sends the user back to the step of its field.
func (w *Wizard) create() {
	req := w.request()
	start := w.StartAfter.Checked && req.Stack != stackdef.Static
	w.Create.Disable()
	w.CreateErr.SetText("Creating…")
	w.u.bg(func() {
		p, err := w.u.opts.Engine.Add(w.u.ctx, req)
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
			w.CreateErr.SetText("")
			if err != nil {
				w.showErr(err)
				return
			}
			w.Created = &p
			w.Done.SetText(fmt.Sprintf("%s is added (state: %s).", p.Name, p.State))
			if startErr != nil {
				w.Done.SetText(fmt.Sprintf("%s is added, but it did not start: %v", p.Name, startErr))
			}
			w.URL.SetText(p.URL)
			_ = w.URL.SetURLFromString(p.URL)
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

func (w *Wizard) close() {
	w.Win.Close()
}

// defaultTLD is the TLD the wizard suggests ("test" unless set).
func (u *UI) defaultTLD() string {
	if u.opts.Host != nil {
		if v, ok, err := u.opts.Host.Setting(u.ctx, wire.SettingDefaultTLD); err == nil && ok && v != "" {
			return v
		}
	}
	return "test"
}
