package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/certs"
	"github.com/devport/devport/internal/shellquote"
	"github.com/devport/devport/resolve"
)

// devport setup does, once, everything that needs root, so that a site
// added later opens in the browser with no further step: it trusts the CA
// (the user's NSS databases as the user; the system store and, with
// --java, Java's as root), chooses and installs name resolution (split DNS
// to the engine's responder where the OS supports it, else the managed
// hosts block, with a sudoers grant that lets the engine keep that block in
// step as projects come and go), and grants the binary the right to bind
// 443 and 80. It runs in three parts, so that root never opens the user's
// store or CA folder:
//
//  1. as the user: NSS, and the plan of what needs root (SetupPlan);
//  2. as root, once (sudo or pkexec, or this process when it is root):
//     ApplySetup, which carries out exactly the plan;
//  3. as the user: the method is recorded, and names are checked for real.
//
// Every step says what it did: done, already done, skipped (and why) or
// failed (and the fix). --undo reverses each one.

// The results of a setup step.
const (
	SetupDone    = wire.SetupDone
	SetupAlready = wire.SetupAlready
	SetupSkipped = wire.SetupSkipped
	SetupFailed  = wire.SetupFailed
)

// SetupStep is one line of devport setup.
type SetupStep = wire.SetupStep

// SetupOptions say what devport setup does and for whom.
type SetupOptions struct {
	Java bool // also Java's keystore
	Undo bool // reverse every step
	// Home is the home folder of the user who asked, whose NSS databases
	// are changed; default $HOME.
	Home string
	// User is that user's name, for the sudoers grant of the hosts method;
	// "" when devport runs as root for root.
	User string
	// Exe is the binary that gets the right to bind 443 and 80; default
	// this one.
	Exe string
	// Elevate runs argv as root and returns what it printed; nil when this
	// process is root, or when nothing can make it root (the plan's step
	// then fails, naming the command to run as root).
	Elevate func(ctx context.Context, argv []string) ([]byte, error)
}

// SetupPlan is what needs root, as devport setup --apply carries it. It
// holds values only, so the privileged part reads nothing of the user's.
type SetupPlan struct {
	Undo   bool     `json:"undo,omitempty"`
	CA     string   `json:"ca"`               // the root certificate's file
	Java   bool     `json:"java,omitempty"`   // Java's keystore too
	Method string   `json:"method"`           // dnsHosts or dnsResolver
	Names  []string `json:"names,omitempty"`  // the hosts block (method hosts)
	Split  string   `json:"split,omitempty"`  // the responder's address (method resolver)
	Reason string   `json:"reason,omitempty"` // why this method, for the user
	Exe    string   `json:"exe"`              // the binary to grant
	User   string   `json:"user,omitempty"`   // the sudoers grant's user (method hosts)
	// HostsPath and SudoersDir are /etc/hosts and /etc/sudoers.d; tests
	// point them elsewhere.
	HostsPath  string `json:"hosts_path,omitempty"`
	SudoersDir string `json:"sudoers_dir,omitempty"`
}

