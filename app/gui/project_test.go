package gui

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/testenv"
)

// stand-in image of scripts/build-test-images.sh: no registry here.
const testPythonImage = "devport-test/python:bookworm"

func haveDockerImage(img string) bool {
	return exec.Command("docker", "image", "inspect", img).Run() == nil
}

// TestProjectViewRuntime switches a service's runtime from its project's
// details window: a bad image is refused with the field named and nothing
// changed; a good one is stored (the project is stopped, so nothing
// starts), shown, and switched back.
func TestProjectViewRuntime(t *testing.T) {
	testenv.Need(t, "python3-uvicorn (the process runtime)", exec.Command("/usr/bin/python3", "-c", "import uvicorn").Run() == nil, testenv.InstallFix)
	testenv.Need(t, "a Docker engine with "+testPythonImage+" (scripts/build-test-images.sh)", haveDockerImage(testPythonImage), testenv.InstallFix)
	r := newRig(t, false)
	ctx := context.Background()
	if _, err := r.m.Add(ctx, wire.AddRequest{Dir: r.example("fastapi-api", "api")}); err != nil {
		t.Fatal(err)
	}
	r.ui.Refresh()
	r.waitState("api", wire.StateStopped)
	pv := selectProject(t, r.ui, "api").View
	if pv == nil {
		t.Fatal("the pane has no Overview and Settings")
	}
	se := pv.Services["web"]
	if se == nil || se.Runtime == nil {
		t.Fatalf("service web has no runtime editor: %+v", pv.Services)
	}
	if !strings.Contains(se.Info.Text, "uvicorn at /") || !strings.Contains(se.Info.Text, "Runs as process") {
		t.Errorf("service info %q", se.Info.Text)
	}
	if !strings.Contains(pv.Routes.Text, "/          service  web") {
		t.Errorf("routes %q lack the service's own route", pv.Routes.Text)
	}
	if se.Runtime.Selected != wire.RuntimeProcess || !se.Image.Disabled() {
		t.Errorf("runtime %q, image disabled %v; want process and disabled", se.Runtime.Selected, se.Image.Disabled())
	}
	stored := func() wire.ServiceStatus {
		t.Helper()
		ps, err := r.m.List(ctx)
		if err != nil || len(ps) != 1 {
			t.Fatalf("list: %v %v", ps, err)
		}
		return ps[0].Services[0]
	}
	apply := func(runtime, image string) {
		t.Helper()
		se.Runtime.SetSelected(runtime)
		test.Type(se.Image, image)
		test.Tap(se.Apply)
		eventually(t, "the switch finished", func() bool { r.ui.Idle(); return !se.Apply.Disabled() })
	}

	t.Run("a bad image is refused and nothing changes", func(t *testing.T) {
		se.Image.SetText("")
		apply(wire.RuntimeContainer, "Not A Valid Image")
		if !strings.Contains(se.Err.Text, "image") {
			t.Errorf("error %q does not name the image", se.Err.Text)
		}
		if s := stored(); s.Runtime != wire.RuntimeProcess || s.Image != "" {
			t.Errorf("stored %s %q after a refused switch", s.Runtime, s.Image)
		}
	})
	t.Run("container with an image", func(t *testing.T) {
		se.Image.SetText("")
		apply(wire.RuntimeContainer, testPythonImage)
		if se.Err.Text != "" {
			t.Fatalf("error: %s", se.Err.Text)
		}
		if s := stored(); s.Runtime != wire.RuntimeContainer || s.Image != testPythonImage {
			t.Errorf("stored %s %q", s.Runtime, s.Image)
		}
		if !strings.Contains(se.Info.Text, "Runs as container from "+testPythonImage) {
			t.Errorf("info after the switch: %q", se.Info.Text)
		}
		eventually(t, "the row shows the runtime", func() bool {
			r.ui.Idle()
			return strings.Contains(r.ui.Row("api").Detail.Text, "container")
		})
	})
	t.Run("back to process", func(t *testing.T) {
		apply(wire.RuntimeProcess, "")
		if s := stored(); s.Runtime != wire.RuntimeProcess {
			t.Errorf("stored %s", s.Runtime)
		}
	})
	r.ui.Select("")
	if r.ui.Pane.View != nil || r.ui.Pane.Name != "" {
		t.Error("the pane kept the project's view after it was deselected")
	}
}

// TestProjectViewStatic: a static site's service shows that the proxy
// serves it, with no runtime to switch.
func TestProjectViewStatic(t *testing.T) {
	r := newRig(t, false)
	if _, err := r.m.Add(context.Background(), wire.AddRequest{Dir: r.example("static-site", "site")}); err != nil {
		t.Fatal(err)
	}
	r.ui.Refresh()
	r.waitState("site", wire.StateStopped)
	r.ui.ShowProject("site")
	se := r.ui.Pane.View.Services["web"]
	if se == nil || se.Runtime != nil || se.Apply != nil {
		t.Fatalf("a static service has runtime controls: %+v", se)
	}
	if !strings.Contains(se.Info.Text, "served by devport's proxy") {
		t.Errorf("info %q", se.Info.Text)
	}
}

// TestProjectViewPHPVersion shows a php service's version in its row, and
// with where it comes from in the details.
func TestProjectViewPHPVersion(t *testing.T) {
	testenv.Need(t, "apache2 and mod_php (the process runtime)", testenv.Look("apache2") != "", testenv.InstallFix)
	r := newRig(t, false)
	ctx := context.Background()
	p, err := r.m.Add(ctx, wire.AddRequest{Dir: r.example("php-shop", "shop")})
	if err != nil {
		t.Fatal(err)
	}
	r.ui.Refresh()
	r.waitState("shop", wire.StateStopped)
	pv := selectProject(t, r.ui, "shop").View
	if pv == nil {
		t.Fatal("the pane has no Overview and Settings")
	}
	se := pv.Services["web"]
	php := r.project("shop").Services[0].PHP
	if php == "" || se == nil || !strings.Contains(se.Info.Text, "PHP "+php+" (newest)") {
		t.Errorf("service info %q (project %+v), want PHP %s (newest)", se.Info.Text, p, php)
	}
	r.ui.Idle() // the versions come from off the UI thread
	if se.PHP == nil || se.PHP.Selected != phpAuto || !slices.Contains(se.PHP.Options, php) {
		t.Errorf("the version drop-down %+v, want auto selected and %s offered", se.PHP, php)
	}
	if row := r.ui.Row("shop"); !strings.Contains(row.Detail.Text, "php "+php+"  ·  process") {
		t.Errorf("row detail %q lacks php %s", row.Detail.Text, php)
	}
}
