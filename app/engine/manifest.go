package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/manifest"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// This file converts between devport.toml (package manifest) and the
// store: `devport add` of a folder with a devport.toml or the split shape,
// `devport init` and `devport export-config`.

// splitPrefix is where the split shape serves its API: the folder name.
const splitPrefix = "/api"

// addSource says where a folder add takes its services from: the folder's
// devport.toml (from is its path), the split shape found by detection
// (from is "detected"), or neither (ok false: plan() handles the request,
// as for a single detected service or --stack). A devport.toml that does
// not parse is an error naming the file, line and key, and nothing is
// stored.
func addSource(req wire.AddRequest) (f manifest.File, from string, ok bool, err error) {
	if req.Proxy != "" || req.Dir == "" {
		return manifest.File{}, "", false, nil
	}
	dir, err := filepath.Abs(req.Dir)
	if err != nil {
		return manifest.File{}, "", false, err
	}
	path := filepath.Join(dir, manifest.FileName)
	if _, err := os.Stat(path); err == nil {
		runtime := "" // --runtime process is the flag's default, so only container counts
		if req.Runtime == wire.RuntimeContainer {
			runtime = req.Runtime
		}
		for _, fl := range []struct{ name, value string }{{"stack", req.Stack}, {"app", req.App}, {"image", req.Image},
			{"chain", req.Chain}, {"runtime", runtime}} {
			if fl.value != "" {
				return manifest.File{}, "", false, &store.ValidationError{Field: fl.name, Value: fl.value,
					Reason: path + " describes the services", Fix: "set it per service in the file, or drop --" + fl.name}
			}
		}
		f, err := manifest.Parse(path)
		if err != nil {
			return manifest.File{}, "", false, err
		}
		return f, path, true, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return manifest.File{}, "", false, fmt.Errorf("%s: %w", path, err)
	}
	if req.Stack != "" || req.App != "" || req.Chain != "" {
		return manifest.File{}, "", false, nil
	}
	if f, ok := detectSplit(dir); ok {
		if req.Image != "" {
			return manifest.File{}, "", false, &store.ValidationError{Field: "image", Value: req.Image,
				Reason: "the folder has two services (php at /, uvicorn at /api) and --image names one image",
				Fix:    "set container.image.php and container.image.uvicorn with devport config set, or devport set NAME --service S --image IMAGE after adding"}
		}
		if req.Runtime == wire.RuntimeContainer { // --runtime applies to every service of the shape
			for n, s := range f.Services {
				s.Runtime = wire.RuntimeContainer
				f.Services[n] = s
			}
		}
		return f, "detected", true, nil
	}
	return manifest.File{}, "", false, nil
}

// detectSplit recognises the split shape: a PHP folder with an api/
// subfolder holding a FastAPI (or Starlette) app. It becomes service web
// (php at "/") and service api (uvicorn at /api). uvicorn runs in the
// project folder (--app-dir), so the app is imported as api.main:app (api/
// is a namespace package, no __init__.py needed; imports inside it are
// then "from api.models import ...", or relative); /api reaches the app as
// its root_path, the proxy strips it from the path.
func detectSplit(dir string) (manifest.File, bool) {
	d, err := stacks.Detect(dir)
	if err != nil || d.Stack != stackdef.PHP {
		return manifest.File{}, false
	}
	api, err := stacks.Detect(filepath.Join(dir, strings.TrimPrefix(splitPrefix, "/")))
	if err != nil || api.Stack != stackdef.Uvicorn || !strings.HasPrefix(api.App, "main:") && !strings.HasPrefix(api.App, "app:") {
		return manifest.File{}, false
	}
	web := manifest.Service{Stack: stackdef.PHP}
	if d.DocRoot != "" {
		web.DocRoot = relTo(dir, d.DocRoot)
	}
	return manifest.File{Services: map[string]manifest.Service{
		"web": web,
		"api": {Stack: stackdef.Uvicorn, Prefix: splitPrefix, App: strings.TrimPrefix(splitPrefix, "/") + "." + api.App},
	}}, true
}

