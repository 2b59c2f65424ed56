package gui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
)

// DataView is the "Data services" section of a project's details: each
// database, cache and mail catcher with its version, runtime, port and
// where its data lives; the values its clients connect with, each one
// copied with a click; and what devport service and devport db do with it
// (add, remove, snapshot, restore, follow the git branch).
type DataView struct {
	Box *fyne.Container // the whole section
	// AddBtn opens AddMenu, one item per data stack; an item asks for the
	// service's name (AddDialog).
	AddBtn  *widget.Button
	AddMenu *fyne.Menu
	// Follow turns branch following of the project's databases on or off
	// (devport db NAME follow); it shows while the project has a database.
	// The project's status does not say whether it is on, so it shows
	// what was last chosen here.
	Follow *widget.Check
	// Note says what the last action did; Err what went wrong.
	Note, Err *widget.Label
	Empty     *widget.Label
	Services  map[string]*DataCard // by service name

	// The dialogs open now (the last one of each kind).
	AddDialog      *AddDataDialog
	RemoveDialog   *RemoveDataDialog
	SnapshotDialog *SnapshotDialog
	RestoreDialog  *RestoreDialog

	pv    *ProjectView
	cards *fyne.Container
	// client asks Mailpit for its unread count. Tests replace it with one
	// that trusts their server; the real one trusts what the system does,
	// which includes devport's CA once setup has run.
	client *http.Client
	// quiet is set while code (not the user) changes Follow.
	quiet bool
}

// DataCard is one data service in a DataView.
type DataCard struct {
	Info *widget.Label
	// Values and Copy are the connection values (the Env map) and their
	// copy buttons, by variable.
	Values map[string]*widget.Label
	Copy   map[string]*widget.Button
	// Snapshot and Restore exist for the SQL databases, Mail for Mailpit.
	Snapshot, Restore, Mail *widget.Button
	Remove                  *widget.Button
	box                     fyne.CanvasObject
	sig                     string // what the card was built for; rebuilt when it changes
	mailURL                 string
	mailAsked               int // counts unread-count requests: only the last one labels Mail
}

// AddDataDialog asks for the name of a data service being added.
type AddDataDialog struct {
	Stack       string
	Name        *widget.Entry
	Add, Cancel *widget.Button
	Err         *widget.Label
	d           dialog.Dialog
}

// RemoveDataDialog asks whether a removed data service's data is kept.
type RemoveDataDialog struct {
	Service            string
	Keep, Purge, Close *widget.Button
	d                  dialog.Dialog
}

// SnapshotDialog asks for the optional tag of a snapshot.
type SnapshotDialog struct {
	Service      string
	Tag          *widget.Entry
	Save, Cancel *widget.Button
	d            dialog.Dialog
}

// RestoreDialog offers the snapshots of a database to load into it.
type RestoreDialog struct {
	Service         string
	Tags            *widget.Select // newest first
	Info            *widget.Label
	Restore, Cancel *widget.Button
	d               dialog.Dialog
}

// dataStacks are the stacks Add service offers, with the name each
// suggests (the one detection and DDEV users expect).
var dataStacks = []struct{ stack, name string }{
	{stackdef.MariaDB, "db"},
	{stackdef.Postgres, "db"},
	{stackdef.Redis, "cache"},
	{stackdef.Mailpit, "mail"},
}

// mailTimeout bounds the unread-count request: the count is a nicety, and
// a stopped project's Mailpit does not answer at all.
const mailTimeout = 3 * time.Second

func (pv *ProjectView) newDataView() *DataView {
	dv := &DataView{pv: pv, Services: map[string]*DataCard{}, cards: container.NewVBox(),
		Note: widget.NewLabel(""), Err: widget.NewLabel(""),
		Empty:  widget.NewLabel("No data services. Add a database, a cache or a mail catcher; the project's services get its connection values as environment variables."),
		client: &http.Client{Timeout: mailTimeout}}
	dv.Note.Wrapping = fyne.TextWrapWord
	dv.Err.Wrapping = fyne.TextWrapWord
	dv.Err.Importance = widget.DangerImportance
	dv.Empty.Wrapping = fyne.TextWrapWord
	dv.AddMenu = fyne.NewMenu("")
	for _, s := range dataStacks {
		d, _ := stackdef.Lookup(s.stack)
		stack, name := s.stack, s.name
		dv.AddMenu.Items = append(dv.AddMenu.Items, fyne.NewMenuItem(fmt.Sprintf("%s: %s", stack, d.Help), func() { dv.ShowAdd(stack, name) }))
	}
	dv.AddBtn = widget.NewButtonWithIcon("Add service…", theme.ContentAddIcon(), func() {
		widget.ShowPopUpMenuAtRelativePosition(dv.AddMenu, pv.u.Window.Canvas(), fyne.NewPos(0, dv.AddBtn.Size().Height), dv.AddBtn)
	})
	dv.Follow = widget.NewCheck("Databases follow the git branch", dv.setFollow)
	dv.Follow.Hide()
	bar := container.NewHBox(dv.AddBtn, dv.Follow, layout.NewSpacer())
	dv.Box = container.NewVBox(bar, dv.Empty, dv.cards, dv.Note, dv.Err)
	return dv
}

