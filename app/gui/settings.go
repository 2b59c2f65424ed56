package gui

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
	"github.com/devport/devport/app/wire"
)

// SettingsView shows and changes devport's settings.
type SettingsView struct {
	Win fyne.Window

	Trust       map[string]*widget.Label  // by store: its state and location
	TrustBtn    map[string]*widget.Button // by store
	UntrustBtn  map[string]*widget.Button // by store
	TrustResult *widget.Label
	Ports       *widget.Label
	Names       *widget.Label  // how project domains resolve, checked for real
	HostsBtn    *widget.Button // switch to the managed /etc/hosts block
	TLD         *widget.Select
	Docker      *widget.Label
	Tools       *widget.Label
}

// stores are the trust stores the settings list, with their names.
var stores = []struct{ key, title string }{
	{wire.StoreSystem, "System (curl, Python, Go)"},
	{wire.StoreNSS, "NSS (Chromium, Firefox)"},
}

// ShowSettings opens (or raises) the settings window.
func (u *UI) ShowSettings() {
	if u.SettingsView != nil {
		u.SettingsView.Win.Show()
		u.SettingsView.Win.RequestFocus()
		return
	}
	s := &SettingsView{Win: u.app.NewWindow("devport: settings"),
		Trust: map[string]*widget.Label{}, TrustBtn: map[string]*widget.Button{}, UntrustBtn: map[string]*widget.Button{}}
	wrap := func(l *widget.Label) *widget.Label { l.Wrapping = fyne.TextWrapWord; return l }

	trust := container.NewVBox()
	for _, st := range stores {
		key := st.key
		s.Trust[key] = wrap(widget.NewLabel("checking…"))
		s.TrustBtn[key] = widget.NewButton("Trust", func() { u.changeTrust(s, key, true) })
		s.UntrustBtn[key] = widget.NewButton("Untrust", func() { u.changeTrust(s, key, false) })
		trust.Add(container.NewBorder(nil, nil, widget.NewLabelWithStyle(st.title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			container.NewHBox(s.TrustBtn[key], s.UntrustBtn[key]), s.Trust[key]))
	}
	s.TrustResult = wrap(widget.NewLabel(""))
	trust.Add(s.TrustResult)

	s.Ports = wrap(widget.NewLabel("…"))
	s.Names = wrap(widget.NewLabel("checking how the domains resolve…"))
	s.HostsBtn = widget.NewButton("Use the hosts file", func() { u.useHostsFile(s) })
	s.TLD = widget.NewSelect(u.opts.Checks.TLDs(), nil)
	s.TLD.SetSelected(u.defaultTLD())
	s.TLD.OnChanged = func(v string) { u.setTLD(s, v) }
	s.Docker = wrap(widget.NewLabel("checking whether Docker answers…"))
	s.Tools = widget.NewLabel("detecting…")
	s.Tools.TextStyle = fyne.TextStyle{Monospace: true}

	if u.opts.Host == nil {
		for _, st := range stores {
			s.Trust[st.key].SetText("managed by the engine this window attached to: use devport trust / untrust")
			s.TrustBtn[st.key].Disable()
			s.UntrustBtn[st.key].Disable()
		}
		s.TLD.Disable()
		s.HostsBtn.Disable()
	}
	form := container.NewVBox(
		widget.NewCard("Local certificate authority", "where browsers and tools trust it", trust),
		widget.NewCard("Ports", "", s.Ports),
		widget.NewCard("Names", "how project domains reach 127.0.0.1", container.NewBorder(nil, nil, nil, s.HostsBtn, s.Names)),
		widget.NewCard("New projects", "", container.NewBorder(nil, nil, widget.NewLabel("Default TLD"), nil, s.TLD)),
		widget.NewCard("Containers", "", s.Docker),
		widget.NewCard("Detected tools", "", s.Tools),
	)
	s.Win.SetContent(container.NewVScroll(form))
	s.Win.Resize(fyne.NewSize(760, 780))
	s.Win.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			s.Win.Close()
		}
	})
	s.Win.SetOnClosed(func() { u.SettingsView = nil; u.released() })
	u.SettingsView = s
	u.loadSettings(s)
	s.Win.Show()
}

// loadSettings fills the parts that take a moment (trust stores, tools).
func (u *UI) loadSettings(s *SettingsView) {
	u.bg(func() {
		info, err := u.opts.Engine.Engine(u.ctx)
		ports := ""
		switch {
		case err != nil:
			ports = "Engine: " + err.Error()
		case info.HTTPSPort == 0:
			ports = "The engine is not serving (yet): no ports are bound."
		default:
			ports = fmt.Sprintf("HTTPS on 127.0.0.1:%d and [::1]:%d; HTTP on port %d redirects to HTTPS (engine pid %d).",
				info.HTTPSPort, info.HTTPSPort, info.HTTPPort, info.PID)
			if fb := u.output.fallback(); fb != "" {
				ports += "\nFallback: " + fb
			} else if info.HTTPSPort != 443 {
				ports += "\nNot on 443/80: the ports were chosen with --https-port/--http-port or by the engine this window attached to."
			}
		}
		u.do(func() { s.Ports.SetText(ports) })
		u.refreshNames(s)
		u.refreshTrust(s)
		docker := "Docker answers: projects can run in containers."
		if why := u.opts.Checks.DockerReason(u.ctx); why != "" {
			docker = "Docker is unavailable, so projects run as local processes: " + why
		}
		docker += "\nDefault images:\n" + u.defaultImages()
		u.do(func() { s.Docker.SetText(docker) })
		tools := DetectTools(u.ctx)
		var b strings.Builder
		for _, t := range tools {
			fmt.Fprintf(&b, "%-8s %s\n", t.Name, t.Version)
		}
		text := strings.TrimRight(b.String(), "\n")
		u.do(func() { s.Tools.SetText(text) })
	})
}

