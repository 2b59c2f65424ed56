package gui

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/testenv"
)

// get fetches url over HTTPS from the rig's engine, trusting devport's CA,
// and returns the status code and body.
func (r *rig) get(url string) (int, string) {
	r.t.Helper()
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(r.m.CA().CertPath())
	if err != nil {
		r.t.Fatal(err)
	}
	pool.AppendCertsFromPEM(pem)
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)))
		},
	}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Timeout: 10 * time.Second, Transport: tr}).Get(url)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// project is the stored project name, as the Manager lists it.
func (r *rig) project(name string) wire.ProjectStatus {
	r.t.Helper()
	ps, err := r.m.List(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	for _, p := range ps {
		if p.Name == name {
			return p
		}
	}
	r.t.Fatalf("project %s is not stored; stored: %+v", name, ps)
	return wire.ProjectStatus{}
}

// walkTo taps Next until the wizard reaches step, failing with the error
// of the step it stopped on.
func walkTo(t *testing.T, w *Wizard, step int) {
	t.Helper()
	for w.Step < step {
		before := w.Step
		test.Tap(w.Next)
		w.u.Idle()
		if w.Step == before {
			t.Fatalf("stopped on step %d (want %d): folder %q, stack %q, chain %q, domain %q",
				w.Step, step, w.FolderErr.Text, w.StackErr.Text, w.ChainErr.Text, w.DomainErr.Text)
		}
	}
}

// TestWizardStaticSite detects a folder of plain files as a static site,
// offers no app and no runtime choice, and creates a project the proxy
// serves itself.
func TestWizardStaticSite(t *testing.T) {
	r := newRig(t, true)
	dir := r.example("static-site", "site")
	index, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	r.ui.ShowWizard()
	w := r.ui.Wizard
	test.Type(w.Folder, dir)
	walkTo(t, w, StepStack)
	if w.Stack.Selected != choiceStatic || !strings.Contains(w.Detected.Text, "static site") {
		t.Fatalf("detection: %q selected, %q shown", w.Stack.Selected, w.Detected.Text)
	}
	if !w.App.Disabled() || w.ChainBox.Visible() {
		t.Errorf("static: app entry disabled=%v, chain shown=%v; want no app and no chain", w.App.Disabled(), w.ChainBox.Visible())
	}
	walkTo(t, w, StepRuntime)
	r.ui.Idle() // the Docker check answered: it must not bring the choice back
	if w.Runtime.Visible() || w.Container.Visible() || !strings.Contains(w.RuntimeWhy.Text, "proxy serves") {
		t.Errorf("static runtime step: runtime shown=%v, container shown=%v, text %q",
			w.Runtime.Visible(), w.Container.Visible(), w.RuntimeWhy.Text)
	}
	// A container chosen for another stack earlier is not sent.
	w.Runtime.Selected = runtimeCont
	if req := w.request(); req.Stack != stackdef.Static || req.Runtime != wire.RuntimeProcess || req.App != "" || req.Chain != "" {
		t.Errorf("request: %+v", req)
	}
	w.Runtime.Selected = runtimeProc
	walkTo(t, w, StepReview)
	if !strings.Contains(w.Review.Text, "static") || !strings.Contains(w.Review.Text, "proxy serves the folder") {
		t.Errorf("review: %q", w.Review.Text)
	}
	if w.StartAfter.Visible() {
		t.Error("a static site offers \"Start it after creating\"; nothing runs")
	}
	test.Tap(w.Create)
	r.ui.Idle()
	if w.Step != StepDone || w.Created == nil {
		t.Fatalf("after Create: step %d, error %q, stack error %q", w.Step, w.CreateErr.Text, w.StackErr.Text)
	}
	if w.Created.State != wire.StateStopped {
		t.Errorf("state after Create: %s; a static site is served without a start", w.Created.State)
	}
	p := r.project("site")
	if len(p.Services) != 1 || p.Services[0].Stack != stackdef.Static || p.Services[0].Runtime != wire.RuntimeProcess || p.Root != dir {
		t.Fatalf("stored: %+v", p)
	}
	code, body := r.get(w.URL.Text)
	if code != 200 || body != string(index) {
		t.Fatalf("GET %s: %d\n%s", w.URL.Text, code, body)
	}
	if code, body := r.get(strings.TrimSuffix(w.URL.Text, "/") + "/style.css"); code != 200 || body == "" {
		t.Fatalf("GET style.css: %d %q", code, body)
	}
}

// TestWizardApacheChain creates the proxy → Apache → uvicorn chain: PHP
// with /py passed through Apache to the FastAPI app in py/.
func TestWizardApacheChain(t *testing.T) {
	testenv.Need(t, "apache2 with mod_php", haveApache(), testenv.InstallFix)
	r := newRig(t, true)
	dir := r.example("apache-chain", "chain")
	testenv.Need(t, "uvicorn for the Python side", engine.Checks{}.CheckStack(stackdef.Uvicorn, filepath.Join(dir, "py")) == nil, testenv.InstallFix)
	t.Cleanup(func() { // before the rig closes: nothing of the chain may outlive its stop
		if err := r.m.Stop(context.Background(), "chain"); err != nil {
			t.Errorf("stop: %v", err)
		}
		noProcesses(t, r.root)
	})
	r.ui.ShowWizard()
	w := r.ui.Wizard
	test.Type(w.Folder, dir)
	walkTo(t, w, StepStack)
	if w.Stack.Selected != choicePHP || !w.ChainBox.Visible() {
		t.Fatalf("selected %q, chain entry shown=%v; want PHP with the chain entry", w.Stack.Selected, w.ChainBox.Visible())
	}
	test.Type(w.Chain, "/py")
	r.ui.Idle()
	if w.ChainErr.Text != "" || w.ChainErr.Visible() {
		t.Fatalf("a valid prefix shows %q", w.ChainErr.Text)
	}
	walkTo(t, w, StepReview)
	if !strings.Contains(w.Review.Text, "/py goes through Apache") {
		t.Errorf("review does not show the chain: %q", w.Review.Text)
	}
	if req := w.request(); req.Stack != stackdef.PHP || req.Chain != "/py" || req.App != "" {
		t.Errorf("request: %+v", req)
	}
	test.Tap(w.Create)
	r.ui.Idle()
	if w.Step != StepDone || w.Created == nil || w.Created.State != wire.StateRunning {
		t.Fatalf("after Create: step %d, error %q, done %q", w.Step, w.CreateErr.Text, w.Done.Text)
	}

	p := r.project("chain")
	var web, py *wire.ServiceStatus
	for i, s := range p.Services {
		switch s.Name {
		case "web":
			web = &p.Services[i]
		case "py":
			py = &p.Services[i]
		}
	}
	if len(p.Services) != 2 || web == nil || web.Stack != stackdef.PHP || py == nil ||
		py.Stack != stackdef.Uvicorn || py.PathPrefix != "/py" || py.App != "py.main:app" {
		t.Fatalf("stored services: %+v", p.Services)
	}
	// The link: a declared route sends /py to the php service (not to
	// uvicorn directly), and Apache forwards it.
	routes, err := r.m.Routes(context.Background(), "chain")
	if err != nil {
		t.Fatal(err)
	}
	linked := false
	for _, rt := range routes {
		linked = linked || rt.Prefix == "/py" && rt.Declared && rt.Kind == "service" && rt.Target == "web" && rt.ForwardsTo == "py"
	}
	if !linked {
		t.Fatalf("no route sends /py through Apache: %+v", routes)
	}

	if code, body := r.get(w.URL.Text); code != 200 || !strings.Contains(body, "apache-chain php") {
		t.Fatalf("GET /: %d\n%s", code, body)
	}
	code, body := r.get(strings.TrimSuffix(w.URL.Text, "/") + "/py/x")
	if code != 200 || !strings.Contains(body, "from uvicorn behind apache") || !strings.Contains(body, `"root_path":"/py"`) {
		t.Fatalf("GET /py/x: %d\n%s", code, body)
	}
}

// TestWizardChainValidation shows the Manager's own chain errors beside
// the prefix as it is typed, keeps Next on the stack step while one
// shows, stores nothing while checking, and brings Create's chain error
// back to the stack step.
func TestWizardChainValidation(t *testing.T) {
	testenv.Need(t, "apache2 with mod_php", haveApache(), testenv.InstallFix)
	r := newRig(t, false)
	dir := r.example("apache-chain", "chain")
	if err := os.Mkdir(filepath.Join(dir, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "docs", "main.py"), []byte("print('no app here')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.ui.ShowWizard()
	w := r.ui.Wizard
	test.Type(w.Folder, dir)
	walkTo(t, w, StepStack)

	tests := []struct {
		name   string
		prefix string
		want   string // in the chain error; "" when valid
	}{
		{name: "no leading slash", prefix: "py", want: "one path segment"},
		{name: "two segments", prefix: "/py/v1", want: "one path segment"},
		{name: "uppercase", prefix: "/Py", want: "one path segment"},
		{name: "no such subfolder", prefix: "/api", want: "does not exist"},
		{name: "no python app in the subfolder", prefix: "/docs", want: "found no FastAPI"},
		{name: "valid", prefix: "/py"},
		{name: "empty is no chain", prefix: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w.Chain.SetText("")
			test.Type(w.Chain, tc.prefix) // checked as typed
			r.ui.Idle()
			if tc.want == "" {
				if w.ChainErr.Text != "" || w.ChainErr.Visible() {
					t.Fatalf("prefix %q shows %q", tc.prefix, w.ChainErr.Text)
				}
			} else if !strings.Contains(w.ChainErr.Text, tc.want) || !strings.Contains(w.ChainErr.Text, "chain") || !w.ChainErr.Visible() {
				t.Fatalf("prefix %q: error %q (shown=%v), want it to contain %q", tc.prefix, w.ChainErr.Text, w.ChainErr.Visible(), tc.want)
			}
			test.Tap(w.Next)
			r.ui.Idle()
			if tc.want != "" && w.Step != StepStack {
				t.Fatalf("Next left the stack step (now %d) with a bad prefix", w.Step)
			}
			if tc.want == "" {
				if w.Step != StepDomain {
					t.Fatalf("Next stayed on step %d: %q %q", w.Step, w.StackErr.Text, w.ChainErr.Text)
				}
				test.Tap(w.Back)
			}
		})
	}
	// Another stack hides the prefix and sends none.
	w.Chain.SetText("/py")
	r.ui.Idle()
	w.Stack.SetSelected(choiceUvicorn)
	if w.ChainBox.Visible() || w.request().Chain != "" {
		t.Errorf("uvicorn: chain shown=%v, request %+v", w.ChainBox.Visible(), w.request())
	}
	w.Stack.SetSelected(choicePHP)
	r.ui.Idle()
	if ps, err := r.m.List(context.Background()); err != nil || len(ps) != 0 {
		t.Fatalf("checking the prefix stored projects: %+v, %v", ps, err)
	}

	// The app goes away after the check passed: Create's error comes back
	// to the stack step, beside the prefix.
	walkTo(t, w, StepReview)
	if err := os.Remove(filepath.Join(dir, "py", "main.py")); err != nil {
		t.Fatal(err)
	}
	w.StartAfter.SetChecked(false)
	test.Tap(w.Create)
	r.ui.Idle()
	if w.Step != StepStack || !strings.Contains(w.ChainErr.Text, "found no FastAPI") || !w.ChainErr.Visible() {
		t.Fatalf("after a failed Create: step %d, chain error %q, create error %q", w.Step, w.ChainErr.Text, w.CreateErr.Text)
	}
	if ps, err := r.m.List(context.Background()); err != nil || len(ps) != 0 {
		t.Fatalf("a failed Create stored projects: %+v, %v", ps, err)
	}
}
