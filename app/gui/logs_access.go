package gui

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// The access tab of the logs window: the proxy's JSON access lines for
// the project as a table (time, method, path, status coloured by class,
// duration and upstream), filtered by status class and by the search
// text, newest last. It keeps the last maxLogLines entries; the file
// keeps them all.

// accessEntry is one access line, as proxy/accesslog.go writes it.
type accessEntry struct {
	Time       time.Time `json:"time"`
	Method     string    `json:"method"`
	Host       string    `json:"host"`
	Path       string    `json:"path"`
	Status     int       `json:"status"`
	DurationMS float64   `json:"duration_ms"`
	Upstream   string    `json:"upstream"`
}

// accessColumns are the table's columns, with their widths.
var accessColumns = []struct {
	name  string
	width float32
}{{"Time", 110}, {"Method", 70}, {"Path", 300}, {"Status", 60}, {"Duration", 90}, {"Upstream", 200}}

// Status classes for the filter.
const statusAll = "All statuses"

var statusClasses = []string{statusAll, "2xx", "3xx", "4xx", "5xx"}

// AccessTable is the access tab.
type AccessTable struct {
	Table  *widget.Table
	Class  *widget.Select // statusClasses
	Count  *widget.Label  // "12 of 40 requests"
	all    []accessEntry
	shown  []accessEntry
	filter string // the search text, lower case
	follow func() bool
	box    fyne.CanvasObject
}

func newAccessTable(follow func() bool) *AccessTable {
	a := &AccessTable{follow: follow}
	a.Count = widget.NewLabel("")
	a.Class = widget.NewSelect(statusClasses, func(string) { a.refilter() })
	a.Table = widget.NewTable(
		func() (int, int) { return len(a.shown), len(accessColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			if id.Row >= len(a.shown) {
				l.SetText("")
				return
			}
			text, imp := a.shown[id.Row].cell(id.Col)
			l.TextStyle = fyne.TextStyle{Monospace: id.Col != 2 && id.Col != 5}
			l.Importance = imp
			l.SetText(text)
		})
	a.Table.ShowHeaderRow = true
	a.Table.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	a.Table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(accessColumns) {
			o.(*widget.Label).SetText(accessColumns[id.Col].name)
		}
	}
	for i, c := range accessColumns {
		a.Table.SetColumnWidth(i, c.width)
	}
	a.Class.SetSelected(statusAll) // once the table is there: it refilters
	a.box = container.NewBorder(container.NewHBox(widget.NewLabel("Status"), a.Class, a.Count), nil, nil, nil, a.Table)
	return a
}

// cell is column col of e as shown, with its importance (the status's
// colour by class).
func (e accessEntry) cell(col int) (string, widget.Importance) {
	switch col {
	case 0:
		return e.Time.Local().Format("15:04:05.000"), widget.MediumImportance
	case 1:
		return e.Method, widget.MediumImportance
	case 2:
		return e.Path, widget.MediumImportance
	case 3:
		return strconv.Itoa(e.Status), statusImportance(e.Status)
	case 4:
		return fmt.Sprintf("%.1f ms", e.DurationMS), widget.MediumImportance
	default:
		return e.Upstream, widget.MediumImportance
	}
}

// statusImportance colours a status by class: 2xx green, 3xx plain, 4xx
// amber, 5xx red.
func statusImportance(status int) widget.Importance {
	switch status / 100 {
	case 2:
		return widget.SuccessImportance
	case 4:
		return widget.WarningImportance
	case 5:
		return widget.DangerImportance
	}
	return widget.MediumImportance
}

// Append parses access lines and adds the entries; a line that is not
// one (a partial write, another format) is skipped.
func (a *AccessTable) Append(text string) {
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var e accessEntry
		if json.Unmarshal([]byte(line), &e) != nil || e.Method == "" {
			continue
		}
		a.all = append(a.all, e)
	}
	if n := len(a.all); n > maxLogLines {
		a.all = append(a.all[:0:0], a.all[n-maxLogLines:]...)
	}
	a.refilter()
	if a.follow() && len(a.shown) > 0 {
		a.Table.ScrollToBottom()
	}
}

// Clear empties the table (the file is untouched).
func (a *AccessTable) Clear() {
	a.all = nil
	a.refilter()
}

// SetFilter keeps the entries whose method, path, status or upstream
// contain text (any case).
func (a *AccessTable) SetFilter(text string) {
	a.filter = strings.ToLower(strings.TrimSpace(text))
	a.refilter()
}

// Shown is what the table lists now.
func (a *AccessTable) Shown() []accessEntry { return a.shown }

func (a *AccessTable) refilter() {
	class := 0
	if c := a.Class.Selected; c != statusAll && c != "" {
		class = int(c[0] - '0')
	}
	a.shown = a.shown[:0:0]
	for _, e := range a.all {
		if class != 0 && e.Status/100 != class {
			continue
		}
		if a.filter != "" && !strings.Contains(strings.ToLower(e.Method+" "+e.Path+" "+strconv.Itoa(e.Status)+" "+e.Upstream), a.filter) {
			continue
		}
		a.shown = append(a.shown, e)
	}
	a.Count.SetText(fmt.Sprintf("%d of %d requests", len(a.shown), len(a.all)))
	a.Table.Refresh()
}