// refreshTrust checks every store; it runs in the background.
func (u *UI) refreshTrust(s *SettingsView) {
	if u.opts.Host == nil {
		return
	}
	r := u.opts.Host.TrustStatus(u.ctx)
	text := map[string][]string{}
	trusted := map[string]bool{}
	for _, st := range r {
		state := "not trusted"
		if st.Trusted {
			state = "trusted"
			trusted[st.Store] = true
		}
		line := state
		if st.Location != "" {
			line += "  " + st.Location
		}
		if st.Err != "" {
			line += "  (" + st.Err + ")"
		} else if st.Detail != "" {
			line += "  (" + st.Detail + ")"
		}
		text[st.Store] = append(text[st.Store], line)
	}
	u.do(func() {
		for _, st := range stores {
			t := strings.Join(text[st.key], "\n")
			if t == "" {
				t = "not trusted (no database found)"
			}
			s.Trust[st.key].SetText(t)
			setEnabled(s.TrustBtn[st.key], !trusted[st.key])
			setEnabled(s.UntrustBtn[st.key], trusted[st.key])
		}
	})
}

// changeTrust trusts or untrusts the CA in one store. The system store
// needs root: as another user it goes through pkexec.
func (u *UI) changeTrust(s *SettingsView, store string, trust bool) {
	verb := "Untrust"
	if trust {
		verb = "Trust"
	}
	s.TrustResult.SetText(verb + " (" + store + ")…")
	s.TrustBtn[store].Disable()
	s.UntrustBtn[store].Disable()
	u.bg(func() {
		var report string
		var err error
		if store == wire.StoreSystem && os.Geteuid() != 0 {
			report, err = u.elevated(trust)
		} else {
			report, err = u.opts.Host.ChangeTrust(u.ctx, store, trust)
		}
		u.do(func() {
			if err != nil && trust {
				u.app.SendNotification(fyne.NewNotification("devport: the certificate authority could not be trusted", err.Error()))
			}
			if err != nil {
				s.TrustResult.SetText(verb + " failed: " + err.Error())
			} else {
				s.TrustResult.SetText(report)
			}
		})
		u.refreshTrust(s)
	})
}

// elevated runs `devport trust|untrust` for the system store as root
// through pkexec, on the same data folder.
func (u *UI) elevated(trust bool) (string, error) {
	pk, err := exec.LookPath("pkexec")
	if err != nil {
		return "", errors.New("changing the system store needs root, and pkexec is not installed: run sudo devport trust --nss=false")
	}
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	args := []string{pk, "env", "DEVPORT_HOME=" + u.opts.Host.DataDir(), exe}
	if trust {
		args = append(args, "trust", "--nss=false")
	} else {
		args = append(args, "untrust")
	}
	out, err := exec.CommandContext(u.ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

// setTLD stores the default TLD.
func (u *UI) setTLD(s *SettingsView, v string) {
	if u.opts.Host == nil || v == "" {
		return
	}
	u.bg(func() {
		err := u.opts.Host.SetSetting(u.ctx, wire.SettingDefaultTLD, v)
		u.do(func() {
			if err != nil {
				s.TrustResult.SetText("Default TLD: " + err.Error())
			}
		})
	})
}

// refreshNames shows the resolution method and how each domain resolves
// now; it runs in the background.
func (u *UI) refreshNames(s *SettingsView) {
	if u.opts.Host == nil {
		u.do(func() {
			s.Names.SetText("managed by the engine this window attached to: see devport dns status")
		})
		return
	}
	method, results, err := u.opts.Host.NameStatus(u.ctx)
	var b strings.Builder
	switch {
	case err != nil:
		b.WriteString(err.Error())
	case method == "hosts":
		b.WriteString("devport keeps every project domain in a managed block of /etc/hosts.")
	case method == "resolver":
		b.WriteString("The engine answers DNS for the managed TLDs.")
	default:
		b.WriteString("devport manages no name resolution.")
	}
	failing := false
	for _, r := range results {
		mark := "ok"
		if !r.OK {
			mark, failing = "FAILS", true
		}
		fmt.Fprintf(&b, "\n%s  %s: %s", mark, r.Name, r.Detail)
	}
	if failing && method != "hosts" {
		b.WriteString("\nA domain does not reach this machine (a VPN or encrypted DNS may have taken over): use the hosts file, which works everywhere.")
	}
	text := b.String()
	u.do(func() { s.Names.SetText(text) })
}

// useHostsFile switches to the managed /etc/hosts block, asking for root
// through pkexec when this process may not write the file.
func (u *UI) useHostsFile(s *SettingsView) {
	s.HostsBtn.Disable()
	u.bg(func() {
		_, err := u.opts.Host.UseHostsFile(u.ctx, func(argv []string) error {
			out, err := exec.CommandContext(u.ctx, argv[0], argv[1:]...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
			}
			return nil
		})
		u.refreshNames(s)
		u.do(func() {
			s.HostsBtn.Enable()
			if err != nil {
				s.Names.SetText(s.Names.Text + "\nUse the hosts file: " + err.Error())
			}
		})
	})
}
