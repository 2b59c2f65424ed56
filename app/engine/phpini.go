package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// This file holds a project's PHP settings (issue 14, items 2 and 3): its
// php.ini directives (devport set NAME --php-ini) and Xdebug on demand
// (devport xdebug NAME on|off). stacks writes them into the project's ini
// for the site and for devport php alike (stacks/phpini.go).

// xdebugPort is xdebug.client_port, where the IDE listens
// (stacks.DefaultXdebugPort, 9003); tests point it at a free port.
var xdebugPort = stacks.DefaultXdebugPort

// SetPHPIni adds or replaces the php.ini directives set of project name
// and removes those of unset. Bad keys or values are refused and nothing
// changes. A running project restarts to apply them; when that fails,
// the old settings come back and the project starts as before.
func (m *Manager) SetPHPIni(ctx context.Context, name string, set map[string]string, unset []string) (store.Project, error) {
	if len(set) == 0 && len(unset) == 0 {
		return store.Project{}, &store.ValidationError{Field: "php.ini", Reason: "nothing to change",
			Fix: "devport set NAME --php-ini KEY=VALUE, or --php-ini-unset KEY"}
	}
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return store.Project{}, err
	}
	if _, err := phpServiceOf(p, "devport set --php-ini"); err != nil {
		return store.Project{}, err
	}
	old := p.PHPIni
	if _, err := m.db.SetPHPIni(ctx, name, set, unset); err != nil {
		return store.Project{}, err
	}
	if err := m.restartFor(ctx, name, func(ctx context.Context) error {
		var added []string // keys set that the project did not have
		for k := range set {
			if _, ok := old[k]; !ok {
				added = append(added, k)
			}
		}
		_, err := m.db.SetPHPIni(ctx, name, old, added)
		return err
	}); err != nil {
		return store.Project{}, fmt.Errorf("php.ini of %s (kept as it was): %w", name, err)
	}
	m.event(ctx, store.Event{Project: name, Kind: "php.ini", Detail: phpIniDetail(set, unset)})
	m.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	return m.db.Project(ctx, name)
}

// phpIniDetail is the event detail of a php.ini change.
func phpIniDetail(set map[string]string, unset []string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(set)) {
		parts = append(parts, k+"="+set[k])
	}
	for _, k := range unset {
		parts = append(parts, "-"+k)
	}
	return strings.Join(parts, " ")
}

// SetXdebug turns Xdebug of project name's PHP on or off (devport xdebug
// NAME on|off). On needs Xdebug installed for the PHP the project runs:
// the host's (process runtime) or, for a running container, the image's;
// without it the error names the fix and nothing changes. A running
// project restarts to apply it; when that fails, the flag goes back and
// the project starts as before. Turning it on when it is on (or off when
// off) changes nothing.
func (m *Manager) SetXdebug(ctx context.Context, name string, on bool) (store.Project, error) {
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return store.Project{}, err
	}
	s, err := phpServiceOf(p, "devport xdebug")
	if err != nil {
		return store.Project{}, err
	}
	if p.Xdebug == on {
		return p, nil
	}
	if on {
		if err := m.checkXdebug(ctx, p, s); err != nil {
			return store.Project{}, err
		}
	}
	if err := m.db.SetXdebug(ctx, name, on); err != nil {
		return store.Project{}, err
	}
	if err := m.restartFor(ctx, name, func(ctx context.Context) error { return m.db.SetXdebug(ctx, name, !on) }); err != nil {
		return store.Project{}, fmt.Errorf("xdebug %s %s (kept %s): %w", name, onOff(on), onOff(!on), err)
	}
	m.event(ctx, store.Event{Project: name, Service: s.Name, Kind: "xdebug", Detail: onOff(on)})
	m.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	return m.db.Project(ctx, name)
}