// detectFile is what `devport init` writes for dir: the split shape, else
// the one service stacks.Detect finds, named and on NAME.test, with every
// route detection makes for it (the /static of a Python app), so that
// `devport add` of the folder with this file stores what it would have
// stored without it.
func detectFile(dir string) (manifest.File, error) {
	f, ok := detectSplit(dir)
	if !ok {
		d, err := stacks.Detect(dir)
		if err != nil {
			return manifest.File{}, err
		}
		s := manifest.Service{Stack: d.Stack, App: d.App}
		if d.DocRoot != "" {
			s.DocRoot = relTo(dir, d.DocRoot)
		}
		f = manifest.File{Services: map[string]manifest.Service{"web": s}}
		p := store.Project{Root: dir, Services: []store.Service{{Name: "web", Stack: d.Stack, App: d.App,
			DocRoot: d.DocRoot, PathPrefix: "/", Runtime: wire.RuntimeProcess}}}
		for _, r := range staticFolderRoutes(p) { // the routes planAdd adds after detection
			mr, err := manifestRoute(dir, r)
			if err != nil {
				return manifest.File{}, err
			}
			f.Routes = append(f.Routes, mr)
		}
	}
	f.Name = nameFromFolder(dir)
	f.Domains = []string{f.Name + ".test"}
	return f, nil
}

func relTo(dir, path string) string {
	if rel, err := filepath.Rel(dir, path); err == nil {
		return filepath.ToSlash(rel)
	}
	return path
}

// planFile turns a devport.toml (already validated) into the project and
// routes to store. --name and --domain override the file's name and
// domains.
func planFile(ctx context.Context, req wire.AddRequest, f manifest.File) (store.Project, []store.Route, error) {
	dir, err := filepath.Abs(req.Dir)
	if err != nil {
		return store.Project{}, nil, err
	}
	name := cmp.Or(req.Name, f.Name, nameFromFolder(dir))
	domains := f.Domains
	if req.Domain != "" {
		domains = []string{req.Domain}
	}
	if len(domains) == 0 {
		domains = []string{name + ".test"}
	}
	p := store.Project{Name: name, Root: dir, Domains: domains, BeforeStart: f.Hooks.BeforeStart,
		FollowBranch: f.Database.FollowGitBranch, PHPIni: f.PHP.Settings()}
	for _, sn := range sortedKeys(f.Services) {
		s := f.Services[sn]
		if stack := stackdef.Canonical(s.Stack); stackdef.IsData(stack) {
			// Its port and password come at store time (planData).
			p.Data = append(p.Data, store.DataService{Name: sn, Stack: stack, Runtime: cmp.Or(s.Runtime, wire.RuntimeProcess),
				Image: s.Image, Version: s.Version})
			continue
		}
		svc := store.Service{Name: sn, Stack: s.Stack, Runtime: cmp.Or(s.Runtime, wire.RuntimeProcess), Image: s.Image, PHP: s.PHP,
			App: s.App, PathPrefix: cmp.Or(s.Prefix, "/"), Workers: s.Workers, Env: s.Env,
			NoReload: s.Reload != nil && !*s.Reload, ReloadInclude: s.ReloadInclude, ReloadExclude: s.ReloadExclude}
		if s.DocRoot != "" {
			svc.DocRoot = filepath.Join(dir, filepath.FromSlash(s.DocRoot))
		}
		if err := checkServiceRuntime(ctx, svc.Runtime, svc.Stack, dir); err != nil {
			return store.Project{}, nil, fmt.Errorf("%s: services.%s: %w", filepath.Join(dir, manifest.FileName), sn, err)
		}
		p.Services = append(p.Services, svc)
	}
	var routes []store.Route
	for _, r := range f.Routes {
		sr := store.Route{Project: name, PathPrefix: r.Prefix, StripPrefix: r.Strip, CacheControl: r.CacheControl}
		switch {
		case r.Service != "":
			sr.Kind, sr.Target = store.RouteService, r.Service
		case r.Static != "":
			sr.Kind, sr.Target = store.RouteStatic, filepath.Join(dir, filepath.FromSlash(r.Static))
			if err := checkStaticFolder("routes."+r.Prefix+".static", dir, sr.Target); err != nil {
				return store.Project{}, nil, fmt.Errorf("%s: %w", filepath.Join(dir, manifest.FileName), err)
			}
		default:
			sr.Kind, sr.Target = store.RouteURL, r.URL
		}
		routes = append(routes, sr)
	}
	return p, routes, nil
}

