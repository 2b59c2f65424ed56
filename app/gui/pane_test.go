package gui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
)

func paneProject(name string, st wire.State) wire.ProjectStatus {
	return wire.ProjectStatus{Name: name, URL: "https://" + name + ".test/", Domains: []string{name + ".test"}, Root: "/srv/" + name, State: st,
		Services: []wire.ServiceStatus{{Name: "web", Stack: stackdef.PHP, Runtime: wire.RuntimeProcess, PathPrefix: "/"}}}
}

func paneUI(t *testing.T, ps ...wire.ProjectStatus) (*UI, *dataEngine) {
	t.Helper()
	fe := newDataEngine(ps...)
	u := New(test.NewTempApp(t), Options{Engine: fe, Checks: wizardChecks{}, Manual: true})
	t.Cleanup(func() { u.Close(); u.Idle() })
	u.Idle()
	return u, fe
}

// shownRows are the names of the rows the sidebar shows, in order.
func shownRows(u *UI) []string {
	var out []string
	for _, o := range u.Sidebar.list.Objects {
		for name, r := range u.rows {
			if r.item == o {
				out = append(out, name)
			}
		}
	}
	return out
}

// TestSidebarFilter: the filter box keeps the rows whose name, domain or
// stack contain its text, and says so when none does.
func TestSidebarFilter(t *testing.T) {
	blog := paneProject("blog", wire.StateRunning)
	blog.Domains = append(blog.Domains, "news.test")
	u, _ := paneUI(t, paneProject("shop", wire.StateStopped), blog, paneProject("api", wire.StateStopped))
	tests := []struct {
		filter string
		want   []string
	}{
		{"", []string{"api", "blog", "shop"}},
		{"SH", []string{"shop"}},
		{"news", []string{"blog"}}, // a second domain
		{"php", []string{"api", "blog", "shop"}},
		{"zzz", nil},
	}
	for _, tc := range tests {
		t.Run("filter "+tc.filter, func(t *testing.T) {
			u.Sidebar.Filter.SetText(tc.filter)
			got := shownRows(u)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("rows %v, want %v", got, tc.want)
			}
			if tc.want == nil && !strings.Contains(u.Sidebar.empty.Text, `No project matches "zzz"`) {
				t.Errorf("no row, and the sidebar says %q", u.Sidebar.empty.Text)
			}
			if tc.want != nil {
				u.Sidebar.Filter.OnSubmitted(tc.filter) // Enter
				if u.Pane.Name != tc.want[0] {
					t.Errorf("Enter selected %q, want the first match %s", u.Pane.Name, tc.want[0])
				}
			}
		})
	}
}

