package gui

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/engine"
	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/testenv"
)

// TestWizardCreatesProject clicks through the wizard from a folder to a
// running project against a real Manager, then fetches the site over
// HTTPS with devport's CA.
func TestWizardCreatesProject(t *testing.T) {
	testenv.Need(t, "apache2 with mod_php", haveApache(), testenv.InstallFix)
	r := newRig(t, true)
	dir := r.example("php-shop", "My Shop")
	u := r.ui
	test.Tap(u.NewBtn)
	w := u.Wizard
	if w == nil || w.Step != StepFolder {
		t.Fatal("the wizard did not open on the folder step")
	}
	test.Type(w.Folder, dir)
	test.Tap(w.Next)
	if w.Step != StepStack {
		t.Fatalf("still on step %d: %s", w.Step, w.FolderErr.Text)
	}
	if !strings.Contains(w.Detected.Text, "PHP") || w.Stack.Selected != choicePHP {
		t.Fatalf("detection shows %q, selected %q; want PHP", w.Detected.Text, w.Stack.Selected)
	}
	test.Tap(w.Next)
	if w.Step != StepDomain {
		t.Fatalf("still on step %d: %s", w.Step, w.StackErr.Text)
	}
	if w.Name.Text != "my-shop" || w.Domain.Text != "my-shop.test" {
		t.Fatalf("suggested %q / %q, want my-shop / my-shop.test", w.Name.Text, w.Domain.Text)
	}
	w.Domain.SetText("")
	test.Type(w.Domain, "shop.test")
	test.Tap(w.Next)
	if w.Step != StepRuntime {
		t.Fatalf("still on step %d: %s", w.Step, w.DomainErr.Text)
	}
	u.Idle() // the Docker check
	if why := (engine.Checks{}).DockerReason(context.Background()); why != "" {
		if !w.Container.Disabled() || !strings.Contains(w.RuntimeWhy.Text, "unavailable: "+why) || len(w.Runtime.Options) != 1 {
			t.Errorf("without Docker: container disabled=%v, options %v, reason %q", w.Container.Disabled(), w.Runtime.Options, w.RuntimeWhy.Text)
		}
	} else if len(w.Runtime.Options) != 2 {
		t.Errorf("with Docker: options %v, want process and container", w.Runtime.Options)
	}
	test.Tap(w.Next)
	// The engine serves on r.port, not 443: the review says the URL the
	// browser will open, port and all.
	if want := fmt.Sprintf("https://shop.test:%d/", r.port); w.Step != StepReview || !strings.Contains(w.Review.Text, want) {
		t.Fatalf("review step %d shows %q, want %s", w.Step, w.Review.Text, want)
	}
	test.Tap(w.Create)
	u.Idle()
	if w.Step != StepDone || w.Created == nil {
		t.Fatalf("after Create: step %d, error %q", w.Step, w.CreateErr.Text)
	}
	if w.Created.State != wire.StateRunning || !strings.Contains(w.URL.Text, "https://shop.test:") {
		t.Fatalf("created %+v, URL %q", *w.Created, w.URL.Text)
	}
	r.waitState("my-shop", wire.StateRunning)

	pool := x509.NewCertPool()
	pem, err := os.ReadFile(r.m.CA().CertPath())
	if err != nil {
		t.Fatal(err)
	}
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)))
		},
	}}
	resp, err := hc.Get(w.URL.Text)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s\n%s", w.URL.Text, resp.Status, body)
	}
	// The request shows in the project's logs: the proxy's access tab.
	pn := selectProject(t, u, "my-shop")
	test.Tap(pn.TabButtons[TabLogs])
	lv := pn.Logs
	eventually(t, "the access tab shows the request", func() bool {
		u.Idle()
		shown := lv.Access.Shown()
		return len(shown) > 0 && shown[len(shown)-1].Status == 200 && shown[len(shown)-1].Method == "GET"
	})
	test.Tap(w.Cancel) // "Close" on the last step
	if u.Wizard != nil {
		t.Error("the wizard is still open after Close")
	}
}

// TestWizardValidation checks that each bad input shows on its own step,
// as the user types, and that a cancelled wizard stores nothing.
func TestWizardValidation(t *testing.T) {
	testenv.Need(t, "apache2 with mod_php", haveApache(), testenv.InstallFix)
	r := newRig(t, false)
	shop := r.example("php-shop", "shop")
	empty := filepath.Join(r.root, "empty")
	os.Mkdir(empty, 0o755)
	if _, err := r.m.Add(context.Background(), wire.AddRequest{Dir: r.example("php-shop", "taken"), Domain: "taken.test"}); err != nil {
		t.Fatal(err)
	}
	r.ui.Refresh()
	r.ui.Idle()

	tests := []struct {
		name   string
		folder string
		step   int    // where the wizard must stop
		name2  string // typed into Name ("" keeps the suggestion)
		domain string // typed into Domain ("" keeps the suggestion)
		want   string // in the step's error label
	}{
		{name: "no folder", folder: "", step: StepFolder, want: "Choose the project folder"},
		{name: "missing folder", folder: filepath.Join(r.root, "nope"), step: StepFolder, want: "does not exist"},
		{name: "nothing detected", folder: empty, step: StepStack, want: "Choose a stack"},
		{name: "wrong tld", folder: shop, step: StepDomain, domain: "shop.com", want: ".test"},
		{name: "not a dns name", folder: shop, step: StepDomain, domain: "shop_1.test", want: "domain"},
		{name: "bad name", folder: shop, step: StepDomain, name2: "Shop!", want: "name"},
		{name: "taken domain", folder: shop, step: StepDomain, domain: "taken.test", want: "serves it already"},
		{name: "taken name", folder: shop, step: StepDomain, name2: "taken", domain: "other.test", want: "has this name already"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r.ui.ShowWizard()
			w := r.ui.Wizard
			test.Type(w.Folder, tc.folder)
			for i := 0; i < 3 && w.Step < tc.step+1 && w.Step < StepReview; i++ {
				before := w.Step
				if w.Step == StepDomain {
					if tc.name2 != "" {
						w.Name.SetText(tc.name2)
					}
					if tc.domain != "" {
						w.Domain.SetText("")
						test.Type(w.Domain, tc.domain) // validated as typed
					}
				}
				test.Tap(w.Next)
				if w.Step == before {
					break
				}
			}
			if w.Step != tc.step {
				t.Fatalf("stopped on step %d, want %d", w.Step, tc.step)
			}
			msg := map[int]string{StepFolder: w.FolderErr.Text, StepStack: w.StackErr.Text, StepDomain: w.DomainErr.Text}[tc.step]
			if !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q does not contain %q", msg, tc.want)
			}
			test.Tap(w.Cancel)
			if r.ui.Wizard != nil {
				t.Fatal("Cancel did not close the wizard")
			}
		})
	}
	ps, err := r.m.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Name != "taken" {
		t.Fatalf("cancelled wizards left projects behind: %+v", ps)
	}
}

