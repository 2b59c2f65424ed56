package gui

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/engine"
	"github.com/devport/devport/app/wire"
)

// setupHost is the engine's real Host, but for FinishSetup, which would
// change this machine's trust stores and /etc/hosts (e2e's
// TestSetupFirstSite runs the real one): it says what it did, and from
// then on nothing is missing.
type setupHost struct {
	engine.Host
	done atomic.Bool
}

func (h *setupHost) SetupNeeds(ctx context.Context) []wire.SetupNeed {
	if h.done.Load() {
		return nil
	}
	return h.Host.SetupNeeds(ctx)
}

func (h *setupHost) FinishSetup(context.Context) ([]wire.SetupStep, error) {
	h.done.Store(true)
	return []wire.SetupStep{{Step: "CA in the system store", Result: wire.SetupDone}, {Step: "name resolution", Result: wire.SetupDone}}, nil
}

// TestBannerLeadsToSetup: on a fresh data folder the window says what is
// missing and why (the CA is not trusted, names do not resolve), Open in
// browser says why the page may not open, and Finish setup shows each
// step's result and takes the banner away.
func TestBannerLeadsToSetup(t *testing.T) {
	r := newRig(t, false)
	h := &setupHost{Host: engine.Host{Manager: r.m}}
	u := New(test.NewTempApp(t), Options{Engine: engine.Local{M: r.m}, Host: h, Checks: engine.Checks{}, Manual: true})
	defer u.Close()
	eventually(t, "the banner shows", func() bool { u.Idle(); return u.Banner.Box.Visible() })
	text := u.Banner.Text.Text
	for _, want := range []string{"will not open in your browser", "devport's CA is not trusted"} {
		if !strings.Contains(text, want) {
			t.Errorf("banner %q does not say %q", text, want)
		}
	}
	if _, err := r.m.Add(context.Background(), wire.AddRequest{Dir: r.example("php-shop", "shop")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the banner names the site", func() bool { u.Idle(); return strings.Contains(u.Banner.Text.Text, "shop.test will not open") })
	eventually(t, "the row shows", func() bool { u.Idle(); return u.Row("shop") != nil })
	u.OpenSite("shop")
	if !strings.Contains(u.Status.Text, "may not open") {
		t.Errorf("Open in browser says nothing while setup is missing: %q", u.Status.Text)
	}
	test.Tap(u.Banner.Finish)
	eventually(t, "setup finishes", func() bool { u.Idle(); return strings.HasPrefix(u.Banner.Text.Text, "Setup is done") })
	if !strings.Contains(u.Banner.Result.Text, "done          CA in the system store") || u.Banner.Finish.Visible() {
		t.Errorf("the steps are not shown, or Finish setup stays: %q", u.Banner.Result.Text)
	}
	test.Tap(u.Banner.Dismiss)
	if u.Banner.Box.Visible() {
		t.Error("Dismiss left the banner up")
	}
	u.OpenSite("shop")
	if strings.Contains(u.Status.Text, "may not open") {
		t.Errorf("after setup, Open in browser still warns: %q", u.Status.Text)
	}
}