// TestPaneStates: the pane's header, toggle, menu and failure view for
// each state; the sidebar's word and dot in the same colour.
func TestPaneStates(t *testing.T) {
	tests := []struct {
		state    wire.State
		reason   string
		toggle   string
		disabled bool
		imp      widget.Importance
		failure  bool
	}{
		{state: wire.StateStopped, toggle: "Start", imp: widget.LowImportance},
		{state: wire.StateStarting, toggle: "Starting…", disabled: true, imp: widget.WarningImportance},
		{state: wire.StateRunning, toggle: "Stop", imp: widget.SuccessImportance},
		{state: wire.StateStopping, toggle: "Stopping…", disabled: true, imp: widget.WarningImportance},
		{state: wire.StateCrashed, reason: "apache2 exited: signal: killed\n  AH00094: Command line", toggle: "Stop", imp: widget.DangerImportance, failure: true},
		{state: wire.StateFailed, reason: "start shop/web: apache2 exited at start: exit status 1\n  AH00072: make_sock: could not bind\n  AH00015: Unable to open logs",
			toggle: "Start", imp: widget.DangerImportance, failure: true},
	}
	for _, tc := range tests {
		t.Run(string(tc.state), func(t *testing.T) {
			p := paneProject("shop", tc.state)
			p.Reason = tc.reason
			u, _ := paneUI(t, p)
			pn := u.Pane
			if pn.Name != "shop" {
				t.Fatalf("the only project is not selected: %q", pn.Name)
			}
			if pn.Toggle.Text != tc.toggle || pn.Toggle.Disabled() != tc.disabled {
				t.Errorf("toggle %q (disabled %v), want %q (%v)", pn.Toggle.Text, pn.Toggle.Disabled(), tc.toggle, tc.disabled)
			}
			row := u.Row("shop")
			for where, l := range map[string]*widget.Label{"pane": pn.State, "sidebar": row.State} {
				if l.Text != string(tc.state) || l.Importance != tc.imp {
					t.Errorf("%s says %q in %v, want %q in %v", where, l.Text, l.Importance, tc.state, tc.imp)
				}
			}
			if pn.Light.FillColor != stateColor(tc.state) || row.Light.FillColor != stateColor(tc.state) {
				t.Error("the dots are not the state's colour")
			}
			if pn.Failure.Box.Visible() != tc.failure {
				t.Errorf("failure view shown %v, want %v", pn.Failure.Box.Visible(), tc.failure)
			}
			if tc.failure {
				first, rest, _ := strings.Cut(tc.reason, "\n")
				if pn.Note.Text != first || pn.Failure.Log.Text != rest {
					t.Errorf("failure heading %q and log %q, want %q and %q", pn.Note.Text, pn.Failure.Log.Text, first, rest)
				}
			}
			restart := menuItem(t, pn, "Restart")
			if want := tc.state != wire.StateRunning && !tc.failure; restart.Disabled != want {
				t.Errorf("Restart disabled %v, want %v", restart.Disabled, want)
			}
		})
	}
}

// TestPaneCopyURL: the copy button puts the URL on the clipboard and
// says so.
func TestPaneCopyURL(t *testing.T) {
	u, _ := paneUI(t, paneProject("shop", wire.StateRunning))
	test.Tap(u.Pane.Copy)
	if got := u.app.Clipboard().Content(); got != "https://shop.test/" {
		t.Errorf("clipboard %q", got)
	}
	if !u.Pane.Note.Visible() || u.Pane.Note.Text != "Copied https://shop.test/" {
		t.Errorf("note %q", u.Pane.Note.Text)
	}
}

// TestPaneReleases: the pane follows only the project it shows, and its
// logs only while the Logs tab shows; another project, another tab or no
// selection lets go of them.
func TestPaneReleases(t *testing.T) {
	u, fe := paneUI(t, paneProject("shop", wire.StateRunning), paneProject("blog", wire.StateStopped))
	subscribers := fe.subscribers
	if n := subscribers(); n != 2 { // the window, and the selected project's view
		t.Errorf("%d subscribers with a project shown, want 2", n)
	}
	pn := selectProject(t, u, "shop")
	test.Tap(pn.TabButtons[TabLogs])
	lv := pn.Logs
	if lv == nil {
		t.Fatal("the Logs tab follows nothing")
	}
	selectProject(t, u, "blog")
	if pn.Logs != nil || pn.Tab != TabOverview {
		t.Error("another project kept the logs of the first")
	}
	select {
	case <-lv.done():
	default:
		t.Error("the hidden logs still follow their files")
	}
	// A follower unsubscribes from its own goroutine once cancelled.
	eventually(t, "2 subscribers after another project was chosen", func() bool { return subscribers() == 2 })
	u.Select("")
	if pn.View != nil {
		t.Errorf("view %v with nothing selected, want none", pn.View)
	}
	eventually(t, "1 subscriber with nothing selected", func() bool { return subscribers() == 1 })
}

