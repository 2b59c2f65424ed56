package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/certs"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// Check is one finding of Doctor: what was checked, whether it is fine,
// what was seen, and the command that fixes it when it is not.
type Check struct {
	Name   string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// DoctorOptions say what Doctor may look at beyond the Manager itself.
type DoctorOptions struct {
	Home   string           // whose NSS database to check; default $HOME
	Engine *wire.EngineInfo // the running engine, nil when none runs
}

// Doctor checks what makes https://NAME.test work on this machine: the
// data folder, the CA in each trust store, the ports, name resolution of
// every project domain, and the binaries of every stack in use. Every
// check is done for real, nothing is assumed.
func (m *Manager) Doctor(ctx context.Context, o DoctorOptions) []Check {
	var out []Check
	out = append(out, m.checkDataDir()...)
	out = append(out, m.checkTrust(ctx, o.Home)...)
	out = append(out, checkPorts(o.Engine)...)
	ps, err := m.db.Projects(ctx)
	if err != nil {
		return append(out, Check{Name: "projects", Detail: err.Error(), Fix: "see the error above"})
	}
	out = append(out, m.checkDNSMethod(ctx))
	out = append(out, m.checkResolution(ctx, ps)...)
	out = append(out, checkStacks(ctx, ps)...)
	out = append(out, m.checkData(ctx, ps)...)            // doctor_data.go
	out = append(out, m.checkPython(ctx, ps)...)          // doctor_python.go
	out = append(out, m.checkPHPExtensions(ctx, ps)...)   // doctor_phpext.go
	out = append(out, m.checkXdebugInstalled(ctx, ps)...) // doctor_php.go
	out = append(out, checkDocker(ctx, ps))
	return out
}

// checkDNSMethod says how names are meant to resolve; whether they do is
// the resolve checks' business.
func (m *Manager) checkDNSMethod(ctx context.Context) Check {
	c := Check{Name: "name resolution", OK: true}
	method, err := m.DNSMethod(ctx)
	switch {
	case err != nil:
		c.OK, c.Detail = false, err.Error()
	case method == dnsHosts:
		c.Detail = "a managed block in /etc/hosts, updated as projects come and go"
	case method == dnsResolver:
		c.Detail = fmt.Sprintf("the engine answers DNS on 127.0.0.1:%d", m.DNSPort(ctx))
	default:
		c.Detail = "devport manages none"
		c.Fix = "devport setup"
	}
	return c
}

// checkDocker reports whether a Docker engine answers. It only fails
// when a service is set to run in a container.
func checkDocker(ctx context.Context, ps []store.Project) Check {
	var users []string
	for _, p := range ps {
		for _, s := range p.Services {
			if s.Runtime == wire.RuntimeContainer {
				users = append(users, p.Name+"/"+s.Name)
			}
		}
	}
	c := Check{Name: "docker", OK: true, Detail: "the engine answers"}
	if err := checkServiceRuntime(ctx, wire.RuntimeContainer, "", ""); err != nil {
		c.OK = len(users) == 0
		c.Detail = err.Error()
		if c.OK {
			c.Detail = "not available; only needed for --runtime container (" + c.Detail + ")"
		} else {
			c.Detail = "needed by " + strings.Join(users, ", ") + ": " + c.Detail
			c.Fix = "sudo systemctl start docker (or sudo dockerd)"
		}
	}
	return c
}

func (m *Manager) checkDataDir() []Check {
	c := Check{Name: "data folder", OK: true, Detail: m.paths.Data + " is private to you"}
	fi, err := os.Stat(m.paths.Data)
	switch {
	case err != nil:
		c.OK, c.Detail = false, err.Error()
	case fi.Mode().Perm()&0o066 != 0:
		// Search permission alone (o+x, which devport itself gives as root
		// so that Apache's workers reach the run folder) lists nothing;
		// read or write does.
		c.OK, c.Detail = false, fmt.Sprintf("%s is mode %o: others can list or change the CA and the control socket", m.paths.Data, fi.Mode().Perm())
		c.Fix = "chmod go-rw " + m.paths.Data
	case ownerOf(fi) >= 0 && ownerOf(fi) != os.Geteuid():
		c.OK, c.Detail = false, fmt.Sprintf("%s belongs to uid %d, not you (uid %d)", m.paths.Data, ownerOf(fi), os.Geteuid())
		c.Fix = fmt.Sprintf("sudo chown -R %d %s", os.Geteuid(), m.paths.Data)
	}
	key := Check{Name: "CA key", OK: true, Detail: "readable only by you"}
	kp := m.paths.CA() + "/root-key.pem"
	if fi, err := os.Stat(kp); err != nil {
		key.OK, key.Detail = false, err.Error()
	} else if fi.Mode().Perm()&0o077 != 0 {
		key.OK, key.Detail, key.Fix = false, fmt.Sprintf("%s is mode %o", kp, fi.Mode().Perm()), "chmod 600 "+kp
	}
	limits := Check{Name: "CA limits", OK: true, Detail: "the root signs TLS servers for .test and .localhost only"}
	if m.ca.Legacy() {
		limits.Detail = "the root was made by an older devport: it is limited to .test and .localhost, but not to TLS servers"
		limits.Fix = "devport trust --new-root (then trust the new root: the command does it for the stores it names)"
	}
	return []Check{c, key, limits}
}

func (m *Manager) checkTrust(ctx context.Context, home string) []Check {
	var out []Check
	for _, r := range m.ca.TrustStatus(ctx, certs.TrustOptions{System: true, NSS: true, Home: home}) {
		c := Check{Name: "CA in " + r.Store + " store", OK: r.Trusted, Detail: r.Location}
		if r.Detail != "" {
			c.Detail += " (" + r.Detail + ")"
		}
		if r.Err != nil {
			c.Detail += ": " + r.Err.Error()
		}
		if !r.Trusted {
			c.Fix = "devport setup (it asks for root once)"
		}
		out = append(out, c)
	}
	return out
}

// checkPorts reports the running engine's ports, or whether 443 and 80
// could be bound now.
func checkPorts(engine *wire.EngineInfo) []Check {
	if engine != nil {
		c := Check{Name: "ports", OK: true, Detail: fmt.Sprintf("the engine (pid %d) serves https on %d, http on %d", engine.PID, engine.HTTPSPort, engine.HTTPPort)}
		if engine.HTTPSPort != defaultHTTPSPort {
			c.Detail += "; URLs carry the port"
			c.Fix = "devport setup, then restart the engine, to use 443 and 80"
		}
		return []Check{c}
	}
	var out []Check
	for _, p := range []int{defaultHTTPSPort, defaultHTTPPort} {
		c := Check{Name: "port " + strconv.Itoa(p), OK: true, Detail: "free, and devport may bind it"}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		switch {
		case err == nil:
			l.Close()
		case errors.Is(err, syscall.EACCES):
			c.OK, c.Detail = false, "only root may bind it; devport falls back to 8443/8080"
			c.Fix = "devport setup"
		case errors.Is(err, syscall.EADDRINUSE):
			c.OK, c.Detail = false, "in use by "+describeHolder(p)
			c.Fix = "stop that program, or run devport serve with --https-port/--http-port"
		default:
			c.OK, c.Detail = false, err.Error()
		}
		out = append(out, c)
	}
	return out
}

// checkStacks checks what each service needs in its runtime: the
// programs of its stack, or Docker for a container.
func checkStacks(ctx context.Context, ps []store.Project) []Check {
	var out []Check
	for _, p := range ps {
		for _, s := range p.Services {
			if stackdef.RunsNothing(s.Stack) || s.Runtime == wire.RuntimeContainer {
				continue // external servers need nothing; containers: checkDocker
			}
			c := Check{Name: fmt.Sprintf("stack %s (%s)", s.Stack, p.Name), OK: true, Detail: "installed"}
			if err := stacks.Check(s.Stack, p.Root); err != nil {
				c.OK, c.Detail = false, err.Error()
				var me *stacks.MissingError
				if errors.As(err, &me) {
					c.Fix = "sudo apt-get install " + me.Package
				}
			}
			out = append(out, c)
			if stackdef.IsPHP(s.Stack) {
				out = append(out, checkWorkerWrites(p))
			}
		}
	}
	return out
}

// checkWorkerWrites says whether the account PHP runs as can write the
// project folder. A site that writes nothing works without it, so it is a
// tip, not a failure.
func checkWorkerWrites(p store.Project) Check {
	c := Check{Name: "php writes (" + p.Name + ")", OK: true}
	name, err := stacks.WorkerWrites(p.Root)
	if err != nil {
		c.Detail, c.Fix = err.Error(), "only needed when the app writes its folder (uploads, caches, .htaccess)"
		return c
	}
	c.Detail = "PHP runs as " + name + ", who can write " + p.Root
	return c
}
