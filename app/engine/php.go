package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// Where a php service's version comes from (wire.ServiceStatus.PHPFrom).
const (
	phpFromSet      = "set"           // the service's own (--php, devport.toml)
	phpFromComposer = "composer.json" // the newest that require.php allows
	phpFromNewest   = "newest"        // the newest installed (process)
	phpFromImage    = "image"         // the service's image names it
	phpFromSetting  = "setting"       // container.image.php names it
	phpFromDefault  = "default"       // the container runtime's default image
)

// phpChoice is the PHP a php service runs.
type phpChoice struct {
	version string // "8.2"; "" when devport cannot tell (an image of your own)
	from    string // phpFrom*
	image   string // the container runtime's image
}

// PHPVersions are the host's PHP versions for the process runtime, newest
// first (devport php versions).
func PHPVersions() []stacks.PHPVersion { return stacks.PHPVersions() }

// PHPImages are the PHP versions whose php:X.Y-apache image the Docker
// engine has, newest first; nil without Docker.
func PHPImages(ctx context.Context) ([]string, error) {
	cli, err := stacks.NewDockerClient()
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	if err := stacks.PingDocker(ctx, cli); err != nil {
		return nil, err
	}
	return stacks.LocalPHPImages(ctx, cli)
}

// servedPHP are the versions the process runtime can serve: those with a
// mod_php.
func servedPHP() []string {
	var out []string
	for _, v := range stacks.PHPVersions() {
		if v.Serves() {
			out = append(out, v.Version)
		}
	}
	return out
}

// choosePHP is the PHP version of php service s of a project in folder
// root. In the process runtime: the service's version, which must be
// installed; else the newest installed that composer.json's require.php
// allows; else the newest installed. In the container runtime: the
// service's image, else its version's php:X.Y-apache, else the setting
// container.image.php, else the newest version require.php allows among
// the images present (localImages; nil looks no further), then among the
// official ones, else the default image.
func (m *Manager) choosePHP(ctx context.Context, root string, s store.Service, localImages []string) (phpChoice, error) {
	if s.Runtime != wire.RuntimeContainer {
		have := servedPHP()
		if s.PHP != "" {
			if !slices.Contains(have, s.PHP) {
				return phpChoice{}, stacks.NotInstalledPHP(s.PHP, have)
			}
			return phpChoice{version: s.PHP, from: phpFromSet}, nil
		}
		c, err := composerPHP(root)
		if err != nil {
			return phpChoice{}, err
		}
		if c != "" && len(have) > 0 {
			v, err := stacks.NewestSatisfying(c, have)
			if err != nil {
				return phpChoice{}, &stacks.PHPVersionError{Msg: err.Error() + ": install a version it allows (phpX.Y and libapache2-mod-phpX.Y from Ondřej Surý's packages, https://deb.sury.org), run it in a container (devport set NAME --runtime container uses php:X.Y-apache), or choose one with --php X.Y"}
			}
			return phpChoice{version: v, from: phpFromComposer}, nil
		}
		if len(have) == 0 {
			return phpChoice{}, nil // stacks.Check says what to install
		}
		return phpChoice{version: have[0], from: phpFromNewest}, nil
	}
	if s.Image != "" {
		return phpChoice{version: stacks.PHPOfImage(s.Image), from: phpFromImage, image: s.Image}, nil
	}
	if s.PHP != "" {
		return phpChoice{version: s.PHP, from: phpFromSet, image: stacks.PHPImage(s.PHP)}, nil
	}
	if v, ok, err := m.db.Setting(ctx, SettingImagePrefix+s.Stack); err == nil && ok && v != "" {
		return phpChoice{version: stacks.PHPOfImage(v), from: phpFromSetting, image: v}, nil
	}
	c, err := composerPHP(root)
	if err != nil {
		return phpChoice{}, err
	}
	if c != "" {
		if v, err := stacks.NewestSatisfying(c, localImages); err == nil {
			return phpChoice{version: v, from: phpFromComposer, image: stacks.PHPImage(v)}, nil
		}
		v, err := stacks.NewestSatisfying(c, stacks.OfficialPHPVersions)
		if err != nil {
			return phpChoice{}, &stacks.PHPVersionError{Msg: err.Error() + ", nor an official php:X.Y-apache image: choose a version with --php X.Y, or an image of your own with --image"}
		}
		return phpChoice{version: v, from: phpFromComposer, image: stacks.PHPImage(v)}, nil
	}
	img := stackdef.DefaultPHPImage
	return phpChoice{version: stacks.PHPOfImage(img), from: phpFromDefault, image: img}, nil
}

