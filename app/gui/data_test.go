package gui

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
)

// shop is a project with a database, a cache and a mail catcher.
func shop() wire.ProjectStatus {
	return wire.ProjectStatus{Name: "shop", URL: "https://shop.test/", Domains: []string{"shop.test"}, State: wire.StateRunning,
		Data: []wire.DataServiceStatus{
			{Name: "db", Stack: stackdef.MariaDB, Runtime: wire.RuntimeProcess, Port: 3307, Data: "/home/u/.local/share/devport/data/shop/db",
				Upstream: "127.0.0.1:3307",
				Env:      map[string]string{"DB_HOST": "127.0.0.1", "DB_PORT": "3307", "DB_PASSWORD": "s3cret-Pa55", "DATABASE_URL": "mysql://shop:s3cret-Pa55@127.0.0.1:3307/shop"}},
			{Name: "cache", Stack: stackdef.Redis, Version: "7", Runtime: wire.RuntimeContainer, Image: "redis:7", Port: 6380,
				Data: "volume devport-shop-cache", Env: map[string]string{"REDIS_URL": "redis://127.0.0.1:6380"}},
			{Name: "mail", Stack: stackdef.Mailpit, Runtime: wire.RuntimeProcess, Port: 1025, Data: "/data/shop/mail",
				Env: map[string]string{"MAIL_HOST": "127.0.0.1", "MAIL_PORT": "1025"}},
		}}
}

// dataUI opens the details of shop on an engine of its own.
func dataUI(t *testing.T, ps ...wire.ProjectStatus) (*UI, *dataEngine, *fakeOpener, *ProjectView) {
	t.Helper()
	if len(ps) == 0 {
		ps = []wire.ProjectStatus{shop()}
	}
	fe := newDataEngine(ps...)
	opener := newFakeOpener(t, 0, "")
	u := New(test.NewTempApp(t), Options{Engine: fe, Checks: wizardChecks{}, Manual: true, Opener: opener.path})
	t.Cleanup(func() { u.Close(); u.Idle() })
	u.Idle()
	u.ShowProject(ps[0].Name)
	pv := u.Pane.View
	if pv == nil || u.Pane.Name != ps[0].Name {
		t.Fatalf("the pane shows %q, not %s", u.Pane.Name, ps[0].Name)
	}
	u.Idle()
	return u, fe, opener, pv
}

func sameCalls(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("calls\n  %q\nwant\n  %q", got, want)
	}
}

// TestDataServiceRows: each data service shows its stack, version,
// runtime, port, state and data; each connection value has a copy button
// that puts it on the clipboard.
func TestDataServiceRows(t *testing.T) {
	u, _, _, pv := dataUI(t)
	for _, tc := range []struct {
		service string
		info    []string
	}{
		{"db", []string{"mariadb, newest version", "runs as process", "port 3307", "running at 127.0.0.1:3307", "Data: /home/u/.local/share/devport/data/shop/db"}},
		{"cache", []string{"redis, version 7", "runs as container from redis:7", "port 6380", "Data: volume devport-shop-cache"}},
		{"mail", []string{"mailpit, newest version", "port 1025"}},
	} {
		t.Run(tc.service, func(t *testing.T) {
			c := pv.Data.Services[tc.service]
			if c == nil {
				t.Fatalf("no card; cards: %v", slices.Collect(maps.Keys(pv.Data.Services)))
			}
			for _, want := range tc.info {
				if !strings.Contains(c.Info.Text, want) {
					t.Errorf("info %q lacks %q", c.Info.Text, want)
				}
			}
			var p wire.DataServiceStatus
			for _, d := range shop().Data {
				if d.Name == tc.service {
					p = d
				}
			}
			if len(c.Copy) != len(p.Env) {
				t.Errorf("%d copy buttons for %d values", len(c.Copy), len(p.Env))
			}
			for k, v := range p.Env {
				if c.Values[k] == nil || c.Values[k].Text != v {
					t.Errorf("value of %s shows %v, want %q", k, c.Values[k], v)
					continue
				}
				test.Tap(c.Copy[k])
				if got := u.app.Clipboard().Content(); got != v {
					t.Errorf("copying %s put %q on the clipboard, want %q", k, got, v)
				}
			}
			if (c.Snapshot != nil) != stackdef.IsDatabase(p.Stack) || (c.Restore != nil) != stackdef.IsDatabase(p.Stack) {
				t.Errorf("snapshot/restore buttons for %s: %v %v", p.Stack, c.Snapshot != nil, c.Restore != nil)
			}
			if (c.Mail != nil) != (p.Stack == stackdef.Mailpit) {
				t.Errorf("mail button for %s: %v", p.Stack, c.Mail != nil)
			}
			if c.Mail != nil && !c.Mail.Disabled() {
				t.Error("Open mail is enabled without a mail URL")
			}
		})
	}
	if !pv.Data.Follow.Visible() {
		t.Error("a project with a database shows no Follow git branch check")
	}
	if pv.Data.Empty.Visible() {
		t.Error("the empty note shows beside three services")
	}
}

