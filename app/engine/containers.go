package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/certs"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
	"github.com/distribution/reference"
)

// SettingImagePrefix + stack ("container.image.php") is the setting that
// names the image of the container runtime for services that name none.
const SettingImagePrefix = wire.SettingImagePrefix

// checkRuntime validates a runtime and an image reference given by a user.
func checkRuntime(runtime, image string) error {
	switch runtime {
	case "", wire.RuntimeProcess, wire.RuntimeContainer:
	default:
		return &store.ValidationError{Field: "runtime", Value: runtime,
			Reason: "unknown runtime", Fix: "use --runtime process or --runtime container"}
	}
	if image != "" {
		if _, err := reference.ParseNormalizedNamed(image); err != nil {
			return &store.ValidationError{Field: "image", Value: image,
				Reason: err.Error(), Fix: "pass an image reference such as --image php:8.3-apache"}
		}
	}
	return nil
}

// checkServiceRuntime checks that a service can run in runtime here: the
// process runtime's programs, or an answering Docker engine.
func checkServiceRuntime(ctx context.Context, runtime, stack, dir string) error {
	if runtime == wire.RuntimeContainer && stack != "" && !stacks.ContainerStack(stack) {
		return &store.ValidationError{Field: "runtime", Value: runtime,
			Reason: "the " + stack + " stack has no container to run", Fix: "use --runtime process"}
	}
	if runtime == wire.RuntimeContainer {
		cli, err := stacks.NewDockerClient()
		if err != nil {
			return err
		}
		defer cli.Close()
		return stacks.PingDocker(ctx, cli)
	}
	return stacks.Check(stack, dir)
}

// containerImage is the service's image, else the image setting of its
// stack, else the stack's default.
func (m *Manager) containerImage(ctx context.Context, s store.Service) string {
	if s.Image != "" {
		return s.Image
	}
	if s.PHP != "" && s.Stack == stackdef.PHP {
		return stacks.PHPImage(s.PHP)
	}
	if v, ok, err := m.db.Setting(ctx, SettingImagePrefix+s.Stack); err == nil && ok && v != "" {
		return v
	}
	return stackdef.DefaultImage(s.Stack)
}

// serviceRunner builds the runner of a service for its runtime, and says
// which PHP a php service runs (php.go).
func (m *Manager) serviceRunner(ctx context.Context, p store.Project, s store.Service, links []stacks.Link) (stacks.Runner, phpChoice, error) {
	var php phpChoice
	if s.Stack == stackdef.PHP {
		var local []string
		if s.Runtime == wire.RuntimeContainer {
			local = m.localPHPImages(ctx)
		}
		var err error
		if php, err = m.choosePHP(ctx, p.Root, s, local); err != nil {
			return nil, php, err
		}
	}
	r, err := m.newServiceRunner(ctx, p, s, links, php)
	return r, php, err
}