// update shows p's data services: a card is built for a service the view
// has not shown in that shape, and the others are updated in place, so
// a refresh does not take a button from under the pointer.
func (dv *DataView) update(p wire.ProjectStatus) {
	seen := map[string]bool{}
	var objs []fyne.CanvasObject
	database := false
	for _, d := range p.Data {
		seen[d.Name] = true
		database = database || stackdef.IsDatabase(d.Stack)
		c := dv.Services[d.Name]
		if sig := cardSig(d); c == nil || c.sig != sig {
			c = dv.newCard(d)
			c.sig = sig
			dv.Services[d.Name] = c
		}
		c.update(p, d)
		c.mailURL = d.MailURL
		if c.Mail != nil {
			dv.refreshMail(c)
		}
		objs = append(objs, c.box)
	}
	for n := range dv.Services {
		if !seen[n] {
			delete(dv.Services, n)
		}
	}
	dv.cards.Objects = objs
	dv.cards.Refresh()
	show(dv.Empty, len(p.Data) == 0)
	show(dv.Follow, database)
	if dv.Follow.Checked != p.FollowBranch && !dv.Follow.Disabled() { // not while a change is on its way
		dv.quiet = true
		dv.Follow.SetChecked(p.FollowBranch)
		dv.quiet = false
	}
}

// cardSig is what a card's widgets depend on: its stack and the names of
// its connection values.
func cardSig(d wire.DataServiceStatus) string {
	return d.Stack + " " + strings.Join(sortedEnv(d.Env), " ")
}

func sortedEnv(env map[string]string) []string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (dv *DataView) newCard(d wire.DataServiceStatus) *DataCard {
	c := &DataCard{Info: widget.NewLabel(""), Values: map[string]*widget.Label{}, Copy: map[string]*widget.Button{}}
	c.Info.Wrapping = fyne.TextWrapWord
	service := d.Name
	form := container.New(layout.NewFormLayout())
	for _, k := range sortedEnv(d.Env) {
		key := k
		v := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		v.Truncation = fyne.TextTruncateEllipsis
		c.Values[key] = v
		c.Copy[key] = widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() { dv.copyValue(key, v.Text) })
		form.Add(widget.NewLabelWithStyle(key, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true}))
		form.Add(container.NewBorder(nil, nil, nil, c.Copy[key], v))
	}
	buttons := container.NewHBox()
	if stackdef.IsDatabase(d.Stack) {
		c.Snapshot = widget.NewButton("Snapshot…", func() { dv.ShowSnapshot(service) })
		c.Restore = widget.NewButton("Restore…", func() { dv.ShowRestore(service) })
		buttons.Add(c.Snapshot)
		buttons.Add(c.Restore)
	}
	if d.Stack == stackdef.Mailpit {
		c.Mail = widget.NewButtonWithIcon("Open mail", theme.MailComposeIcon(), func() { dv.openMail(c) })
		buttons.Add(c.Mail)
	}
	buttons.Add(layout.NewSpacer())
	c.Remove = widget.NewButtonWithIcon("Remove…", theme.DeleteIcon(), func() { dv.ShowRemove(service) })
	buttons.Add(c.Remove)
	def, _ := stackdef.Lookup(d.Stack)
	c.box = widget.NewCard(d.Name, def.Help, container.NewVBox(c.Info, form, buttons))
	return c
}

func (c *DataCard) update(p wire.ProjectStatus, d wire.DataServiceStatus) {
	version := "newest version"
	if d.Version != "" {
		version = "version " + d.Version
	}
	rt := d.Runtime
	if d.Image != "" {
		rt += " from " + d.Image
	}
	info := fmt.Sprintf("%s, %s  ·  runs as %s  ·  port %d  ·  %s", d.Stack, version, rt, d.Port, p.State)
	if d.Upstream != "" {
		info += " at " + d.Upstream
	}
	info += "\nData: " + d.Data
	if d.MailURL != "" {
		info += "\nMail UI: " + d.MailURL
	}
	if d.Log != "" {
		info += "\nLog: " + d.Log
	}
	c.Info.SetText(info)
	for k, l := range c.Values {
		l.SetText(d.Env[k])
	}
}