// addPlanned stores a project planned from a devport.toml or the split
// shape, with its routes. store.AddRoute opens its own write transaction,
// so the routes cannot share AddProject's: the project is stored first,
// then its routes, and when a route fails the project is removed again,
// so nothing half-written remains.
func (m *Manager) addPlanned(ctx context.Context, p store.Project, routes []store.Route) (store.Project, error) {
	return m.storePlanned(ctx, p, routes, "")
}

// storePlanned is addPlanned for a project of the parked folder parked
// (app/engine/park.go), or of none when parked is "".
func (m *Manager) storePlanned(ctx context.Context, p store.Project, routes []store.Route, parked string) (store.Project, error) {
	if err := m.planData(ctx, &p); err != nil {
		return store.Project{}, err
	}
	var err error
	if parked != "" {
		p, err = m.db.AddParkedProject(ctx, p, parked)
	} else {
		p, err = m.db.AddProject(ctx, p)
	}
	if err != nil {
		return store.Project{}, err
	}
	for _, r := range routes {
		if _, err := m.db.AddRoute(ctx, r); err != nil {
			if rmErr := m.db.RemoveProject(context.WithoutCancel(ctx), p.Name); rmErr != nil {
				return store.Project{}, errors.Join(err, rmErr)
			}
			return store.Project{}, fmt.Errorf("route %s: %w", r.PathPrefix, err)
		}
	}
	// The same announcements as Add's. A scan of a parked folder writes
	// the hosts block once for all it added (scanParked).
	m.event(ctx, store.Event{Project: p.Name, Kind: "added", Detail: p.Domains[0]})
	m.publish()
	if parked == "" {
		m.syncHosts(ctx)
	}
	m.emit(wire.Event{Kind: wire.EventAdded, Project: p.Name})
	m.issueCert(p.Domains[0])
	return p, nil
}

// addFromFile is Add for a folder with a devport.toml or the split shape;
// ok is false when the request is for plan() instead.
func (m *Manager) addFromFile(ctx context.Context, req wire.AddRequest) (p store.Project, ok bool, err error) {
	p, routes, ok, err := planFromFile(ctx, req)
	if err != nil || !ok {
		return store.Project{}, ok, err
	}
	if err := m.planFilePHP(ctx, req, &p); err != nil {
		return store.Project{}, true, err
	}
	p, err = m.addPlanned(ctx, p, routes)
	return p, true, err
}

// planFromFile is what addFromFile stores, before it is stored.
func planFromFile(ctx context.Context, req wire.AddRequest) (p store.Project, routes []store.Route, ok bool, err error) {
	f, _, ok, err := addSource(req)
	if err != nil || !ok {
		return store.Project{}, nil, ok, err
	}
	if err := checkRuntime(req.Runtime, ""); err != nil {
		return store.Project{}, nil, true, err
	}
	p, routes, err = planFile(ctx, req, f)
	return p, routes, true, err
}

// DescribeAdd says what `devport add` will create for req, one line per
// service and route, before anything is created: from the folder's
// devport.toml, the split shape, or single-service detection. It returns
// the devport.toml's error when the file does not parse.
func DescribeAdd(req wire.AddRequest) (string, error) {
	f, from, ok, err := addSource(req)
	if err != nil {
		return "", err
	}
	if !ok {
		if req.Proxy != "" || req.Dir == "" || req.Stack != "" {
			return "", nil
		}
		d, err := stacks.Detect(req.Dir)
		if err != nil {
			return "", nil // plan() reports it with the fix
		}
		out := fmt.Sprintf("detected:\n  %s\n", describeService("web", manifest.Service{Stack: d.Stack, App: d.App, DocRoot: relTo(req.Dir, d.DocRoot)}))
		notes := folderNotes(req.Dir, d.Stack) // app/static.go
		if stackdef.IsPython(d.Stack) {
			// django.go: the settings' routes, and what they would refuse.
			domain := cmp.Or(req.Domain, cmp.Or(req.Name, nameFromFolder(req.Dir))+".test")
			if dj, routes, ok := djangoNotes(context.Background(), req.Dir, d.Stack, domain); ok {
				if len(routes) > 0 { // they replace static/ at /static
					notes = slices.DeleteFunc(notes, func(n string) bool { return strings.HasPrefix(n, "static/ ") })
				}
				notes = append(notes, dj...)
			}
		}
		for _, n := range notes {
			out += "  " + n + "\n"
		}
		return out + describeData(req), nil
	}
	var b strings.Builder
	if from == "detected" {
		b.WriteString("detected (PHP with an API in api/):\n")
	} else {
		fmt.Fprintf(&b, "from %s:\n", from)
	}
	for _, sn := range sortedKeys(f.Services) {
		fmt.Fprintf(&b, "  %s\n", describeService(sn, f.Services[sn]))
	}
	for _, r := range f.Routes {
		fmt.Fprintf(&b, "  %s\n", describeRoute(r))
	}
	if f.Hooks.BeforeStart != "" {
		fmt.Fprintf(&b, "  before start: %s\n", f.Hooks.BeforeStart)
	}
	return b.String(), nil
}