// checkXdebug says whether the PHP of service s of p has Xdebug: the
// host's in the process runtime; in the container runtime the running
// container's (a stopped one is checked when it starts: PHP then warns in
// the service log).
func (m *Manager) checkXdebug(ctx context.Context, p store.Project, s store.Service) error {
	if s.Runtime == wire.RuntimeContainer {
		id, err := m.runningContainer(ctx, p, s)
		if err != nil {
			return nil //nolint:nilerr // not running: nothing to ask yet
		}
		cli, err := stacks.NewDockerClient()
		if err != nil {
			return err
		}
		defer cli.Close()
		if has, err := stacks.ContainerHasXdebug(ctx, cli, id); err != nil || has {
			return err
		}
		return &store.ValidationError{Field: "xdebug", Value: "on",
			Reason: stacks.ErrNoXdebug.Error() + " in the image of " + p.Name + "/" + s.Name,
			Fix:    "use an image with Xdebug (pecl install xdebug in a Dockerfile FROM php:X.Y-apache), or the process runtime with apt install php-xdebug"}
	}
	want := m.processPHP(ctx, p, s)
	version, ok, err := hostXdebug(ctx, want)
	if err != nil {
		return err
	}
	if !ok {
		return &store.ValidationError{Field: "xdebug", Value: "on", Reason: stacks.ErrNoXdebug.Error() + " (PHP " + version + ")",
			Fix: stacks.XdebugFix(want) + ", then devport xdebug " + p.Name + " on"}
	}
	return nil
}

// hostXdebug says whether the host's PHP of version ("" for the default)
// has Xdebug, and its version; tests replace it to see the "not
// installed" path on a host that has it.
var hostXdebug = func(ctx context.Context, version string) (string, bool, error) {
	php, err := stacks.HostPHP(ctx, version)
	if err != nil {
		return "", false, err
	}
	return php.Version, php.HasXdebug(ctx), nil
}

// restartFor restarts project name, when it runs, to apply a change
// already stored; when that fails, undo puts the old value back and the
// project starts as before.
func (m *Manager) restartFor(ctx context.Context, name string, undo func(context.Context) error) error {
	m.mu.Lock()
	_, running := m.runs[name]
	m.mu.Unlock()
	if !running {
		return nil
	}
	err := m.Restart(ctx, name)
	if err == nil {
		return nil
	}
	rerr := undo(context.WithoutCancel(ctx))
	if rerr == nil {
		rerr = m.Start(context.WithoutCancel(ctx), name)
	}
	if rerr != nil {
		err = errors.Join(err, fmt.Errorf("restore: %w", rerr))
	}
	return err
}

// phpService is the php service of p (the one that runs Apache and PHP);
// what names the command for the error when there is none.
func phpServiceOf(p store.Project, what string) (store.Service, error) {
	for _, s := range p.Services {
		if s.Stack == stackdef.PHP {
			return s, nil
		}
	}
	var names []string
	for _, s := range p.Services {
		names = append(names, s.Name+" ("+s.Stack+")")
	}
	return store.Service{}, &store.ValidationError{Field: "project", Value: p.Name,
		Reason: "has no php service (its services: " + strings.Join(names, ", ") + ")",
		Fix:    what + " is for projects with a php service"}
}

// composerPhar is a project's own Composer, preferred over the host's.
const composerPhar = "composer.phar"

// hostComposer is Debian's composer package (a PHP script): devport runs
// it with the project's php, not the one its #! line names.
var hostComposer = "/usr/bin/composer"

// PHPCommand is the command that runs req.Tool for the php service of
// project name as its site runs:
//
//   - php: the project's PHP with req.Args;
//   - composer: the project's composer.phar, else Debian's composer, run
//     by that PHP.
//
// In the process runtime it is the host's PHP reading the project's
// php.ini (PHP_INI_SCAN_DIR: the development defaults, [php.ini], Xdebug
// when on), in the project folder, with the environment the site gets;
// whether the project runs or not. In the container runtime it runs
// inside the service's running container (docker exec), whose
// environment is the site's, so the project must run.
func (m *Manager) PHPCommand(ctx context.Context, name string, req wire.PHPCommandRequest) (wire.Command, error) {
	switch req.Tool {
	case wire.ToolPHP, wire.ToolComposer:
	default:
		return wire.Command{}, &store.ValidationError{Field: "tool", Value: req.Tool, Reason: "unknown",
			Fix: "use devport php or devport composer"}
	}
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return wire.Command{}, err
	}
	s, err := phpServiceOf(p, "devport "+req.Tool)
	if err != nil {
		return wire.Command{}, err
	}
	if s.Runtime == wire.RuntimeContainer {
		id, err := m.runningContainer(ctx, p, s)
		if err != nil {
			return wire.Command{}, err
		}
		return phpContainerExec(id, p.Name, p.Root, req), nil
	}
	spec := m.phpSpec(p, s)
	spec.PHP = m.processPHP(ctx, p, s)
	php, iniEnv, err := stacks.PHPCLI(ctx, spec)
	if err != nil {
		return wire.Command{}, err
	}
	argv := []string{php}
	if req.Tool == wire.ToolComposer {
		switch {
		case isFile(filepath.Join(p.Root, composerPhar)):
			argv = append(argv, composerPhar)
		case isFile(hostComposer):
			argv = append(argv, hostComposer)
		default:
			return wire.Command{}, &store.ValidationError{Field: "composer", Value: p.Root,
				Reason: "Composer is not installed, and the project has no " + composerPhar,
				Fix:    "apt install composer, or put composer.phar in " + p.Root}
		}
	}
	env := append(processEnv(p, s, m.processCABundle()), iniEnv...)
	return wire.Command{Argv: append(argv, req.Args...), Env: env, Dir: p.Root}, nil
}

