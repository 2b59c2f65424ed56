package gui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
)

// TestLogsView: a service's log is read-only and selectable, keeps its
// last maxLogLines lines, and Search shows the matching lines with the
// matches highlighted; the access log is a table of time, method, path,
// status coloured by class, duration and upstream, filtered by status
// class and by the search text; Clear empties the view, not the file.
func TestLogsView(t *testing.T) {
	dir := t.TempDir()
	svcLog, access := filepath.Join(dir, "web.log"), filepath.Join(dir, "access.log")
	var b strings.Builder
	for i := range maxLogLines + 50 {
		fmt.Fprintf(&b, "line %d: GET /item/%d\n", i, i)
	}
	b.WriteString("Traceback: KeyError in handler\n")
	writeFile(t, svcLog, b.String())
	writeFile(t, access, strings.Join([]string{
		`{"time":"2026-12-07T10:00:00.5Z","project":"api","route":"/","method":"GET","host":"api.test","path":"/ok","proto":"HTTP/2.0","status":200,"bytes":5,"duration_ms":1.250,"upstream":"127.0.0.1:8001"}`,
		`{"time":"2026-12-07T10:00:01Z","project":"api","route":"/","method":"POST","host":"api.test","path":"/missing","proto":"HTTP/2.0","status":404,"bytes":9,"duration_ms":2.000,"upstream":"127.0.0.1:8001"}`,
		`not json: skipped`,
		`{"time":"2026-12-07T10:00:02Z","project":"api","route":"/","method":"GET","host":"api.test","path":"/boom","proto":"HTTP/2.0","status":502,"bytes":0,"duration_ms":0.500,"upstream":"127.0.0.1:8001"}`,
	}, "\n")+"\n")
	p := wire.ProjectStatus{Name: "api", URL: "https://api.test/", State: wire.StateRunning,
		Services: []wire.ServiceStatus{{Name: "web", Stack: stackdef.Uvicorn, Runtime: wire.RuntimeProcess, Log: svcLog}}}
	fe := newDataEngine(p)
	u := New(test.NewTempApp(t), Options{Engine: fe, Checks: wizardChecks{}, Manual: true, AccessLog: func(string) string { return access }})
	t.Cleanup(func() { u.Close(); u.Idle() })
	u.Idle()
	u.ShowLogs("api")
	lv := u.Pane.Logs
	if lv == nil {
		t.Fatal("no Logs tab")
	}
	view := lv.Text["web"]
	eventually(t, "the log shows", func() bool { u.Idle(); return strings.Contains(view.Text, "KeyError") })
	eventually(t, "the access table fills", func() bool { u.Idle(); return len(lv.Access.Shown()) == 3 })

	t.Run("read-only, selectable, bounded", func(t *testing.T) {
		if !view.Selectable || !view.TextStyle.Monospace {
			t.Error("the log is not a selectable monospace view")
		}
		if n := strings.Count(view.Text, "\n") + 1; n != maxLogLines {
			t.Errorf("%d lines kept, want the last %d", n, maxLogLines)
		}
		if strings.Contains(view.Text, "line 0:") || !strings.Contains(view.Text, fmt.Sprintf("line %d:", maxLogLines+49)) {
			t.Error("the oldest lines were kept instead of the newest")
		}
	})
	t.Run("search shows the matching lines, matches highlighted", func(t *testing.T) {
		lv.Tabs.SelectIndex(0)
		lv.Search.SetText("keyerror")
		lt := lv.logs["web"]
		if !lt.hitBox.Visible() || lt.scroll.Visible() || lv.Matches.Text != "1 matching lines" {
			t.Fatalf("search view shown %v, full view %v, %q", lt.hitBox.Visible(), lt.scroll.Visible(), lv.Matches.Text)
		}
		var bold []string
		for _, s := range lt.hits.Segments {
			if ts, ok := s.(*widget.TextSegment); ok && ts.Style.TextStyle.Bold {
				bold = append(bold, ts.Text)
			}
		}
		if len(bold) != 1 || bold[0] != "KeyError" {
			t.Errorf("highlighted %q, want the match as written", bold)
		}
		lv.Search.SetText("")
		if lt.hitBox.Visible() || !lt.scroll.Visible() {
			t.Error("clearing the search does not bring the log back")
		}
	})
	t.Run("access table", func(t *testing.T) {
		for _, tc := range []struct {
			class, search string
			want          []string
		}{
			{statusAll, "", []string{"/ok", "/missing", "/boom"}},
			{"4xx", "", []string{"/missing"}},
			{"5xx", "", []string{"/boom"}},
			{statusAll, "post", []string{"/missing"}},
			{"2xx", "boom", nil},
		} {
			t.Run(tc.class+" "+tc.search, func(t *testing.T) {
				lv.Access.Class.SetSelected(tc.class)
				lv.Search.SetText(tc.search)
				var got []string
				for _, e := range lv.Access.Shown() {
					got = append(got, e.Path)
				}
				if strings.Join(got, " ") != strings.Join(tc.want, " ") {
					t.Errorf("shown %q, want %q", got, tc.want)
				}
			})
		}
		lv.Access.Class.SetSelected(statusAll)
		lv.Search.SetText("")
		e := lv.Access.Shown()[2]
		for col, want := range []string{"", "GET", "/boom", "502", "0.5 ms", "127.0.0.1:8001"} {
			got, imp := e.cell(col)
			if col > 0 && got != want {
				t.Errorf("column %s = %q, want %q", accessColumns[col].name, got, want)
			}
			if col == 3 && imp != widget.DangerImportance {
				t.Errorf("a 502 is not red: importance %v", imp)
			}
		}
		if _, imp := lv.Access.Shown()[0].cell(3); imp != widget.SuccessImportance {
			t.Errorf("a 200 is not green: importance %v", imp)
		}
	})
	t.Run("clear empties the view, not the file", func(t *testing.T) {
		lv.Tabs.SelectIndex(0)
		test.Tap(lv.Clear)
		if view.Text != "" {
			t.Error("Clear left the log")
		}
		if fi, err := os.Stat(svcLog); err != nil || fi.Size() == 0 {
			t.Errorf("the file was touched: %v", err)
		}
	})
}