// TestAddDataService: Add service's menu offers each data stack; the
// dialog suggests the stack's usual name and AddDataService gets the
// stack and the name the user kept or typed. A refused name keeps the
// dialog up with the engine's reason.
func TestAddDataService(t *testing.T) {
	bare := wire.ProjectStatus{Name: "blog", URL: "https://blog.test/", Domains: []string{"blog.test"}, State: wire.StateStopped}
	for _, tc := range []struct {
		name, stack, suggested, typed, want string
		fail                                error
	}{
		{name: "mariadb as db", stack: stackdef.MariaDB, suggested: "db", want: "db"},
		{name: "postgres renamed", stack: stackdef.Postgres, suggested: "db", typed: "pg", want: "pg"},
		{name: "redis as cache", stack: stackdef.Redis, suggested: "cache", want: "cache"},
		{name: "mailpit as mail", stack: stackdef.Mailpit, suggested: "mail", want: "mail"},
		{name: "refused", stack: stackdef.MariaDB, suggested: "db", typed: "Bad Name", want: "Bad Name",
			fail: errors.New(`service "Bad Name": is not a valid name`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, fe, _, pv := dataUI(t, bare)
			if !pv.Data.Empty.Visible() || pv.Data.Follow.Visible() {
				t.Error("a project without data services should say so, and offer no Follow check")
			}
			test.Tap(pv.Data.AddBtn)
			i := slices.IndexFunc(dataStacks, func(s struct{ stack, name string }) bool { return s.stack == tc.stack })
			if i < 0 || len(pv.Data.AddMenu.Items) != len(dataStacks) || !strings.HasPrefix(pv.Data.AddMenu.Items[i].Label, tc.stack+":") {
				t.Fatalf("menu %v has no item for %s", pv.Data.AddMenu.Items, tc.stack)
			}
			pv.Data.AddMenu.Items[i].Action()
			ad := pv.Data.AddDialog
			if ad == nil || ad.Stack != tc.stack || ad.Name.Text != tc.suggested {
				t.Fatalf("dialog %+v, want stack %s named %s", ad, tc.stack, tc.suggested)
			}
			if tc.typed != "" {
				ad.Name.SetText("")
				test.Type(ad.Name, tc.typed)
			}
			fe.fail = tc.fail
			test.Tap(ad.Add)
			u.Idle()
			sameCalls(t, fe.Calls(), fmt.Sprintf("add blog %s %s ", tc.want, tc.stack))
			if tc.fail != nil {
				if ad.Err.Text != tc.fail.Error() || pv.Data.Services[tc.want] != nil {
					t.Errorf("refused: dialog says %q, card %v", ad.Err.Text, pv.Data.Services[tc.want])
				}
				return
			}
			if pv.Data.Services[tc.want] == nil || pv.Data.Empty.Visible() {
				t.Errorf("no card for the added %s", tc.want)
			}
			if !strings.Contains(pv.Data.Note.Text, "Added "+tc.want) {
				t.Errorf("note %q", pv.Data.Note.Text)
			}
		})
	}
}

// TestRemoveDataService: Remove asks whether the data is kept, and says
// where kept data stays.
func TestRemoveDataService(t *testing.T) {
	for _, tc := range []struct {
		name  string
		purge bool
		note  string
	}{
		{"keep the data", false, "its data stays in /data/shop/cache (2.0 KB)"},
		{"purge the data", true, "Removed cache and deleted its data."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, fe, _, pv := dataUI(t)
			test.Tap(pv.Data.Services["cache"].Remove)
			rd := pv.Data.RemoveDialog
			if rd == nil || rd.Service != "cache" {
				t.Fatalf("remove dialog %+v", rd)
			}
			if tc.purge {
				test.Tap(rd.Purge)
			} else {
				test.Tap(rd.Keep)
			}
			u.Idle()
			sameCalls(t, fe.Calls(), fmt.Sprintf("remove shop cache purge=%v", tc.purge))
			if !strings.Contains(pv.Data.Note.Text, tc.note) {
				t.Errorf("note %q, want %q", pv.Data.Note.Text, tc.note)
			}
			if pv.Data.Services["cache"] != nil || pv.Data.Services["db"] == nil {
				t.Errorf("cards after the removal: %v", slices.Collect(maps.Keys(pv.Data.Services)))
			}
		})
	}
}