// copyValue puts a connection value on the clipboard.
func (dv *DataView) copyValue(key, value string) {
	dv.pv.u.app.Clipboard().SetContent(value)
	dv.Note.SetText("Copied " + key + " to the clipboard.")
}

// refreshMail labels the mail button with Mailpit's unread count, or
// leaves the count out when Mailpit does not answer (the project is
// stopped, or the name does not resolve yet).
func (dv *DataView) refreshMail(c *DataCard) {
	c.mailAsked++
	mailURL, client, u, asked := c.mailURL, dv.client, dv.pv.u, c.mailAsked
	setEnabled(c.Mail, mailURL != "")
	if mailURL == "" {
		c.Mail.SetText("Open mail")
		return
	}
	u.bg(func() {
		ctx, cancel := context.WithTimeout(u.ctx, mailTimeout)
		defer cancel()
		n, err := mailUnread(ctx, client, mailURL)
		u.do(func() {
			if c.mailAsked != asked {
				return // asked again since: the newer answer labels it
			}
			if err != nil {
				c.Mail.SetText("Open mail")
				return
			}
			c.Mail.SetText(fmt.Sprintf("Open mail (%d unread)", n))
		})
	})
}

// errNoUnread is an answer without Mailpit's unread count.
var errNoUnread = errors.New("no unread count in the answer")

// mailUnread asks the Mailpit API under mailURL how many messages are
// unread (GET api/v1/messages: {"total": …, "unread": …, …}; see
// https://mailpit.axllent.org/docs/api-v1/). limit=1 keeps the answer
// small: the counts cover the whole mailbox whatever the page size.
func mailUnread(ctx context.Context, client *http.Client, mailURL string) (int, error) {
	base, err := url.Parse(mailURL)
	if err != nil {
		return 0, err
	}
	api := base.JoinPath("api", "v1", "messages")
	api.RawQuery = "limit=1"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api.String(), nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", api, resp.Status)
	}
	var body struct {
		Unread *float64 `json:"unread"` // Mailpit encodes its counts as numbers that may be floats
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return 0, fmt.Errorf("GET %s: %w", api, err)
	}
	if body.Unread == nil {
		return 0, fmt.Errorf("GET %s: %w", api, errNoUnread)
	}
	return int(*body.Unread), nil
}

func (dv *DataView) openMail(c *DataCard) {
	if c.mailURL == "" {
		return
	}
	dv.Err.SetText("")
	dv.Note.SetText("Opening " + c.mailURL + " in your browser")
	dv.pv.u.openIn(c.mailURL, dv.Err.SetText)
	dv.refreshMail(c) // what is read there is read: the count drops on the next refresh
}

// result shows the outcome of an action: what it did, or its error (also
// in the main window's status line).
func (dv *DataView) result(note string, err error) {
	if err != nil {
		dv.Note.SetText("")
		dv.Err.SetText(err.Error())
		dv.pv.u.Status.SetText(err.Error())
		return
	}
	dv.Err.SetText("")
	dv.Note.SetText(note)
}

// ShowAdd asks for the name of a new data service of stack (suggesting
// name) and adds it to the project.
func (dv *DataView) ShowAdd(stack, name string) {
	ad := &AddDataDialog{Stack: stack, Name: widget.NewEntry(), Err: widget.NewLabel("")}
	ad.Name.SetText(name)
	ad.Err.Wrapping = fyne.TextWrapWord
	ad.Err.Importance = widget.DangerImportance
	ad.Cancel = widget.NewButton("Cancel", func() { ad.d.Hide() })
	ad.Add = widget.NewButton("Add", func() { dv.add(ad) })
	ad.Add.Importance = widget.HighImportance
	ad.Name.OnSubmitted = func(string) { dv.add(ad) }
	msg := widget.NewLabel("The project's services reach it by this name, and get its connection values as environment variables.\nA running project restarts to pick it up.")
	msg.Wrapping = fyne.TextWrapWord
	form := container.New(layout.NewFormLayout(), widget.NewLabel("Name"), ad.Name)
	content := container.NewVBox(msg, form, ad.Err, container.NewHBox(layout.NewSpacer(), ad.Cancel, ad.Add))
	ad.d = dialog.NewCustomWithoutButtons("Add "+stack+" to "+dv.pv.name, content, dv.pv.u.Window)
	ad.d.Resize(fyne.NewSize(480, 0))
	dv.AddDialog = ad
	ad.d.Show()
}