// composerPHP is composer.json's require.php in root, as a one-line error
// naming the fix when composer.json cannot be read.
func composerPHP(root string) (string, error) {
	if root == "" {
		return "", nil
	}
	c, err := stacks.ComposerPHP(root)
	if err != nil {
		return "", err
	}
	if c != "" {
		if _, err := stacks.PHPConstraint(c); err != nil {
			return "", fmt.Errorf("%w: fix it, or choose a version with --php X.Y", err)
		}
	}
	return c, nil
}

// localPHPImages are the versions with a php:X.Y-apache image present, nil
// when Docker does not answer (the choice then looks at the official
// versions, and the start says what is wrong with Docker). The answer is
// kept for status (knownPHPImages).
func (m *Manager) localPHPImages(ctx context.Context) []string {
	v, err := PHPImages(ctx)
	if err == nil {
		m.phpImages.Store(&v)
	}
	return v
}

// knownPHPImages is what localPHPImages last found, nil before it asked.
func (m *Manager) knownPHPImages() []string {
	if v := m.phpImages.Load(); v != nil {
		return *v
	}
	return nil
}

// checkPHPVersion checks that PHP version v can run service s of project
// (in folder root): installed (process), or with an image present or
// pulled (container), the pull's progress reported as a start reports it;
// for v "" (devport chooses), that the choice works. Each failure is one
// line that names the fix.
func (m *Manager) checkPHPVersion(ctx context.Context, project, root string, s store.Service, v string) error {
	if err := store.ValidatePHPVersion(v); err != nil {
		return err
	}
	if v == "" {
		s.PHP = ""
		var local []string
		if s.Runtime == wire.RuntimeContainer {
			local = m.localPHPImages(ctx)
		}
		_, err := m.choosePHP(ctx, root, s, local)
		return err
	}
	if s.Runtime != wire.RuntimeContainer {
		if have := servedPHP(); !slices.Contains(have, v) {
			return stacks.NotInstalledPHP(v, have)
		}
		return nil
	}
	if s.Image != "" {
		return &store.ValidationError{Field: "php", Value: v, Reason: "service " + s.Name + " runs image " + s.Image + ", which fixes its PHP",
			Fix: "name the version's image instead: devport set NAME --runtime container --image " + stacks.PHPImage(v)}
	}
	cli, err := stacks.NewDockerClient()
	if err != nil {
		return err
	}
	defer cli.Close()
	if err := stacks.PingDocker(ctx, cli); err != nil {
		return err
	}
	local, err := stacks.LocalPHPImages(ctx, cli)
	if err != nil {
		return err
	}
	if slices.Contains(local, v) {
		return nil
	}
	img := stacks.PHPImage(v)
	there := "none is"
	switch len(local) {
	case 0:
	case 1:
		there = local[0] + " is"
	default:
		there = strings.Join(local, ", ") + " are"
	}
	if !slices.Contains(stacks.OfficialPHPVersions, v) {
		return &stacks.PHPVersionError{Msg: fmt.Sprintf("PHP %s has no official image (php:X.Y-apache exists for %s; here %s present): choose one of those with --php, or an image of your own with --image",
			v, strings.Join(stacks.OfficialPHPVersions, ", "), there)}
	}
	pctx, cancel := context.WithTimeout(ctx, phpPullTimeout)
	defer cancel()
	if err := pullPHPImage(pctx, cli, img, m.pullProgress(project, s.Name, img)); err != nil {
		return &stacks.PHPVersionError{Msg: fmt.Sprintf("PHP %s has no image here: %s is not present and the pull failed (%s): docker pull %s when online, docker load a saved copy, or choose a version with an image here (%s present)",
			v, img, oneLine(err.Error()), img, there)}
	}
	return nil
}

// phpPullTimeout bounds the pull of a php image at devport set --php.
var phpPullTimeout = 10 * time.Minute

// pullPHPImage pulls a php image at devport set --php (a test sends it to
// a local registry: no registry with php images is reachable there).
var pullPHPImage = stacks.PullImage

