package gui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
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

var stepTitles = []string{"1. Folder", "2. Stack", "3. Name and domain", "4. Runtime", "5. Review", "Created"}

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

	Folder *pathEntry // Tab completes folder names (wizard_folder.go)
	Browse *widget.Button
	// FolderHint lists the folders the typed path could go on to.
	FolderHint *widget.Label
	// Picker is the folder picker's window while it is open.
	Picker    fyne.Window
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

	// DataBox offers the data services the folder shows it needs, one
	// check box each (DataChecks, in the order of proposals), checked:
	// the checked ones are added with the project (wizard_data.go).
	DataBox    *fyne.Container
	DataChecks []*widget.Check
	proposals  []wire.DataProposal

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
	Done         *widget.Label // the outcome's line: the error's first line when it failed
	URL          *widget.Hyperlink
	doneWidgets

	// Venv creates the Python project's .venv and installs its
	// dependencies before the add, shown only when the preview offers it;
	// VenvLog is that creation's output (wizard_venv.go).
	Venv    *widget.Check
	VenvLog *widget.Label

	detection   wire.Detection
	dockerKnown bool   // the Docker check answered
	httpsPort   int    // the engine's, for the review's URL (0 until it answered)
	plan        string // what the folder describes, when it is more than one stack
	tlds        []string
	// domainEdited is set once the user edits the domain: it then no
	// longer follows the name; settingDomain marks the wizard's own edits.
	domainEdited, settingDomain bool
	// AppRow is the Python app's row, shown only for the Python stacks.
	AppRow      *fyne.Container
	venvOffered bool     // the preview offers to create the environment
	venvLines   []string // VenvLog's lines
	venvLogBox  *container.Scroll
	// ctx ends when the wizard closes: a .venv being created is then
	// abandoned (and removed), and nothing is added.
	ctx    context.Context
	cancel context.CancelFunc
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
	w.ctx, w.cancel = context.WithCancel(u.ctx)
	w.Win = u.app.NewWindow("devport: new project")
	w.Title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	errLabel := func() *widget.Label {
		l := widget.NewLabel("")
		l.Wrapping = fyne.TextWrapWord
		l.Importance = widget.DangerImportance
		return l
	}

	w.Folder = newPathEntry(w.completeFolder)
	w.Folder.SetPlaceHolder("~/code/shop, or drop a folder here")
	w.FolderHint = widget.NewLabel("")
	w.FolderHint.Truncation = fyne.TextTruncateEllipsis
	w.Folder.OnChanged = func(s string) { w.FolderErr.SetText(""); w.showFolderHint(s) }
	w.Browse = widget.NewButton("Choose folder…", w.browse)
	w.FolderErr = errLabel()
	folder := container.NewVBox(widget.NewLabel("Which folder holds the project?"),
		container.NewBorder(nil, nil, nil, w.Browse, w.Folder), w.FolderHint, w.FolderErr)

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
		show(w.AppRow, runsApp(s)) // hidden, not greyed, where it does not apply
		show(w.ChainBox, s == choicePHP)
		w.validateChain()
		w.relayout()
	})
	w.DataBox = container.NewVBox()
	w.DataBox.Hide()
	w.AppRow = container.NewBorder(nil, nil, widget.NewLabel("Python app (module:attribute)"), nil, w.App)
	stack := container.NewVBox(w.Detected, w.Stack, w.AppRow, w.ChainBox, w.DataBox, w.StackErr)

	w.Name = widget.NewEntry()
	w.Domain = widget.NewEntry()
	w.DomainErr = errLabel()
	w.Name.OnChanged = w.nameChanged // the domain follows the name until edited
	w.Domain.OnChanged = w.domainChanged
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
	// The review shows the URL with the engine's port when it is not 443.
	u.bg(func() {
		info, err := u.opts.Engine.Engine(u.ctx)
		if err != nil {
			return // the review then shows the URL without a port
		}
		w.u.do(func() {
			w.httpsPort = info.HTTPSPort
			if w.Step == StepReview {
				w.Review.SetText(w.summary())
			}
		})
	})
	runtimePage := container.NewVBox(w.RuntimeQ, w.Runtime, w.Container, w.RuntimeWhy)

	w.Review = widget.NewLabel("")
	w.Review.Wrapping = fyne.TextWrapWord
	w.StartAfter = widget.NewCheck("Start it after creating", nil)
	w.StartAfter.SetChecked(true)
	w.CreateErr = errLabel()
	w.newVenvWidgets()
	review := container.NewVBox(w.Review, w.Venv, w.StartAfter, w.CreateErr, w.venvLogBox)

	done := w.newDonePage() // wizard_done.go

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
	w.Win.SetOnDropped(w.dropped)
	w.Win.SetOnClosed(func() {
		w.cancel()
		if w.Picker != nil {
			w.Picker.Close()
		}
		if u.Wizard == w {
			u.Wizard = nil
		}
		u.released()
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

// goTo shows a step and the buttons that fit it.
func (w *Wizard) goTo(step int) {
	if step < StepFolder {
		step = StepFolder
	}
	w.Step = step
	title := stepTitles[step]
	if step == StepDone && w.Heading.Text != "" {
		title = w.Heading.Text // never "Done" above a failure
	}
	w.Title.SetText("New project: " + title)
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
		w.offerVenv()
		w.Review.SetText(w.summary())
	}
	w.goTo(w.Step + 1)
}

// relayout lays the shown step out again after a widget on it was shown
// or hidden (Show and Hide do not resize the boxes around the widget).
func (w *Wizard) relayout() {
	if w.body != nil {
		w.body.Refresh()
	}
}

func (w *Wizard) close() {
	w.Win.Close()
}