func (dv *DataView) add(ad *AddDataDialog) {
	req := wire.DataServiceRequest{Name: strings.TrimSpace(ad.Name.Text), Stack: ad.Stack}
	if req.Name == "" {
		ad.Err.SetText("Give the service a name, e.g. db.")
		return
	}
	u, name := dv.pv.u, dv.pv.name
	ad.Add.Disable()
	ad.Err.SetText("Adding " + req.Name + "…")
	u.bg(func() {
		p, err := u.opts.Engine.AddDataService(u.ctx, name, req)
		u.do(func() {
			ad.Add.Enable()
			if err != nil && p.Name == "" { // nothing added: the name can be fixed here
				ad.Err.SetText(err.Error())
				return
			}
			ad.d.Hide()
			dv.pv.show(p)
			dv.result(fmt.Sprintf("Added %s (%s).", req.Name, req.Stack), err) // err: added, but the restart failed
		})
	})
}

// ShowRemove asks whether service's data is kept, and removes it.
func (dv *DataView) ShowRemove(service string) {
	rd := &RemoveDataDialog{Service: service}
	msg := widget.NewLabel(fmt.Sprintf("Remove %s from %s? A running project restarts without it.\n\nKeep its data? Kept data is used again by a service of the same name and stack added later.", service, dv.pv.name))
	msg.Wrapping = fyne.TextWrapWord
	rd.Close = widget.NewButton("Cancel", func() { rd.d.Hide() })
	rd.Keep = widget.NewButton("Remove, keep the data", func() { rd.d.Hide(); dv.remove(service, false) })
	rd.Purge = widget.NewButton("Remove and delete the data", func() { rd.d.Hide(); dv.remove(service, true) })
	rd.Purge.Importance = widget.DangerImportance
	rd.d = dialog.NewCustomWithoutButtons("Remove "+service+"?", container.NewVBox(msg,
		container.NewHBox(layout.NewSpacer(), rd.Close, rd.Keep, rd.Purge)), dv.pv.u.Window)
	rd.d.Resize(fyne.NewSize(520, 0))
	dv.RemoveDialog = rd
	rd.d.Show()
}

func (dv *DataView) remove(service string, purge bool) {
	u, name := dv.pv.u, dv.pv.name
	dv.Note.SetText("Removing " + service + "…")
	u.bg(func() {
		rep, err := u.opts.Engine.RemoveDataService(u.ctx, name, service, purge)
		u.do(func() {
			note := "Removed " + service + " and deleted its data."
			if rep.Kept != "" {
				note = fmt.Sprintf("Removed %s; its data stays in %s", service, rep.Kept)
				if rep.Size >= 0 {
					note += " (" + byteSize(rep.Size) + ")"
				}
				note += "."
			} else if !purge {
				note = "Removed " + service + "."
			}
			dv.result(note, err)
			dv.pv.reload()
		})
	})
}

// ShowSnapshot asks for an optional tag and snapshots service.
func (dv *DataView) ShowSnapshot(service string) {
	sd := &SnapshotDialog{Service: service, Tag: widget.NewEntry()}
	sd.Tag.SetPlaceHolder("e.g. before-migration (empty: the date and time)")
	sd.Cancel = widget.NewButton("Cancel", func() { sd.d.Hide() })
	sd.Save = widget.NewButton("Snapshot", func() { sd.d.Hide(); dv.snapshot(service, strings.TrimSpace(sd.Tag.Text)) })
	sd.Save.Importance = widget.HighImportance
	sd.Tag.OnSubmitted = func(string) { sd.Save.OnTapped() }
	msg := widget.NewLabel("Saves a dump of the database under the data folder; Restore… loads it back. A snapshot of the same tag is replaced.")
	msg.Wrapping = fyne.TextWrapWord
	form := container.New(layout.NewFormLayout(), widget.NewLabel("Tag (optional)"), sd.Tag)
	sd.d = dialog.NewCustomWithoutButtons("Snapshot "+dv.pv.name+"/"+service, container.NewVBox(msg, form,
		container.NewHBox(layout.NewSpacer(), sd.Cancel, sd.Save)), dv.pv.u.Window)
	sd.d.Resize(fyne.NewSize(480, 0))
	dv.SnapshotDialog = sd
	sd.d.Show()
}