func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// SetPHP sets the PHP version of a php service of project name (devport
// set NAME --php 8.4); service "" is the project's only php service, and
// version "" lets devport choose again. The version is checked first
// (installed, or an image present or pulled). A running project restarts
// on it; when that fails, the old version is restored and started again,
// and the store is left as it was.
func (m *Manager) SetPHP(ctx context.Context, name, service, version string) (store.Project, error) {
	if err := store.ValidatePHPVersion(version); err != nil {
		return store.Project{}, err
	}
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return store.Project{}, err
	}
	svc, err := phpService(p, service)
	if err != nil {
		return store.Project{}, err
	}
	if err := m.checkPHPVersion(ctx, p.Name, p.Root, svc, version); err != nil {
		return store.Project{}, err
	}
	if svc.PHP == version {
		return p, nil
	}
	if err := m.db.SetServicePHP(ctx, name, svc.Name, version); err != nil {
		return store.Project{}, err
	}
	m.mu.Lock()
	_, running := m.runs[name]
	m.mu.Unlock()
	if running {
		if err := m.Restart(ctx, name); err != nil {
			rerr := m.db.SetServicePHP(context.WithoutCancel(ctx), name, svc.Name, svc.PHP)
			if rerr == nil {
				rerr = m.Start(context.WithoutCancel(ctx), name)
			}
			if rerr != nil {
				err = errors.Join(err, fmt.Errorf("restore php %q: %w", svc.PHP, rerr))
			}
			return store.Project{}, fmt.Errorf("php %s/%s %s (kept %q): %w", name, svc.Name, version, svc.PHP, err)
		}
	}
	m.event(ctx, store.Event{Project: name, Service: svc.Name, Kind: "php", Detail: version})
	m.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	return m.db.Project(ctx, name)
}

// phpService is the service of p that --php names: service, or the only
// php one.
func phpService(p store.Project, service string) (store.Service, error) {
	s, err := namedOrOnly(p, service, "php", stackdef.IsPHP, &store.ValidationError{Field: "php",
		Reason: "project " + p.Name + " has no php service", Fix: "--php is for the php stack"})
	if err != nil {
		return store.Service{}, err
	}
	if s.Stack != stackdef.PHP {
		return store.Service{}, &store.ValidationError{Field: "php", Value: service,
			Reason: "service " + service + " runs " + s.Stack + ", not php", Fix: "--php is for the php stack"}
	}
	return s, nil
}

// planPHP gives the php service of a new project its version, checked
// (devport add --php): installed for the process runtime, with an image
// for the container runtime. Without one, the choice devport makes must
// work: composer.json's require.php must be satisfiable.
func (m *Manager) planPHP(ctx context.Context, project, root string, svc *store.Service, version string) error {
	if version != "" && svc.Stack != stackdef.PHP {
		return &store.ValidationError{Field: "php", Value: version,
			Reason: "only the php stack has a PHP version (this is " + svc.Stack + ")", Fix: "drop --php"}
	}
	if svc.Stack != stackdef.PHP {
		return nil
	}
	if err := m.checkPHPVersion(ctx, project, root, *svc, version); err != nil {
		return err
	}
	svc.PHP = version
	return nil
}

// shownPHP is the PHP version status shows for php service s (with the
// image of a container): what the running service runs, else what a start
// would choose among the images Docker had when last asked (it is not
// asked again here: status runs under the Manager's lock).
func (m *Manager) shownPHP(p store.Project, s store.Service, r *run, image string) (version, from, img string) {
	if r != nil {
		if sr := r.services[s.Name]; sr != nil && sr.php.from != "" {
			return sr.php.version, sr.php.from, cmp.Or(sr.php.image, image)
		}
	}
	c, err := m.choosePHP(context.Background(), p.Root, s, m.knownPHPImages())
	if err != nil {
		return "", "", image
	}
	return c.version, c.from, cmp.Or(c.image, image)
}

// planFilePHP checks the PHP of the php services of a project planned from
// its devport.toml (php = "8.3"), after devport add --php, which sets the
// version of its only php service.
func (m *Manager) planFilePHP(ctx context.Context, req wire.AddRequest, p *store.Project) error {
	found := false
	for i := range p.Services {
		s := &p.Services[i]
		if s.Stack != stackdef.PHP {
			continue
		}
		v := s.PHP
		if req.PHP != "" {
			if found {
				return &store.ValidationError{Field: "php", Value: req.PHP, Reason: "the project has several php services",
					Fix: "set each one's php in devport.toml"}
			}
			v = req.PHP
		}
		found = true
		if err := m.planPHP(ctx, p.Name, p.Root, s, v); err != nil {
			return fmt.Errorf("services.%s: %w", s.Name, err)
		}
	}
	if req.PHP != "" && !found {
		return &store.ValidationError{Field: "php", Value: req.PHP, Reason: "the project has no php service", Fix: "drop --php"}
	}
	return nil
}