func (m *Manager) newServiceRunner(ctx context.Context, p store.Project, s store.Service, links []stacks.Link, php phpChoice) (stacks.Runner, error) {
	spec := stacks.Spec{
		Links:      links,
		Project:    p.Name,
		Service:    s.Name,
		Stack:      s.Stack,
		Dir:        p.Root,
		DocRoot:    s.DocRoot,
		App:        s.App,
		PathPrefix: s.PathPrefix,
		RunDir:     m.paths.ServiceRun(p.Name, s.Name),
		LogPath:    m.paths.ServiceLog(p.Name, s.Name),
		Workers:    s.Workers,
		PHP:        php.version,
		Debug:      s.Debug && stackdef.IsPython(s.Stack),
		DebugPort:  debugPort,
		PHPIni:     p.PHPIni,
		Xdebug:     p.Xdebug && s.Stack == stackdef.PHP,
		XdebugPort: xdebugPort,
		// The data services' variables, then devport.toml's env, after
		// the CA bundle's: the user's own word wins.
		Env: append(dataEnv(p, cmp.Or(s.Runtime, wire.RuntimeProcess)), serviceEnv(s)...),
	}
	if s.Stack == stackdef.PHP && slices.ContainsFunc(p.Data, func(d store.DataService) bool { return d.Stack == stackdef.Mailpit }) {
		spec.Sendmail = stacks.PHPSendmail // mail() reaches Mailpit at MAIL_HOST:MAIL_PORT
	}
	if s.Runtime != wire.RuntimeContainer {
		if err := stacks.Check(s.Stack, p.Root); err != nil {
			return nil, err
		}
		if b := cmp.Or(m.processBundle, m.caBundle); b != "" {
			spec.Env = append(certs.BundleEnv(b), spec.Env...)
		}
		spec.Supervisor = m.supervisor
		return m.newRunner(spec)
	}
	if m.caBundle != "" { // mounted read-only where the container expects it
		spec.CABundle = m.caBundle
		spec.Env = append(certs.BundleEnv(stacks.ContainerCABundle), spec.Env...)
	}
	spec.Image = m.containerImage(ctx, s)
	if php.image != "" {
		spec.Image = php.image
	}
	spec.Home = m.paths.Data
	spec.Progress = m.pullProgress(p.Name, s.Name, spec.Image)
	return stacks.NewContainerRunner(spec)
}

// SetRuntime switches a service of project name to another runtime (and
// image). The new runtime is checked first (Docker answers, or the process
// stack's programs are installed). A running project is restarted on the
// new runtime; when that fails, the old runtime is restored and started
// again, and the store is left as it was.
func (m *Manager) SetRuntime(ctx context.Context, name string, req wire.RuntimeRequest) (store.Project, error) {
	if err := checkRuntime(req.Runtime, req.Image); err != nil {
		return store.Project{}, err
	}
	if req.Runtime == "" {
		return store.Project{}, &store.ValidationError{Field: "runtime", Reason: "missing",
			Fix: "use --runtime process or --runtime container"}
	}
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return store.Project{}, err
	}
	if i := slices.IndexFunc(p.Data, func(d store.DataService) bool { return d.Name == req.Service }); i >= 0 {
		return m.setDataRuntime(ctx, p, p.Data[i], req) // data.go
	}
	var svc *store.Service
	for i := range p.Services {
		s := &p.Services[i]
		if req.Service == s.Name || (req.Service == "" && !stackdef.RunsNothing(s.Stack)) {
			if svc != nil && req.Service == "" {
				return store.Project{}, &store.ValidationError{Field: "service", Reason: "the project has several services",
					Fix: "name one with --service NAME"}
			}
			svc = s
		}
	}
	if svc == nil {
		return store.Project{}, &store.ValidationError{Field: "service", Value: req.Service,
			Reason: "no such service in project " + name, Fix: "see devport ls --json for its services"}
	}
	if svc.Stack == stackdef.Proxy {
		return store.Project{}, &store.ValidationError{Field: "runtime", Value: req.Runtime,
			Reason: "service " + svc.Name + " forwards to a server you run; it has no runtime", Fix: "pick a php or Python service"}
	}
	if svc.Stack == stackdef.Static {
		return store.Project{}, &store.ValidationError{Field: "runtime", Value: req.Runtime,
			Reason: "service " + svc.Name + " is a folder the proxy serves; it has no runtime", Fix: "pick a php or Python service"}
	}
	if err := checkServiceRuntime(ctx, req.Runtime, svc.Stack, p.Root); err != nil {
		return store.Project{}, err
	}
	old := *svc
	image := req.Image
	if image == "" {
		image = old.Image
	}
	if req.PHP != nil { // php.go: checked in the new runtime, before anything changes
		if svc.Stack != stackdef.PHP {
			return store.Project{}, &store.ValidationError{Field: "php", Value: *req.PHP,
				Reason: "service " + svc.Name + " runs " + svc.Stack + ", not php", Fix: "drop --php"}
		}
		next := old
		next.Runtime, next.Image = req.Runtime, image
		if err := m.checkPHPVersion(ctx, p.Name, p.Root, next, *req.PHP); err != nil {
			return store.Project{}, err
		}
	}
	if err := m.db.SetServiceRuntime(ctx, name, svc.Name, req.Runtime, image); err != nil {
		return store.Project{}, err
	}
	if req.PHP != nil {
		if err := m.db.SetServicePHP(ctx, name, svc.Name, *req.PHP); err != nil {
			return store.Project{}, errors.Join(err, m.db.SetServiceRuntime(context.WithoutCancel(ctx), name, old.Name, old.Runtime, old.Image))
		}
	}
	m.mu.Lock()
	_, running := m.runs[name]
	m.mu.Unlock()
	if running {
		if err := m.Restart(ctx, name); err != nil {
			rerr := m.db.SetServiceRuntime(context.WithoutCancel(ctx), name, old.Name, old.Runtime, old.Image)
			if rerr == nil && req.PHP != nil {
				rerr = m.db.SetServicePHP(context.WithoutCancel(ctx), name, old.Name, old.PHP)
			}
			if rerr == nil {
				rerr = m.Start(context.WithoutCancel(ctx), name)
			}
			if rerr != nil {
				err = errors.Join(err, fmt.Errorf("restore runtime %s: %w", old.Runtime, rerr))
			}
			return store.Project{}, fmt.Errorf("switch %s/%s to %s (kept %s): %w", name, svc.Name, req.Runtime, old.Runtime, err)
		}
	}
	m.event(ctx, store.Event{Project: name, Service: svc.Name, Kind: "runtime", Detail: req.Runtime + " " + image})
	m.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	return m.db.Project(ctx, name)
}