func (dv *DataView) snapshot(service, tag string) {
	u, name := dv.pv.u, dv.pv.name
	dv.Note.SetText("Snapshotting " + service + "…")
	u.bg(func() {
		res, err := u.opts.Engine.Database(u.ctx, "snapshot", name, wire.SnapshotRequest{Service: service, Tag: tag})
		u.do(func() {
			note := "Snapshot of " + service + " saved."
			if len(res.Snapshots) == 1 {
				s := res.Snapshots[0]
				note = fmt.Sprintf("Snapshot %s of %s saved (%s): %s", s.Tag, service, byteSize(s.Size), s.Path)
			}
			dv.result(note, err)
		})
	})
}

// ShowRestore lists service's snapshots and loads the chosen one.
func (dv *DataView) ShowRestore(service string) {
	rd := &RestoreDialog{Service: service, Info: widget.NewLabel("Looking for snapshots…")}
	rd.Info.Wrapping = fyne.TextWrapWord
	snaps := map[string]wire.Snapshot{}
	rd.Tags = widget.NewSelect(nil, func(tag string) {
		if s, ok := snaps[tag]; ok {
			rd.Info.SetText(fmt.Sprintf("Taken %s, %s. Restoring replaces what %s holds now.", s.Time.Local().Format("2006-01-02 15:04"), byteSize(s.Size), service))
			rd.Restore.Enable()
		}
	})
	rd.Tags.PlaceHolder = "(choose a snapshot)"
	rd.Cancel = widget.NewButton("Cancel", func() { rd.d.Hide() })
	rd.Restore = widget.NewButton("Restore", func() {
		tag := rd.Tags.Selected
		if tag == "" {
			return
		}
		rd.d.Hide()
		dv.restore(service, tag)
	})
	rd.Restore.Importance = widget.DangerImportance
	rd.Restore.Disable()
	rd.d = dialog.NewCustomWithoutButtons("Restore "+dv.pv.name+"/"+service, container.NewVBox(rd.Tags, rd.Info,
		container.NewHBox(layout.NewSpacer(), rd.Cancel, rd.Restore)), dv.pv.u.Window)
	rd.d.Resize(fyne.NewSize(480, 0))
	dv.RestoreDialog = rd
	rd.d.Show()
	u, name := dv.pv.u, dv.pv.name
	u.bg(func() {
		res, err := u.opts.Engine.Database(u.ctx, "snapshots", name, wire.SnapshotRequest{Service: service})
		u.do(func() {
			if err != nil {
				rd.Info.SetText(err.Error())
				return
			}
			var tags []string
			for _, s := range res.Snapshots { // newest first, as the engine lists them
				if s.Service == service {
					tags = append(tags, s.Tag)
					snaps[s.Tag] = s
				}
			}
			rd.Tags.SetOptions(tags)
			if len(tags) == 0 {
				rd.Info.SetText("No snapshots of " + service + " yet: take one with Snapshot….")
			} else {
				rd.Info.SetText(fmt.Sprintf("%d snapshots. Restoring replaces what %s holds now.", len(tags), service))
			}
		})
	})
}

func (dv *DataView) restore(service, tag string) {
	u, name := dv.pv.u, dv.pv.name
	dv.Note.SetText("Restoring " + tag + " into " + service + "…")
	u.bg(func() {
		_, err := u.opts.Engine.Database(u.ctx, "restore", name, wire.SnapshotRequest{Service: service, Tag: tag})
		u.do(func() { dv.result("Restored "+tag+" into "+service+".", err) })
	})
}

// setFollow turns branch following on or off as the user ticks Follow;
// when the engine refuses (the folder is no git work tree), the check
// goes back.
func (dv *DataView) setFollow(on bool) {
	if dv.quiet {
		return
	}
	u, name := dv.pv.u, dv.pv.name
	tag := "off"
	if on {
		tag = "on"
	}
	dv.Follow.Disable()
	u.bg(func() {
		_, err := u.opts.Engine.Database(u.ctx, "follow", name, wire.SnapshotRequest{Tag: tag})
		u.do(func() {
			dv.Follow.Enable()
			if err != nil {
				dv.quiet = true
				dv.Follow.SetChecked(!on)
				dv.quiet = false
			}
			note := "The databases no longer follow the git branch."
			if on {
				note = "The databases follow the git branch: on a checkout each one is snapshotted for the old branch and the new branch's snapshot is restored."
			}
			dv.result(note, err)
		})
	})
}

// byteSize is n bytes for people.
func byteSize(n int64) string {
	switch {
	case n < 0:
		return "size unknown"
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KB", float64(n)/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
	}
	return fmt.Sprintf("%.1f GB", float64(n)/(1024*1024*1024))
}