// Encode is the plan as one command-line argument.
func (p SetupPlan) Encode() string {
	b, _ := json.Marshal(p)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeSetupPlan reads a plan Encode wrote.
func DecodeSetupPlan(arg string) (SetupPlan, error) {
	var p SetupPlan
	b, err := base64.RawURLEncoding.DecodeString(arg)
	if err == nil {
		err = json.Unmarshal(b, &p)
	}
	if err != nil {
		return SetupPlan{}, fmt.Errorf("setup --apply: not a plan that devport setup wrote: %w", err)
	}
	return p, nil
}

// ApplyArgs is the command line that carries plan out as root.
func (p SetupPlan) ApplyArgs() []string { return []string{p.Exe, "setup", "--apply", p.Encode()} }

// Setup runs devport setup for o: the user's part here, the root part
// through o.Elevate (or here, as root), then the check. It returns every
// step, and an error when one failed.
func (m *Manager) Setup(ctx context.Context, o SetupOptions) ([]SetupStep, error) {
	steps, plan, err := m.SetupUser(ctx, o)
	if err != nil {
		return steps, err
	}
	switch {
	case os.Geteuid() == 0:
		steps = append(steps, ApplySetup(ctx, plan)...)
	case o.Elevate == nil:
		steps = append(steps, SetupStep{Step: "the steps that need root", Result: SetupFailed,
			Detail: "neither sudo nor pkexec can make devport root here",
			Fix:    "run as root: " + shellquote.Join(plan.ApplyArgs())})
	default:
		out, err := o.Elevate(ctx, plan.ApplyArgs())
		root := ParseSetupSteps(out)
		if err != nil && len(root) == 0 {
			root = append(root, SetupStep{Step: "the steps that need root", Result: SetupFailed, Detail: err.Error(),
				Fix: "run as root: " + shellquote.Join(plan.ApplyArgs())})
		}
		steps = append(steps, root...)
	}
	if skip, ok := FinishSkipped(steps); ok {
		return append(steps, skip), setupErr(steps)
	}
	steps = append(steps, m.SetupFinish(ctx, plan)...)
	return steps, setupErr(steps)
}

// FinishSkipped is the last step of devport setup when the root part
// (whose steps are in steps) did not install name resolution, or did not
// run: the method is then not recorded, so the engine does not ask sudo to
// keep a hosts block that is not there. ok is false when SetupFinish runs.
func FinishSkipped(steps []SetupStep) (SetupStep, bool) {
	for _, s := range steps {
		if s.Step == stepNames && (s.Result == SetupDone || s.Result == SetupAlready) {
			return SetupStep{}, false
		}
	}
	return SetupStep{Step: stepResolve, Result: SetupSkipped,
		Detail: "nothing recorded, since name resolution was not installed (see above); .localhost domains resolve without it"}, true
}

// The steps FinishSkipped looks for.
const (
	stepNames   = "name resolution"
	stepResolve = "names resolve"
)

// SetupUser is the user's part of devport setup: NSS, and the plan of
// what needs root.
func (m *Manager) SetupUser(ctx context.Context, o SetupOptions) ([]SetupStep, SetupPlan, error) {
	if o.Home == "" {
		o.Home, _ = os.UserHomeDir()
	}
	if o.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, SetupPlan{}, fmt.Errorf("find the devport binary: %w", err)
		}
		o.Exe = exe
	}
	if real, err := filepath.EvalSymlinks(o.Exe); err == nil {
		o.Exe = real // setcap sets the file, not a link to it
	}
	steps := []SetupStep{m.setupNSS(ctx, o)}
	plan := SetupPlan{Undo: o.Undo, CA: m.ca.CertPath(), Java: o.Java, Exe: o.Exe, User: o.User}
	if o.Undo {
		plan.Method = dnsNone
		return steps, plan, nil
	}
	switch err := resolve.SplitAvailable(ctx); {
	case err == nil:
		plan.Method, plan.Split = dnsResolver, net.JoinHostPort("127.0.0.1", strconv.Itoa(m.DNSPort(ctx)))
		plan.Reason = "the engine answers .test and .localhost, and the OS sends those names to it"
	default:
		why := err.Error()
		switch {
		case errors.Is(err, resolve.ErrResolvedNotRunning):
			why = "systemd-resolved is not running"
		case errors.Is(err, resolve.ErrNotSupported):
			why = "this system has no split DNS"
		}
		plan.Method = dnsHosts
		plan.Reason = "a managed block in /etc/hosts (split DNS is not available: " + why + ")"
		names, err := m.Domains(ctx)
		if err != nil {
			return steps, plan, err
		}
		plan.Names = names
	}
	return steps, plan, nil
}

// setupNSS trusts (or, undoing, untrusts) the CA in the NSS databases of
// o.Home: Chromium's (created when missing) and each Firefox profile's.
func (m *Manager) setupNSS(ctx context.Context, o SetupOptions) SetupStep {
	step := SetupStep{Step: "CA in your browsers (NSS)"}
	opts := certs.TrustOptions{NSS: true, Home: o.Home}
	before := m.ca.TrustStatus(ctx, opts)
	if trusted(before) == !o.Undo && len(before) > 0 {
		step.Result, step.Detail = SetupAlready, locations(before)
		return step
	}
	change := m.ca.Trust
	if o.Undo {
		change = m.ca.Untrust
	}
	rep, err := change(ctx, opts)
	step.Result, step.Detail = SetupDone, locations(rep)
	var missing *certs.MissingToolError
	switch {
	case errors.As(err, &missing):
		step.Result, step.Detail, step.Fix = SetupSkipped, err.Error(), "sudo apt-get install libnss3-tools, then devport setup again"
	case err != nil:
		step.Result, step.Detail, step.Fix = SetupFailed, err.Error(), "devport trust --system=false shows each database"
	}
	return step
}