// reconcileContainers removes the containers of this data folder that no
// running project owns: those of removed projects, of services that now
// run as processes, and those a killed engine left behind for projects that
// were not started again; then the project networks no running project
// uses. Containers of running projects were adopted by
// their Start. Without Docker there is nothing to do.
func (m *Manager) reconcileContainers(ctx context.Context, out io.Writer) {
	cli, err := stacks.NewDockerClient()
	if err != nil {
		return
	}
	defer cli.Close()
	list, err := stacks.ListContainers(ctx, cli, m.paths.Data)
	if err != nil {
		if !errors.Is(err, stacks.ErrDockerUnavailable) {
			m.log.Warn("list containers", "err", err)
		}
		return
	}
	for _, c := range list {
		m.mu.Lock()
		r := m.runs[c.Project]
		owned := r != nil && r.services[c.Service] != nil
		m.mu.Unlock()
		if owned {
			continue
		}
		if err := stacks.RemoveContainer(ctx, cli, c.ID); err != nil {
			m.log.Warn("remove stale container", "container", c.Name, "err", err)
			continue
		}
		fmt.Fprintf(out, "devport: removed stale container %s (%s/%s)\n", strings.TrimPrefix(c.Name, "/"), c.Project, c.Service)
		m.event(ctx, store.Event{Project: c.Project, Service: c.Service, Kind: "container-removed", Detail: c.ID})
	}
	removed, err := stacks.RemoveIdleNetworks(ctx, cli, m.paths.Data, func(project string) bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.runs[project] != nil
	})
	if err != nil {
		m.log.Warn("remove stale networks", "err", err)
	}
	for _, n := range removed {
		fmt.Fprintf(out, "devport: removed stale network %s\n", n)
	}
}

// removeProjectContainers removes what the container runtime keeps of a
// removed project: stale containers and the installed requirements.
func (m *Manager) removeProjectContainers(ctx context.Context, p store.Project) error {
	uses := false
	for _, s := range p.Services {
		uses = uses || s.Runtime == wire.RuntimeContainer
	}
	if !uses {
		return nil
	}
	cli, err := stacks.NewDockerClient()
	if err != nil {
		return err
	}
	defer cli.Close()
	err = stacks.RemoveContainers(ctx, cli, m.paths.Data, p.Name)
	if errors.Is(err, stacks.ErrDockerUnavailable) {
		return nil // nothing can be running then; the volume stays for a later rm
	}
	return err
}