// TestWindowNeverResizes: a long name, a long URL and a long traceback
// leave the window's minimum size where it was; they ellipsize or
// scroll.
func TestWindowNeverResizes(t *testing.T) {
	long := strings.Repeat("a-very-long-project-name-", 8)
	p := paneProject(long, wire.StateFailed)
	p.Reason = "start: " + strings.Repeat("a long first line of an error ", 20) + "\n" + strings.Repeat("Traceback line that goes on and on and on\n", 200)
	u, _ := paneUI(t, paneProject("shop", wire.StateStopped))
	before := u.Window.Content().MinSize()
	if before != minWindow {
		t.Errorf("min size %v, want %v", before, minWindow)
	}
	u.Window.Resize(fyne.NewSize(900, 600))
	u.apply([]wire.ProjectStatus{paneProject("shop", wire.StateStopped), p})
	selectProject(t, u, long)
	test.Tap(u.Pane.TabButtons[TabSettings])
	if got := u.Window.Content().MinSize(); got != before {
		t.Errorf("min size %v after a long project, want %v", got, before)
	}
	if got := u.Window.Canvas().Size(); got.Width > 900 || got.Height > 600 {
		t.Errorf("the window grew to %v", got)
	}
}

// TestBannerLaidOut: the setup banner, shown after the window was laid
// out, takes its room inside the window instead of running off its
// bottom edge.
func TestBannerLaidOut(t *testing.T) {
	u, _ := paneUI(t, paneProject("shop", wire.StateRunning))
	u.Window.Resize(fyne.NewSize(980, 620))
	u.showNeeds([]wire.SetupNeed{{Why: "your browser will warn about shop.test's certificate: devport's CA is not trusted (system store)"}, {Why: "shop.test does not resolve"}})
	content := u.Window.Content().Size()
	b := u.Banner.Box
	abs := fyne.CurrentApp().Driver().AbsolutePositionForObject(b)
	if b.Size().Height < b.MinSize().Height || abs.Y+b.Size().Height > content.Height {
		t.Errorf("banner at y %v, %v high (needs %v), in a window %v high", abs.Y, b.Size().Height, b.MinSize().Height, content.Height)
	}
	if pane := u.Pane.Box; fyne.CurrentApp().Driver().AbsolutePositionForObject(pane).Y+pane.Size().Height > abs.Y {
		t.Error("the pane runs under the banner")
	}
}

// TestReleasedAfterClose: closing a window, or the pane letting a
// project go, hands the memory back once for a burst, and once more when
// Fyne's caches have let go of what was drawn (settle, shortened here from
// a minute); and not after the UI closed.
func TestReleasedAfterClose(t *testing.T) {
	trims := make(chan time.Time, 8)
	fe := newDataEngine(paneProject("shop", wire.StateRunning), paneProject("blog", wire.StateStopped))
	u := New(test.NewTempApp(t), Options{Engine: fe, Checks: wizardChecks{}, Manual: true, TrimCHeap: func() { trims <- time.Now() }})
	t.Cleanup(func() { u.Close(); u.Idle() })
	const settle, clean = 3 * time.Second, 500 * time.Millisecond
	u.mu.Lock()
	u.release.settleAt, u.release.cleanAfter = settle, clean
	u.mu.Unlock()
	// after collects the hand-backs until wait after start, as offsets
	// from start.
	after := func(start time.Time, wait time.Duration) []time.Duration {
		var got []time.Duration
		deadline := time.After(time.Until(start.Add(wait)))
		for {
			select {
			case at := <-trims:
				got = append(got, at.Sub(start))
			case <-deadline:
				return got
			}
		}
	}
	check := func(what string, got []time.Duration) {
		t.Helper()
		if len(got) != 2 || got[0] < releaseDelay || got[1] < settle+clean {
			t.Errorf("hand-backs %s at %v, want two: at %v and at %v", what, got, releaseDelay, settle+clean)
		}
	}
	start := time.Now()
	u.Idle()
	check("after starting up", after(start, settle+clean+time.Second))
	start = time.Now()
	u.ShowSettings()
	u.SettingsView.Win.Close()
	selectProject(t, u, "blog")
	selectProject(t, u, "shop")
	check("after a window closed and two projects were let go", after(start, settle+clean+time.Second))
	selectProject(t, u, "blog")
	u.Close()
	if got := after(time.Now(), settle+clean+time.Second); len(got) != 0 {
		t.Errorf("hand-backs after the UI closed at %v, want none", got)
	}
}
