package gui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
)

// The wizard's checks of each step's input, as the user types and before
// it moves on; the engine's own (Checks) answer them, so the wizard
// refuses exactly what devport add would.

// checkFolder validates the folder and runs detection.
func (w *Wizard) checkFolder() bool {
	dir := strings.TrimSpace(w.Folder.Text)
	if dir == "" {
		w.FolderErr.SetText("Choose the project folder (or type its path).")
		return false
	}
	abs, err := filepath.Abs(expandHome(dir))
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
	w.offerData(w.u.opts.Checks.DetectData(abs))
	w.u.app.Preferences().SetString(lastFolderKey, abs)
	w.domainEdited = false // a new folder: the domain follows its name again
	w.Name.SetText(w.u.opts.Checks.NameFromFolder(abs))
	w.nameChanged(w.Name.Text) // SetText skips OnChanged when the name is the same
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

// defaultTLD is the TLD the wizard suggests ("test" unless set).
func (u *UI) defaultTLD() string {
	if u.opts.Host != nil {
		if v, ok, err := u.opts.Host.Setting(u.ctx, wire.SettingDefaultTLD); err == nil && ok && v != "" {
			return v
		}
	}
	return "test"
}