// ApplySetup carries out plan as root: the system store (and Java's), name
// resolution, the sudoers grant of the hosts method, and the right to bind
// 443 and 80. It reads nothing but the plan.
func ApplySetup(ctx context.Context, plan SetupPlan) []SetupStep {
	hostsPath := plan.HostsPath
	if hostsPath == "" {
		hostsPath = resolve.DefaultHostsPath
	}
	steps := setupTrust(ctx, plan)
	names := setupNames(ctx, plan, hostsPath)
	grant := setupSudoers(plan)
	if names.Result == SetupFailed && !plan.Undo {
		grant = SetupStep{Step: grant.Step, Result: SetupSkipped, Detail: "no hosts block to keep in step (name resolution failed)"}
	}
	return append(steps, names, grant, setupBind(ctx, plan))
}

// setupTrust trusts or untrusts the CA in the system store, and in Java's
// with plan.Java (undoing, wherever it is).
func setupTrust(ctx context.Context, plan SetupPlan) []SetupStep {
	root, err := certs.OpenRoot(plan.CA)
	if err != nil {
		return []SetupStep{{Step: "CA in the system store", Result: SetupFailed, Detail: err.Error(), Fix: "devport ca names the file; run devport setup again"}}
	}
	var steps []SetupStep
	for _, st := range []struct {
		name string
		opts certs.TrustOptions
		want bool
	}{
		{"CA in the system store (curl, Python, Go)", certs.TrustOptions{System: true}, true},
		{"CA in Java's keystore", certs.TrustOptions{Java: true}, plan.Java},
	} {
		step := SetupStep{Step: st.name}
		before := root.TrustStatus(ctx, st.opts)
		switch {
		case !st.want && !plan.Undo:
			step.Result, step.Detail = SetupSkipped, "add --java for Java, Gradle and Maven"
		case trusted(before) == !plan.Undo:
			step.Result, step.Detail = SetupAlready, locations(before)
		default:
			change := root.Trust
			if plan.Undo {
				change = root.Untrust
			}
			rep, err := change(ctx, st.opts)
			step.Result, step.Detail = SetupDone, locations(rep)
			var missing *certs.MissingToolError
			switch {
			case errors.As(err, &missing) || errors.Is(err, certs.ErrNotSupported):
				step.Result, step.Detail = SetupSkipped, err.Error()
			case err != nil:
				step.Result, step.Detail, step.Fix = SetupFailed, err.Error(), "sudo devport trust shows each store"
			}
		}
		steps = append(steps, step)
	}
	return steps
}

// setupNames installs (or removes) name resolution: the hosts block with
// exactly plan.Names, or the split-DNS drop-in for the responder.
func setupNames(ctx context.Context, plan SetupPlan, hostsPath string) SetupStep {
	step := SetupStep{Step: stepNames}
	if plan.Undo {
		before, _ := os.ReadFile(hostsPath)
		err := resolve.RemoveHosts(ctx, hostsPath)
		if err == nil {
			if err = resolve.RemoveSplit(ctx, resolve.Split{TLDs: managedTLDs}); errors.Is(err, resolve.ErrNotSupported) || errors.Is(err, resolve.ErrResolvedNotRunning) {
				err = nil
			}
		}
		after, _ := os.ReadFile(hostsPath)
		step.Result, step.Detail = SetupDone, "removed devport's block from "+hostsPath+" and its split-DNS file"
		if bytes.Equal(before, after) {
			step.Result, step.Detail = SetupAlready, "devport's block is not in "+hostsPath
		}
		if err != nil {
			step.Result, step.Detail, step.Fix = SetupFailed, err.Error(), "devport dns off"
		}
		return step
	}
	var err error
	switch plan.Method {
	case dnsResolver:
		err = resolve.InstallSplit(ctx, resolve.Split{Addr: plan.Split, TLDs: managedTLDs})
		step.Detail = plan.Reason
	default:
		before, _ := os.ReadFile(hostsPath)
		err = resolve.SetHosts(ctx, hostsPath, plan.Names)
		after, _ := os.ReadFile(hostsPath)
		step.Detail = plan.Reason
		if err == nil && bytes.Equal(before, after) {
			step.Result = SetupAlready
		}
	}
	switch {
	case errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS):
		step.Result, step.Fix = SetupFailed, hostsPath+" cannot be written here (a read-only mount?): use .localhost domains, which need no setup, or run devport setup where the file can be written"
		step.Detail = err.Error()
	case err != nil:
		step.Result, step.Detail, step.Fix = SetupFailed, err.Error(), "devport dns status shows how each name resolves"
	case step.Result == "":
		step.Result = SetupDone
	}
	return step
}