// TestSnapshotRestore: Snapshot sends the tag typed (or none), Restore
// lists the service's own snapshots, newest first, and restores the one
// chosen.
func TestSnapshotRestore(t *testing.T) {
	t.Run("snapshot", func(t *testing.T) {
		for _, tc := range []struct{ name, tag string }{
			{"tagged", "before-migration"},
			{"untagged", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				u, fe, _, pv := dataUI(t)
				test.Tap(pv.Data.Services["db"].Snapshot)
				sd := pv.Data.SnapshotDialog
				if sd == nil || sd.Service != "db" {
					t.Fatalf("snapshot dialog %+v", sd)
				}
				test.Type(sd.Tag, tc.tag)
				test.Tap(sd.Save)
				u.Idle()
				sameCalls(t, fe.Calls(), "db snapshot shop service=db tag="+tc.tag)
				if !strings.Contains(pv.Data.Note.Text, "Snapshot "+tc.tag) || pv.Data.Err.Text != "" {
					t.Errorf("note %q, error %q", pv.Data.Note.Text, pv.Data.Err.Text)
				}
			})
		}
	})
	t.Run("restore", func(t *testing.T) {
		u, fe, _, pv := dataUI(t)
		now := time.Now()
		fe.snapshots = []wire.Snapshot{
			{Service: "db", Tag: "branch-main", Time: now, Size: 4096},
			{Service: "other", Tag: "not-mine", Time: now.Add(-time.Minute)},
			{Service: "db", Tag: "before-migration", Time: now.Add(-time.Hour), Size: 1024},
		}
		test.Tap(pv.Data.Services["db"].Restore)
		rd := pv.Data.RestoreDialog
		u.Idle()
		sameCalls(t, fe.Calls(), "db snapshots shop service=db tag=")
		if want := []string{"branch-main", "before-migration"}; !slices.Equal(rd.Tags.Options, want) {
			t.Fatalf("tags %q, want %q", rd.Tags.Options, want)
		}
		if !rd.Restore.Disabled() {
			t.Error("Restore is enabled before a snapshot is chosen")
		}
		rd.Tags.SetSelected("before-migration")
		test.Tap(rd.Restore)
		u.Idle()
		sameCalls(t, fe.Calls(), "db restore shop service=db tag=before-migration")
		if pv.Data.Note.Text != "Restored before-migration into db." {
			t.Errorf("note %q", pv.Data.Note.Text)
		}
	})
	t.Run("follow", func(t *testing.T) {
		u, fe, _, pv := dataUI(t)
		for _, tc := range []struct {
			name string
			fail error
			want bool // checked afterwards
			call string
		}{
			{"on", nil, true, "db follow shop service= tag=on"},
			{"off", nil, false, "db follow shop service= tag=off"},
			{"refused", errors.New("follow: is not a git work tree"), false, "db follow shop service= tag=on"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				fe.fail = tc.fail
				test.Tap(pv.Data.Follow)
				u.Idle()
				sameCalls(t, fe.Calls(), tc.call)
				if pv.Data.Follow.Checked != tc.want {
					t.Errorf("checked %v, want %v", pv.Data.Follow.Checked, tc.want)
				}
				if (pv.Data.Err.Text != "") != (tc.fail != nil) {
					t.Errorf("error %q", pv.Data.Err.Text)
				}
			})
		}
	})
}

// TestMailButton: Open mail shows Mailpit's unread count when its API
// answers, and plain "Open mail" when it does not; it opens the mail UI.
func TestMailButton(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		status       int
		want         string
	}{
		{"unread", `{"total":5,"unread":3,"messages":[]}`, 200, "Open mail (3 unread)"},
		{"no count", `{"messages":[]}`, 200, "Open mail"},
		{"error", `oops`, 500, "Open mail"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var asked []string
			var mu sync.Mutex
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				asked = append(asked, r.URL.Path)
				mu.Unlock()
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.answer)
			}))
			defer srv.Close()
			p := shop()
			p.Data[2].MailURL = srv.URL + "/"
			u, _, a, pv := dataUI(t, p)
			c := pv.Data.Services["mail"]
			if c.Mail.Text != "Open mail" {
				t.Errorf("before its CA is trusted: %q", c.Mail.Text)
			}
			pv.Data.client = srv.Client()
			pv.show(p)
			u.Idle()
			if c.Mail.Text != tc.want {
				t.Errorf("button %q, want %q", c.Mail.Text, tc.want)
			}
			mu.Lock()
			if len(asked) == 0 || asked[len(asked)-1] != "/api/v1/messages" {
				t.Errorf("asked %q", asked)
			}
			mu.Unlock()
			test.Tap(c.Mail)
			u.Idle()
			if opened := a.opened(); !slices.Equal(opened, []string{srv.URL + "/"}) {
				t.Errorf("opened %q", opened)
			}
		})
	}
}

// TestDataFollowsEvents: a data service added elsewhere (the CLI) shows
// in an open details window.
func TestDataFollowsEvents(t *testing.T) {
	u, fe, _, pv := dataUI(t)
	fe.mu.Lock()
	fe.projects[0].Data = append(fe.projects[0].Data, wire.DataServiceStatus{Name: "pg", Stack: stackdef.Postgres, Port: 5433})
	fe.mu.Unlock()
	for range len(fe.listed) {
		<-fe.listed // the lists so far
	}
	n := fe.emit(wire.Event{Kind: wire.EventAdded, Project: "shop"})
	for range n {
		<-fe.listed // the main window's and the details'
	}
	u.Idle()
	if pv.Data.Services["pg"] == nil {
		t.Errorf("the added service does not show: %v", slices.Collect(maps.Keys(pv.Data.Services)))
	}
}