// processPHP is the PHP version service s of p runs in the process
// runtime, as a start chooses it (choosePHP); "" (the host's default) when
// it cannot be chosen, which the start then reports.
func (m *Manager) processPHP(ctx context.Context, p store.Project, s store.Service) string {
	c, err := m.choosePHP(ctx, p.Root, s, nil)
	if err != nil {
		return ""
	}
	return c.version
}

// phpSpec is the part of service s's stacks.Spec that its PHP
// configuration follows from, as serviceRunner builds it.
func (m *Manager) phpSpec(p store.Project, s store.Service) stacks.Spec {
	spec := stacks.Spec{Project: p.Name, Service: s.Name, Stack: s.Stack, Dir: p.Root,
		RunDir: m.paths.ServiceRun(p.Name, s.Name), PHPIni: p.PHPIni, Xdebug: p.Xdebug, XdebugPort: xdebugPort}
	if slices.ContainsFunc(p.Data, func(d store.DataService) bool { return d.Stack == stackdef.Mailpit }) {
		spec.Sendmail = stacks.PHPSendmail
	}
	return spec
}

// containerPHP runs php, or Composer with it, in a php container as its
// site runs: in the project folder, with the container's environment
// (PHP_INI_SCAN_DIR included). Composer is the project's composer.phar,
// else the image's composer; with neither (the official php:X.Y-apache
// images have no Composer) it prints DEVPORT_NO_COMPOSER, one line naming
// the fixes (noComposerInContainer), and exits 127 as a shell does for a
// missing command.
const containerPHP = `cd /var/www/html || exit 1
if [ "$DEVPORT_TOOL" = composer ]; then
    if [ -f composer.phar ]; then
        exec php composer.phar "$@"
    fi
    if command -v composer >/dev/null 2>&1; then
        exec composer "$@"
    fi
    echo "$DEVPORT_NO_COMPOSER" >&2
    exit 127
fi
exec php "$@"`

// noComposerInContainer is what devport composer says when project's
// container has no Composer: the fixes, in one line.
func noComposerInContainer(project, root string) string {
	return fmt.Sprintf("devport: %s's container has no Composer (php:X.Y-apache images have none): put composer.phar in %s, "+
		"or run the project as a process with the host's Composer: devport set %s --runtime process (or use an image with Composer: --image)",
		project, root, project)
}

// phpContainerExec is docker exec of req in container id of project, as
// the folder's owner when that is not root (the site's workers write as
// that user, so vendor/ does too).
func phpContainerExec(id, project, root string, req wire.PHPCommandRequest) wire.Command {
	argv := []string{"docker", "exec", "-i"}
	if req.TTY {
		argv = append(argv, "-t")
	}
	if uid, gid, ok := folderOwner(root); ok && uid != 0 {
		argv = append(argv, "-u", fmt.Sprintf("%d:%d", uid, gid), "-e", "HOME=/tmp")
	}
	argv = append(argv, "-e", "DEVPORT_TOOL="+req.Tool)
	if req.Tool == wire.ToolComposer {
		argv = append(argv, "-e", "DEVPORT_NO_COMPOSER="+noComposerInContainer(project, root))
	}
	argv = append(argv, id, "sh", "-c", containerPHP, "devport-"+req.Tool)
	return wire.Command{Argv: append(argv, req.Args...)}
}