// describeRoute is one line for a route of a devport.toml.
func describeRoute(r manifest.Route) string {
	target := cmp.Or(r.Service, r.Static, r.URL)
	kind := "service"
	if r.Static != "" {
		kind = "static"
	} else if r.URL != "" {
		kind = "url"
	}
	return fmt.Sprintf("route %s → %s %s", r.Prefix, kind, target)
}

func describeService(name string, s manifest.Service) string {
	if stack := stackdef.Canonical(s.Stack); stackdef.IsData(stack) {
		line := fmt.Sprintf("data service %s: %s", name, stack)
		if s.Version != "" {
			line += " " + s.Version
		}
		if s.Runtime == wire.RuntimeContainer {
			line += ", in a container"
		}
		return line
	}
	line := fmt.Sprintf("service %s: %s at %s", name, s.Stack, cmp.Or(s.Prefix, "/"))
	if s.App != "" {
		line += ", app " + s.App
	}
	if s.DocRoot != "" && s.DocRoot != "." {
		line += ", docroot " + s.DocRoot
	}
	if s.Runtime == wire.RuntimeContainer {
		line += ", in a container"
	}
	if s.Workers > 0 {
		line += fmt.Sprintf(", %d workers", s.Workers)
	}
	return line
}

// InitFile writes DIR/devport.toml from what detection finds (`devport
// init`), refusing to overwrite one unless force. It returns the file's
// path and one line per service it describes.
func InitFile(dir string, force bool) (string, []string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, err
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return "", nil, fmt.Errorf("devport init %s: not a folder: pass an existing project folder", dir)
	}
	f, err := detectFile(abs)
	if err != nil {
		return "", nil, fmt.Errorf("devport init %s: %w", dir, err)
	}
	if err := f.Validate(); err != nil { // detection gave something the file cannot hold
		return "", nil, fmt.Errorf("devport init %s: %w", dir, err)
	}
	path := filepath.Join(abs, manifest.FileName)
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	if err := writeFile(path, flags, manifest.Write(f)); err != nil {
		if errors.Is(err, os.ErrExist) {
			return "", nil, fmt.Errorf("%s already exists: edit it, or overwrite it with devport init --force %s", path, dir)
		}
		return "", nil, err
	}
	var lines []string
	for _, sn := range sortedKeys(f.Services) {
		lines = append(lines, describeService(sn, f.Services[sn]))
	}
	for _, r := range f.Routes {
		lines = append(lines, describeRoute(r))
	}
	return path, lines, nil
}

func writeFile(path string, flags int, data []byte) error {
	fh, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return err
	}
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// ExportConfig is project name as a devport.toml (`devport
// export-config`), the path of the project folder's devport.toml, and
// warnings about what the file cannot hold.
func (m *Manager) ExportConfig(ctx context.Context, name string) ([]byte, string, []string, error) {
	p, routes, err := m.projectRoutes(ctx, name)
	if err != nil {
		return nil, "", nil, err
	}
	f, warnings, err := fileFromProject(p, routes)
	if err != nil {
		return nil, "", nil, err
	}
	return manifest.Write(f), filepath.Join(p.Root, manifest.FileName), warnings, nil
}