// sudoersMarker is the first line of the grant; a file without it is not
// devport's.
const sudoersMarker = "# managed by devport setup: devport setup --undo removes this file"

// setupSudoers grants plan.User the one command that keeps the hosts block
// in step, without a password: the engine then adds the name of every
// project the user adds (and removes it with the project). The command
// writes only names under the managed TLDs, pointing at loopback (ApplyDNS).
func setupSudoers(plan SetupPlan) SetupStep {
	step := SetupStep{Step: "hosts block follows your projects"}
	dir := plan.SudoersDir
	if dir == "" {
		dir = "/etc/sudoers.d"
	}
	path := filepath.Join(dir, "devport-"+plan.User)
	if plan.Undo {
		step.Result, step.Detail = SetupAlready, "no grant to remove"
		if b, err := os.ReadFile(path); err == nil && bytes.HasPrefix(b, []byte(sudoersMarker)) {
			if err := os.Remove(path); err != nil {
				step.Result, step.Detail, step.Fix = SetupFailed, err.Error(), "sudo rm "+path
				return step
			}
			step.Result, step.Detail = SetupDone, "removed "+path
		}
		return step
	}
	switch {
	case plan.Method != dnsHosts:
		step.Result, step.Detail = SetupSkipped, "the engine's resolver answers every new name itself"
		return step
	case plan.User == "":
		step.Result, step.Detail = SetupSkipped, "devport runs as root, which writes the hosts file itself"
		return step
	case !validUser(plan.User):
		step.Result, step.Detail = SetupFailed, fmt.Sprintf("%q is not a user name sudoers can carry", plan.User)
		return step
	}
	if _, err := os.Stat(dir); err != nil {
		step.Result, step.Detail = SetupSkipped, "no "+dir+" (sudo is not installed): run devport dns hosts after adding a project"
		return step
	}
	// The second line is the same command with no name, when the last
	// project goes.
	body := fmt.Sprintf("%s\n%s ALL=(root) NOPASSWD: %s dns hosts --apply *\n%s ALL=(root) NOPASSWD: %s dns hosts --apply\n",
		sudoersMarker, plan.User, plan.Exe, plan.User, plan.Exe)
	if old, err := os.ReadFile(path); err == nil && string(old) == body {
		step.Result, step.Detail = SetupAlready, path
		return step
	}
	tmp := filepath.Join(dir, ".devport-"+plan.User+".tmp") // sudo ignores names with a dot
	if err := os.WriteFile(tmp, []byte(body), 0o440); err != nil {
		step.Result, step.Detail, step.Fix = SetupFailed, err.Error(), "run devport dns hosts after adding a project"
		return step
	}
	defer os.Remove(tmp)
	if visudo, err := lookTool("visudo"); err == nil {
		if out, err := exec.Command(visudo, "-cf", tmp).CombinedOutput(); err != nil {
			step.Result, step.Detail = SetupFailed, "visudo refused the grant: "+strings.TrimSpace(string(out))
			return step
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		step.Result, step.Detail = SetupFailed, err.Error()
		return step
	}
	step.Result, step.Detail = SetupDone, path+" lets the engine update the hosts block for "+plan.User
	return step
}

// validUser is a user name sudoers can carry as it is.
func validUser(u string) bool {
	for _, r := range u {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return u != "" && u[0] != '-'
}

// setupBind grants (or, undoing, removes) cap_net_bind_service on the
// binary, so it binds 443 and 80 as any user.
func setupBind(ctx context.Context, plan SetupPlan) SetupStep {
	step := SetupStep{Step: "bind ports 443 and 80"}
	setcap, err := lookTool("setcap")
	if err != nil {
		step.Result, step.Detail, step.Fix = SetupFailed, "setcap is not installed", "sudo apt-get install libcap2-bin, then devport setup again"
		return step
	}
	has := hasBindCap(ctx, plan.Exe)
	switch {
	case plan.Undo && !has:
		step.Result, step.Detail = SetupAlready, plan.Exe+" has no capability"
		return step
	case !plan.Undo && has:
		step.Result, step.Detail = SetupAlready, plan.Exe+" may bind them"
		return step
	}
	args := []string{"cap_net_bind_service=+ep", plan.Exe}
	if plan.Undo {
		args = []string{"-r", plan.Exe}
	}
	if out, err := exec.CommandContext(ctx, setcap, args...).CombinedOutput(); err != nil {
		step.Result, step.Detail = SetupFailed, fmt.Sprintf("setcap: %v: %s", err, strings.TrimSpace(string(out)))
		step.Fix = "a file system without capabilities (nosuid?): run devport as root, or sudo sysctl net.ipv4.ip_unprivileged_port_start=80"
		return step
	}
	step.Result, step.Detail = SetupDone, plan.Exe+" may bind them as any user (run devport setup again after rebuilding it)"
	if plan.Undo {
		step.Detail = "removed the capability from " + plan.Exe
	}
	return step
}

// hasBindCap reports whether exe has cap_net_bind_service.
func hasBindCap(ctx context.Context, exe string) bool {
	getcap, err := lookTool("getcap")
	if err != nil {
		return false
	}
	out, _ := exec.CommandContext(ctx, getcap, exe).Output()
	return strings.Contains(string(out), "cap_net_bind_service")
}

// SetupFinish is the last part of devport setup, as the user: the method
// is recorded (the engine keeps the hosts block in step from now on) and
// every project domain is looked up for real.
func (m *Manager) SetupFinish(ctx context.Context, plan SetupPlan) []SetupStep {
	step := SetupStep{Step: stepResolve}
	if plan.Undo {
		if err := m.SetDNSMethod(ctx, dnsNone); err != nil {
			return []SetupStep{{Step: stepResolve, Result: SetupFailed, Detail: err.Error()}}
		}
		return []SetupStep{{Step: stepResolve, Result: SetupDone, Detail: "devport manages no name resolution now"}}
	}
	if err := m.SetDNSMethod(ctx, plan.Method); err != nil {
		return []SetupStep{{Step: stepResolve, Result: SetupFailed, Detail: err.Error()}}
	}
	method, results, err := m.NameStatus(ctx)
	switch {
	case err != nil:
		step.Result, step.Detail = SetupFailed, err.Error()
	case len(results) == 0:
		step.Result, step.Detail = SetupDone, "no project yet: each one added from now on resolves with no further step"
	case method == dnsResolver && m.srv.Load() == nil && !allOK(results):
		step.Result, step.Detail = SetupDone, "the engine answers them once it runs (devport serve, or the window)"
	default:
		var bad []string
		for _, r := range results {
			if !r.OK {
				bad = append(bad, r.Name+": "+r.Detail)
			}
		}
		step.Result, step.Detail = SetupDone, fmt.Sprintf("each project name resolves to this machine (%d checked)", len(results))
		if len(bad) > 0 {
			step.Result, step.Detail = SetupFailed, strings.Join(bad, "; ")
			step.Fix = resolve.HostsFix + " (works behind any VPN), then devport doctor"
		}
	}
	return []SetupStep{step}
}

func allOK(rs []wire.NameResult) bool {
	for _, r := range rs {
		if !r.OK {
			return false
		}
	}
	return true
}

// PrintSetupSteps writes steps as the root part's output, one JSON object
// a line, for the user's part to read (ParseSetupSteps).
func PrintSetupSteps(w *bufio.Writer, steps []SetupStep) error {
	enc := json.NewEncoder(w)
	for _, s := range steps {
		if err := enc.Encode(s); err != nil {
			return err
		}
	}
	return w.Flush()
}

// ParseSetupSteps reads what PrintSetupSteps wrote, skipping any other
// line (a prompt's echo).
func ParseSetupSteps(out []byte) []SetupStep {
	var steps []SetupStep
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var s SetupStep
		if json.Unmarshal(sc.Bytes(), &s) == nil && s.Step != "" {
			steps = append(steps, s)
		}
	}
	return steps
}

func setupErr(steps []SetupStep) error {
	n := 0
	for _, s := range steps {
		if s.Result == SetupFailed {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d setup steps failed; each gives its fix above", n, len(steps))
}

func trusted(r certs.Report) bool {
	if len(r) == 0 {
		return false
	}
	for _, s := range r {
		if !s.Trusted {
			return false
		}
	}
	return true
}

func locations(r certs.Report) string {
	var out []string
	for _, s := range r {
		if s.Location != "" {
			out = append(out, s.Location)
		}
	}
	return strings.Join(out, ", ")
}

// lookTool finds an admin tool on PATH or in the sbin folders, which are
// not on an ordinary user's PATH on Debian.
func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}