// TestWizardCreateErrorOnItsStep: when Create fails on a field (here the
// domain was taken after the domain step passed), the wizard goes back to
// that field's step and shows the error there.
func TestWizardCreateErrorOnItsStep(t *testing.T) {
	testenv.Need(t, "apache2 with mod_php", haveApache(), testenv.InstallFix)
	r := newRig(t, false)
	r.ui.ShowWizard()
	w := r.ui.Wizard
	test.Type(w.Folder, r.example("php-shop", "shop"))
	for i := 0; i < 4; i++ {
		test.Tap(w.Next)
	}
	if w.Step != StepReview {
		t.Fatalf("step %d, want review", w.Step)
	}
	if _, err := r.m.Add(context.Background(), wire.AddRequest{Dir: r.example("php-shop", "other"), Name: "other", Domain: "shop.test"}); err != nil {
		t.Fatal(err)
	}
	w.StartAfter.SetChecked(false)
	test.Tap(w.Create)
	r.ui.Idle()
	if w.Step != StepDomain || !strings.Contains(w.DomainErr.Text, "shop.test") {
		t.Fatalf("step %d, domain error %q, create error %q", w.Step, w.DomainErr.Text, w.CreateErr.Text)
	}
	test.Tap(w.Cancel)
	ps, _ := r.m.List(context.Background())
	if len(ps) != 1 {
		t.Fatalf("projects: %+v", ps)
	}
}

// TestWizardFlaskOnUWSGI detects a Flask app as WSGI, keeps the app when
// the user picks uWSGI instead, and creates the project with that stack.
func TestWizardFlaskOnUWSGI(t *testing.T) {
	r := newRig(t, false)
	r.ui.ShowWizard()
	w := r.ui.Wizard
	test.Type(w.Folder, r.example("flask-app", "flask"))
	test.Tap(w.Next)
	if w.Stack.Selected != choiceWSGI || w.App.Text != "app:app" || !strings.Contains(w.Detected.Text, "WSGI app: app:app") {
		t.Fatalf("detection: %q, %q, %q", w.Stack.Selected, w.App.Text, w.Detected.Text)
	}
	w.Stack.SetSelected(choiceUWSGI)
	if w.App.Disabled() {
		t.Error("the app entry is disabled for uWSGI")
	}
	if got := w.request(); got.Stack != "uwsgi" || got.App != "app:app" {
		t.Errorf("request: %+v", got)
	}
	w.Stack.SetSelected(choicePHP)
	if !w.App.Disabled() || w.request().App != "" {
		t.Error("PHP must not carry a Python app")
	}
}

// TestWizardSplitShape offers what the folder describes (PHP at / and a
// FastAPI app at /api) first, and creates both services from it; a single
// stack stays one choice away.
func TestWizardSplitShape(t *testing.T) {
	r := newRig(t, false)
	r.ui.ShowWizard()
	w := r.ui.Wizard
	test.Type(w.Folder, r.example("php-api-split", "split"))
	test.Tap(w.Next)
	if w.Step != StepStack {
		t.Fatalf("still on step %d: %s", w.Step, w.FolderErr.Text)
	}
	if w.Stack.Selected != choiceFolder || !strings.Contains(w.Detected.Text, "/api") || !w.App.Disabled() {
		t.Fatalf("detection: %q selected, %q shown", w.Stack.Selected, w.Detected.Text)
	}
	if got := w.request(); got.Stack != "" || got.App != "" {
		t.Errorf("request for the folder's plan: %+v", got)
	}
	for i := 0; i < 3; i++ {
		test.Tap(w.Next)
	}
	if w.Step != StepReview || !strings.Contains(w.Review.Text, "/api") {
		t.Fatalf("review step %d shows %q", w.Step, w.Review.Text)
	}
	w.StartAfter.SetChecked(false)
	test.Tap(w.Create)
	r.ui.Idle()
	if w.Step != StepDone || w.Created == nil {
		t.Fatalf("after Create: step %d, error %q", w.Step, w.CreateErr.Text)
	}
	if n := len(w.Created.Services); n != 2 {
		t.Errorf("created %d services, want web and api: %+v", n, w.Created.Services)
	}
}