// fileFromProject is the devport.toml of a stored project, for `devport
// export-config`. Folders become relative to the project folder. Route
// settings devport.toml cannot hold (timeouts, body limit) are left out and
// named in the warnings.
func fileFromProject(p store.Project, routes []store.Route) (manifest.File, []string, error) {
	if p.Root == "" {
		return manifest.File{}, nil, fmt.Errorf("project %s has no folder (it forwards to a server you run): devport.toml describes folder projects only", p.Name)
	}
	f := manifest.File{Name: p.Name, Domains: p.Domains, Services: map[string]manifest.Service{},
		Hooks: manifest.Hooks{BeforeStart: p.BeforeStart}, Database: manifest.Database{FollowGitBranch: p.FollowBranch}}
	for k, v := range p.PHPIni {
		if f.PHP.Ini == nil {
			f.PHP.Ini = map[string]any{}
		}
		f.PHP.Ini[k] = v
	}
	var warnings []string
	rel := func(what, path string) (string, error) {
		r, err := filepath.Rel(p.Root, path)
		if err != nil || r == ".." || strings.HasPrefix(r, "../") {
			return "", fmt.Errorf("%s %s is outside the project folder %s, which devport.toml cannot express: move it inside", what, path, p.Root)
		}
		return filepath.ToSlash(r), nil
	}
	for _, s := range p.Services {
		if s.Stack == stackdef.Proxy {
			return manifest.File{}, nil, fmt.Errorf("service %s forwards to %s, which devport.toml cannot express: use a [[routes]] url instead (devport route %s add %s --url %s)",
				s.Name, s.URL, p.Name, s.PathPrefix, s.URL)
		}
		ms := manifest.Service{Stack: s.Stack, App: s.App, Workers: s.Workers, Image: s.Image, Env: s.Env, PHP: s.PHP}
		if stackdef.IsPython(s.Stack) { // reload.go: the only stacks that reload on save
			ms.ReloadInclude, ms.ReloadExclude = s.ReloadInclude, s.ReloadExclude
			if s.NoReload {
				ms.Reload = new(false)
			}
		}
		if s.Runtime != wire.RuntimeProcess {
			ms.Runtime = s.Runtime
		}
		if s.PathPrefix != "/" {
			ms.Prefix = s.PathPrefix
		}
		if s.DocRoot != "" {
			r, err := rel("service "+s.Name+" docroot", s.DocRoot)
			if err != nil {
				return manifest.File{}, nil, err
			}
			ms.DocRoot = r
		}
		f.Services[s.Name] = ms
	}
	for _, d := range p.Data {
		ms := manifest.Service{Stack: d.Stack, Image: d.Image, Version: d.Version}
		if d.Runtime != wire.RuntimeProcess {
			ms.Runtime = d.Runtime
		}
		f.Services[d.Name] = ms
	}
	for _, r := range routes {
		mr, err := manifestRoute(p.Root, r)
		if err != nil {
			return manifest.File{}, nil, err
		}
		if r.ConnectTimeout != 0 || r.ReadTimeout != 0 || r.WriteTimeout != 0 || r.MaxBody != 0 {
			warnings = append(warnings, fmt.Sprintf("route %s: its timeouts and body limit are not part of devport.toml and were left out", r.PathPrefix))
		}
		f.Routes = append(f.Routes, mr)
	}
	return f, warnings, nil
}

// manifestRoute is a stored route of a project in folder root as
// devport.toml's [[routes]] hold it: a static folder relative to root.
func manifestRoute(root string, r store.Route) (manifest.Route, error) {
	mr := manifest.Route{Prefix: r.PathPrefix, Strip: r.StripPrefix, CacheControl: r.CacheControl}
	switch r.Kind {
	case store.RouteService:
		mr.Service = r.Target
	case store.RouteStatic:
		rel, err := filepath.Rel(root, r.Target)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return manifest.Route{}, fmt.Errorf("route %s folder %s is outside the project folder %s, which devport.toml cannot express: move it inside",
				r.PathPrefix, r.Target, root)
		}
		mr.Static = filepath.ToSlash(rel)
	case store.RouteURL:
		mr.URL = r.Target
	}
	return mr, nil
}

// serviceEnv is a service's devport.toml env as KEY=value entries, sorted.
func serviceEnv(s store.Service) []string {
	out := make([]string, 0, len(s.Env))
	for _, k := range sortedKeys(s.Env) {
		out = append(out, k+"="+s.Env[k])
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
